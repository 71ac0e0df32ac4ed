//! Invite links ("Invite links" in README.md): what an item's owner manages
//! (invitations, their roles, Resend and Revoke, the email) and what an
//! invitee goes through (the invitation page, confirming their address, the
//! session bound to their browser). The rules live in `domain::invite`; the
//! store holds the ones concurrency could break.

use std::time::Duration as StdDuration;

use askama::Template;

use super::Tool;
use super::failure::{Failure, Fault, Kind};
use super::mail::Mail;
use super::media;
use crate::crypto::{hash_secret, is_token_shaped, random_token};
use crate::domain::field::{Field, FieldError};
use crate::domain::guest_access::Unavailable;
use crate::domain::invite::{
    EmailStatus, InviteRequest, InviteRole, InviteStatus, NewInvite, email_key, role_for, roles_for,
};
use crate::domain::media::{Media, MediaId};
use crate::domain::session::LaunchSession;
use crate::domain::time::Timestamp;
use crate::store::invites::{self as store, Binding, Changed, InviteRow, NewInviteRow};

/// Why managing an item's invitations was refused.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("This launch did not come from a course, so there is no course media.")]
    NoCourse,
    #[error("There is no such item in this course.")]
    NotFound,
    #[error("There is no such invitation for this item.")]
    InviteNotFound,
    #[error("Your role in this course does not allow this.")]
    Forbidden,
    #[error(
        "Invitations are not available for this item: they need the platform's invite-to-media module and media page, and channel and media gallery rooms do not take them."
    )]
    Disabled,
    /// The address has a live invitation for the item already (it comes
    /// with the answer, for the dialog's Resend or role change).
    #[error("This person already has an invitation to this item. Resend it or change its role.")]
    Exists(Box<InviteView>),
    #[error("This invitation was revoked (or replaced by a newer one). Invite the person again.")]
    Revoked,
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
    Fault(#[from] Fault),
}

crate::faults_from_store!(InviteError);

crate::media_refusals_into!(InviteError);

impl Failure for InviteError {
    fn code(&self) -> &'static str {
        match self {
            InviteError::NoCourse => "no_course",
            InviteError::NotFound | InviteError::InviteNotFound => "not_found",
            InviteError::Forbidden => "forbidden",
            InviteError::Disabled => "invites_disabled",
            InviteError::Exists(_) => "invite_exists",
            InviteError::Revoked => "invite_revoked",
            InviteError::Invalid(e) => e.code(),
            InviteError::Fault(f) => f.code(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            InviteError::NoCourse | InviteError::NotFound | InviteError::InviteNotFound => {
                Kind::NotFound
            }
            InviteError::Forbidden => Kind::Forbidden,
            InviteError::Disabled | InviteError::Exists(_) | InviteError::Revoked => Kind::Conflict,
            InviteError::Invalid(e) => e.kind(),
            InviteError::Fault(f) => f.kind(),
        }
    }

