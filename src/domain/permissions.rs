//! Course rights from LTI roles.
//!
//! Only course membership roles (and the system Administrator, which Moodle
//! site admins carry) grant the right to manage a course's media. Institution
//! roles never do: Canvas and Brightspace send them account-wide, so a student
//! here who teaches elsewhere would otherwise manage this course.

const MEMBERSHIP: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#";
const MEMBERSHIP_SUBROLE: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership/";
const SYSTEM: &str = "http://purl.imsglobal.org/vocab/lis/v2/system/person#";
const LTI11_CONTEXT: &str = "urn:lti:role:ims/lis/";

/// Membership roles whose holders may manage the course's media.
const MANAGING: [&str; 4] = [
    "instructor",
    "teachingassistant",
    "contentdeveloper",
    "administrator",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CourseRights {
    /// Add, edit, delete and share the course's media.
    Manage,
    /// See the course's media.
    View,
}

impl CourseRights {
    pub fn from_roles<S: AsRef<str>>(roles: &[S]) -> CourseRights {
        if roles.iter().any(|role| grants_management(role.as_ref())) {
            CourseRights::Manage
        } else {
            CourseRights::View
        }
    }

    pub fn can_manage(self) -> bool {
        self == CourseRights::Manage
    }
}

fn grants_management(role: &str) -> bool {
    let role = role.trim();
    if let Some(name) = role.strip_prefix(SYSTEM) {
        return name.eq_ignore_ascii_case("Administrator") || name.eq_ignore_ascii_case("SysAdmin");
    }
    match membership_principal(role) {
        Some(principal) => MANAGING.iter().any(|m| principal.eq_ignore_ascii_case(m)),
        None => false,
    }
}

/// The principal membership role a role value names, if it is a membership
/// (context) role: full URIs, sub-role URIs (`membership/Instructor#TeachingAssistant`),
/// Sakai's non-standard `membership#Instructor#TeachingAssistant`, LTI 1.1 URNs
/// and bare short names (`Instructor`), which LTI 1.3 reads as context roles.
fn membership_principal(role: &str) -> Option<&str> {
    if let Some(rest) = role.strip_prefix(MEMBERSHIP) {
        return Some(rest.split('#').next().unwrap_or(rest));
    }
    if let Some(rest) = role.strip_prefix(MEMBERSHIP_SUBROLE) {
        return rest.split('#').next();
    }
    if let Some(rest) = role.strip_prefix(LTI11_CONTEXT) {
        return rest.split('/').next();
    }
    if !role.is_empty() && !role.contains(':') && !role.contains('/') {
        return Some(role.split('#').next().unwrap_or(role));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lti_1_3_system_administrators_manage() {
        assert_eq!(
            rights(&["http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin"]),
            CourseRights::Manage
        );
        // LTI 1.1's system role URNs are not read (LTI 1.3 platforms send
        // them only beside the 1.3 roles).
        assert_eq!(
            rights(&["urn:lti:sysrole:ims/lis/SysAdmin"]),
            CourseRights::View
        );
    }

    fn rights(roles: &[&str]) -> CourseRights {
        CourseRights::from_roles(roles)
    }

    #[test]
    fn managing_membership_roles_grant_manage() {
        for role in [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator",
            "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
            "http://purl.imsglobal.org/vocab/lis/v2/membership/instructor#TeachingAssistant",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor#TeachingAssistant",
            "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
            "Instructor",
            "TeachingAssistant",
        ] {
            assert_eq!(rights(&[role]), CourseRights::Manage, "{role}");
        }
    }

    #[test]
    fn institution_roles_never_grant_course_rights() {
        let canvas_student_who_teaches_elsewhere = [
            "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor",
            "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
            "http://purl.imsglobal.org/vocab/lis/v2/system/person#User",
        ];
        assert_eq!(
            rights(&canvas_student_who_teaches_elsewhere),
            CourseRights::View
        );
    }

    #[test]
    fn learners_unknown_and_no_roles_only_view() {
        assert_eq!(
            rights(&["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]),
            CourseRights::View
        );
        assert_eq!(rights(&["Learner"]), CourseRights::View);
        assert_eq!(
            rights(&["http://example.com/role#Wizard"]),
            CourseRights::View
        );
        assert_eq!(rights(&[""]), CourseRights::View);
        assert_eq!(rights(&[]), CourseRights::View);
        assert_eq!(
            rights(&["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"]),
            CourseRights::View
        );
    }

    #[test]
    fn lti_1_1_context_role_urns_grant_what_their_principal_grants() {
        assert_eq!(
            rights(&["urn:lti:role:ims/lis/Instructor"]),
            CourseRights::Manage
        );
        assert_eq!(
            rights(&["urn:lti:role:ims/lis/TeachingAssistant/TeachingAssistantSection"]),
            CourseRights::Manage
        );
        assert_eq!(
            rights(&["urn:lti:role:ims/lis/Learner"]),
            CourseRights::View
        );
    }

    #[test]
    fn lti_1_1_institution_role_urns_never_grant_course_rights() {
        for role in [
            "urn:lti:instrole:ims/lis/Administrator",
            "urn:lti:instrole:ims/lis/Instructor",
        ] {
            assert_eq!(rights(&[role]), CourseRights::View, "{role}");
        }
    }

    #[test]
    fn role_names_are_compared_without_regard_to_case_or_surrounding_spaces() {
        for role in [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#instructor",
            "INSTRUCTOR",
            "  Instructor  ",
            "http://purl.imsglobal.org/vocab/lis/v2/system/person#administrator",
            "http://purl.imsglobal.org/vocab/lis/v2/system/person#SYSADMIN",
        ] {
            assert_eq!(rights(&[role]), CourseRights::Manage, "{role:?}");
        }
    }

    #[test]
    fn one_managing_role_among_others_is_enough_wherever_it_comes() {
        let learner = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
        let user = "http://purl.imsglobal.org/vocab/lis/v2/system/person#User";
        let instructor = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
        assert_eq!(rights(&[learner, user, instructor]), CourseRights::Manage);
        assert_eq!(rights(&[instructor, learner, user]), CourseRights::Manage);
    }

    #[test]
    fn the_system_sysadmin_manages_but_other_system_roles_do_not() {
        let system = "http://purl.imsglobal.org/vocab/lis/v2/system/person#";
        assert_eq!(
            rights(&[&format!("{system}SysAdmin")]),
            CourseRights::Manage
        );
        for other in ["User", "SysSupport", "Creator", "AccountAdmin", "None"] {
            assert_eq!(
                rights(&[&format!("{system}{other}")]),
                CourseRights::View,
                "{other}"
            );
        }
    }

    #[test]
    fn only_the_four_managing_membership_roles_manage() {
        let membership = "http://purl.imsglobal.org/vocab/lis/v2/membership#";
        for other in ["Member", "Manager", "Officer", "Mentor", "Learner", ""] {
            assert_eq!(
                rights(&[&format!("{membership}{other}")]),
                CourseRights::View,
                "{other:?}"
            );
        }
    }

    #[test]
    fn a_sub_role_is_read_by_its_principal_role() {
        let sub = "http://purl.imsglobal.org/vocab/lis/v2/membership/";
        assert_eq!(
            rights(&[&format!("{sub}Learner#Instructor")]),
            CourseRights::View
        );
        assert_eq!(
            rights(&[&format!("{sub}ContentDeveloper#ContentExpert")]),
            CourseRights::Manage
        );
        // Sakai's short form with a sub-role.
        assert_eq!(
            rights(&["Instructor#TeachingAssistant"]),
            CourseRights::Manage
        );
        assert_eq!(rights(&["Learner#Instructor"]), CourseRights::View);
    }

    #[test]
    fn a_managing_name_in_a_foreign_vocabulary_grants_nothing() {
        for role in [
            "http://example.com/vocab/membership#Instructor",
            "https://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
            "urn:example:Instructor",
            "x/Instructor",
        ] {
            assert_eq!(rights(&[role]), CourseRights::View, "{role}");
        }
    }

    #[test]
    fn only_manage_rights_can_manage() {
        assert!(CourseRights::Manage.can_manage());
        assert!(!CourseRights::View.can_manage());
    }
}
