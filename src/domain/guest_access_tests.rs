//! Unit tests of `crate::domain::guest_access`, kept beside it.

use super::*;

const OPEN: ItemFacts = ItemFacts {
    available: true,
    enabled: true,
    offered: true,
};

fn link() -> LinkFacts {
    LinkFacts {
        deleted: false,
        clicks: 0,
        click_limit: None,
        expires_at: None,
    }
}

#[test]
fn fields_are_checked_and_named() {
    use NumberField::*;
    let ok = NewLink::parse(Some("  Webinar invite "), Whole(3), Whole(7)).unwrap();
    assert_eq!(ok.name, "Webinar invite");
    let made = Timestamp::from_unix(100);
    assert_eq!(ok.expires_at(made), Some(made + Duration::days(7)));
    assert_eq!(
        NewLink::parse(Some("x"), Absent, Absent)
            .unwrap()
            .expires_at(made),
        None
    );
    for (name, clicks, days, field) in [
        (None, Absent, Absent, "name"),
        (Some("   "), Absent, Absent, "name"),
        (Some(&*"n".repeat(101)), Absent, Absent, "name"),
        (Some("x"), Whole(0), Absent, "click_limit"),
        (Some("x"), Whole(-1), Absent, "click_limit"),
        (Some("x"), Whole(1_000_001), Absent, "click_limit"),
        (Some("x"), NotWhole, Absent, "click_limit"),
        (Some("x"), Absent, Whole(0), "duration_days"),
        (Some("x"), Absent, Whole(3651), "duration_days"),
        (Some("x"), Absent, NotWhole, "duration_days"),
    ] {
        assert_eq!(
            NewLink::parse(name, clicks, days)
                .unwrap_err()
                .field
                .as_str(),
            field
        );
    }
    assert!(NewLink::parse(Some(&"n".repeat(100)), Whole(1_000_000), Whole(3650)).is_ok());
}

#[test]
fn status_follows_switch_time_and_clicks() {
    let now = Timestamp::from_unix(1000);
    assert_eq!(link().status(OPEN, now), LinkStatus::Active);
    let off = ItemFacts {
        enabled: false,
        ..OPEN
    };
    assert_eq!(link().status(off, now), LinkStatus::Inactive);
    let expiring = LinkFacts {
        expires_at: Some(now),
        ..link()
    };
    assert_eq!(
        expiring.status(OPEN, now - Duration::seconds(1)),
        LinkStatus::Active
    );
    assert_eq!(expiring.status(OPEN, now), LinkStatus::Expired);
    let used = LinkFacts {
        clicks: 3,
        click_limit: Some(3),
        ..link()
    };
    assert_eq!(used.status(OPEN, now), LinkStatus::Exhausted);
}

#[test]
fn the_first_reason_in_the_documented_order_wins() {
    let now = Timestamp::from_unix(1000);
    let everything_wrong = LinkFacts {
        deleted: true,
        clicks: 5,
        click_limit: Some(5),
        expires_at: Some(Timestamp::from_unix(1)),
    };
    let gone = ItemFacts {
        available: false,
        enabled: false,
        offered: false,
    };
    assert_eq!(refusal(None, now, false), Some(Unavailable::NotFound));
    assert_eq!(
        refusal(Some((everything_wrong, gone)), now, false),
        Some(Unavailable::Deleted)
    );
    let not_deleted = LinkFacts {
        deleted: false,
        ..everything_wrong
    };
    assert_eq!(
        refusal(Some((not_deleted, gone)), now, false),
        Some(Unavailable::MediaUnavailable)
    );
    let there = ItemFacts {
        available: true,
        ..gone
    };
    assert_eq!(
        refusal(Some((not_deleted, there)), now, false),
        Some(Unavailable::Disabled)
    );
    let not_offered = ItemFacts {
        enabled: true,
        offered: false,
        ..there
    };
    assert_eq!(
        refusal(Some((not_deleted, not_offered)), now, false),
        Some(Unavailable::Disabled)
    );
    assert_eq!(
        refusal(Some((not_deleted, OPEN)), now, false),
        Some(Unavailable::Expired)
    );
    let current = LinkFacts {
        expires_at: None,
        ..not_deleted
    };
    assert_eq!(
        refusal(Some((current, OPEN)), now, false),
        Some(Unavailable::Exhausted)
    );
    assert_eq!(refusal(Some((link(), OPEN)), now, false), None);
    // The guest who took the last click keeps watching; expiry still ends it.
    assert_eq!(refusal(Some((current, OPEN)), now, true), None);
    assert_eq!(
        refusal(Some((not_deleted, OPEN)), now, true),
        Some(Unavailable::Expired)
    );
}