    fn invalid(&self) -> Option<&FieldError> {
        match self {
            InviteError::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

pub type InviteResult<T> = Result<T, InviteError>;

/// An invitation as its owner sees it; `url` only when its link was just
/// made (only the link's hash is kept).
#[derive(Clone, Debug)]
pub struct InviteView {
    pub row: InviteRow,
    pub status: InviteStatus,
    pub email_status: EmailStatus,
    pub url: Option<String>,
}

impl InviteView {
    fn of(row: InviteRow, now: Timestamp, url: Option<String>) -> InviteView {
        InviteView {
            status: row.facts().status(now),
            email_status: row.email_status(),
            url,
            row,
        }
    }
}

/// An item whose invitations the session may manage. Only [`manage`]
/// makes one, so every function that takes it was checked.
pub struct ManagedInvites {
    pub media: Media,
    /// The platform's modules are on and the kind takes invitations.
    pub offered: bool,
    inviter_id: i64,
    inviter_name: String,
    course_name: String,
    deployment_id: String,
}

/// The item, if the session may manage it: another course's item is not
/// found, a learner (or an invitee) is refused. Handlers call this before
/// reading a body.
pub async fn manage(
    tool: &Tool,
    session: &LaunchSession,
    id: &str,
) -> InviteResult<ManagedInvites> {
    let media = media::get(tool, session, id).await?;
    let course = media::require_manage(session)?;
    let offered =
        !roles_for(media.kind).is_empty() && media::guest_access_offered(tool, session).await?;
    Ok(ManagedInvites {
        offered,
        inviter_id: session.user_id.map(|u| u.0).ok_or(InviteError::Forbidden)?,
        inviter_name: session
            .user_name
            .clone()
            .unwrap_or_else(|| "Your instructor".into()),
        course_name: course.display_name().to_string(),
        deployment_id: session.deployment_id.clone(),
        media,
    })
}

/// Whether invitations can go out by email here.
pub fn mail_configured(tool: &Tool) -> bool {
    tool.mailer.configured()
}

pub fn invite_url(tool: &Tool, token: &str) -> String {
    tool.settings.server.public_url.join(&format!("/i/{token}"))
}

/// A new link's token and its lookup hash.
fn new_token(tool: &Tool) -> (String, String) {
    let token = random_token(16);
    let hash = tool.sealer.lookup_hash(&token);
    (token, hash)
}

/// The item's invitations, the newest first.
pub async fn list(tool: &Tool, item: &ManagedInvites) -> InviteResult<Vec<InviteView>> {
    let media = item.media.id.clone();
    let rows = tool
        .db
        .read(move |conn| store::of_media(conn, &media))
        .await?;
    let now = tool.clock.now();
    Ok(rows
        .into_iter()
        .map(|row| InviteView::of(row, now, None))
        .collect())
}

/// What arrived for a new invitation.
pub struct CreateRequest {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub days: Option<Result<i64, ()>>,
    pub send_email: bool,
}

/// Invites one person: 409 with the existing invitation if the address has
/// a live one. The email, if asked for, goes out after the answer.
pub async fn create(
    tool: &Tool,
    item: &ManagedInvites,
    request: CreateRequest,
) -> InviteResult<InviteView> {
    if !item.offered {
        return Err(InviteError::Disabled);
    }
    let new = NewInvite::parse(
        InviteRequest {
            email: request.email.as_deref(),
            name: request.name.as_deref(),
            role: request.role.as_deref(),
            days: request.days,
        },
        item.media.kind,
        tool.settings.invites.days,
    )
    .map_err(|mut problems| InviteError::Invalid(problems.remove(0)))?;
    if request.send_email && !mail_configured(tool) {
        return Err(FieldError::new(
            Field::SendEmail,
            "This tool has no mail server set up: copy the link and send it yourself.",
        )
        .into());
    }
    let (token, token_hash) = new_token(tool);
    let id = random_token(12);
    let now = tool.clock.now();
    let expires_at = now + crate::domain::time::Duration::days(new.days);
    let (media, inviter_name, deployment, inviter) = (
        item.media.id.clone(),
        item.inviter_name.clone(),
        item.deployment_id.clone(),
        item.inviter_id,
    );
    let key = email_key(&new.email);
    let saved = {
        let (new, id, token_hash) = (new.clone(), id.clone(), token_hash.clone());
        tool.db
            .write(move |conn| {
                store::insert(
                    conn,
                    NewInviteRow {
                        id: &id,
                        media: &media,
                        email: &new.email,
                        email_key: &key,
                        name: &new.name,
                        role: new.role,
                        token_hash: &token_hash,
                        invited_by: inviter,
                        invited_by_name: &inviter_name,
                        deployment_id: &deployment,
                        days: new.days,
                        expires_at,
                    },
                    now,
                )
            })
            .await?
    };
    let row = match saved {
        Ok(row) => row,
        Err(existing) => {
            return Err(InviteError::Exists(Box::new(InviteView::of(
                existing, now, None,
            ))));
        }
    };
    tracing::info!(media = %item.media.id, invite = %row.id, role = new.role.as_str(), "invitation created");
    let url = invite_url(tool, &token);
    if request.send_email {
        send_later(tool, item, &row, &token_hash, &url);
    }
    Ok(InviteView::of(row, now, Some(url)))
}

async fn changed(result: Changed, now: Timestamp) -> InviteResult<InviteView> {
    match result {
        Changed::Done(row) => Ok(InviteView::of(row, now, None)),
        Changed::NotLive => Err(InviteError::Revoked),
        Changed::NotFound => Err(InviteError::InviteNotFound),
    }
}

/// A live invitation's new role; an invitee in the room's session gets it
/// at once (their page follows the room).
pub async fn set_role(
    tool: &Tool,
    item: &ManagedInvites,
    invite_id: &str,
    raw_role: &str,
) -> InviteResult<InviteView> {
    let role: InviteRole = role_for(item.media.kind, raw_role)?;
    let (media, id) = (item.media.id.clone(), invite_id.to_string());
    let result = tool
        .db
        .write(move |conn| store::set_role(conn, &media, &id, role))
        .await?;
    super::live::changed_here(tool, &item.media.id);
    changed(result, tool.clock.now()).await
}

/// Resend: a new link (the old one dies, and so does the browser it was
/// bound to), by email too when mail is set up.
pub async fn resend(
    tool: &Tool,
    item: &ManagedInvites,
    invite_id: &str,
) -> InviteResult<InviteView> {
    if !item.offered {
        return Err(InviteError::Disabled);
    }
    let (token, token_hash) = new_token(tool);
    let (media, id, hash, now) = (
        item.media.id.clone(),
        invite_id.to_string(),
        token_hash.clone(),
        tool.clock.now(),
    );
    let result = tool
        .db
        .write(move |conn| store::renew(conn, &media, &id, &hash, now))
        .await?;
    super::live::changed_here(tool, &item.media.id);
    let mut view = changed(result, now).await?;
    let url = invite_url(tool, &token);
    if mail_configured(tool) {
        send_later(tool, item, &view.row, &token_hash, &url);
    }
    tracing::info!(media = %item.media.id, invite = %view.row.id, "invitation link renewed");
    view.url = Some(url);
    Ok(view)
}

/// Revoke: the link dies and the invitee's session ends.
pub async fn revoke(tool: &Tool, item: &ManagedInvites, invite_id: &str) -> InviteResult<()> {
    let (media, id, now) = (
        item.media.id.clone(),
        invite_id.to_string(),
        tool.clock.now(),
    );
    let result = tool
        .db
        .write(move |conn| store::revoke(conn, &media, &id, now))
        .await?;
    super::live::changed_here(tool, &item.media.id);
    match result {
        Changed::NotFound => Err(InviteError::InviteNotFound),
        _ => {
            tracing::info!(media = %item.media.id, invite = %invite_id, "invitation revoked");
            Ok(())
        }
    }
}

/// Forgets invitations (names and addresses) revoked or expired longer ago
/// than guest records are kept; how many.
pub async fn purge(tool: &Tool) -> Result<usize, Fault> {
    let cutoff = tool.clock.now() - tool.settings.guests.retention;
    Ok(tool
        .db
        .write(move |conn| store::purge(conn, cutoff))
        .await?)
}

// ---- The email --------------------------------------------------------------

#[derive(Template)]
#[template(path = "mail/invite.txt")]
struct InviteText<'a> {
    facts: &'a InviteFacts<'a>,
}

#[derive(Template)]
#[template(path = "mail/invite.html")]
struct InviteHtml<'a> {
    facts: &'a InviteFacts<'a>,
}

/// What an invitation email says.
struct InviteFacts<'a> {
    name: &'a str,
    email: &'a str,
    inviter: &'a str,
    title: &'a str,
    kind: &'static str,
    course: &'a str,
    role: &'static str,
    allows: &'static str,
    until: String,
    url: &'a str,
}

