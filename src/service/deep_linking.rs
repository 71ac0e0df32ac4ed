//! Deep linking: the picker a deep-linking launch opens, and the signed
//! response that hands the chosen media back to the platform.

use serde_json::{Map, Value};

use super::Tool;
use super::failure::{Failure, Fault, Kind};
use super::media::{self, MediaError};
use crate::crypto::{hash_secret, secret_token};
use crate::domain::field::{Field, FieldError};
use crate::domain::media::Media;
use crate::domain::session::LaunchSession;
use crate::lti::deep_linking::{self, Parties, ResourceLinkItem};
use crate::lti::launch::DeepLinkingSettings;
use crate::store::sessions;

/// The custom parameter a chosen link carries; the launch it later makes
/// opens that media page.
pub const MEDIA_ID_PARAMETER: &str = "guestlink_media_id";

/// Why the picker could not answer.
#[derive(Debug, thiserror::Error)]
pub enum DeepLinkingError {
    #[error("This session did not come from a request to add content.")]
    NotDeepLinking,
    #[error("This place in the LMS does not accept links to media.")]
    UnsupportedTypes,
    /// The platform was removed since the launch.
    #[error("The platform this request came from is no longer registered.")]
    PlatformGone,
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
    Media(MediaError),
    #[error(transparent)]
    Fault(#[from] Fault),
}

crate::faults_from_store!(DeepLinkingError);

impl From<MediaError> for DeepLinkingError {
    fn from(err: MediaError) -> Self {
        match err {
            MediaError::Fault(f) => DeepLinkingError::Fault(f),
            other => DeepLinkingError::Media(other),
        }
    }
}

impl Failure for DeepLinkingError {
    fn code(&self) -> &'static str {
        match self {
            DeepLinkingError::NotDeepLinking => "not_deep_linking",
            DeepLinkingError::UnsupportedTypes => "unsupported_types",
            DeepLinkingError::PlatformGone => "not_found",
            DeepLinkingError::Invalid(e) => e.code(),
            DeepLinkingError::Media(e) => e.code(),
            DeepLinkingError::Fault(f) => f.code(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            DeepLinkingError::NotDeepLinking => Kind::Malformed,
            DeepLinkingError::UnsupportedTypes => Kind::Invalid,
            DeepLinkingError::PlatformGone => Kind::NotFound,
            DeepLinkingError::Invalid(e) => e.kind(),
            DeepLinkingError::Media(e) => e.kind(),
            DeepLinkingError::Fault(f) => f.kind(),
        }
    }

    fn invalid(&self) -> Option<&FieldError> {
        match self {
            DeepLinkingError::Invalid(e) => Some(e),
            _ => None,
        }
    }

