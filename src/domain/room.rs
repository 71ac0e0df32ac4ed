//! Live rooms: who may do what in a room's session, the guests' lobby and
//! its states, what a guest sees in each, and what a chat message may be.
//! Time comes in as an argument, so every rule is tested with any clock.

use super::field::{Field, FieldError};
use super::time::{Duration, Timestamp};

/// How long a person counts as present after their page last said so. Open
/// pages say so every [`HEARTBEAT`]; a closed tab stops, so its guest leaves
/// the line (and a member the participants) within this window.
pub const PRESENCE_WINDOW: Duration = Duration::seconds(30);

/// How often an open room page tells the server it is still there.
pub const HEARTBEAT: Duration = Duration::seconds(10);

/// The longest chat message, in characters.
pub const CHAT_MAX_CHARS: usize = 1_000;

/// What happens to a guest who knocks while a session runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LobbyPolicy {
    /// "Ask a moderator": guests wait in the lobby until admitted or denied.
    #[default]
    AskModerator,
    /// "Admit guests automatically".
    AdmitAll,
}

impl LobbyPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            LobbyPolicy::AskModerator => "ask_moderator",
            LobbyPolicy::AdmitAll => "admit_all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LobbyPolicy::AskModerator => "Ask a moderator",
            LobbyPolicy::AdmitAll => "Admit guests automatically",
        }
    }

    pub fn parse(value: &str) -> Option<LobbyPolicy> {
        match value {
            "ask_moderator" => Some(LobbyPolicy::AskModerator),
            "admit_all" => Some(LobbyPolicy::AdmitAll),
            _ => None,
        }
    }

    /// The status a guest's knock starts in.
    pub fn first_status(self) -> EntryStatus {
        match self {
            LobbyPolicy::AskModerator => EntryStatus::Waiting,
            LobbyPolicy::AdmitAll => EntryStatus::Admitted,
        }
    }
}

/// A lobby entry's state. `Waiting` is the only state a decision (admit,
/// deny) applies to; `Left` may go back to `Waiting` when the same guest
/// session comes back; the rest are final for that guest session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryStatus {
    Waiting,
    Admitted,
    Denied,
    Left,
    Withdrawn,
    TimedOut,
}

impl EntryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Waiting => "waiting",
            EntryStatus::Admitted => "admitted",
            EntryStatus::Denied => "denied",
            EntryStatus::Left => "left",
            EntryStatus::Withdrawn => "withdrawn",
            EntryStatus::TimedOut => "timed_out",
        }
    }

    pub fn parse(value: &str) -> Option<EntryStatus> {
        Some(match value {
            "waiting" => EntryStatus::Waiting,
            "admitted" => EntryStatus::Admitted,
            "denied" => EntryStatus::Denied,
            "left" => EntryStatus::Left,
            "withdrawn" => EntryStatus::Withdrawn,
            "timed_out" => EntryStatus::TimedOut,
            _ => return None,
        })
    }
}

/// A lobby entry's times, as the store keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryTimes {
    pub waiting_since: Timestamp,
    pub last_seen_at: Timestamp,
}

/// The limits a waiting guest is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LobbyLimits {
    /// The longest anyone waits (`GUESTLINK_LOBBY_WAIT_MINUTES`).
    pub wait: Duration,
}

impl LobbyLimits {
    /// The instants a waiting entry must be newer than to still wait at
    /// `now`: (waiting since after, last seen at or after). The store
    /// puts the same bounds in its conditional updates.
    pub fn waiting_bounds(self, now: Timestamp) -> (Timestamp, Timestamp) {
        (now - self.wait, now - PRESENCE_WINDOW)
    }
}

/// What a stored status means at `now`: a waiting guest whose page stopped
/// saying it is there has left, one who waited too long timed out. Nothing
/// needs to write these for them to hold.
pub fn effective_status(
    stored: EntryStatus,
    times: EntryTimes,
    limits: LobbyLimits,
    now: Timestamp,
) -> EntryStatus {
    if stored != EntryStatus::Waiting {
        return stored;
    }
    let (waiting_after, seen_since) = limits.waiting_bounds(now);
    if times.waiting_since <= waiting_after {
        EntryStatus::TimedOut
    } else if times.last_seen_at < seen_since {
        EntryStatus::Left
    } else {
        EntryStatus::Waiting
    }
}

