//! Diagnostics on stderr through `tracing`, set up once per process in the
//! configured format (human or JSON lines). Results go to stdout, never here.

use std::io::IsTerminal;

use crate::config::LogFormat;

/// The filter for `level`: gstvault's own lines at `level`, libraries' at
/// warn at most (refinery announcing migrations, hyper's connection chatter
/// are noise for an operator). A `level` naming targets (`gstvault=debug,
/// hyper=info`) is taken as written.
pub fn filter_for(level: &str) -> String {
    if level.contains('=') || level.contains(',') {
        level.to_string()
    } else {
        let libraries = match level.trim() {
            "error" | "off" => level.trim(),
            _ => "warn",
        };
        format!("{libraries},gstvault={level}")
    }
}

/// Sets up tracing on stderr in `format` at `level` (`RUST_LOG` overrides).
/// Colour only when stderr is a terminal. A second call in the same process
/// changes nothing.
pub fn init(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter_for(level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Human => builder.try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_speak_at_warn_unless_asked() {
        assert_eq!(filter_for("info"), "warn,gstvault=info");
        assert_eq!(filter_for("debug"), "warn,gstvault=debug");
        assert_eq!(filter_for("error"), "error,gstvault=error");
        assert_eq!(filter_for("gstvault=debug,hyper=info"), "gstvault=debug,hyper=info");
    }
}
