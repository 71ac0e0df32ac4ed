//! Instants as the rules and the store see them: whole seconds since the
//! Unix epoch, in a type of their own, so an instant is never added to an
//! instant or taken for a duration. Durations are `time::Duration`.

use std::ops::{Add, Sub};

pub use time::Duration;

/// An instant, to the second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(
    /// Seconds since the epoch; the store binds it as it is.
    pub(crate) i64,
);

impl Timestamp {
    pub const fn from_unix(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }

    /// Seconds since the Unix epoch (how the store keeps it, and JWTs' dates).
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// RFC 3339 in UTC (`2026-12-04T18:30:00Z`).
    pub fn rfc3339(self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;

    fn add(self, by: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(by.whole_seconds()))
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;

    fn sub(self, by: Duration) -> Timestamp {
        Timestamp(self.0.saturating_sub(by.whole_seconds()))
    }
}

/// How long from `earlier` to `self`.
impl Sub for Timestamp {
    type Output = Duration;

    fn sub(self, earlier: Timestamp) -> Duration {
        Duration::seconds(self.0.saturating_sub(earlier.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_move_by_durations_and_differ_by_one() {
        let t = Timestamp::from_unix(1_000);
        assert_eq!((t + Duration::minutes(2)).unix(), 1_120);
        assert_eq!((t - Duration::seconds(1)).unix(), 999);
        assert_eq!(Timestamp::from_unix(1_600) - t, Duration::minutes(10));
        assert!(t < t + Duration::seconds(1));
    }

    #[test]
    fn far_instants_saturate_instead_of_wrapping() {
        let end = Timestamp::from_unix(i64::MAX);
        assert_eq!(end + Duration::days(1), end);
    }

    #[test]
    fn instants_read_as_rfc3339() {
        assert_eq!(Timestamp::from_unix(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix(1_796_409_000).rfc3339(),
            "2026-12-04T18:30:00Z"
        );
    }

    #[test]
    fn going_back_past_the_earliest_instant_saturates_too() {
        let start = Timestamp::from_unix(i64::MIN);
        assert_eq!(start - Duration::days(1), start);
    }

    #[test]
    fn an_earlier_instant_minus_a_later_one_is_a_negative_duration() {
        let (early, late) = (Timestamp::from_unix(100), Timestamp::from_unix(160));
        assert_eq!(early - late, Duration::minutes(-1));
        assert_eq!(late - late, Duration::ZERO);
    }

    #[test]
    fn instants_move_by_whole_seconds_only() {
        let t = Timestamp::from_unix(10);
        assert_eq!(t + Duration::milliseconds(1_999), Timestamp::from_unix(11));
        assert_eq!(t - Duration::milliseconds(999), t);
    }

    #[test]
    fn instants_before_the_epoch_read_as_rfc3339() {
        assert_eq!(Timestamp::from_unix(-1).rfc3339(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn an_instant_past_what_a_calendar_can_show_reads_as_empty() {
        assert_eq!(Timestamp::from_unix(i64::MAX).rfc3339(), "");
    }
}
