//! Diagnostics on stderr through `tracing`, set up once per process in the
//! configured format (human or JSON lines). Results go to stdout, never here.

use crate::config::LogFormat;

/// Sets up tracing on stderr in `format` at `level` (`RUST_LOG` overrides).
/// A second call in the same process changes nothing.
pub fn init(format: LogFormat, level: &str) {
    // refinery announces every migration at info; that is noise for an operator.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},refinery_core=warn")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Human => builder.try_init(),
    };
}
