//! The invite-link part of the JSON API (`/api/media/{id}/invites`,
//! README.md "Invite links"): an item's invitations, Resend, the role and
//! Revoke. The Invite users dialog calls these routes, and so may scripts.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, HttpResponseBuilder, web};
use serde::Serialize;

use super::error::ApiError;
use super::json_body;
use super::render::rfc3339;
use super::session::ApiSession;
use crate::domain::field::{Field, FieldError};
use crate::domain::guest_access::NumberField;
use crate::domain::invite::roles_for;
use crate::service::Tool;
use crate::service::invites::{self, CreateRequest, InviteError, InviteView, ManagedInvites};

#[derive(Serialize)]
pub struct InviteJson<'a> {
    id: &'a str,
    email: &'a str,
    name: &'a str,
    role: &'static str,
    status: &'static str,
    email_status: &'static str,
    expires_at: String,
    created_at: String,
    invited_by: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

impl<'a> InviteJson<'a> {
    pub fn of(view: &'a InviteView) -> Self {
        InviteJson {
            id: &view.row.id,
            email: &view.row.email,
            name: &view.row.name,
            role: view.row.role().as_str(),
            status: view.status.as_str(),
            email_status: view.email_status.as_str(),
            expires_at: rfc3339(view.row.expires_at),
            created_at: rfc3339(view.row.created_at),
            invited_by: &view.row.invited_by_name,
            url: view.url.as_deref(),
        }
    }
}

/// An item's invitations, with what its dialog needs to offer.
#[derive(Serialize)]
struct InvitesJson<'a> {
    invites: Vec<InviteJson<'a>>,
    /// Invitations can be made for this item now.
    offered: bool,
    /// The roles the item's kind offers, the default first.
    roles: Vec<&'static str>,
    /// "Send link via email" is offered.
    mail: bool,
    default_days: i64,
}

fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder.insert_header((CACHE_CONTROL, "no-store"));
    builder
}

/// The refusal as JSON; `invite_exists` carries the existing invitation.
fn refusal(err: InviteError) -> ApiError {
    let api = ApiError::of(&err);
    match &err {
        InviteError::Exists(existing) => api.with(
            "invite",
            serde_json::to_value(InviteJson::of(existing)).unwrap_or_default(),
        ),
        _ => api,
    }
}

/// The item, if the session may manage its invitations; called before a
/// body is read, so a learner's malformed body is a 403, not a 400.
async fn managed(tool: &Tool, api: &ApiSession, id: &str) -> Result<ManagedInvites, ApiError> {
    Ok(invites::manage(tool, &api.session, id).await?)
}

pub async fn list(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let item = managed(&tool, &api, &id).await?;
    let views = invites::list(&tool, &item).await?;
    Ok(no_store(HttpResponse::Ok()).json(InvitesJson {
        invites: views.iter().map(InviteJson::of).collect(),
        offered: item.offered,
        roles: roles_for(item.media.kind)
            .iter()
            .map(|r| r.as_str())
            .collect(),
        mail: invites::mail_configured(&tool),
        default_days: tool.settings.invites.days,
    }))
}

/// POST `{"email", "name", "role", "send_email", "expires_days"?}`.
pub async fn create(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let item = managed(&tool, &api, &id).await?;
    let body = json_body::object(payload).await?;
    let text = |field: Field| -> Result<Option<String>, FieldError> {
        Ok(body.optional_text(field)?.map(str::to_string))
    };
    let send_email = body.has(Field::SendEmail)
        && body.required_bool(Field::SendEmail, "send_email must be true or false.")?;
    let request = CreateRequest {
        email: text(Field::Email)?,
        name: text(Field::Name)?,
        role: text(Field::Role)?,
        days: match body.number(Field::ExpiresDays) {
            NumberField::Absent => None,
            NumberField::Whole(days) => Some(Ok(days)),
            NumberField::NotWhole => Some(Err(())),
        },
        send_email,
    };
    let view = invites::create(&tool, &item, request)
        .await
        .map_err(refusal)?;
    Ok(no_store(HttpResponse::Created()).json(InviteJson::of(&view)))
}

/// PATCH `{"role"}`.
pub async fn patch(
    tool: web::Data<Tool>,
    api: ApiSession,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (id, invite_id) = path.into_inner();
    let item = managed(&tool, &api, &id).await?;
    let body = json_body::object(payload).await?;
    let role = body.required_text(Field::Role)?;
    if role.is_empty() {
        return Err(FieldError::new(
            Field::Role,
            "Send {\"role\": \"viewer\"}, or another role the item offers.",
        )
        .into());
    }
    let view = invites::set_role(&tool, &item, &invite_id, role).await?;
    Ok(no_store(HttpResponse::Ok()).json(InviteJson::of(&view)))
}

/// POST: a new link for the invitation (the old one dies).
pub async fn resend(
    tool: web::Data<Tool>,
    api: ApiSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, invite_id) = path.into_inner();
    let item = managed(&tool, &api, &id).await?;
    let view = invites::resend(&tool, &item, &invite_id).await?;
    Ok(no_store(HttpResponse::Ok()).json(InviteJson::of(&view)))
}

/// DELETE: revokes the invitation (204).
pub async fn revoke(
    tool: web::Data<Tool>,
    api: ApiSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, invite_id) = path.into_inner();
    let item = managed(&tool, &api, &id).await?;
    invites::revoke(&tool, &item, &invite_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