    fn message(&self) -> String {
        match self {
            DeepLinkingError::Invalid(e) => e.message(),
            DeepLinkingError::Media(e) => e.message(),
            other => other.to_string(),
        }
    }
}

type DeepLinkingResult<T> = Result<T, DeepLinkingError>;

/// What the picker shows.
pub struct Picker {
    pub settings: DeepLinkingSettings,
    pub media: Vec<Media>,
    /// Whether the placement takes resource links at all.
    pub accepts: bool,
}

/// The picker's answer.
pub enum Choice {
    Add(Vec<String>),
    Cancel,
}

/// The auto-submitting form's target and its one field.
pub struct Response {
    pub return_url: String,
    pub jwt: String,
}

async fn settings_of(tool: &Tool, token: &str) -> DeepLinkingResult<DeepLinkingSettings> {
    let hash = hash_secret(token);
    let now = tool.clock.now();
    let raw = tool
        .db
        .read(move |conn| sessions::deep_linking(conn, &hash, now))
        .await?
        .ok_or(DeepLinkingError::NotDeepLinking)?;
    serde_json::from_str(&raw).map_err(|e| Fault::Internal(e.into()).into())
}

pub async fn picker(
    tool: &Tool,
    session: &LaunchSession,
    token: &str,
) -> DeepLinkingResult<Picker> {
    media::require_manage(session)?;
    let settings = settings_of(tool, token).await?;
    Ok(Picker {
        accepts: deep_linking::accepts_resource_links(&settings),
        media: media::list(tool, session).await?,
        settings,
    })
}

pub async fn respond(
    tool: &Tool,
    session: &LaunchSession,
    token: &str,
    choice: Choice,
) -> DeepLinkingResult<Response> {
    media::require_manage(session)?;
    let settings = settings_of(tool, token).await?;
    let chosen = match choice {
        Choice::Cancel => vec![],
        Choice::Add(ids) => chosen_media(tool, session, &settings, ids).await?,
    };
    let items: Vec<ResourceLinkItem> = chosen.iter().map(|m| content_item(tool, m)).collect();
    let platform = tool
        .registrations
        .by_id(tool, session.platform_id)
        .await?
        .ok_or(DeepLinkingError::PlatformGone)?;
    let key = super::keys::current(tool)
        .await?
        .ok_or_else(|| Fault::Internal(anyhow::anyhow!("no current tool key")))?;
    let claims = deep_linking::response_claims(
        &Parties {
            client_id: &platform.client_id,
            issuer: &platform.issuer,
            deployment_id: &session.deployment_id,
        },
        &settings,
        &items,
        tool.clock.now().unix(),
        &secret_token(),
    );
    let jwt = key
        .sign(&claims)
        .map_err(|e| Fault::Internal(anyhow::anyhow!("signing a deep-linking response: {e}")))?;
    Ok(Response {
        return_url: settings.return_url,
        jwt,
    })
}

async fn chosen_media(
    tool: &Tool,
    session: &LaunchSession,
    settings: &DeepLinkingSettings,
    ids: Vec<String>,
) -> DeepLinkingResult<Vec<Media>> {
    if !deep_linking::accepts_resource_links(settings) {
        return Err(DeepLinkingError::UnsupportedTypes);
    }
    let invalid = |problem: &str| DeepLinkingError::Invalid(FieldError::new(Field::Media, problem));
    if ids.is_empty() {
        return Err(invalid("Choose an item to add."));
    }
    if ids.len() > 1 && !settings.accept_multiple {
        return Err(invalid("This place in the LMS takes one item: choose one."));
    }
    let mut chosen = Vec::with_capacity(ids.len());
    for id in ids {
        chosen.push(media::get(tool, session, &id).await?);
    }
    Ok(chosen)
}

fn content_item(tool: &Tool, media: &Media) -> ResourceLinkItem {
    let mut custom = Map::new();
    custom.insert(
        MEDIA_ID_PARAMETER.into(),
        Value::String(media.id.to_string()),
    );
    ResourceLinkItem {
        title: media.title.clone(),
        text: media.description.clone(),
        url: tool
            .settings
            .server
            .public_url
            .join(&format!("/media/{}", media.id)),
        custom,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picker_outside_a_deep_linking_launch_is_a_malformed_request() {
        let err = DeepLinkingError::NotDeepLinking;
        assert_eq!(
            (err.code(), err.kind()),
            ("not_deep_linking", Kind::Malformed)
        );
    }

    #[test]
    fn a_placement_that_takes_no_links_refuses_the_choice() {
        let err = DeepLinkingError::UnsupportedTypes;
        assert_eq!(
            (err.code(), err.kind()),
            ("unsupported_types", Kind::Invalid)
        );
        assert_eq!(err.field(), None);
    }

    #[test]
    fn a_platform_removed_since_the_launch_is_not_found() {
        let err = DeepLinkingError::PlatformGone;
        assert_eq!((err.code(), err.kind()), ("not_found", Kind::NotFound));
    }

    #[test]
    fn a_refused_choice_names_the_media_field() {
        let err = DeepLinkingError::from(FieldError::new(Field::Media, "Choose an item to add."));
        assert_eq!(err.field(), Some(Field::Media));
        assert_eq!(err.message(), "Choose an item to add.");
    }

    #[test]
    fn a_media_refusal_speaks_for_itself_and_a_media_fault_stays_a_fault() {
        let forbidden = DeepLinkingError::from(MediaError::Forbidden);
        assert_eq!(
            (forbidden.code(), forbidden.kind()),
            ("forbidden", Kind::Forbidden)
        );
        assert_eq!(forbidden.message(), MediaError::Forbidden.to_string());
        let away = DeepLinkingError::from(MediaError::Fault(Fault::Unavailable("x".into())));
        assert!(matches!(away, DeepLinkingError::Fault(_)));
        assert_eq!(away.kind(), Kind::Unavailable);
    }
}
