//! Guest links: the rules, in one place and free of HTTP and SQL.
//!
//! An item has a switch (off until its owner turns it on) and up to three
//! named links. A link may carry a click limit and a duration; whether it
//! admits a guest, and why not, follows from the link, its item and the
//! time. When several reasons apply the first of `not_found`, `deleted`,
//! `media_unavailable`, `disabled`, `expired`, `exhausted` wins: guests and
//! scripts read it as `data-unavailable-reason` ("Guest links" in README.md).

use super::field::{Field, FieldError};
use super::media::MediaKind;
use super::time::{Duration, Timestamp};

/// Links an item may have at once.
pub const MAX_LINKS: usize = 3;
pub const NAME_MAX: usize = 100;
pub const CLICK_LIMIT_MAX: i64 = 1_000_000;
pub const DURATION_MAX_DAYS: i64 = 3650;

/// Guest access is offered for every kind but channel and media-gallery
/// rooms, whose guests the channel or gallery decides.
pub fn kind_supports_guest_access(kind: MediaKind) -> bool {
    !matches!(kind, MediaKind::ChannelRoom | MediaKind::GalleryRoom)
}

/// A number field as it arrived: absent (or null), a whole number, or
/// anything else ("abc", 1.5, true).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberField {
    Absent,
    Whole(i64),
    NotWhole,
}

/// A link to create, every field checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLink {
    pub name: String,
    pub click_limit: Option<i64>,
    pub duration_days: Option<i64>,
}

impl NewLink {
    pub fn parse(
        name: Option<&str>,
        click_limit: NumberField,
        duration_days: NumberField,
    ) -> Result<NewLink, FieldError> {
        let name = name.map(str::trim).unwrap_or_default();
        if name.is_empty() {
            return Err(FieldError::new(Field::Name, "Enter a name for the link."));
        }
        if name.chars().count() > NAME_MAX {
            return Err(FieldError::new(
                Field::Name,
                format!("A link name can have at most {NAME_MAX} characters."),
            ));
        }
        Ok(NewLink {
            name: name.to_string(),
            click_limit: bounded(
                click_limit,
                Field::ClickLimit,
                CLICK_LIMIT_MAX,
                "The number of clicks must be a whole number from 1 to 1,000,000, or empty for unlimited.",
            )?,
            duration_days: bounded(
                duration_days,
                Field::DurationDays,
                DURATION_MAX_DAYS,
                "The duration must be a whole number of days from 1 to 3,650, or empty for no expiration.",
            )?,
        })
    }

    /// When a link made at `created_at` stops admitting guests, if ever.
    pub fn expires_at(&self, created_at: Timestamp) -> Option<Timestamp> {
        self.duration_days
            .map(|days| created_at + Duration::days(days))
    }
}

fn bounded(
    field: NumberField,
    name: Field,
    max: i64,
    problem: &str,
) -> Result<Option<i64>, FieldError> {
    match field {
        NumberField::Absent => Ok(None),
        NumberField::Whole(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => Err(FieldError::new(name, problem)),
    }
}

/// A guest link as its owner sees it (its token is not part of it: only
/// the owner's Copy needs it, and it is sealed in the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestLink {
    pub id: String,
    pub name: String,
    pub click_limit: Option<i64>,
    pub clicks: i64,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
}

impl GuestLink {
    pub fn facts(&self) -> LinkFacts {
        LinkFacts {
            deleted: self.deleted_at.is_some(),
            clicks: self.clicks,
            click_limit: self.click_limit,
            expires_at: self.expires_at,
        }
    }
}

/// One guest who came in through a link; `id` orders them and pages the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub at: Timestamp,
}

/// What decides whether a link admits a guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkFacts {
    pub deleted: bool,
    pub clicks: i64,
    pub click_limit: Option<i64>,
    pub expires_at: Option<Timestamp>,
}

/// What of the link's item decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemFacts {
    /// The item exists and is not deleted.
    pub available: bool,
    /// The owner's "Enable guest access" switch.
    pub enabled: bool,
    /// The platform's modules are on and the kind supports guest access.
    pub offered: bool,
}

impl ItemFacts {
    fn open(self) -> bool {
        self.enabled && self.offered
    }
}

/// A link's status as its owner sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkStatus {
    Active,
    Expired,
    Exhausted,
    /// Guest access is turned off (or not offered) for the item.
    Inactive,
}

impl LinkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Active => "active",
            LinkStatus::Expired => "expired",
            LinkStatus::Exhausted => "exhausted",
            LinkStatus::Inactive => "inactive",
        }
    }
}

impl LinkFacts {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    pub fn is_exhausted(&self) -> bool {
        self.click_limit.is_some_and(|limit| self.clicks >= limit)
    }

    pub fn status(&self, item: ItemFacts, now: Timestamp) -> LinkStatus {
        if !item.open() {
            LinkStatus::Inactive
        } else if self.is_expired(now) {
            LinkStatus::Expired
        } else if self.is_exhausted() {
            LinkStatus::Exhausted
        } else {
            LinkStatus::Active
        }
    }
}

/// Why a guest is turned away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    NotFound,
    Deleted,
    MediaUnavailable,
    Disabled,
    Expired,
    Exhausted,
    /// A room's moderator turned this guest away from the lobby.
    Denied,
    /// Invite links: no invitation has this link (never, or no longer: a
    /// Resend replaced it).
    InviteNotFound,
    /// Invite links: the owner revoked the invitation (or a newer one for
    /// the address replaced it).
    InviteRevoked,
    InviteExpired,
    /// The invitation is bound to the browser that first confirmed it.
    InviteUsedElsewhere,
    /// The platform's invite-to-media module is off.
    InvitesDisabled,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.title())
    }
}

