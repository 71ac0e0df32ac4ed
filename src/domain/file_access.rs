//! When a file URL handed to a page may still serve.
//!
//! A page gets a URL (a grant) for its item's file, bound to the viewer's
//! session. The URL may start a download or a stream for a short while; after
//! that a stream continues only while its requests keep coming (the file's
//! Range requests, and the page's own renewals, which vouch for the stream it
//! plays), and never past a hard end. A URL copied out of a closed page dies
//! soon; one replayed with `Range: bytes=1-` long after is refused.

/// A stream continues only while its requests come at most this far apart.
pub const STREAM_GAP_SECONDS: i64 = 10 * 60;
/// A grant never serves longer than this after it was made.
pub const GRANT_LIFETIME_SECONDS: i64 = 4 * 60 * 60;
/// A grant's use is recorded at most this often (each record is a write).
pub const TOUCH_EVERY_SECONDS: i64 = 30;

/// A grant's times (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantTimes {
    /// Until when it may start a download or stream.
    pub starts_until: i64,
    /// When it last served a request (or its page vouched for it).
    pub last_used_at: i64,
    /// After this it serves nothing.
    pub ends_at: i64,
}

impl GrantTimes {
    /// The times of a grant made at `now` whose URL may start streams for
    /// `start_seconds` (never past the grant's end).
    pub fn new(now: i64, start_seconds: i64) -> GrantTimes {
        let ends_at = now + GRANT_LIFETIME_SECONDS;
        GrantTimes {
            starts_until: (now + start_seconds).min(ends_at),
            last_used_at: now,
            ends_at,
        }
    }

    /// The grant renewed by its page at `now`: used now, and able to start
    /// streams `start_seconds` more, up to its end. None once it has ended:
    /// the page then needs a new grant.
    pub fn renewed(self, now: i64, start_seconds: i64) -> Option<GrantTimes> {
        (now < self.ends_at).then(|| GrantTimes {
            starts_until: (now + start_seconds).min(self.ends_at),
            last_used_at: now,
            ends_at: self.ends_at,
        })
    }

    /// Whether a request at `now` may be served: anything within the start
    /// window, a request continuing a stream (a Range starting after byte 0)
    /// while the stream's requests keep coming.
    pub fn allows(&self, continues_stream: bool, now: i64) -> bool {
        now <= self.ends_at
            && (now <= self.starts_until
                || (continues_stream && now - self.last_used_at <= STREAM_GAP_SECONDS))
    }

    /// Whether serving at `now` should be recorded.
    pub fn needs_touch(&self, now: i64) -> bool {
        now - self.last_used_at >= TOUCH_EVERY_SECONDS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 600;

    #[test]
    fn within_its_start_window_a_grant_serves_anything() {
        let grant = GrantTimes::new(1_000, START);
        assert!(grant.allows(false, 1_000));
        assert!(grant.allows(true, 1_000 + START));
        assert!(
            !grant.allows(false, 1_000 + START + 1),
            "a fresh start needs a fresh URL"
        );
    }

    #[test]
    fn a_stream_continues_only_while_its_requests_keep_coming() {
        let mut grant = GrantTimes::new(0, START);
        grant.last_used_at = 1_000;
        assert!(grant.allows(true, 1_000 + STREAM_GAP_SECONDS));
        assert!(
            !grant.allows(true, 1_000 + STREAM_GAP_SECONDS + 1),
            "Range: bytes=1- after a pause"
        );
        assert!(
            !grant.allows(false, 1_000 + 1),
            "starting over is not continuing"
        );
    }

    #[test]
    fn nothing_is_served_after_the_hard_end() {
        let mut grant = GrantTimes::new(0, START);
        grant.last_used_at = GRANT_LIFETIME_SECONDS;
        assert!(grant.allows(true, GRANT_LIFETIME_SECONDS));
        assert!(!grant.allows(true, GRANT_LIFETIME_SECONDS + 1));
    }

    #[test]
    fn a_renewal_extends_the_start_window_up_to_the_end() {
        let grant = GrantTimes::new(0, START);
        let renewed = grant.renewed(500, START).unwrap();
        assert_eq!(renewed.starts_until, 500 + START);
        assert_eq!(renewed.last_used_at, 500);
        assert_eq!(renewed.ends_at, grant.ends_at);
        let late = grant.renewed(GRANT_LIFETIME_SECONDS - 10, START).unwrap();
        assert_eq!(
            late.starts_until, GRANT_LIFETIME_SECONDS,
            "never past the end"
        );
        assert_eq!(grant.renewed(GRANT_LIFETIME_SECONDS, START), None, "ended");
        let long = GrantTimes::new(0, 24 * 3600);
        assert_eq!(
            long.starts_until, long.ends_at,
            "a long window stops at the end too"
        );
    }

    #[test]
    fn use_is_recorded_at_most_every_half_minute() {
        let grant = GrantTimes::new(0, START);
        assert!(!grant.needs_touch(TOUCH_EVERY_SECONDS - 1));
        assert!(grant.needs_touch(TOUCH_EVERY_SECONDS));
    }
}
