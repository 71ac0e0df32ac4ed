use super::*;

fn request<'a>(email: &'a str, name: &'a str, role: Option<&'a str>) -> InviteRequest<'a> {
    InviteRequest {
        email: Some(email),
        name: Some(name),
        role,
        days: None,
    }
}

#[test]
fn rooms_offer_three_roles_other_kinds_viewer_and_channel_rooms_none() {
    assert_eq!(
        roles_for(MediaKind::Room),
        [
            InviteRole::Viewer,
            InviteRole::Speaker,
            InviteRole::Moderator
        ]
    );
    for kind in [
        MediaKind::Video,
        MediaKind::Audio,
        MediaKind::Image,
        MediaKind::Document,
        MediaKind::Quiz,
        MediaKind::LiveEvent,
    ] {
        assert_eq!(roles_for(kind), [InviteRole::Viewer], "{kind:?}");
    }
    assert!(roles_for(MediaKind::ChannelRoom).is_empty());
    assert!(roles_for(MediaKind::GalleryRoom).is_empty());
}

#[test]
fn a_role_the_kind_does_not_offer_is_refused_naming_role() {
    assert_eq!(
        role_for(MediaKind::Room, "speaker"),
        Ok(InviteRole::Speaker)
    );
    let err = role_for(MediaKind::Video, "moderator").unwrap_err();
    assert_eq!(err.field, Field::Role);
    assert!(err.problem.contains("viewer"));
    assert!(role_for(MediaKind::Room, "contributor").is_err());
    assert!(role_for(MediaKind::Room, "Moderator").is_err());
}

#[test]
fn a_new_invitation_is_trimmed_and_takes_the_default_days_and_first_role() {
    let invite = NewInvite::parse(
        request("  Ada@Example.edu ", " Ada Lovelace ", None),
        MediaKind::Room,
        7,
    )
    .unwrap();
    assert_eq!(invite.email, "Ada@Example.edu");
    assert_eq!(invite.name, "Ada Lovelace");
    assert_eq!(invite.role, InviteRole::Viewer);
    assert_eq!(invite.days, 7);
    assert_eq!(email_key(" Ada@Example.edu "), "ada@example.edu");
}

#[test]
fn every_problem_of_a_new_invitation_is_reported_by_field() {
    let mut bad = request("not an address", "", Some("owner"));
    bad.days = Some(Ok(0));
    let problems = NewInvite::parse(bad, MediaKind::Room, 7).unwrap_err();
    let fields: Vec<Field> = problems.iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [Field::Email, Field::Name, Field::Role, Field::ExpiresDays]
    );
    let mut not_a_number = request("a@b.edu", "A B", None);
    not_a_number.days = Some(Err(()));
    assert!(NewInvite::parse(not_a_number, MediaKind::Video, 7).is_err());
    let mut longest = request("a@b.edu", "A B", None);
    longest.days = Some(Ok(MAX_DAYS));
    assert_eq!(
        NewInvite::parse(longest, MediaKind::Video, 7).unwrap().days,
        MAX_DAYS
    );
    let missing = InviteRequest {
        email: None,
        name: None,
        role: None,
        days: None,
    };
    assert_eq!(
        NewInvite::parse(missing, MediaKind::Video, 7)
            .unwrap_err()
            .len(),
        2
    );
}

#[test]
fn revoked_wins_over_expired_which_wins_over_accepted() {
    let now = Timestamp::from_unix(1_000);
    let facts = |revoked, bound, expires| InviteFacts {
        revoked,
        bound,
        expires_at: Timestamp::from_unix(expires),
    };
    assert_eq!(
        facts(false, false, 2_000).status(now),
        InviteStatus::Pending
    );
    assert_eq!(
        facts(false, true, 2_000).status(now),
        InviteStatus::Accepted
    );
    assert_eq!(facts(false, true, 1_000).status(now), InviteStatus::Expired);
    assert_eq!(facts(true, true, 1_000).status(now), InviteStatus::Revoked);
    assert_eq!(facts(true, false, 2_000).status(now), InviteStatus::Revoked);
}

#[test]
fn five_wrong_tries_in_an_hour_lock_the_page_until_the_hour_ends() {
    let start = Timestamp::from_unix(10_000);
    let mut tries = WrongTries {
        count: 0,
        since: None,
    };
    for i in 0..MAX_WRONG_TRIES {
        assert!(!tries.locked(start), "not locked after {i}");
        tries = tries.after_wrong(start + Duration::minutes(i64::from(i)));
    }
    assert!(tries.locked(start + Duration::minutes(59)));
    assert!(!tries.locked(start + Duration::hours(1)));
    // A wrong try after the window starts a new one.
    let again = tries.after_wrong(start + Duration::hours(2));
    assert_eq!(again.count, 1);
    assert_eq!(again.since, Some(start + Duration::hours(2)));
}

#[test]
fn roles_map_onto_the_rooms_roles_and_say_what_they_allow() {
    assert_eq!(InviteRole::Speaker.in_room(), RoomRole::Speaker);
    assert_eq!(InviteRole::Moderator.in_room(), RoomRole::Moderator);
    assert_eq!(InviteRole::Viewer.in_room(), RoomRole::Viewer);
    assert!(InviteRole::Viewer.allows(MediaKind::Video).contains("View"));
    assert!(
        InviteRole::Moderator
            .allows(MediaKind::Room)
            .contains("lobby")
    );
    assert_eq!(EmailStatus::parse("failed"), EmailStatus::Failed);
    assert_eq!(EmailStatus::parse("?"), EmailStatus::NotSent);
}
