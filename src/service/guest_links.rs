//! Guest access: what an item's owner manages (the switch, up to three
//! links, who came in) and what a guest goes through (entry, admission,
//! the view). The rules live in `domain::guest_access`; the store holds
//! the ones concurrency could break.

use super::Tool;
use super::failure::{Failure, Fault, Kind};
use super::media;
use crate::crypto::{hash_secret, is_token_shaped, random_token, secret_token};
use crate::domain::field::FieldError;
use crate::domain::guest_access::{
    GuestIdentity, GuestLink, ItemFacts, LinkStatus, NewLink, Unavailable, Visit,
    kind_supports_guest_access, refusal,
};
use crate::domain::media::Media;
use crate::domain::session::LaunchSession;
use crate::domain::time::Timestamp;
use crate::store::StoreError;
use crate::store::guest_links::{self as store, Added, Admission, FoundLink, StoredToken};
use crate::store::media as media_store;
use crate::store::rooms as room_store;
use crate::store::sealed::link_context;

/// Why managing an item's guest access was refused.
#[derive(Debug, thiserror::Error)]
pub enum GuestAccessError {
    #[error("This launch did not come from a course, so there is no course media.")]
    NoCourse,
    #[error("There is no such item in this course.")]
    NotFound,
    #[error("There is no such guest link for this item.")]
    LinkNotFound,
    #[error("Your role in this course does not allow this.")]
    Forbidden,
    #[error(
        "Guest access is not available for this item: channel and media gallery rooms do not support it, and it needs the platform's invite-to-media module and media page."
    )]
    Unsupported,
    #[error("Turn on Enable guest access to create links.")]
    Disabled,
    #[error("This item has 3 guest links, the most it can have. Delete one to create another.")]
    LinkLimitReached,
    /// Links of the item were created at the same moment, too often to
    /// find a free place.
    #[error("Other links of this item were being created at the same moment. Please try again.")]
    Busy,
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
    Fault(#[from] Fault),
}

crate::faults_from_store!(GuestAccessError);

crate::media_refusals_into!(GuestAccessError);

impl Failure for GuestAccessError {
    fn code(&self) -> &'static str {
        match self {
            GuestAccessError::NoCourse => "no_course",
            GuestAccessError::NotFound | GuestAccessError::LinkNotFound => "not_found",
            GuestAccessError::Forbidden => "forbidden",
            GuestAccessError::Unsupported => "guest_access_unsupported",
            GuestAccessError::Disabled => "guest_access_disabled",
            GuestAccessError::LinkLimitReached => "link_limit_reached",
            GuestAccessError::Busy => "conflict",
            GuestAccessError::Invalid(e) => e.code(),
            GuestAccessError::Fault(f) => f.code(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            GuestAccessError::NoCourse
            | GuestAccessError::NotFound
            | GuestAccessError::LinkNotFound => Kind::NotFound,
            GuestAccessError::Forbidden => Kind::Forbidden,
            GuestAccessError::Unsupported
            | GuestAccessError::Disabled
            | GuestAccessError::LinkLimitReached
            | GuestAccessError::Busy => Kind::Conflict,
            GuestAccessError::Invalid(e) => e.kind(),
            GuestAccessError::Fault(f) => f.kind(),
        }
    }