/// A date as the email and the pages write it: "12 December 2026, 14:30 UTC".
pub fn long_time(at: Timestamp) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:long] [year], [hour]:[minute] UTC"
    );
    time::OffsetDateTime::from_unix_timestamp(at.unix())
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

fn invite_mail(item: &ManagedInvites, row: &InviteRow, url: &str) -> Result<Mail, askama::Error> {
    let role = row.role();
    let facts = InviteFacts {
        name: &row.name,
        email: &row.email,
        inviter: &item.inviter_name,
        title: &item.media.title,
        kind: item.media.kind.label(),
        course: &item.course_name,
        role: role.label(),
        allows: role.allows(item.media.kind),
        until: long_time(row.expires_at),
        url,
    };
    Ok(Mail {
        to_name: row.name.clone(),
        to_email: row.email.clone(),
        subject: format!(
            "{} invited you to \"{}\"",
            item.inviter_name, item.media.title
        ),
        text: InviteText { facts: &facts }.render()?,
        html: InviteHtml { facts: &facts }.render()?,
    })
}

/// Sends the invitation after the request is answered, and records how it
/// went; the link stays valid whatever happens.
fn send_later(tool: &Tool, item: &ManagedInvites, row: &InviteRow, token_hash: &str, url: &str) {
    let mail = match invite_mail(item, row, url) {
        Ok(mail) => mail,
        Err(e) => {
            tracing::error!(invite = %row.id, error = %e, "invitation email could not be written");
            return;
        }
    };
    let (mailer, db, now) = (tool.mailer.clone(), tool.db.clone(), tool.clock.now());
    let timeout =
        StdDuration::from_secs(tool.settings.invites.smtp_timeout.whole_seconds().max(1) as u64);
    let (id, hash) = (row.id.clone(), token_hash.to_string());
    tokio::spawn(async move {
        let status = match mailer.send(mail, now, timeout).await {
            Ok(()) => {
                tracing::info!(invite = %id, "invitation email sent");
                EmailStatus::Sent
            }
            Err(e) => {
                tracing::warn!(invite = %id, problem = %e, "invitation email failed");
                EmailStatus::Failed
            }
        };
        let recorded = db
            .write(move |conn| store::set_email_status(conn, &id, &hash, status))
            .await;
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "an invitation email's outcome could not be recorded");
        }
    });
}

