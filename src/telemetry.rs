//! Logging: one line per event to standard error, at the configured level.
//! Log lines carry ids and reason codes, never tokens, state, nonces or emails.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init(level: &str) {
    init_with(level, std::io::stderr, true);
}

/// Like [`init`], writing to what `writer` makes (tests capture the log in a
/// file to check that no secret reaches it).
pub fn init_with<W>(level: &str, writer: W, ansi: bool)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = match level {
        "off" => LevelFilter::OFF,
        "error" => LevelFilter::ERROR,
        "warn" => LevelFilter::WARN,
        "debug" => LevelFilter::DEBUG,
        "trace" => LevelFilter::TRACE,
        _ => LevelFilter::INFO,
    };
    // Our own events at the chosen level; the libraries' (hyper, reqwest,
    // actix) only from warnings up, since their debug output may carry URLs.
    let targets = Targets::new()
        .with_target("guestlink", filter)
        .with_default(filter.min(LevelFilter::WARN));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .with_ansi(ansi)
                .with_writer(writer),
        )
        .with(targets)
        .try_init();
}
