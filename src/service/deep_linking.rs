//! Deep linking: the picker a deep-linking launch opens, and the signed
//! response that hands the chosen media back to the platform.

use serde_json::{Map, Value};

use super::{ServiceError, ServiceResult, Tool, media};
use crate::crypto::{hash_secret, secret_token};
use crate::domain::media::Media;
use crate::domain::session::LaunchSession;
use crate::lti::deep_linking::{self, Parties, ResourceLinkItem};
use crate::lti::launch::DeepLinkingSettings;
use crate::store::sessions;

/// The custom parameter a chosen link carries; the launch it later makes
/// opens that media page.
pub const MEDIA_ID_PARAMETER: &str = "guestlink_media_id";

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

async fn settings_of(tool: &Tool, token: &str) -> ServiceResult<DeepLinkingSettings> {
    let hash = hash_secret(token);
    let now = tool.clock.unix();
    let raw = tool
        .db
        .read(move |conn| sessions::deep_linking(conn, &hash, now))
        .await?
        .ok_or(ServiceError::Rejected {
            status: 400,
            code: "not_deep_linking",
            field: None,
            message: "This session did not come from a request to add content.".into(),
        })?;
    serde_json::from_str(&raw).map_err(|e| ServiceError::Internal(e.into()))
}

pub async fn picker(tool: &Tool, session: &LaunchSession, token: &str) -> ServiceResult<Picker> {
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
) -> ServiceResult<Response> {
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
        .ok_or(ServiceError::NotFound)?;
    let key = super::keys::current(tool)
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("no current tool key")))?;
    let claims = deep_linking::response_claims(
        &Parties {
            client_id: &platform.client_id,
            issuer: &platform.issuer,
            deployment_id: &session.deployment_id,
        },
        &settings,
        &items,
        tool.clock.unix(),
        &secret_token(),
    );
    let jwt = key.sign(&claims).map_err(|e| {
        ServiceError::Internal(anyhow::anyhow!("signing a deep-linking response: {e}"))
    })?;
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
) -> ServiceResult<Vec<Media>> {
    if !deep_linking::accepts_resource_links(settings) {
        return Err(ServiceError::Rejected {
            status: 422,
            code: "unsupported_types",
            field: None,
            message: "This place in the LMS does not accept links to media.".into(),
        });
    }
    let invalid = |problem: &str| ServiceError::Invalid {
        field: "media",
        problem: problem.into(),
    };
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
            .public_url
            .join(&format!("/media/{}", media.id)),
        custom,
    }
}