#[test]
fn guests_give_a_name_and_a_plausible_email() {
    let ok = GuestIdentity::parse(" Ada ", " ada@example.edu ").unwrap();
    assert_eq!(
        (ok.name.as_str(), ok.email.as_str()),
        ("Ada", "ada@example.edu")
    );
    for bad in [
        "",
        "ada",
        "ada@",
        "@example.edu",
        "ada@example",
        "a da@example.edu",
        "ada@@x.edu",
        "ada@.edu",
        "ada@x..edu",
    ] {
        let problems = GuestIdentity::parse("Ada", bad).unwrap_err();
        assert_eq!(problems[0].field.as_str(), "email", "{bad:?}");
    }
    let both = GuestIdentity::parse("", "nope").unwrap_err();
    assert_eq!(
        both.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(),
        ["name", "email"]
    );
    assert!(GuestIdentity::parse(&"n".repeat(101), "a@b.co").is_err());
}

#[test]
fn channel_and_gallery_rooms_have_no_guest_access() {
    assert!(kind_supports_guest_access(MediaKind::Video));
    assert!(kind_supports_guest_access(MediaKind::Room));
    assert!(!kind_supports_guest_access(MediaKind::ChannelRoom));
    assert!(!kind_supports_guest_access(MediaKind::GalleryRoom));
}

#[test]
fn a_guest_name_is_counted_in_characters_not_bytes() {
    assert!(GuestIdentity::parse(&"é".repeat(NAME_MAX), "a@b.co").is_ok());
    let problems = GuestIdentity::parse(&"é".repeat(NAME_MAX + 1), "a@b.co").unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field, Field::Name);
}

#[test]
fn a_guest_name_with_a_control_character_is_refused() {
    for name in ["Ada\u{0}", "Ada\u{1b}[31m", "A\u{7f}da"] {
        let problems = GuestIdentity::parse(name, "a@b.co").unwrap_err();
        assert_eq!(problems[0].field, Field::Name, "{name:?}");
    }
}

#[test]
fn a_guest_name_keeps_its_inner_spaces() {
    let guest = GuestIdentity::parse("  Ada  King ", "a@b.co").unwrap();
    assert_eq!(guest.name, "Ada  King");
}

#[test]
fn an_email_address_may_be_254_characters_long_and_no_longer() {
    let at_most = format!("a@{}.edu", "d".repeat(EMAIL_MAX - 6));
    assert_eq!(at_most.len(), EMAIL_MAX);
    assert!(GuestIdentity::parse("Ada", &at_most).is_ok());
    let too_long = format!("a@{}.edu", "d".repeat(EMAIL_MAX - 5));
    assert_eq!(
        GuestIdentity::parse("Ada", &too_long).unwrap_err()[0].field,
        Field::Email
    );
}

#[test]
fn the_local_part_of_an_email_may_be_64_characters_long_and_no_longer() {
    assert!(GuestIdentity::parse("Ada", &format!("{}@x.edu", "l".repeat(64))).is_ok());
    assert!(GuestIdentity::parse("Ada", &format!("{}@x.edu", "l".repeat(65))).is_err());
}

#[test]
fn an_email_with_a_tab_or_a_domain_ending_in_a_dot_is_refused() {
    for bad in ["ada\t@x.edu", "ada@x.edu.", "ada@x\u{7}.edu"] {
        assert!(GuestIdentity::parse("Ada", bad).is_err(), "{bad:?}");
    }
}

#[test]
fn only_the_field_at_fault_is_reported() {
    let problems = GuestIdentity::parse("Ada", "").unwrap_err();
    assert_eq!(
        problems.iter().map(|p| p.field).collect::<Vec<_>>(),
        [Field::Email]
    );
    let problems = GuestIdentity::parse(" ", "ada@x.edu").unwrap_err();
    assert_eq!(
        problems.iter().map(|p| p.field).collect::<Vec<_>>(),
        [Field::Name]
    );
}

#[test]
fn the_smallest_click_limit_and_duration_are_one() {
    let link = NewLink::parse(Some("x"), NumberField::Whole(1), NumberField::Whole(1)).unwrap();
    assert_eq!((link.click_limit, link.duration_days), (Some(1), Some(1)));
}

#[test]
fn a_link_name_is_counted_in_characters_not_bytes() {
    assert!(
        NewLink::parse(
            Some(&"é".repeat(NAME_MAX)),
            NumberField::Absent,
            NumberField::Absent
        )
        .is_ok()
    );
    assert_eq!(
        NewLink::parse(
            Some(&"é".repeat(NAME_MAX + 1)),
            NumberField::Absent,
            NumberField::Absent
        )
        .unwrap_err()
        .field,
        Field::Name
    );
}

#[test]
fn a_name_is_checked_before_the_numbers() {
    let err = NewLink::parse(None, NumberField::NotWhole, NumberField::NotWhole).unwrap_err();
    assert_eq!(err.field, Field::Name);
    let err = NewLink::parse(Some("x"), NumberField::NotWhole, NumberField::NotWhole).unwrap_err();
    assert_eq!(err.field, Field::ClickLimit);
}

