//! Unit tests of `crate::service::guest_links`, kept beside it.

use super::*;
use crate::domain::field::Field;
use crate::service::media::MediaError;

#[test]
fn a_guest_at_a_missing_or_deleted_link_is_told_not_found() {
    assert_eq!(Failure::kind(&Unavailable::NotFound), Kind::NotFound);
    assert_eq!(Failure::kind(&Unavailable::Deleted), Kind::NotFound);
}

#[test]
fn a_guest_at_a_link_that_no_longer_admits_is_told_it_is_gone() {
    for reason in [
        Unavailable::MediaUnavailable,
        Unavailable::Disabled,
        Unavailable::Expired,
        Unavailable::Exhausted,
    ] {
        assert_eq!(Failure::kind(&reason), Kind::Gone, "{reason:?}");
    }
}

#[test]
fn a_guest_a_moderator_denied_is_forbidden_not_gone() {
    assert_eq!(Failure::kind(&Unavailable::Denied), Kind::Forbidden);
    assert_eq!(Unavailable::Denied.code(), "denied");
}

#[test]
fn a_guests_refusal_speaks_with_the_domains_code_title_and_message() {
    let reason = Unavailable::Expired;
    assert_eq!(Failure::code(&reason), "expired");
    assert_eq!(Failure::title(&reason), Some("This link has expired"));
    assert_eq!(Failure::message(&reason), Unavailable::message(reason));
}

#[test]
fn what_the_item_does_not_allow_yet_is_a_conflict_with_its_own_code() {
    let errors = [
        GuestAccessError::Unsupported,
        GuestAccessError::Disabled,
        GuestAccessError::LinkLimitReached,
    ];
    for err in &errors {
        assert_eq!(err.kind(), Kind::Conflict, "{err:?}");
    }
    assert_eq!(
        errors.map(|e| e.code()),
        [
            "guest_access_unsupported",
            "guest_access_disabled",
            "link_limit_reached"
        ]
    );
}

#[test]
fn a_missing_item_and_a_missing_link_are_both_not_found() {
    for err in [GuestAccessError::NotFound, GuestAccessError::LinkNotFound] {
        assert_eq!((err.code(), err.kind()), ("not_found", Kind::NotFound));
    }
    assert_eq!(GuestAccessError::Forbidden.kind(), Kind::Forbidden);
}

#[test]
fn a_refused_link_field_is_named_and_explained_in_its_own_words() {
    let err = GuestAccessError::from(FieldError::new(Field::ClickLimit, "too many"));
    assert_eq!(err.field(), Some(Field::ClickLimit));
    assert_eq!(err.message(), "too many");
    assert_eq!(GuestAccessError::Disabled.field(), None);
}

#[test]
fn a_media_refusal_becomes_the_guest_access_refusal_it_means() {
    let no_course = GuestAccessError::from(MediaError::NoCourse);
    assert_eq!(
        (no_course.code(), no_course.kind()),
        ("no_course", Kind::NotFound)
    );
    assert!(matches!(
        GuestAccessError::from(MediaError::NotFound),
        GuestAccessError::NotFound
    ));
    assert!(matches!(
        GuestAccessError::from(MediaError::Forbidden),
        GuestAccessError::Forbidden
    ));
    let invalid = GuestAccessError::from(MediaError::Invalid(FieldError::new(Field::Title, "t")));
    assert_eq!(invalid.field(), Some(Field::Title));
}

#[test]
fn an_upload_refusal_reaching_guest_access_is_a_bug() {
    for err in [MediaError::TooLarge(1), MediaError::QuotaExceeded(1)] {
        assert_eq!(GuestAccessError::from(err).kind(), Kind::Internal);
    }
    let away = GuestAccessError::from(MediaError::Fault(Fault::Unavailable("x".into())));
    assert_eq!(away.kind(), Kind::Unavailable);
}

#[test]
fn links_created_at_the_same_moment_too_often_are_a_conflict_without_database_words() {
    let busy = GuestAccessError::Busy;
    assert_eq!((busy.code(), busy.kind()), ("conflict", Kind::Conflict));
    assert!(busy.message().contains("try again"), "{}", busy.message());
}
