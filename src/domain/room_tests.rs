use super::*;

const LIMITS: LobbyLimits = LobbyLimits {
    wait: Duration::minutes(30),
};

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix(seconds)
}

fn times(waiting_since: i64, last_seen_at: i64) -> EntryTimes {
    EntryTimes {
        waiting_since: at(waiting_since),
        last_seen_at: at(last_seen_at),
    }
}

#[test]
fn only_moderators_start_end_decide_and_switch_guest_chat() {
    for action in [
        RoomAction::Start,
        RoomAction::End,
        RoomAction::DecideLobby,
        RoomAction::SetGuestChat,
    ] {
        assert!(may(RoomRole::Moderator, action), "{action:?}");
        for role in [RoomRole::Speaker, RoomRole::Participant, RoomRole::Viewer] {
            assert!(!may(role, action), "{role:?} {action:?}");
        }
    }
}

#[test]
fn moderators_and_speakers_present_and_everyone_chats() {
    assert!(may(RoomRole::Moderator, RoomAction::Present));
    assert!(may(RoomRole::Speaker, RoomAction::Present));
    assert!(!may(RoomRole::Participant, RoomAction::Present));
    assert!(!may(RoomRole::Viewer, RoomAction::Present));
    for role in [
        RoomRole::Moderator,
        RoomRole::Speaker,
        RoomRole::Participant,
        RoomRole::Viewer,
    ] {
        assert!(may(role, RoomAction::Chat), "{role:?}");
        assert_eq!(RoomRole::parse(role.as_str()), Some(role));
    }
    assert_eq!(RoomRole::of_member(true), RoomRole::Moderator);
    assert_eq!(RoomRole::of_member(false), RoomRole::Participant);
}

#[test]
fn a_waiting_guest_whose_page_went_quiet_has_left_and_one_who_waited_too_long_timed_out() {
    let waiting = EntryStatus::Waiting;
    // Seen 30 s ago: still there; 31 s: gone.
    assert_eq!(
        effective_status(waiting, times(1_000, 1_000), LIMITS, at(1_030)),
        EntryStatus::Waiting
    );
    assert_eq!(
        effective_status(waiting, times(1_000, 1_000), LIMITS, at(1_031)),
        EntryStatus::Left
    );
    // Present all along, but 30 minutes in line.
    assert_eq!(
        effective_status(waiting, times(1_000, 2_799), LIMITS, at(2_799)),
        EntryStatus::Waiting
    );
    assert_eq!(
        effective_status(waiting, times(1_000, 2_800), LIMITS, at(2_800)),
        EntryStatus::TimedOut
    );
}

#[test]
fn decided_entries_keep_their_status_whatever_the_time() {
    for status in [
        EntryStatus::Admitted,
        EntryStatus::Denied,
        EntryStatus::Withdrawn,
        EntryStatus::TimedOut,
        EntryStatus::Left,
    ] {
        assert_eq!(
            effective_status(status, times(0, 0), LIMITS, at(1_000_000)),
            status
        );
        assert_eq!(EntryStatus::parse(status.as_str()), Some(status));
    }
    assert_eq!(EntryStatus::parse("banned"), None);
}

#[test]
fn a_first_knock_follows_the_policy_and_a_second_keeps_the_guests_place() {
    let now = at(5_000);
    assert_eq!(
        knock(None, LobbyPolicy::AskModerator, now, false),
        Knock::Enter(EntryStatus::Waiting)
    );
    assert_eq!(
        knock(None, LobbyPolicy::AdmitAll, now, false),
        Knock::Enter(EntryStatus::Admitted)
    );
    assert_eq!(
        knock(
            Some((EntryStatus::Waiting, now)),
            LobbyPolicy::AdmitAll,
            now,
            false
        ),
        Knock::Stay
    );
    assert_eq!(
        knock(
            Some((EntryStatus::Admitted, now)),
            LobbyPolicy::AskModerator,
            now,
            false
        ),
        Knock::Stay
    );
}

#[test]
fn a_guest_who_left_rejoins_at_their_place_only_if_back_soon() {
    let now = at(5_000);
    assert_eq!(
        knock(
            Some((EntryStatus::Left, at(4_950))),
            LobbyPolicy::AskModerator,
            now,
            false
        ),
        Knock::Rejoin { keep_place: true }
    );
    assert_eq!(
        knock(
            Some((EntryStatus::Left, at(4_000))),
            LobbyPolicy::AskModerator,
            now,
            false
        ),
        Knock::Rejoin { keep_place: false }
    );
}