impl std::error::Error for Unavailable {}

impl Unavailable {
    pub fn code(self) -> &'static str {
        match self {
            Unavailable::NotFound => "not_found",
            Unavailable::Deleted => "deleted",
            Unavailable::MediaUnavailable => "media_unavailable",
            Unavailable::Disabled => "disabled",
            Unavailable::Expired => "expired",
            Unavailable::Exhausted => "exhausted",
            Unavailable::Denied => "denied",
            Unavailable::InviteNotFound => "not_found",
            Unavailable::InviteRevoked => "invite_revoked",
            Unavailable::InviteExpired => "invite_expired",
            Unavailable::InviteUsedElsewhere => "invite_used_elsewhere",
            Unavailable::InvitesDisabled => "invites_disabled",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Unavailable::NotFound => "Link not found",
            Unavailable::Deleted => "This link is no longer valid",
            Unavailable::MediaUnavailable => "This media is no longer available",
            Unavailable::Disabled => "Guest access is turned off",
            Unavailable::Expired => "This link has expired",
            Unavailable::Exhausted => "This link has been used up",
            Unavailable::Denied => "You are not in this session",
            Unavailable::InviteNotFound => "Invitation not found",
            Unavailable::InviteRevoked => "This invitation was withdrawn",
            Unavailable::InviteExpired => "This invitation has expired",
            Unavailable::InviteUsedElsewhere => "This invitation is open in another browser",
            Unavailable::InvitesDisabled => "Invitations are turned off",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Unavailable::NotFound => {
                "There is no guest link at this address. Check that you copied the whole link, or ask the person who shared it for a new one."
            }
            Unavailable::Deleted => {
                "The owner deleted this guest link. Ask the person who shared it for a new link."
            }
            Unavailable::MediaUnavailable => {
                "The media this link shared is no longer available, for example because it was deleted."
            }
            Unavailable::Disabled => {
                "The owner has turned off guest access to this media. Ask the person who shared the link whether it will be turned on again."
            }
            Unavailable::Expired => {
                "This guest link was valid for a limited time, which has ended. Ask the person who shared it for a new link."
            }
            Unavailable::Exhausted => {
                "This guest link could be used a limited number of times, and it has been. Ask the person who shared it for a new link."
            }
            Unavailable::Denied => {
                "A moderator of this session did not let you in, or removed you from it. If you think this was a mistake, open the guest link again to ask once more, or contact the person who shared it."
            }
            Unavailable::InviteNotFound => {
                "There is no invitation at this address. Check that you copied the whole link. If the person who invited you sent it again, only the newest link works."
            }
            Unavailable::InviteRevoked => {
                "The person who invited you has withdrawn this invitation, or sent you a newer one. Use the newest invitation you received, or ask them to send it again."
            }
            Unavailable::InviteExpired => {
                "This invitation was valid for a limited time, which has ended. Ask the person who invited you to send it again."
            }
            Unavailable::InviteUsedElsewhere => {
                "This invitation was already opened in another browser, and it works only there. Open it in that browser, or ask the person who invited you to send it again: a new link works in the browser you open it in first."
            }
            Unavailable::InvitesDisabled => {
                "The course's platform no longer allows invitations to its media. Contact the person who invited you."
            }
        }
    }
}

/// Whether a link lets a guest in now, and if not why, the first reason in
/// the order: not_found, deleted, media_unavailable, disabled, expired,
/// exhausted. `found` is None when no link has the token. A guest the link
/// already `admitted` spent their click: the click limit stops new entries,
/// not them.
pub fn refusal(
    found: Option<(LinkFacts, ItemFacts)>,
    now: Timestamp,
    admitted: bool,
) -> Option<Unavailable> {
    let Some((link, item)) = found else {
        return Some(Unavailable::NotFound);
    };
    if link.deleted {
        Some(Unavailable::Deleted)
    } else if !item.available {
        Some(Unavailable::MediaUnavailable)
    } else if !item.open() {
        Some(Unavailable::Disabled)
    } else if link.is_expired(now) {
        Some(Unavailable::Expired)
    } else if link.is_exhausted() && !admitted {
        Some(Unavailable::Exhausted)
    } else {
        None
    }
}

/// A guest as they introduced themselves on the entry page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestIdentity {
    pub name: String,
    pub email: String,
}

pub const EMAIL_MAX: usize = 254;

impl GuestIdentity {
    /// Checks both fields; every problem is reported, by field.
    pub fn parse(name: &str, email: &str) -> Result<GuestIdentity, Vec<FieldError>> {
        let mut problems = Vec::new();
        let name = name.trim();
        if name.is_empty() {
            problems.push(FieldError::new(Field::Name, "Enter your name."));
        } else if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
            problems.push(FieldError::new(
                Field::Name,
                format!("Enter a name of at most {NAME_MAX} characters."),
            ));
        }
        let email = email.trim();
        if email.is_empty() {
            problems.push(FieldError::new(Field::Email, "Enter your email address."));
        } else if !is_plausible_email(email) {
            problems.push(FieldError::new(
                Field::Email,
                "Enter an email address such as name@example.com.",
            ));
        }
        if problems.is_empty() {
            Ok(GuestIdentity {
                name: name.to_string(),
                email: email.to_string(),
            })
        } else {
            Err(problems)
        }
    }
}

/// An address of the form local@domain.tld: no spaces or controls, one `@`,
/// a dot inside the domain. Email is collected for identification only, so
/// nothing more (no delivery) is attempted.
pub fn is_plausible_email(email: &str) -> bool {
    if email.len() > EMAIL_MAX || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
#[path = "guest_access_tests.rs"]
mod tests;
