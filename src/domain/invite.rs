//! Invite links ("Invite links" in README.md): one person, known by their
//! email address, invited to one item with one role. Unlike a guest link,
//! which anyone holding it may use, an invitation opens only for the address
//! it was made for, and only in the first browser that confirmed it.

use super::field::{Field, FieldError};
use super::guest_access::{EMAIL_MAX, NAME_MAX, is_plausible_email, kind_supports_guest_access};
use super::media::MediaKind;
use super::room::RoomRole;
use super::time::{Duration, Timestamp};

/// What an invitee may do. The seed's Contributor belongs to channel
/// rooms, which have no sessions yet, so it is not offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InviteRole {
    /// Watches (and in a room, chats).
    Viewer,
    /// A room's viewer who also presents on the stage.
    Speaker,
    /// A room's speaker who also starts and ends the session and admits or
    /// denies guests in the lobby.
    Moderator,
}

impl InviteRole {
    pub fn as_str(self) -> &'static str {
        match self {
            InviteRole::Viewer => "viewer",
            InviteRole::Speaker => "speaker",
            InviteRole::Moderator => "moderator",
        }
    }

    pub fn parse(value: &str) -> Option<InviteRole> {
        Some(match value {
            "viewer" => InviteRole::Viewer,
            "speaker" => InviteRole::Speaker,
            "moderator" => InviteRole::Moderator,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            InviteRole::Viewer => "Viewer",
            InviteRole::Speaker => "Speaker",
            InviteRole::Moderator => "Moderator",
        }
    }

    /// What the role allows, in the words the dialog and the email use.
    pub fn allows(self, kind: MediaKind) -> &'static str {
        match (self, kind) {
            (InviteRole::Viewer, MediaKind::Room) => "Watch the live session and chat.",
            (InviteRole::Viewer, _) => "View this media.",
            (InviteRole::Speaker, _) => {
                "Watch, chat and present on the session's stage the course's items shared with guests."
            }
            (InviteRole::Moderator, _) => {
                "Everything a speaker does, and start and end the session and let guests in from the lobby."
            }
        }
    }

    /// The role in a live room.
    pub fn in_room(self) -> RoomRole {
        match self {
            InviteRole::Viewer => RoomRole::Viewer,
            InviteRole::Speaker => RoomRole::Speaker,
            InviteRole::Moderator => RoomRole::Moderator,
        }
    }
}

/// The roles an item's kind offers, the first being the default: rooms
/// all three, other kinds Viewer; channel and media gallery rooms none
/// (their members are the channel's or gallery's to decide).
pub fn roles_for(kind: MediaKind) -> &'static [InviteRole] {
    match kind {
        MediaKind::Room => &[
            InviteRole::Viewer,
            InviteRole::Speaker,
            InviteRole::Moderator,
        ],
        kind if kind_supports_guest_access(kind) => &[InviteRole::Viewer],
        _ => &[],
    }
}

/// The role `raw` names, if the item's kind offers it.
pub fn role_for(kind: MediaKind, raw: &str) -> Result<InviteRole, FieldError> {
    let offered = roles_for(kind);
    InviteRole::parse(raw.trim())
        .filter(|role| offered.contains(role))
        .ok_or_else(|| {
            let names: Vec<&str> = offered.iter().map(|r| r.as_str()).collect();
            FieldError::new(
                Field::Role,
                format!("Choose a role this item offers: {}.", names.join(", ")),
            )
        })
}

/// The longest an owner may let an invitation last.
pub const MAX_DAYS: i64 = 365;

/// An email address as invitations compare it: trimmed, in lower case.
/// (The local part is case-sensitive in theory; no mail system people use
/// treats it so, and two invitations for one person would be worse.)
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A new invitation as the owner asked for it, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInvite {
    pub email: String,
    pub name: String,
    pub role: InviteRole,
    pub days: i64,
}

/// What arrived for a new invitation, before any check.
pub struct InviteRequest<'a> {
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    /// None: the kind's first role.
    pub role: Option<&'a str>,
    /// None: the configured default; Some(Err) a value that is no number.
    pub days: Option<Result<i64, ()>>,
}

