//! The `gstvault` binary: parse arguments, run one command, map the result to
//! an exit code (0 ok; 1 findings: verify findings, a GSTIN that needs login,
//! damaged evidence refused; 2 could not run; 3 a capture with failed calls
//! or interrupted; see `cli::ExitCode`). Errors print as one line.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = gstvault::cli::Cli::parse();
    match gstvault::cli::run(cli).await {
        Ok(code) => std::process::ExitCode::from(code as u8),
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            std::process::ExitCode::from(gstvault::cli::ExitCode::for_error(&error) as u8)
        }
    }
}

/// The error and its causes on one line, without repeating a cause the
/// message already contains.
fn one_line(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text.replace('\n', " ")
}
