//! Logging: one line per event to standard error, at the configured level.
//! Log lines carry ids and reason codes, never tokens, state, nonces or emails.

use tracing::level_filters::LevelFilter;

pub fn init(level: &str) {
    let filter = match level {
        "off" => LevelFilter::OFF,
        "error" => LevelFilter::ERROR,
        "warn" => LevelFilter::WARN,
        "debug" => LevelFilter::DEBUG,
        "trace" => LevelFilter::TRACE,
        _ => LevelFilter::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}
