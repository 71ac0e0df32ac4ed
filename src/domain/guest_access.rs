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
fn is_plausible_email(email: &str) -> bool {
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
mod tests {
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
        let err =
            NewLink::parse(Some("x"), NumberField::NotWhole, NumberField::NotWhole).unwrap_err();
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
    }
}
