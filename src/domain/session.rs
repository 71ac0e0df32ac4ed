//! A launched user's session, as every page and API call sees it.

use super::ids::{CourseId, PlatformId, UserId};
use super::permissions::CourseRights;
use super::platform::Lms;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Course {
    pub id: CourseId,
    pub context_id: String,
    pub label: Option<String>,
    pub title: Option<String>,
}

impl Course {
    /// What to call the course on a page: its title, else its label, else its id.
    pub fn display_name(&self) -> &str {
        self.title
            .as_deref()
            .or(self.label.as_deref())
            .unwrap_or(&self.context_id)
    }
}

#[derive(Clone, Debug)]
pub struct LaunchSession {
    pub platform_id: PlatformId,
    pub platform_name: String,
    pub lms: Lms,
    /// None for an anonymous launch (one without `sub`): it may view what
    /// its roles allow, but change nothing, since no one could be held to it.
    pub user_id: Option<UserId>,
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    /// None when the tool was launched outside a course.
    pub course: Option<Course>,
    pub rights: CourseRights,
    pub deployment_id: String,
    pub roles: Vec<String>,
    /// When the launch opened it: the session never outlives this by more
    /// than its absolute lifetime, however busy.
    pub started_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

impl LaunchSession {
    pub fn can_manage(&self) -> bool {
        self.course.is_some() && self.rights.can_manage() && self.user_id.is_some()
    }

    /// The roles would let this session manage, but the LMS did not say who
    /// it is: the pages say why managing is not offered.
    pub fn anonymous_manager(&self) -> bool {
        self.course.is_some() && self.rights.can_manage() && self.user_id.is_none()
    }
}

/// When a session used at `now` ends: after `idle_seconds` without use, and
/// never later than `max_seconds` after it started.
pub fn session_expiry(started_at: i64, now: i64, idle_seconds: i64, max_seconds: i64) -> i64 {
    (now + idle_seconds).min(started_at + max_seconds)
}

#[cfg(test)]
mod tests {
    use super::session_expiry;

    #[test]
    fn a_session_ends_when_idle_or_at_its_absolute_lifetime() {
        let (idle, max) = (7_200, 12 * 3_600);
        assert_eq!(session_expiry(0, 0, idle, max), 7_200);
        assert_eq!(session_expiry(0, 3_600, idle, max), 10_800);
        // Used every hour, it still ends 12 hours after the launch.
        assert_eq!(session_expiry(0, 11 * 3_600, idle, max), 12 * 3_600);
        assert_eq!(session_expiry(0, 20 * 3_600, idle, max), 12 * 3_600);
    }
}
