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
    pub user_id: UserId,
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    /// None when the tool was launched outside a course.
    pub course: Option<Course>,
    pub rights: CourseRights,
    pub deployment_id: String,
    pub roles: Vec<String>,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

impl LaunchSession {
    pub fn can_manage(&self) -> bool {
        self.course.is_some() && self.rights.can_manage()
    }
}
