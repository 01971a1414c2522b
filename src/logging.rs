//! Logging through `tracing`: `RUST_LOG` when set, else the config's level.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::config::LogLevel;

/// Installs the global subscriber writing to stderr. Safe to call twice
/// (the second call does nothing).
pub fn init(level: LogLevel) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new(level.as_str()))
        }
        _ => EnvFilter::new(level.as_str()),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
