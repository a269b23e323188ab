//! Running the `gstvault` binary from a test, beside an in-process simulator.

use std::process::Command;

/// Runs the binary in `dir` with the simulator's API key and secret, stdin
/// closed, off the async runtime (the simulator serves on it meanwhile).
pub(crate) async fn against_simulator(dir: std::path::PathBuf, args: Vec<String>) -> (Option<i32>, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_gstvault"))
            .current_dir(&dir)
            .env_remove("GSTVAULT_CONFIG")
            .env("GSTVAULT_TEST_KEY", gstvault::sim::DEMO_API_KEY)
            .env("GSTVAULT_TEST_SECRET", gstvault::sim::DEMO_API_SECRET)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    })
    .await
    .unwrap()
}
