//! When a file URL handed to a page may still serve.
//!
//! A page gets a URL (a grant) for its item's file, bound to the viewer's
//! session. The URL may start a download or a stream for a short while; after
//! that a stream continues only while its requests keep coming (the file's
//! Range requests, and the page's own renewals, which vouch for the stream it
//! plays), and never past a hard end. A URL copied out of a closed page dies
//! soon; one replayed with `Range: bytes=1-` long after is refused.

use super::time::{Duration, Timestamp};

/// A stream continues only while its requests come at most this far apart.
pub const STREAM_GAP: Duration = Duration::minutes(10);
/// A grant never serves longer than this after it was made.
pub const GRANT_LIFETIME: Duration = Duration::hours(4);
/// A grant's use is recorded at most this often (each record is a write).
pub const TOUCH_EVERY: Duration = Duration::seconds(30);

/// A grant's times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantTimes {
    /// Until when it may start a download or stream.
    pub starts_until: Timestamp,
    /// When it last served a request (or its page vouched for it).
    pub last_used_at: Timestamp,
    /// After this it serves nothing.
    pub ends_at: Timestamp,
}

impl GrantTimes {
    /// The times of a grant made at `now` whose URL may start streams for
    /// `start_window` (never past the grant's end).
    pub fn new(now: Timestamp, start_window: Duration) -> GrantTimes {
        let ends_at = now + GRANT_LIFETIME;
        GrantTimes {
            starts_until: (now + start_window).min(ends_at),
            last_used_at: now,
            ends_at,
        }
    }

    /// The grant renewed by its page at `now`: used now, and able to start
    /// streams for `start_window` more, up to its end. None once it has
    /// ended: the page then needs a new grant.
    pub fn renewed(self, now: Timestamp, start_window: Duration) -> Option<GrantTimes> {
        (now < self.ends_at).then(|| GrantTimes {
            starts_until: (now + start_window).min(self.ends_at),
            last_used_at: now,
            ends_at: self.ends_at,
        })
    }

    /// Whether a request at `now` may be served: anything within the start
    /// window, a request continuing a stream (a Range starting after byte 0)
    /// while the stream's requests keep coming.
    pub fn allows(&self, continues_stream: bool, now: Timestamp) -> bool {
        now <= self.ends_at
            && (now <= self.starts_until
                || (continues_stream && now - self.last_used_at <= STREAM_GAP))
    }

    /// Whether serving at `now` should be recorded.
    pub fn needs_touch(&self, now: Timestamp) -> bool {
        now - self.last_used_at >= TOUCH_EVERY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: Duration = Duration::minutes(10);

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix(seconds)
    }

    fn after(start: Timestamp, by: Duration) -> Timestamp {
        start + by
    }

    #[test]
    fn within_its_start_window_a_grant_serves_anything() {
        let grant = GrantTimes::new(at(1_000), START);
        assert!(grant.allows(false, at(1_000)));
        assert!(grant.allows(true, after(at(1_000), START)));
        assert!(
            !grant.allows(false, after(at(1_001), START)),
            "a fresh start needs a fresh URL"
        );
    }

    #[test]
    fn a_stream_continues_only_while_its_requests_keep_coming() {
        let mut grant = GrantTimes::new(at(0), START);
        grant.last_used_at = at(1_000);
        assert!(grant.allows(true, after(at(1_000), STREAM_GAP)));
        assert!(
            !grant.allows(true, after(at(1_001), STREAM_GAP)),
            "Range: bytes=1- after a pause"
        );
        assert!(
            !grant.allows(false, at(1_001)),
            "starting over is not continuing"
        );
    }

    #[test]
    fn nothing_is_served_after_the_hard_end() {
        let mut grant = GrantTimes::new(at(0), START);
        let end = after(at(0), GRANT_LIFETIME);
        grant.last_used_at = end;
        assert!(grant.allows(true, end));
        assert!(!grant.allows(true, after(end, Duration::seconds(1))));
    }

    #[test]
    fn a_renewal_extends_the_start_window_up_to_the_end() {
        let grant = GrantTimes::new(at(0), START);
        let renewed = grant.renewed(at(500), START).unwrap();
        assert_eq!(renewed.starts_until, after(at(500), START));
        assert_eq!(renewed.last_used_at, at(500));
        assert_eq!(renewed.ends_at, grant.ends_at);
        let late = grant
            .renewed(grant.ends_at - Duration::seconds(10), START)
            .unwrap();
        assert_eq!(late.starts_until, grant.ends_at, "never past the end");
        assert_eq!(grant.renewed(grant.ends_at, START), None, "ended");
        let long = GrantTimes::new(at(0), Duration::days(1));
        assert_eq!(
            long.starts_until, long.ends_at,
            "a long window stops at the end too"
        );
    }

    #[test]
    fn use_is_recorded_at_most_every_half_minute() {
        let grant = GrantTimes::new(at(0), START);
        assert!(!grant.needs_touch(after(at(0), TOUCH_EVERY - Duration::seconds(1))));
        assert!(grant.needs_touch(after(at(0), TOUCH_EVERY)));
    }
}
