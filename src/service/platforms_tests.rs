//! Unit tests of `crate::service::platforms`, kept beside it.

use super::*;

fn entry(jwks_url: &str) -> String {
    format!(
        r#"{{"name": "M", "lms": "moodle", "issuer": "https://lms.example.edu",
            "client_id": "c", "auth_url": "https://lms.example.edu/a",
            "jwks_url": "{jwks_url}", "token_url": null, "deployment_ids": ["1"]}}"#
    )
}

fn export_of(entries: &[String]) -> String {
    format!(
        r#"{{"guestlink_platforms": 1, "platforms": [{}]}}"#,
        entries.join(",")
    )
}

#[test]
fn an_export_is_read_with_its_defaults() {
    let read = read_export(&export_of(&[entry("https://lms.example.edu/k")])).unwrap();
    let (new, modules) = &read[0];
    assert_eq!(new.deployment_policy, DeploymentPolicy::Strict);
    assert!(!new.pending);
    assert_eq!(*modules, Modules::default());
}

#[test]
fn a_refused_entry_is_named_by_its_place_and_its_key() {
    let json = export_of(&[entry("https://lms.example.edu/k"), entry("not a url")]);
    match read_export(&json) {
        Err(PlatformError::BadExport { at, .. }) => assert_eq!(at, "platforms[1].jwks_url"),
        other => panic!("{:?}", other.map(|v| v.len())),
    }
}

#[test]
fn what_is_not_an_export_of_this_version_is_refused() {
    for json in ["[]", "{}", r#"{"guestlink_platforms": 2, "platforms": []}"#] {
        let err = read_export(json).map(|v| v.len()).unwrap_err();
        assert_eq!(
            (err.code(), err.kind()),
            ("invalid", Kind::Invalid),
            "{json}"
        );
    }
}

#[test]
fn a_duplicate_registration_names_itself_not_the_database() {
    let err = PlatformError::AlreadyRegistered {
        issuer: "https://lms.example.edu".into(),
        client_id: "c".into(),
    };
    assert_eq!(err.kind(), Kind::Conflict);
    assert_eq!(
        err.message(),
        "a platform with issuer https://lms.example.edu and client id c is already registered"
    );
}

fn platform(policy: DeploymentPolicy) -> Platform {
    Platform {
        id: PlatformId(4),
        name: "Moodle".into(),
        lms: crate::domain::platform::Lms::Moodle,
        issuer: "https://lms.example.edu".into(),
        client_id: "c".into(),
        auth_url: "https://lms.example.edu/auth".into(),
        jwks_url: "https://lms.example.edu/jwks".into(),
        token_url: None,
        deployment_ids: vec!["1".into(), "2".into()],
        created_at: crate::domain::time::Timestamp::from_unix(0),
        modules: Modules::default(),
        deployment_policy: policy,
        pending: false,
    }
}

#[test]
fn a_missing_platform_is_not_found_and_named_by_its_id() {
    let err = PlatformError::NotFound(PlatformId(12));
    assert_eq!((err.code(), err.kind()), ("not_found", Kind::NotFound));
    assert_eq!(err.message(), "no platform with id 12");
}

#[test]
fn removing_a_platform_that_holds_media_is_a_conflict_that_says_how_much() {
    let err = PlatformError::HoldsMedia {
        id: PlatformId(3),
        count: 5,
    };
    assert_eq!(
        (err.code(), err.kind()),
        ("platform_holds_media", Kind::Conflict)
    );
    assert!(err.message().contains("5 media item"), "{}", err.message());
    assert_eq!(err.field(), None);
}

#[test]
fn a_duplicate_registration_points_at_the_client_id() {
    let err = PlatformError::AlreadyRegistered {
        issuer: "i".into(),
        client_id: "c".into(),
    };
    assert_eq!(err.code(), "platform_exists");
    assert_eq!(err.field(), Some(Field::ClientId));
}

#[test]
fn a_bad_export_names_the_document_and_where_in_it() {
    let err = PlatformError::BadExport {
        at: "platforms[2].issuer".into(),
        problem: "must not be empty".into(),
    };
    assert_eq!(err.field(), Some(Field::Document));
    assert_eq!(err.message(), "platforms[2].issuer: must not be empty");
}

#[test]
fn a_refused_platform_field_is_named_and_explained_in_its_own_words() {
    let err = PlatformError::from(FieldError::new(Field::JwksUrl, "must be https"));
    assert_eq!((err.code(), err.kind()), ("invalid", Kind::Invalid));
    assert_eq!(err.field(), Some(Field::JwksUrl));
    assert_eq!(err.message(), "must be https");
}

