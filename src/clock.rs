//! The time every rule is judged by.
//!
//! Production reads the system clock. Tests hold a clone of the same `Clock`
//! and move it forward, so expiry is tested without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::domain::time::{Duration, Timestamp};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, to the second (the unit every stored time uses).
    pub fn now(&self) -> Timestamp {
        let system = time::OffsetDateTime::now_utc().unix_timestamp();
        Timestamp::from_unix(system)
            + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// Now in milliseconds since the epoch: for what must be finer than a
    /// second (a presenter's playback). It moves with [`Clock::advance`].
    pub fn now_millis(&self) -> i64 {
        let system = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        system + self.offset_seconds.load(Ordering::Relaxed) * 1_000
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_seconds
            .fetch_add(by.whole_seconds(), Ordering::Relaxed);
    }
}
