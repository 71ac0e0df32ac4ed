//! The fields of forms, JSON bodies and command lines that rules check, and
//! the error that names one. The web answers a field error with its field's
//! name; the command line with its flag (see `main.rs`).

use std::fmt;

/// A field a rule refused, by what it holds rather than how one interface
/// spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    // Media.
    Title,
    Kind,
    Description,
    SourceUrl,
    File,
    /// The items a deep-linking picker chose.
    Media,
    // Guest links and guests.
    Name,
    Email,
    ClickLimit,
    DurationDays,
    Enabled,
    // Lists.
    Format,
    After,
    Limit,
    // Platforms.
    PlatformName,
    Lms,
    Issuer,
    ClientId,
    AuthUrl,
    JwksUrl,
    TokenUrl,
    DeploymentId,
    DeploymentPolicy,
    Module,
    /// A whole document (an import file).
    Document,
    // Live rooms.
    Policy,
    MediaId,
    Text,
    GuestsMayChat,
    Playing,
    Position,
    ParticipantId,
    // Invitations.
    Role,
    ExpiresDays,
    SendEmail,
}

impl Field {
    /// The field's name in forms and JSON (and in the API's `field`).
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Kind => "kind",
            Field::Description => "description",
            Field::SourceUrl => "source_url",
            Field::File => "file",
            Field::Media => "media",
            Field::Name => "name",
            Field::Email => "email",
            Field::ClickLimit => "click_limit",
            Field::DurationDays => "duration_days",
            Field::Enabled => "enabled",
            Field::Format => "format",
            Field::After => "after",
            Field::Limit => "limit",
            Field::PlatformName => "name",
            Field::Lms => "lms",
            Field::Issuer => "issuer",
            Field::ClientId => "client_id",
            Field::AuthUrl => "auth_url",
            Field::JwksUrl => "jwks_url",
            Field::TokenUrl => "token_url",
            Field::DeploymentId => "deployment_id",
            Field::DeploymentPolicy => "deployment_policy",
            Field::Module => "module",
            Field::Document => "document",
            Field::Policy => "policy",
            Field::MediaId => "media_id",
            Field::Text => "text",
            Field::GuestsMayChat => "guests_may_chat",
            Field::Playing => "playing",
            Field::Position => "position",
            Field::ParticipantId => "participant_id",
            Field::Role => "role",
            Field::ExpiresDays => "expires_days",
            Field::SendEmail => "send_email",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value a rule refused: which field, and why, in words for the person
/// who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    pub field: Field,
    pub problem: String,
}

impl FieldError {
    pub fn new(field: Field, problem: impl Into<String>) -> FieldError {
        FieldError {
            field,
            problem: problem.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_names_its_field_as_forms_spell_it() {
        let err = FieldError::new(Field::SourceUrl, "must be https");
        assert_eq!(err.to_string(), "source_url: must be https");
        assert_eq!(Field::ClientId.as_str(), "client_id");
        assert_eq!(Field::PlatformName.as_str(), "name");
    }

    const EVERY_FIELD: [Field; 35] = [
        Field::Title,
        Field::Kind,
        Field::Description,
        Field::SourceUrl,
        Field::File,
        Field::Media,
        Field::Name,
        Field::Email,
        Field::ClickLimit,
        Field::DurationDays,
        Field::Enabled,
        Field::Format,
        Field::After,
        Field::Limit,
        Field::PlatformName,
        Field::Lms,
        Field::Issuer,
        Field::ClientId,
        Field::AuthUrl,
        Field::JwksUrl,
        Field::TokenUrl,
        Field::DeploymentId,
        Field::DeploymentPolicy,
        Field::Module,
        Field::Document,
        Field::Policy,
        Field::MediaId,
        Field::Text,
        Field::GuestsMayChat,
        Field::Playing,
        Field::Position,
        Field::ParticipantId,
        Field::Role,
        Field::ExpiresDays,
        Field::SendEmail,
    ];

    #[test]
    fn fields_have_distinct_names_but_a_platforms_name_is_spelt_name_too() {
        let mut names: Vec<&str> = EVERY_FIELD.iter().map(|f| f.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            EVERY_FIELD.len() - 1,
            "only one name is shared"
        );
        assert_eq!(Field::PlatformName.as_str(), Field::Name.as_str());
    }

    #[test]
    fn field_names_are_lower_snake_case_as_forms_and_json_spell_them() {
        for field in EVERY_FIELD {
            let name = field.as_str();
            assert!(
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{field:?}: {name}"
            );
            assert_eq!(field.to_string(), name);
        }
    }
}