#[test]
fn a_withdrawn_guest_whose_link_admits_again_queues_afresh() {
    assert_eq!(
        knock(
            Some((EntryStatus::Withdrawn, at(4_999))),
            LobbyPolicy::AskModerator,
            at(5_000),
            true
        ),
        Knock::Rejoin { keep_place: false }
    );
    // An open page's heartbeat does not bring them back.
    assert_eq!(
        knock(
            Some((EntryStatus::Withdrawn, at(4_999))),
            LobbyPolicy::AskModerator,
            at(5_000),
            false
        ),
        Knock::Final(EntryStatus::Withdrawn)
    );
}

#[test]
fn denied_and_timed_out_guests_cannot_knock_their_way_back() {
    for status in [EntryStatus::Denied, EntryStatus::TimedOut] {
        assert_eq!(
            knock(Some((status, at(0))), LobbyPolicy::AdmitAll, at(1), true),
            Knock::Final(status)
        );
    }
}

#[test]
fn a_guest_sees_not_started_waiting_admitted_or_ended() {
    assert_eq!(guest_lobby(false, None, 0, false), GuestLobby::NotStarted);
    assert_eq!(
        guest_lobby(true, Some(EntryStatus::Waiting), 2, true),
        GuestLobby::Waiting {
            place: 2,
            moderator_present: true
        }
    );
    assert_eq!(
        guest_lobby(true, Some(EntryStatus::Admitted), 0, true),
        GuestLobby::Admitted
    );
    // Their session ended, in line or inside.
    assert_eq!(
        guest_lobby(false, Some(EntryStatus::Admitted), 0, false),
        GuestLobby::Ended
    );
    assert_eq!(
        guest_lobby(false, Some(EntryStatus::Waiting), 0, false),
        GuestLobby::Ended
    );
    // A session runs that they have not knocked on yet: they will.
    assert_eq!(
        guest_lobby(true, None, 0, false),
        GuestLobby::Waiting {
            place: 0,
            moderator_present: false
        }
    );
    // Back after leaving the line: in it again with the page's knock.
    assert_eq!(
        guest_lobby(true, Some(EntryStatus::Left), 3, true),
        GuestLobby::Waiting {
            place: 3,
            moderator_present: true
        }
    );
    assert_eq!(
        guest_lobby(true, Some(EntryStatus::TimedOut), 0, true),
        GuestLobby::TimedOut
    );
    assert_eq!(
        guest_lobby(true, Some(EntryStatus::Withdrawn), 0, true),
        GuestLobby::Withdrawn
    );
}

#[test]
fn a_denied_guest_stays_denied_and_each_status_has_words() {
    assert_eq!(
        guest_lobby(true, Some(EntryStatus::Denied), 0, true),
        GuestLobby::Denied
    );
    assert_eq!(
        guest_lobby(false, Some(EntryStatus::Denied), 0, true),
        GuestLobby::Denied
    );
    let waiting_with = GuestLobby::Waiting {
        place: 1,
        moderator_present: true,
    };
    assert_eq!(
        waiting_with.message(),
        "Please wait, a moderator will let you in soon"
    );
    let waiting_without = GuestLobby::Waiting {
        place: 1,
        moderator_present: false,
    };
    assert!(
        waiting_without
            .message()
            .contains("No moderator is present yet")
    );
    assert!(GuestLobby::NotStarted.message().contains("not started"));
}

#[test]
fn chat_text_is_trimmed_and_between_one_and_a_thousand_characters() {
    assert_eq!(ChatText::parse("  hello ").unwrap().as_str(), "hello");
    assert_eq!(ChatText::parse("   ").unwrap_err().field, Field::Text);
    assert_eq!(ChatText::parse("").unwrap_err().field, Field::Text);
    // Characters, not bytes: 1,000 two-byte letters fit.
    assert!(ChatText::parse(&"é".repeat(1_000)).is_ok());
    assert!(ChatText::parse(&"a".repeat(1_001)).is_err());
    assert!(ChatText::parse("two\nlines").is_ok());
    assert!(ChatText::parse("bell\u{7}").is_err());
}

#[test]
fn the_presenters_playback_moves_only_while_playing() {
    let playing = Playback {
        playing: true,
        position_ms: 10_000,
        at_ms: 1_000,
    };
    assert_eq!(playing.position_at(3_500), 12_500);
    assert_eq!(playing.position_at(500), 10_000);
    let paused = Playback {
        playing: false,
        ..playing
    };
    assert_eq!(paused.position_at(3_500), 10_000);
}

#[test]
fn policies_read_back_and_default_to_asking() {
    assert_eq!(LobbyPolicy::default(), LobbyPolicy::AskModerator);
    for p in [LobbyPolicy::AskModerator, LobbyPolicy::AdmitAll] {
        assert_eq!(LobbyPolicy::parse(p.as_str()), Some(p));
    }
    assert_eq!(LobbyPolicy::parse("admit_some"), None);
    assert_eq!(LobbyPolicy::AskModerator.label(), "Ask a moderator");
    assert_eq!(LobbyPolicy::AdmitAll.label(), "Admit guests automatically");
}