#[test]
fn link_statuses_have_distinct_names() {
    let names = [
        LinkStatus::Active,
        LinkStatus::Expired,
        LinkStatus::Exhausted,
        LinkStatus::Inactive,
    ]
    .map(LinkStatus::as_str);
    assert_eq!(names, ["active", "expired", "exhausted", "inactive"]);
}

#[test]
fn a_switched_off_item_makes_every_link_inactive_whatever_else_holds() {
    let now = Timestamp::from_unix(1000);
    let expired_and_used = LinkFacts {
        deleted: false,
        clicks: 9,
        click_limit: Some(1),
        expires_at: Some(Timestamp::from_unix(1)),
    };
    for item in [
        ItemFacts {
            enabled: false,
            ..OPEN
        },
        ItemFacts {
            offered: false,
            ..OPEN
        },
    ] {
        assert_eq!(expired_and_used.status(item, now), LinkStatus::Inactive);
    }
}

#[test]
fn an_expired_link_reads_as_expired_even_when_also_used_up() {
    let now = Timestamp::from_unix(1000);
    let both = LinkFacts {
        clicks: 5,
        click_limit: Some(5),
        expires_at: Some(now),
        ..link()
    };
    assert_eq!(both.status(OPEN, now), LinkStatus::Expired);
}

#[test]
fn a_link_without_a_limit_or_an_end_never_runs_out() {
    let busy = LinkFacts {
        clicks: i64::MAX,
        ..link()
    };
    assert!(!busy.is_exhausted());
    assert!(!busy.is_expired(Timestamp::from_unix(i64::MAX)));
    assert_eq!(
        busy.status(OPEN, Timestamp::from_unix(i64::MAX)),
        LinkStatus::Active
    );
}

#[test]
fn a_link_is_exhausted_once_its_clicks_reach_the_limit() {
    let with = |clicks| LinkFacts {
        clicks,
        click_limit: Some(3),
        ..link()
    };
    assert!(!with(2).is_exhausted());
    assert!(with(3).is_exhausted());
    assert!(with(4).is_exhausted());
}

#[test]
fn an_admitted_guest_is_still_turned_away_when_the_link_or_item_goes() {
    let now = Timestamp::from_unix(1000);
    let used_up = LinkFacts {
        clicks: 1,
        click_limit: Some(1),
        ..link()
    };
    let deleted = LinkFacts {
        deleted: true,
        ..used_up
    };
    assert_eq!(
        refusal(Some((deleted, OPEN)), now, true),
        Some(Unavailable::Deleted)
    );
    let off = ItemFacts {
        enabled: false,
        ..OPEN
    };
    assert_eq!(
        refusal(Some((used_up, off)), now, true),
        Some(Unavailable::Disabled)
    );
    let gone = ItemFacts {
        available: false,
        ..OPEN
    };
    assert_eq!(
        refusal(Some((used_up, gone)), now, true),
        Some(Unavailable::MediaUnavailable)
    );
}

#[test]
fn a_stored_link_gives_the_facts_its_status_is_decided_by() {
    let stored = GuestLink {
        id: "l1".into(),
        name: "Invite".into(),
        click_limit: Some(10),
        clicks: 4,
        created_at: Timestamp::from_unix(0),
        expires_at: Some(Timestamp::from_unix(99)),
        deleted_at: Some(Timestamp::from_unix(50)),
    };
    assert_eq!(
        stored.facts(),
        LinkFacts {
            deleted: true,
            clicks: 4,
            click_limit: Some(10),
            expires_at: Some(Timestamp::from_unix(99)),
        }
    );
    let kept = GuestLink {
        deleted_at: None,
        ..stored
    };
    assert!(!kept.facts().deleted);
}

#[test]
fn each_reason_a_guest_is_turned_away_has_its_own_code_title_and_message() {
    let all = [
        Unavailable::NotFound,
        Unavailable::Deleted,
        Unavailable::MediaUnavailable,
        Unavailable::Disabled,
        Unavailable::Expired,
        Unavailable::Exhausted,
        Unavailable::Denied,
        Unavailable::InviteRevoked,
        Unavailable::InviteExpired,
        Unavailable::InviteUsedElsewhere,
        Unavailable::InvitesDisabled,
    ];
    for (i, a) in all.iter().enumerate() {
        assert!(!a.message().is_empty());
        assert_eq!(a.to_string(), a.title());
        for b in &all[i + 1..] {
            assert_ne!(a.code(), b.code());
            assert_ne!(a.title(), b.title());
            assert_ne!(a.message(), b.message());
        }
    }
    // An invitation not found shares the code of a link not found, in its
    // own words.
    let missing = Unavailable::InviteNotFound;
    assert_eq!(missing.code(), Unavailable::NotFound.code());
    assert_ne!(missing.title(), Unavailable::NotFound.title());
    assert_ne!(missing.message(), Unavailable::NotFound.message());
}