impl NewInvite {
    /// Checks every field; each problem is reported by its field.
    pub fn parse(
        request: InviteRequest<'_>,
        kind: MediaKind,
        default_days: i64,
    ) -> Result<NewInvite, Vec<FieldError>> {
        let mut problems = Vec::new();
        let email = request.email.unwrap_or_default().trim();
        if email.is_empty() {
            problems.push(FieldError::new(
                Field::Email,
                "Enter the person's email address.",
            ));
        } else if email.len() > EMAIL_MAX || !is_plausible_email(email) {
            problems.push(FieldError::new(
                Field::Email,
                "Enter an email address such as name@example.com.",
            ));
        }
        let name = request.name.unwrap_or_default().trim();
        if name.is_empty() {
            problems.push(FieldError::new(
                Field::Name,
                "Enter the person's first and last name.",
            ));
        } else if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
            problems.push(FieldError::new(
                Field::Name,
                format!("Enter a name of at most {NAME_MAX} characters."),
            ));
        }
        let role = match request.role {
            None => roles_for(kind).first().copied().ok_or_else(|| {
                FieldError::new(Field::Role, "This item does not take invitations.")
            }),
            Some(raw) => role_for(kind, raw),
        };
        let role = role.map_err(|e| problems.push(e)).ok();
        let days = match request.days {
            None => Some(default_days),
            Some(Ok(days)) if (1..=MAX_DAYS).contains(&days) => Some(days),
            Some(_) => {
                problems.push(FieldError::new(
                    Field::ExpiresDays,
                    format!("Enter a whole number of days from 1 to {MAX_DAYS}."),
                ));
                None
            }
        };
        match (role, days) {
            (Some(role), Some(days)) if problems.is_empty() => Ok(NewInvite {
                email: email.to_string(),
                name: name.to_string(),
                role,
                days,
            }),
            _ => Err(problems),
        }
    }
}

/// Where an invitation stands, as its owner sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InviteStatus {
    /// Sent or copied; no browser has confirmed it yet.
    Pending,
    /// Confirmed in a browser, which it is now bound to.
    Accepted,
    Expired,
    Revoked,
}

impl InviteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InviteStatus::Pending => "pending",
            InviteStatus::Accepted => "accepted",
            InviteStatus::Expired => "expired",
            InviteStatus::Revoked => "revoked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InviteStatus::Pending => "Pending",
            InviteStatus::Accepted => "Accepted",
            InviteStatus::Expired => "Expired",
            InviteStatus::Revoked => "Revoked",
        }
    }
}

/// The facts an invitation's status follows from.
#[derive(Clone, Copy, Debug)]
pub struct InviteFacts {
    pub revoked: bool,
    pub bound: bool,
    pub expires_at: Timestamp,
}

impl InviteFacts {
    /// Revoked first (a revoked invitation stays revoked after its date),
    /// then expired, then whether a browser has confirmed it.
    pub fn status(self, now: Timestamp) -> InviteStatus {
        if self.revoked {
            InviteStatus::Revoked
        } else if now >= self.expires_at {
            InviteStatus::Expired
        } else if self.bound {
            InviteStatus::Accepted
        } else {
            InviteStatus::Pending
        }
    }
}

/// Whether the invitation email went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailStatus {
    NotSent,
    Sent,
    Failed,
}

impl EmailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailStatus::NotSent => "not_sent",
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> EmailStatus {
        match value {
            "sent" => EmailStatus::Sent,
            "failed" => EmailStatus::Failed,
            _ => EmailStatus::NotSent,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EmailStatus::NotSent => "Email not sent",
            EmailStatus::Sent => "Email sent",
            EmailStatus::Failed => "Email failed",
        }
    }
}

/// Wrong addresses an invitation page accepts within [`WRONG_TRY_WINDOW`]
/// before it refuses every try (the right one too) until the window ends.
pub const MAX_WRONG_TRIES: i32 = 5;
pub const WRONG_TRY_WINDOW: Duration = Duration::hours(1);

/// Wrong tries counted since `since`, as the window sees them at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrongTries {
    pub count: i32,
    pub since: Option<Timestamp>,
}

impl WrongTries {
    fn in_window(self, now: Timestamp) -> bool {
        self.since
            .is_some_and(|since| now - since < WRONG_TRY_WINDOW)
    }

    /// Whether the page refuses every try now.
    pub fn locked(self, now: Timestamp) -> bool {
        self.in_window(now) && self.count >= MAX_WRONG_TRIES
    }

    /// The count after one more wrong try at `now`: a window that ended
    /// starts again.
    pub fn after_wrong(self, now: Timestamp) -> WrongTries {
        if self.in_window(now) {
            WrongTries {
                count: self.count + 1,
                since: self.since,
            }
        } else {
            WrongTries {
                count: 1,
                since: Some(now),
            }
        }
    }
}

#[cfg(test)]
#[path = "invite_tests.rs"]
mod tests;