// ---- The invitee's side -------------------------------------------------------

/// An invitation as its page shows it, before the invitee confirms.
pub struct Invitation {
    pub row: InviteRow,
    pub media: Media,
}

/// Where an invitation's link leads now.
pub enum InviteePage {
    /// The link does not (or no longer) let anyone in, and why.
    Unavailable(Unavailable),
    /// No browser has confirmed it, or this browser did but lost its
    /// session (a cleared cookie, a lost answer): the page asks for the
    /// address.
    Confirm(Invitation),
    /// This browser's invitee session: the item, with the role.
    In(Invitee),
}

/// An invitee in their bound browser.
pub struct Invitee {
    pub row: InviteRow,
    pub media: Media,
    pub session: LaunchSession,
    pub session_hash: String,
}

/// The invitation behind `token`, if it still lets its invitee in.
pub async fn open(tool: &Tool, token: &str) -> Result<Result<Invitation, Unavailable>, Fault> {
    if !is_token_shaped(token) {
        return Ok(Err(Unavailable::InviteNotFound));
    }
    let hash = tool.sealer.lookup_hash(token);
    let found = tool
        .db
        .read(move |conn| {
            let Some(row) = store::by_token(conn, &hash)? else {
                return Ok(None);
            };
            let media = MediaId::parse(&row.media_id)
                .map(|id| crate::store::media::find(conn, &id))
                .transpose()?
                .flatten();
            Ok(Some((row, media)))
        })
        .await?;
    let Some((row, media)) = found else {
        return Ok(Err(Unavailable::InviteNotFound));
    };
    let now = tool.clock.now();
    match row.facts().status(now) {
        InviteStatus::Revoked => return Ok(Err(Unavailable::InviteRevoked)),
        InviteStatus::Expired => return Ok(Err(Unavailable::InviteExpired)),
        InviteStatus::Pending | InviteStatus::Accepted => {}
    }
    let Some(media) = media else {
        return Ok(Err(Unavailable::MediaUnavailable));
    };
    let platform = tool.registrations.by_id(tool, media.platform_id).await?;
    if !platform.is_some_and(|p| p.modules.guest_access_offered()) {
        return Ok(Err(Unavailable::InvitesDisabled));
    }
    Ok(Ok(Invitation { row, media }))
}

/// What a browser brings to an invitation's pages: its invitee session's
/// token, and its form cookie (which tells the browser that confirmed).
#[derive(Clone, Copy, Default)]
pub struct BrowserCookies<'a> {
    pub session: Option<&'a str>,
    pub browser: Option<&'a str>,
}

/// Whether `value` (a cookie) hashes to `stored`.
fn matches(value: Option<&str>, stored: Option<&str>) -> bool {
    match (value.filter(|v| is_token_shaped(v)), stored) {
        (Some(value), Some(stored)) => crate::crypto::secrets_equal(&hash_secret(value), stored),
        _ => false,
    }
}