    fn invalid(&self) -> Option<&FieldError> {
        match self {
            GuestAccessError::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

pub type GuestAccessResult<T> = Result<T, GuestAccessError>;

/// A guest turned away: a missing link is not found, one that no longer
/// admits is gone.
impl Failure for Unavailable {
    fn code(&self) -> &'static str {
        Unavailable::code(*self)
    }

    fn kind(&self) -> Kind {
        match self {
            Unavailable::NotFound | Unavailable::Deleted | Unavailable::InviteNotFound => {
                Kind::NotFound
            }
            Unavailable::Denied | Unavailable::InviteUsedElsewhere => Kind::Forbidden,
            _ => Kind::Gone,
        }
    }

    fn message(&self) -> String {
        Unavailable::message(*self).to_string()
    }

    fn title(&self) -> Option<&'static str> {
        Some(Unavailable::title(*self))
    }
}

/// An item's guest access as its owner sees it.
pub struct GuestAccess {
    pub enabled: bool,
    pub supported: bool,
    pub links: Vec<LinkView>,
}

/// A link with its status and full URL.
pub struct LinkView {
    pub link: GuestLink,
    pub status: LinkStatus,
    pub url: String,
}

/// An item whose guest access the session may manage, with what decides
/// whether guest access is offered for it. Only [`manage`] makes one, so
/// every function that takes it was checked.
pub struct ManagedItem {
    media: Media,
    /// The platform's modules are on and the kind supports guest access.
    supported: bool,
}

/// The item, if the session may manage it: another course's item is not
/// found, a learner is refused. Handlers call this before reading a body.
pub async fn manage(
    tool: &Tool,
    session: &LaunchSession,
    id: &str,
) -> GuestAccessResult<ManagedItem> {
    let media = media::get(tool, session, id).await?;
    media::require_manage(session)?;
    let supported = kind_supports_guest_access(media.kind)
        && media::guest_access_offered(tool, session).await?;
    Ok(ManagedItem { media, supported })
}

impl ManagedItem {
    fn facts(&self, enabled: bool) -> ItemFacts {
        ItemFacts {
            available: true,
            enabled,
            offered: self.supported,
        }
    }
}

pub fn link_url(tool: &Tool, token: &str) -> String {
    tool.settings.server.public_url.join(&format!("/g/{token}"))
}

/// The link with its status and its URL, from its sealed token.
fn view_of(tool: &Tool, stored: store::StoredLink, item: ItemFacts) -> Result<LinkView, Fault> {
    let link = stored.link;
    let token = tool
        .sealer
        .open_text(&link_context(&link.id), &stored.token_sealed)
        .map_err(|e| Fault::Internal(e.into()))?;
    Ok(LinkView {
        status: link.facts().status(item, tool.clock.now()),
        url: link_url(tool, &token),
        link,
    })
}

/// The switch, whether guest access is offered, and the live links.
pub async fn get(tool: &Tool, item: &ManagedItem) -> GuestAccessResult<GuestAccess> {
    access_with(tool, item, item.media.guest_access_enabled).await
}

async fn access_with(
    tool: &Tool,
    item: &ManagedItem,
    enabled: bool,
) -> GuestAccessResult<GuestAccess> {
    let media_id = item.media.id.clone();
    let links = tool
        .db
        .read(move |conn| store::live_links(conn, &media_id))
        .await?;
    let facts = item.facts(enabled);
    Ok(GuestAccess {
        enabled,
        supported: item.supported,
        links: links
            .into_iter()
            .map(|link| view_of(tool, link, facts))
            .collect::<Result<_, Fault>>()?,
    })
}

/// Turns the switch on or off: off makes every link inactive at once, on
/// makes them work again unless expired or used up.
pub async fn set_enabled(
    tool: &Tool,
    item: &ManagedItem,
    enabled: bool,
) -> GuestAccessResult<GuestAccess> {
    if !item.supported {
        return Err(GuestAccessError::Unsupported);
    }
    let media_id = item.media.id.clone();
    let now = tool.clock.now();
    let withdrawn = tool
        .db
        .write(move |conn| {
            store::set_enabled(conn, &media_id, enabled)?;
            if enabled {
                return Ok(0);
            }
            // Guests still waiting in a room's lobby are told; those inside stay.
            room_store::withdraw_waiting(conn, &media_id, None, Unavailable::Disabled.code(), now)
        })
        .await?;
    if withdrawn > 0 {
        super::live::changed_here(tool, &item.media.id);
    }
    tracing::info!(media = %item.media.id, enabled, withdrawn, "guest access switched");
    access_with(tool, item, enabled).await
}

/// The fields of a new link as they came, checked here in the order the
/// owner's modal expects its answers.
pub struct LinkRequest {
    pub name: Option<String>,
    pub click_limit: crate::domain::guest_access::NumberField,
    pub duration_days: crate::domain::guest_access::NumberField,
}

pub async fn create_link(
    tool: &Tool,
    item: &ManagedItem,
    request: LinkRequest,
) -> GuestAccessResult<LinkView> {
    if !item.supported {
        return Err(GuestAccessError::Unsupported);
    }
    if !item.media.guest_access_enabled {
        return Err(GuestAccessError::Disabled);
    }
    let new = NewLink::parse(
        request.name.as_deref(),
        request.click_limit,
        request.duration_days,
    )?;
    let now = tool.clock.now();
    let media_id = item.media.id.clone();
    let link_id = random_token(9);
    let token = secret_token();
    let stored = StoredToken {
        hash: tool.sealer.lookup_hash(&token),
        sealed: tool.sealer.seal_text(&link_context(&link_id), &token),
    };
    let added = match tool
        .db
        .write(move |conn| store::insert(conn, &media_id, &link_id, &stored, &new, now))
        .await
    {
        Ok(added) => added,
        // Every place was taken by a concurrent create, again and again.
        Err(StoreError::Conflict(_)) => return Err(GuestAccessError::Busy),
        Err(other) => return Err(other.into()),
    };
    match added {
        Added::Link(link) => {
            tracing::info!(media = %item.media.id, link = %link.id, "guest link created");
            Ok(LinkView {
                status: link.facts().status(item.facts(true), now),
                url: link_url(tool, &token),
                link,
            })
        }
        Added::Full => Err(GuestAccessError::LinkLimitReached),
    }
}

/// Deletes a link at once; its token is remembered, so a guest who comes
/// back is told the link was deleted.
pub async fn delete_link(tool: &Tool, item: &ManagedItem, link_id: &str) -> GuestAccessResult<()> {
    let now = tool.clock.now();
    let media_id = item.media.id.clone();
    let link = link_id.to_string();
    let (deleted, withdrawn) = tool
        .db
        .write(move |conn| {
            if !store::mark_deleted(conn, &media_id, &link, now)? {
                return Ok((false, 0));
            }
            let reason = Unavailable::Deleted.code();
            let withdrawn =
                room_store::withdraw_waiting(conn, &media_id, Some(&link), reason, now)?;
            Ok((true, withdrawn))
        })
        .await?;
    if !deleted {
        return Err(GuestAccessError::LinkNotFound);
    }
    if withdrawn > 0 {
        super::live::changed_here(tool, &item.media.id);
    }
    tracing::info!(media = %item.media.id, link = link_id, "guest link deleted");
    Ok(())
}

/// The most visits one page of the list holds.
pub const MOST_VISITS_PER_PAGE: i64 = 500;

/// One page of the guests who came in through a link, and where the next
/// page starts (None after the last).
pub struct VisitsPage {
    pub visits: Vec<Visit>,
    pub next: Option<i64>,
}

/// The link of the item that guests' visits are listed for (deleted links
/// included, until the retention purge).
pub async fn visited_link(
    tool: &Tool,
    item: &ManagedItem,
    link_id: &str,
) -> GuestAccessResult<GuestLink> {
    let media_id = item.media.id.clone();
    let link = link_id.to_string();
    tool.db
        .read(move |conn| store::find_of_media(conn, &media_id, &link))
        .await?
        .ok_or(GuestAccessError::LinkNotFound)
}

/// Up to `limit` (at most [`MOST_VISITS_PER_PAGE`]) guests who came in
/// through `link` after the visit `after`, oldest first.
pub async fn visits_page(
    tool: &Tool,
    link: &GuestLink,
    after: Option<i64>,
    limit: i64,
) -> Result<VisitsPage, Fault> {
    let limit = limit.clamp(1, MOST_VISITS_PER_PAGE);
    let link_id = link.id.clone();
    // One more than asked tells whether another page follows.
    let mut visits = tool
        .db
        .read(move |conn| store::visits_page(conn, &link_id, after, limit + 1))
        .await?;
    let next = if visits.len() as i64 > limit {
        visits.truncate(limit as usize);
        visits.last().map(|v| v.id)
    } else {
        None
    };
    Ok(VisitsPage { visits, next })
}

// ---- The guest's side ------------------------------------------------------

/// The link with this token and, when it is still there, its item: read
/// together, in one trip to the database.
async fn find(tool: &Tool, token: &str) -> Result<Option<(FoundLink, Option<Media>)>, Fault> {
    if !is_token_shaped(token) {
        return Ok(None);
    }
    let token_hash = tool.sealer.lookup_hash(token);
    Ok(tool
        .db
        .read(move |conn| {
            let Some(found) = store::find_by_token(conn, &token_hash)? else {
                return Ok(None);
            };
            let media = media_store::find(conn, &found.media_id)?;
            Ok(Some((found, media)))
        })
        .await?)
}

/// A link that admits guests now, with its item.
pub struct OpenLink {
    pub link: GuestLink,
    pub media: Media,
}

/// Why the link cannot let a new guest in, or the link and its item.
pub async fn open_link(tool: &Tool, token: &str) -> Result<Result<OpenLink, Unavailable>, Fault> {
    let found = find(tool, token).await?;
    Ok(checked(tool, found, false))
}

/// The link and its item unless `refusal` turns the guest away.
fn checked(
    tool: &Tool,
    found: Option<(FoundLink, Option<Media>)>,
    admitted: bool,
) -> Result<OpenLink, Unavailable> {
    let facts = found.as_ref().map(|(f, _)| (f.link.facts(), f.item));
    if let Some(reason) = refusal(facts, tool.clock.now(), admitted) {
        return Err(reason);
    }
    match found {
        Some((found, Some(media))) => Ok(OpenLink {
            link: found.link,
            media,
        }),
        _ => Err(Unavailable::MediaUnavailable),
    }
}

/// An admitted guest's session token (for the cookie) and when it ends.
pub struct Admitted {
    pub session_token: String,
    pub expires_at: Timestamp,
}

/// Admits a guest: one click counted, the visit recorded, a session opened,
/// in one step that checks the link, its item, the switch and the modules
/// itself (so a busy link needs one database round trip per guest). When
/// the link cannot admit, says why.
pub async fn admit(
    tool: &Tool,
    token: &str,
    identity: GuestIdentity,
) -> Result<Result<Admitted, Unavailable>, Fault> {
    if !is_token_shaped(token) {
        return Ok(Err(Unavailable::NotFound));
    }
    let session_token = secret_token();
    let now = tool.clock.now();
    let expires_at = now + tool.settings.guests.session;
    let token_hash = tool.sealer.lookup_hash(token);
    let session_hash = hash_secret(&session_token);
    let gate = tool.admission_gates.enter(token).await;
    let visit = tool
        .db
        .write(move |conn| {
            store::admit(
                conn,
                &Admission {
                    token_hash: &token_hash,
                    name: &identity.name,
                    email: &identity.email,
                    session_hash: &session_hash,
                    now,
                    session_expires_at: expires_at,
                },
            )
        })
        .await?;
    drop(gate);
    match visit {
        Some(visit_id) => {
            tracing::info!(visit_id, "guest admitted");
            Ok(Ok(Admitted {
                session_token,
                expires_at,
            }))
        }
        None => Ok(Err(open_link(tool, token)
            .await?
            .err()
            // Open again by now: the last click went to someone else.
            .unwrap_or(Unavailable::Exhausted))),
    }
}

/// An admitted guest as their session shows them: the session's hash
/// (which binds the page's file URLs to it), the link that admitted them,
/// and who they said they were (a room's lobby shows it).
#[derive(Clone, Debug)]
pub struct Guest {
    pub session_hash: String,
    pub link_id: String,
    pub name: String,
    pub email: String,
}

/// What a guest's page load finds.
pub enum GuestPage {
    /// The guest's session is for this link and the link still admits: show
    /// the item.
    View {
        media: Media,
        guest: Guest,
    },
    /// No session for this link in this browser: to the entry page, which
    /// shows the item's title.
    Entry {
        media: Media,
    },
    Unavailable(Unavailable),
    /// This browser's guest session for the link ended here, refused.
    Ended(Unavailable),
}

/// Every view re-checks the link, the switch, the modules and the item (a
/// guest already admitted is not turned away by the click limit: their
/// click is spent). A guest whose link no longer admits them is refused and
/// their session ends here: a page they still have open keeps playing until
/// they refresh or leave ("Guest links" in README.md).
pub async fn view(
    tool: &Tool,
    token: &str,
    session_token: Option<&str>,
) -> Result<GuestPage, Fault> {
    let found = find(tool, token).await?;
    let session = match &found {
        Some((found, _)) => guest_session(tool, session_token)
            .await?
            .filter(|s| s.link_id == found.link.id),
        None => None,
    };
    let open = match checked(tool, found, session.is_some()) {
        Ok(open) => open,
        Err(reason) => {
            if let Some(session) = session {
                let hash = session.token_hash;
                tool.db
                    .write(move |conn| store::end_session(conn, &hash))
                    .await?;
                tracing::info!(
                    visit_id = session.visit_id,
                    reason = reason.code(),
                    "guest session ended"
                );
                return Ok(GuestPage::Ended(reason));
            }
            return Ok(GuestPage::Unavailable(reason));
        }
    };
    Ok(match session {
        Some(session) => GuestPage::View {
            media: open.media,
            guest: Guest {
                session_hash: session.token_hash,
                link_id: session.link_id,
                name: session.name,
                email: session.email,
            },
        },
        None => GuestPage::Entry { media: open.media },
    })
}

/// Ends a guest session here (a room's moderator denied it, or it waited
/// too long): its cookie is cleared by the page that says so.
pub async fn end_guest_session(tool: &Tool, session_hash: &str) -> Result<(), Fault> {
    let hash = session_hash.to_string();
    tool.db
        .write(move |conn| store::end_session(conn, &hash))
        .await?;
    Ok(())
}

async fn guest_session(
    tool: &Tool,
    session_token: Option<&str>,
) -> Result<Option<store::GuestSession>, Fault> {
    let Some(token) = session_token.filter(|t| is_token_shaped(t)) else {
        return Ok(None);
    };
    let hash = hash_secret(token);
    let now = tool.clock.now();
    Ok(tool
        .db
        .read(move |conn| store::find_session(conn, &hash, now))
        .await?)
}

/// Removes ended guest sessions, and visits and deleted links older than the
/// retention period; returns how many records went.
pub async fn purge(tool: &Tool) -> Result<usize, Fault> {
    let now = tool.clock.now();
    let cutoff = now - tool.settings.guests.retention;
    let purged = tool
        .db
        .write(move |conn| store::purge(conn, now, cutoff))
        .await?;
    Ok(purged.sessions + purged.visits + purged.links)
}

#[cfg(test)]
#[path = "guest_links_tests.rs"]
mod tests;