#[test]
fn a_platform_registers_new_deployments_only_under_that_policy() {
    let strict = registration(&platform(DeploymentPolicy::Strict));
    assert!(!strict.register_new_deployments);
    let open = registration(&platform(DeploymentPolicy::RegisterOnFirstLaunch));
    assert!(open.register_new_deployments);
    assert_eq!(open.platform_id, 4);
    assert_eq!(open.deployment_ids, ["1", "2"]);
    assert_eq!(open.jwks_url, "https://lms.example.edu/jwks");
}

#[test]
fn an_export_brings_its_modules_policy_and_pending_state() {
    let json = export_of(&[
        r#"{"name": "C", "lms": "canvas", "issuer": "https://canvas.instructure.com",
        "client_id": "1000", "auth_url": "https://sso.canvaslms.com/a",
        "jwks_url": "https://sso.canvaslms.com/k", "token_url": "https://sso.canvaslms.com/t",
        "deployment_ids": [], "deployment_policy": "register_on_first_launch", "pending": true,
        "modules": {"invitetomedia": false, "mediapage": true}}"#
            .to_string(),
    ]);
    let read = read_export(&json).unwrap();
    let (new, modules) = &read[0];
    assert_eq!(
        new.deployment_policy,
        DeploymentPolicy::RegisterOnFirstLaunch
    );
    assert!(new.pending);
    assert!(new.deployment_ids.is_empty(), "deployments may come later");
    assert_eq!(
        new.token_url.as_deref(),
        Some("https://sso.canvaslms.com/t")
    );
    assert_eq!(
        *modules,
        Modules {
            invite_to_media: false,
            media_page: true
        }
    );
}

#[test]
fn a_strict_export_entry_needs_a_deployment() {
    let json = export_of(&[
        r#"{"name": "M", "lms": "moodle", "issuer": "https://lms.example.edu",
        "client_id": "c", "auth_url": "https://lms.example.edu/a",
        "jwks_url": "https://lms.example.edu/k", "token_url": null, "deployment_ids": []}"#
            .to_string(),
    ]);
    match read_export(&json) {
        Err(PlatformError::BadExport { at, .. }) => {
            assert_eq!(at, "platforms[0].deployment_id")
        }
        other => panic!("{:?}", other.map(|v| v.len())),
    }
}

#[test]
fn an_unknown_deployment_policy_in_an_export_is_named() {
    let entry = entry("https://lms.example.edu/k").replace(
        r#""deployment_ids": ["1"]"#,
        r#""deployment_ids": ["1"], "deployment_policy": "lenient""#,
    );
    match read_export(&export_of(&[entry])) {
        Err(PlatformError::BadExport { at, problem }) => {
            assert_eq!(at, "platforms[0].deployment_policy");
            assert!(problem.contains("lenient"), "{problem}");
        }
        other => panic!("{:?}", other.map(|v| v.len())),
    }
}

#[test]
fn an_empty_export_imports_nothing_without_error() {
    assert!(read_export(&export_of(&[])).unwrap().is_empty());
}

#[test]
fn edited_details_follow_the_rules_of_a_new_registration() {
    let existing = platform(DeploymentPolicy::Strict);
    let fields = PlatformFields {
        name: " Campus Moodle ",
        auth_url: "https://lms.example.edu/auth2",
        jwks_url: "https://lms.example.edu/jwks2",
        token_url: Some(" "),
        ..PlatformFields::default()
    };
    let details = Details::parse(&existing, &fields).unwrap();
    assert_eq!(details.name, "Campus Moodle");
    assert_eq!(details.auth_url, "https://lms.example.edu/auth2");
    assert_eq!(details.token_url, None);
    let insecure = PlatformFields {
        jwks_url: "http://lms.example.edu/jwks",
        ..fields
    };
    assert_eq!(
        Details::parse(&existing, &insecure).err().map(|e| e.field),
        Some(Field::JwksUrl)
    );
}

#[test]
fn an_edit_does_not_need_the_deployments_the_platform_already_has() {
    let mut existing = platform(DeploymentPolicy::Strict);
    existing.deployment_ids.clear();
    let fields = PlatformFields {
        name: "M",
        auth_url: "https://lms.example.edu/a",
        jwks_url: "https://lms.example.edu/k",
        ..PlatformFields::default()
    };
    assert!(Details::parse(&existing, &fields).is_ok());
}