/// What a guest session's knock does to its entry in the running session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Knock {
    /// No entry yet: one is made in the policy's first status.
    Enter(EntryStatus),
    /// The guest had left the line and comes back: waiting again, and at
    /// their old place if they were gone less than the presence window.
    Rejoin { keep_place: bool },
    /// Already waiting or admitted: only their presence is refreshed.
    Stay,
    /// Denied, timed out, or withdrawn (and the link not checked): the
    /// knock changes nothing.
    Final(EntryStatus),
}

/// The knock of a guest session whose entry is `existing` (its effective
/// status and when it was last seen), under `policy`, at `now`.
/// `link_checked` says the guest's link was just found to admit (a page
/// load): only then does a guest withdrawn from the line queue again; an
/// open page's heartbeat never brings them back.
pub fn knock(
    existing: Option<(EntryStatus, Timestamp)>,
    policy: LobbyPolicy,
    now: Timestamp,
    link_checked: bool,
) -> Knock {
    match existing {
        None => Knock::Enter(policy.first_status()),
        Some((EntryStatus::Waiting | EntryStatus::Admitted, _)) => Knock::Stay,
        Some((EntryStatus::Left, last_seen)) => Knock::Rejoin {
            keep_place: now - last_seen <= PRESENCE_WINDOW * 2,
        },
        // Withdrawn while their link stopped admitting; it admits again.
        Some((EntryStatus::Withdrawn, _)) if link_checked => Knock::Rejoin { keep_place: false },
        Some((status, _)) => Knock::Final(status),
    }
}

/// A person's role in a room's session. Members who may manage the course's
/// media are moderators, other members participants; invite links will add
/// speakers and viewers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoomRole {
    Moderator,
    Speaker,
    Participant,
    Viewer,
}

impl RoomRole {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomRole::Moderator => "moderator",
            RoomRole::Speaker => "speaker",
            RoomRole::Participant => "participant",
            RoomRole::Viewer => "viewer",
        }
    }

    pub fn parse(value: &str) -> Option<RoomRole> {
        Some(match value {
            "moderator" => RoomRole::Moderator,
            "speaker" => RoomRole::Speaker,
            "participant" => RoomRole::Participant,
            "viewer" => RoomRole::Viewer,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            RoomRole::Moderator => "Moderator",
            RoomRole::Speaker => "Speaker",
            RoomRole::Participant => "Participant",
            RoomRole::Viewer => "Viewer",
        }
    }

    /// A launched member's role: from whether they may manage the course's media.
    pub fn of_member(can_manage: bool) -> RoomRole {
        if can_manage {
            RoomRole::Moderator
        } else {
            RoomRole::Participant
        }
    }
}

/// Something a person does in a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomAction {
    Start,
    End,
    /// Admit, deny, admit all, and the lobby's policy.
    DecideLobby,
    Present,
    /// Turning guests' chat on or off.
    SetGuestChat,
    Chat,
    /// Mute all, and putting someone out of the audio and video.
    ModerateMedia,
}

/// Who may do what: moderators everything, speakers present and chat,
/// participants and viewers chat.
pub fn may(role: RoomRole, action: RoomAction) -> bool {
    match action {
        RoomAction::Start
        | RoomAction::End
        | RoomAction::DecideLobby
        | RoomAction::SetGuestChat
        | RoomAction::ModerateMedia => role == RoomRole::Moderator,
        RoomAction::Present => matches!(role, RoomRole::Moderator | RoomRole::Speaker),
        RoomAction::Chat => true,
    }
}

