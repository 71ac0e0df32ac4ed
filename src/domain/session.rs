//! A launched user's session, as every page and API call sees it.

use super::ids::{CourseId, PlatformId, UserId};
use super::invite::InviteRole;
use super::media::{Media, MediaId};
use super::permissions::CourseRights;
use super::platform::Lms;
use super::time::{Duration, Timestamp};

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
    pub started_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    /// Set for an invitee's session: it opens one item, with the
    /// invitation's role, and no launch route accepts it.
    pub invitee: Option<InviteeScope>,
}

/// What an invitee's session may open: the invitation's item, with its
/// role as stored now (an owner's change applies at the next request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteeScope {
    pub invite_id: String,
    pub media_id: MediaId,
    pub role: InviteRole,
}

impl InviteeScope {
    /// What of the course an invitee sees: their invitation's item, and the
    /// items its owners already share outside the course (guest access on),
    /// which an invited speaker may present. Never the rest of the library.
    pub fn sees(&self, media: &Media) -> bool {
        media.id == self.media_id || (media.guest_access_enabled && !media.kind.is_session())
    }
}

impl LaunchSession {
    /// Whether the session may see `media` of its course (an invitee's,
    /// only what [`InviteeScope::sees`]).
    pub fn sees(&self, media: &Media) -> bool {
        self.invitee.as_ref().is_none_or(|scope| scope.sees(media))
    }

    pub fn can_manage(&self) -> bool {
        self.course.is_some()
            && self.rights.can_manage()
            && self.user_id.is_some()
            && self.invitee.is_none()
    }

    /// The roles would let this session manage, but the LMS did not say who
    /// it is: the pages say why managing is not offered.
    pub fn anonymous_manager(&self) -> bool {
        self.course.is_some() && self.rights.can_manage() && self.user_id.is_none()
    }
}

/// When a session used at `now` ends: after `idle` without use, and never
/// later than `max` after it started.
pub fn session_expiry(
    started_at: Timestamp,
    now: Timestamp,
    idle: Duration,
    max: Duration,
) -> Timestamp {
    (now + idle).min(started_at + max)
}

/// A session for unit tests: `user` (None: an anonymous launch), in a
/// course or not, with `rights`.
#[cfg(test)]
pub(crate) fn session(user: Option<i64>, course: bool, rights: CourseRights) -> LaunchSession {
    let at = Timestamp::from_unix(1_000);
    LaunchSession {
        platform_id: PlatformId(1),
        platform_name: "Moodle".into(),
        lms: Lms::Moodle,
        user_id: user.map(UserId),
        user_name: None,
        user_email: None,
        course: course.then(|| Course {
            id: CourseId(7),
            context_id: "c-7".into(),
            label: None,
            title: None,
        }),
        rights,
        deployment_id: "1".into(),
        roles: vec![],
        started_at: at,
        last_seen_at: at,
        expires_at: at + Duration::hours(2),
        invitee: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::session;

    #[test]
    fn a_session_ends_when_idle_or_at_its_absolute_lifetime() {
        let (idle, max) = (Duration::hours(2), Duration::hours(12));
        let start = Timestamp::from_unix(0);
        let hour = |h: i64| start + Duration::hours(h);
        assert_eq!(session_expiry(start, start, idle, max), hour(2));
        assert_eq!(session_expiry(start, hour(1), idle, max), hour(3));
        // Used every hour, it still ends 12 hours after the launch.
        assert_eq!(session_expiry(start, hour(11), idle, max), hour(12));
        assert_eq!(session_expiry(start, hour(20), idle, max), hour(12));
    }

    #[test]
    fn an_invitee_sees_their_item_and_what_is_shared_with_guests_only() {
        use crate::domain::invite::InviteRole;
        use crate::domain::media::{MediaKind, Source};
        let at = Timestamp::from_unix(0);
        let item = |id: &str, kind, shared| Media {
            id: MediaId::parse(id).unwrap(),
            platform_id: PlatformId(1),
            course_id: CourseId(7),
            owner_id: None,
            kind,
            title: "t".into(),
            description: String::new(),
            source: Source::None,
            created_at: at,
            updated_at: at,
            guest_access_enabled: shared,
        };
        let mut invitee = session(Some(3), true, CourseRights::View);
        invitee.invitee = Some(InviteeScope {
            invite_id: "i".into(),
            media_id: MediaId::parse("room00000000001").unwrap(),
            role: InviteRole::Speaker,
        });
        assert!(invitee.sees(&item("room00000000001", MediaKind::Room, false)));
        assert!(invitee.sees(&item("shared000000001", MediaKind::Video, true)));
        assert!(!invitee.sees(&item("private00000001", MediaKind::Video, false)));
        assert!(!invitee.sees(&item("otherroom000001", MediaKind::Room, true)));
        // A course member sees the whole library.
        let member = session(Some(3), true, CourseRights::View);
        assert!(member.sees(&item("private00000001", MediaKind::Video, false)));
    }

    #[test]
    fn a_known_user_with_manage_rights_in_a_course_can_manage() {
        let manager = session(Some(3), true, CourseRights::Manage);
        assert!(manager.can_manage());
        assert!(!manager.anonymous_manager());
    }

    #[test]
    fn an_anonymous_launch_with_manage_rights_cannot_manage_and_is_told_why() {
        let anonymous = session(None, true, CourseRights::Manage);
        assert!(!anonymous.can_manage());
        assert!(anonymous.anonymous_manager());
    }

    #[test]
    fn without_a_course_nobody_manages_or_is_an_anonymous_manager() {
        for user in [Some(3), None] {
            let outside = session(user, false, CourseRights::Manage);
            assert!(!outside.can_manage(), "{user:?}");
            assert!(!outside.anonymous_manager(), "{user:?}");
        }
    }

    #[test]
    fn a_viewer_neither_manages_nor_counts_as_an_anonymous_manager() {
        for user in [Some(3), None] {
            let viewer = session(user, true, CourseRights::View);
            assert!(!viewer.can_manage(), "{user:?}");
            assert!(!viewer.anonymous_manager(), "{user:?}");
        }
    }

    #[test]
    fn a_course_is_called_by_its_title_then_its_label_then_its_id() {
        let course = |label: Option<&str>, title: Option<&str>| Course {
            id: CourseId(1),
            context_id: "ctx-1".into(),
            label: label.map(str::to_string),
            title: title.map(str::to_string),
        };
        assert_eq!(
            course(Some("BIO101"), Some("Biology")).display_name(),
            "Biology"
        );
        assert_eq!(course(Some("BIO101"), None).display_name(), "BIO101");
        assert_eq!(course(None, None).display_name(), "ctx-1");
    }

    #[test]
    fn an_idle_time_longer_than_the_absolute_lifetime_is_cut_to_it() {
        let start = Timestamp::from_unix(5_000);
        assert_eq!(
            session_expiry(start, start, Duration::days(2), Duration::hours(1)),
            start + Duration::hours(1)
        );
    }
}