/// The invitation page's view for a browser with `cookies`.
pub async fn invitee(
    tool: &Tool,
    token: &str,
    cookies: BrowserCookies<'_>,
) -> Result<InviteePage, Fault> {
    let invitation = match open(tool, token).await? {
        Ok(invitation) => invitation,
        Err(reason) => return Ok(InviteePage::Unavailable(reason)),
    };
    let access = &invitation.row.access;
    if access.bound_session_hash.is_none() {
        return Ok(InviteePage::Confirm(invitation));
    }
    if !matches(cookies.session, access.bound_session_hash.as_deref()) {
        return Ok(
            if matches(cookies.browser, access.bound_browser_hash.as_deref()) {
                InviteePage::Confirm(invitation)
            } else {
                InviteePage::Unavailable(Unavailable::InviteUsedElsewhere)
            },
        );
    }
    let hash = hash_secret(cookies.session.unwrap_or_default());
    let (key, media_id, now) = (hash.clone(), invitation.media.id.clone(), tool.clock.now());
    let found = tool
        .db
        .read(move |conn| {
            crate::store::sessions::find_with_media(
                conn,
                &key,
                now,
                &media_id,
                crate::store::sessions::Holders::AndInvitees,
            )
        })
        .await?;
    match found {
        Some((session, Some(media)))
            if session
                .invitee
                .as_ref()
                .is_some_and(|scope| scope.invite_id == invitation.row.id) =>
        {
            Ok(InviteePage::In(Invitee {
                row: invitation.row,
                media,
                session,
                session_hash: hash,
            }))
        }
        _ => Ok(InviteePage::Unavailable(Unavailable::InviteUsedElsewhere)),
    }
}

/// Why confirming an address did not open the invitation.
pub enum NotConfirmed {
    Unavailable(Unavailable),
    /// Not the invitation's address (422: the form again).
    WrongEmail(Invitation),
    /// Five wrong addresses within the hour (429).
    TooManyTries,
}

/// A browser's new invitee session: its token (the cookie) and end.
pub struct Confirmed {
    pub session_token: String,
    pub expires_at: Timestamp,
}

/// The invitee confirms their address in the browser whose form cookie is
/// `browser`: the first browser to do so gets the invitation's session (the
/// same one may confirm again for a new session); every try counts towards
/// the hour's five.
pub async fn confirm(
    tool: &Tool,
    token: &str,
    email: &str,
    browser: &str,
) -> Result<Result<Confirmed, NotConfirmed>, Fault> {
    let invitation = match open(tool, token).await? {
        Ok(invitation) => invitation,
        Err(reason) => return Ok(Err(NotConfirmed::Unavailable(reason))),
    };
    let now = tool.clock.now();
    let token_hash = tool.sealer.lookup_hash(token);
    let (id, hash) = (invitation.row.id.clone(), token_hash.clone());
    let allowed = tool
        .db
        .write(move |conn| store::take_try(conn, &id, &hash, now))
        .await?;
    if !allowed {
        return Ok(Err(NotConfirmed::TooManyTries));
    }
    if email_key(email) != email_key(&invitation.row.email) {
        tracing::info!(invite = %invitation.row.id, "invitation confirmed with another address");
        return Ok(Err(NotConfirmed::WrongEmail(invitation)));
    }
    let session_token = random_token(32);
    let session_hash = hash_secret(&session_token);
    let browser_hash = hash_secret(browser);
    let expires_at = invitation.row.expires_at;
    let bound = tool
        .db
        .write(move |conn| {
            store::bind(
                conn,
                Binding {
                    invite: &invitation.row,
                    token_hash: &token_hash,
                    media: &invitation.media,
                    session_hash: &session_hash,
                    browser_hash: &browser_hash,
                    now,
                },
            )
        })
        .await?;
    if !bound {
        // Revoked or resent meanwhile says so; otherwise another browser has it.
        let reason = match open(tool, token).await? {
            Err(reason) => reason,
            Ok(_) => Unavailable::InviteUsedElsewhere,
        };
        return Ok(Err(NotConfirmed::Unavailable(reason)));
    }
    Ok(Ok(Confirmed {
        session_token,
        expires_at,
    }))
}