/// What a guest of a room sees, from the room's state and their entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestLobby {
    /// No session runs (and the guest was not in the last one).
    NotStarted,
    /// In line: their place (1 is next) and whether a moderator is in.
    Waiting {
        place: usize,
        moderator_present: bool,
    },
    Admitted,
    /// The session they were in, or waiting for, has ended.
    Ended,
    TimedOut,
    Denied,
    /// Withdrawn because the link stopped admitting (its page says why).
    Withdrawn,
}

impl GuestLobby {
    /// The view's `data-lobby-status`.
    pub fn as_str(self) -> &'static str {
        match self {
            GuestLobby::NotStarted => "not_started",
            GuestLobby::Waiting { .. } => "waiting",
            GuestLobby::Admitted => "admitted",
            GuestLobby::Ended => "ended",
            GuestLobby::TimedOut => "timed_out",
            GuestLobby::Denied => "denied",
            GuestLobby::Withdrawn => "withdrawn",
        }
    }

    /// The words on the waiting page.
    pub fn message(self) -> &'static str {
        match self {
            GuestLobby::NotStarted => {
                "The session has not started yet. This page will let you in when it does."
            }
            GuestLobby::Waiting {
                moderator_present: true,
                ..
            } => "Please wait, a moderator will let you in soon",
            GuestLobby::Waiting {
                moderator_present: false,
                ..
            } => {
                "No moderator is present yet. Please wait, a moderator will let you in when they join."
            }
            GuestLobby::Admitted => "You are in the session.",
            GuestLobby::Ended => "The session has ended. Thank you for joining.",
            GuestLobby::TimedOut => {
                "No moderator let you in in time. Open the guest link again to ask once more."
            }
            GuestLobby::Denied => {
                "A moderator did not let you in, or removed you from the session."
            }
            GuestLobby::Withdrawn => "The guest link no longer lets guests in.",
        }
    }
}

/// What a guest sees. `running`: whether the room's latest session runs
/// now; `entry`: the effective status of the guest's entry in that session,
/// if they knocked on it; `place`: their place among its waiting entries.
pub fn guest_lobby(
    running: bool,
    entry: Option<EntryStatus>,
    place: usize,
    moderator_present: bool,
) -> GuestLobby {
    let waiting = GuestLobby::Waiting {
        place,
        moderator_present,
    };
    match entry {
        Some(EntryStatus::Denied) => GuestLobby::Denied,
        Some(_) if !running => GuestLobby::Ended,
        Some(EntryStatus::Admitted) => GuestLobby::Admitted,
        Some(EntryStatus::TimedOut) => GuestLobby::TimedOut,
        Some(EntryStatus::Withdrawn) => GuestLobby::Withdrawn,
        // Left: the knock that comes with the page puts them back.
        Some(EntryStatus::Waiting | EntryStatus::Left) => waiting,
        // Not in this session's line yet: their page knocks as it runs.
        None if running => waiting,
        None => GuestLobby::NotStarted,
    }
}

/// A chat message's text: trimmed, 1 to [`CHAT_MAX_CHARS`] characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatText(String);

impl ChatText {
    pub fn parse(raw: &str) -> Result<ChatText, FieldError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(FieldError::new(Field::Text, "Write a message first."));
        }
        if text.chars().count() > CHAT_MAX_CHARS {
            return Err(FieldError::new(
                Field::Text,
                "A message can be at most 1,000 characters.",
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(FieldError::new(
                Field::Text,
                "A message cannot contain control characters.",
            ));
        }
        Ok(ChatText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The presenter's playback of a video or audio on the stage: where it was
/// at an instant, and whether it was playing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Playback {
    pub playing: bool,
    pub position_ms: i64,
    pub at_ms: i64,
}

impl Playback {
    /// Where the presenter's playback is at `now_ms`.
    pub fn position_at(self, now_ms: i64) -> i64 {
        if self.playing {
            self.position_ms + (now_ms - self.at_ms).max(0)
        } else {
            self.position_ms
        }
    }
}

/// The longest media position accepted (a day), so a wild number is refused
/// rather than stored.
pub const MAX_POSITION_MS: i64 = 24 * 60 * 60 * 1000;

#[cfg(test)]
#[path = "room_tests.rs"]
mod tests;
