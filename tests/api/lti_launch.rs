//! Launches: good ones from every LMS, and the bad-launch battery, each bad
//! one refused with its own error code and no session.

use guestlink::demo::claims::Role;
use guestlink::domain::platform::Lms;
use guestlink::lti::claims as c;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, PLATFORM_KEY_B, PLATFORM_PUBLIC_KEY_A, Page, TestApp, count_rows, platform_key,
    spawn_app,
};
use guestlink_test_macros::{both_backends, one_backend};

const LMSS: [Lms; 4] = [Lms::Moodle, Lms::Canvas, Lms::Sakai, Lms::Brightspace];

fn assert_course_page(page: &Page, can_manage: bool, case: &str) {
    assert_eq!(page.status, 200, "{case}: status; body: {}", page.body);
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("course"),
        "{case}: course page"
    );
    assert_eq!(
        page.attr("main", "data-can-manage"),
        Some(can_manage.to_string()),
        "{case}: rights"
    );
    assert!(
        page.session_token().is_some_and(|t| !t.is_empty()),
        "{case}: session token in meta"
    );
}

#[both_backends]
async fn every_lms_launches_instructors_students_and_no_roles(backend: Backend) {
    let app = spawn_app(backend).await;
    for lms in LMSS {
        let reg = app.register(lms);
        for (role, manage) in [
            (Role::Instructor, true),
            (Role::Student, false),
            (Role::NoRoles, false),
        ] {
            let page = app.launch_as(&reg, role).await;
            assert_course_page(&page, manage, &format!("{lms} {role:?}"));
        }
    }
    assert_eq!(app.session_count(), 12);
}

/// LTI 1.3 Core §5.3.6.1: a resource-link launch without `sub` is an
/// anonymous user. It sees the course's media as its roles allow, but
/// managing needs a user the LMS identifies, and the page says so.
#[both_backends]
async fn an_anonymous_launch_views_the_course_but_manages_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Moodle);
    let page = app
        .launch_with(&reg, Role::Instructor, |claims| remove(claims, "sub"))
        .await;
    assert_course_page(&page, false, "anonymous instructor");
    assert!(
        page.body.contains("data-notice=\"anonymous_launch\""),
        "the page says why managing is not offered: {}",
        page.body
    );
    assert_eq!(
        page.text("[data-field=user-name]").as_deref(),
        Some("Anonymous user"),
        "no one is named, whatever name the claims carried"
    );
    let token = page.session_token().unwrap();
    let listed = app.get_page("/api/media", Some(&token)).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let created = app
        .http
        .post(app.url("/api/media"))
        .bearer_auth(&token)
        .json(&json!({"title": "Not allowed", "kind": "room"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 403);
    let reloaded = app.get_page("/course", Some(&token)).await;
    assert!(
        reloaded.body.contains("data-notice=\"anonymous_launch\""),
        "the notice stays on later pages: {}",
        reloaded.body
    );
    assert_eq!(
        reloaded.attr("main", "data-can-manage").as_deref(),
        Some("false")
    );
    assert_eq!(count_rows(&app.db, "users"), 0, "no user was recorded");
    assert_eq!(app.session_count(), 1);
}

#[both_backends]
async fn teaching_assistants_manage_in_canvas_and_sakai(backend: Backend) {
    let app = spawn_app(backend).await;
    for lms in [Lms::Canvas, Lms::Sakai, Lms::Moodle] {
        let reg = app.register(lms);
        let page = app.launch_as(&reg, Role::TeachingAssistant).await;
        assert_course_page(&page, true, &format!("{lms} TA"));
    }
}

#[both_backends]
async fn a_launch_without_context_explains_guestlink_works_in_a_course(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Canvas);
    let page = app
        .launch_with(&reg, Role::Instructor, |claims| {
            claims.as_object_mut().unwrap().remove(c::CONTEXT);
        })
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("no-context")
    );
}

#[both_backends]
async fn one_issuer_with_several_client_ids_launches_each(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.register_with(
        Lms::Canvas,
        "https://canvas.instructure.com",
        "10000000000001",
        "1:aaa",
    );
    let second = app.register_with(
        Lms::Canvas,
        "https://canvas.instructure.com",
        "10000000000002",
        "2:bbb",
    );
    assert_course_page(
        &app.launch_as(&first, Role::Instructor).await,
        true,
        "first client",
    );
    assert_course_page(
        &app.launch_as(&second, Role::Student).await,
        false,
        "second client",
    );
}

#[one_backend]
async fn launch_sets_a_partitioned_session_cookie_and_clears_the_state_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Moodle);
    let page = app.launch_as(&reg, Role::Instructor).await;
    let cookies: Vec<String> = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("guestlink_session="))
        .expect("session cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=None", "Partitioned"] {
        assert!(
            session.contains(attribute),
            "session cookie lacks {attribute}: {session}"
        );
    }
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("guestlink_state_") && c.contains("Max-Age=0"))
    );
    assert_eq!(page.headers.get("referrer-policy").unwrap(), "no-referrer");
    assert_eq!(page.headers.get("cache-control").unwrap(), "no-store");
}

/// How one bad launch is made: from a good login, claims and token.
struct Bad {
    name: &'static str,
    code: &'static str,
    status: u16,
    make: fn(&TestApp, &crate::helpers::Registered) -> Attempt,
}

/// What to post, built lazily so each case gets its own fresh login.
enum Attempt {
    /// Mutate the good claims, sign with the platform key.
    Claims(fn(&mut Value)),
    /// Build the token from the good claims some other way.
    Token(fn(&TestApp, &Value) -> String),
    /// Post these fields (the login's state and cookie are still used unless
    /// the fields say otherwise).
    Form(fn(&str, &str) -> Vec<(String, String)>, CookieChoice),
}

#[derive(Clone, Copy)]
enum CookieChoice {
    Keep,
    Drop,
    OtherBrowser,
}

fn remove(claims: &mut Value, name: &str) {
    claims.as_object_mut().unwrap().remove(name);
}

fn b64(bytes: &[u8]) -> String {
    guestlink::crypto::b64url(bytes)
}

fn token_parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_string).collect()
}

fn battery() -> Vec<Bad> {
    vec![
        Bad {
            name: "alg none",
            code: "unsupported_algorithm",
            status: 400,
            make: |_, _| {
                Attempt::Token(|_, claims| {
                    format!(
                        "{}.{}.",
                        b64(br#"{"alg":"none","kid":"key-a","typ":"JWT"}"#),
                        b64(claims.to_string().as_bytes())
                    )
                })
            },
        },
        Bad {
            name: "HS256 signed with the platform's public key",
            code: "unsupported_algorithm",
            status: 400,
            make: |_, _| {
                Attempt::Token(|_, claims| {
                    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
                    header.kid = Some("key-a".into());
                    jsonwebtoken::encode(
                        &header,
                        claims,
                        &jsonwebtoken::EncodingKey::from_secret(PLATFORM_PUBLIC_KEY_A.as_bytes()),
                    )
                    .unwrap()
                })
            },
        },
        Bad {
            name: "no kid",
            code: "missing_kid",
            status: 400,
            make: |_, _| {
                Attempt::Token(|app, claims| {
                    let key = app.platform.signing_key();
                    jsonwebtoken::encode(
                        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
                        claims,
                        &key.encoding_key().unwrap(),
                    )
                    .unwrap()
                })
            },
        },
        Bad {
            name: "unknown kid",
            code: "unknown_kid",
            status: 401,
            make: |_, _| {
                Attempt::Token(|app, claims| {
                    let mut key = app.platform.signing_key();
                    key.kid = "no-such-kid".into();
                    key.sign(claims).unwrap()
                })
            },
        },
        Bad {
            name: "wrong signature",
            code: "invalid_signature",
            status: 401,
            make: |_, _| {
                Attempt::Token(|_, claims| {
                    platform_key(PLATFORM_KEY_B, "key-a").sign(claims).unwrap()
                })
            },
        },
        Bad {
            name: "tampered payload",
            code: "invalid_signature",
            status: 401,
            make: |_, _| {
                Attempt::Token(|app, claims| {
                    let parts = token_parts(&app.sign(claims));
                    let mut tampered = claims.clone();
                    tampered["sub"] = json!("someone-else");
                    format!(
                        "{}.{}.{}",
                        parts[0],
                        b64(tampered.to_string().as_bytes()),
                        parts[2]
                    )
                })
            },
        },
        Bad {
            name: "expired",
            code: "token_expired",
            status: 401,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    let iat = claims["iat"].as_i64().unwrap();
                    claims["iat"] = json!(iat - 7200);
                    claims["exp"] = json!(iat - 3600);
                })
            },
        },
        Bad {
            name: "issued in the future",
            code: "issued_in_future",
            status: 401,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    let iat = claims["iat"].as_i64().unwrap();
                    claims["iat"] = json!(iat + 3600);
                    claims["exp"] = json!(iat + 7200);
                })
            },
        },
        Bad {
            name: "long expired (certification: tiny timestamps)",
            code: "token_expired",
            status: 401,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    claims["iat"] = json!(100);
                    claims["exp"] = json!(200);
                })
            },
        },
        Bad {
            name: "wrong aud",
            code: "invalid_audience",
            status: 400,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    claims["aud"] = json!("some-other-client");
                })
            },
        },
        Bad {
            name: "several aud without azp",
            code: "missing_azp",
            status: 400,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    let aud = claims["aud"].as_str().unwrap().to_string();
                    claims["aud"] = json!([aud, "another-audience"]);
                    remove(claims, "azp");
                })
            },
        },
        Bad {
            name: "azp not the client id",
            code: "invalid_azp",
            status: 400,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    let aud = claims["aud"].as_str().unwrap().to_string();
                    claims["aud"] = json!([aud, "another-audience"]);
                    claims["azp"] = json!("another-audience");
                })
            },
        },
        Bad {
            name: "wrong iss",
            code: "invalid_issuer",
            status: 400,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    claims["iss"] = json!("https://evil.example.com");
                })
            },
        },
        Bad {
            name: "unknown deployment",
            code: "unknown_deployment",
            status: 400,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    claims[c::DEPLOYMENT_ID] = json!("not-registered");
                })
            },
        },
        Bad {
            name: "missing deployment",
            code: "missing_deployment_id",
            status: 400,
            make: |_, _| Attempt::Claims(|claims| remove(claims, c::DEPLOYMENT_ID)),
        },
        Bad {
            name: "wrong LTI version",
            code: "unsupported_lti_version",
            status: 400,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    claims[c::VERSION] = json!("11.3");
                })
            },
        },
        Bad {
            name: "missing LTI version",
            code: "missing_lti_version",
            status: 400,
            make: |_, _| Attempt::Claims(|claims| remove(claims, c::VERSION)),
        },
        Bad {
            name: "missing message type",
            code: "missing_message_type",
            status: 400,
            make: |_, _| Attempt::Claims(|claims| remove(claims, c::MESSAGE_TYPE)),
        },
        Bad {
            name: "unknown message type",
            code: "unsupported_message_type",
            status: 400,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    claims[c::MESSAGE_TYPE] = json!("LtiSubmissionReviewRequest");
                })
            },
        },
        Bad {
            name: "missing resource link id",
            code: "missing_resource_link",
            status: 400,
            make: |_, _| Attempt::Claims(|claims| remove(claims, c::RESOURCE_LINK)),
        },
        Bad {
            name: "missing roles",
            code: "missing_roles",
            status: 400,
            make: |_, _| Attempt::Claims(|claims| remove(claims, c::ROLES)),
        },
        Bad {
            name: "not an LTI message (only a name)",
            code: "missing_claim",
            status: 400,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    *claims = json!({"name": "Jo", "iss": claims["iss"], "aud": claims["aud"]});
                })
            },
        },
        Bad {
            name: "nonce of another login",
            code: "nonce_mismatch",
            status: 401,
            make: |_, _| {
                Attempt::Claims(|claims| {
                    claims["nonce"] = json!("a-nonce-this-tool-never-issued");
                })
            },
        },
        Bad {
            name: "wrong state",
            code: "unknown_state",
            status: 400,
            make: |_, _| {
                Attempt::Form(
                    |token, _| {
                        vec![
                            ("id_token".into(), token.into()),
                            ("state".into(), "not-a-state-we-issued".into()),
                        ]
                    },
                    CookieChoice::Keep,
                )
            },
        },
        Bad {
            name: "missing state",
            code: "missing_state",
            status: 400,
            make: |_, _| {
                Attempt::Form(
                    |token, _| vec![("id_token".into(), token.into())],
                    CookieChoice::Keep,
                )
            },
        },
        Bad {
            name: "state from another browser",
            code: "state_mismatch",
            status: 403,
            make: |_, _| {
                Attempt::Form(
                    |token, state| {
                        vec![
                            ("id_token".into(), token.into()),
                            ("state".into(), state.into()),
                        ]
                    },
                    CookieChoice::OtherBrowser,
                )
            },
        },
        Bad {
            name: "state cookie missing",
            code: "state_cookie_missing",
            status: 403,
            make: |_, _| {
                Attempt::Form(
                    |token, state| {
                        vec![
                            ("id_token".into(), token.into()),
                            ("state".into(), state.into()),
                        ]
                    },
                    CookieChoice::Drop,
                )
            },
        },
        Bad {
            name: "garbage token",
            code: "malformed_token",
            status: 400,
            make: |_, _| {
                Attempt::Form(
                    |_, state| {
                        vec![
                            ("id_token".into(), "garbage".into()),
                            ("state".into(), state.into()),
                        ]
                    },
                    CookieChoice::Keep,
                )
            },
        },
        Bad {
            name: "a 1 MB token",
            code: "request_too_large",
            status: 413,
            make: |_, _| {
                Attempt::Form(
                    |_, state| {
                        vec![
                            ("id_token".into(), "a".repeat(1024 * 1024)),
                            ("state".into(), state.into()),
                        ]
                    },
                    CookieChoice::Keep,
                )
            },
        },
        Bad {
            name: "empty form",
            code: "missing_state",
            status: 400,
            make: |_, _| Attempt::Form(|_, _| vec![], CookieChoice::Drop),
        },
    ]
}

#[one_backend]
async fn the_bad_launch_battery_is_refused_each_with_its_own_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Canvas);
    for case in battery() {
        let login = app.login(&reg).await;
        let good = app.claims(&reg, &login.nonce, Role::Instructor);
        let (fields, cookie): (Vec<(String, String)>, Option<String>) =
            match (case.make)(&app, &reg) {
                Attempt::Claims(mutate) => {
                    let mut claims = good.clone();
                    mutate(&mut claims);
                    let token = app.sign(&claims);
                    (
                        vec![
                            ("id_token".into(), token),
                            ("state".into(), login.state.clone()),
                        ],
                        Some(login.cookie.clone()),
                    )
                }
                Attempt::Token(build) => {
                    let token = build(&app, &good);
                    (
                        vec![
                            ("id_token".into(), token),
                            ("state".into(), login.state.clone()),
                        ],
                        Some(login.cookie.clone()),
                    )
                }
                Attempt::Form(build, choice) => {
                    let token = app.sign(&good);
                    let cookie = match choice {
                        CookieChoice::Keep => Some(login.cookie.clone()),
                        CookieChoice::Drop => None,
                        CookieChoice::OtherBrowser => {
                            let name = login.cookie.split('=').next().unwrap();
                            Some(format!("{name}=a-binding-from-another-browser"))
                        }
                    };
                    (build(&token, &login.state), cookie)
                }
            };
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let page = app.post_launch(&borrowed, cookie.as_deref()).await;
        assert_eq!(
            page.error_code().as_deref(),
            Some(case.code),
            "{}: body {}",
            case.name,
            &page.body[..page.body.len().min(600)]
        );
        assert_eq!(page.status, case.status, "{}: status", case.name);
        assert!(
            !page.body.contains("eyJ"),
            "{}: the error page must not echo the token",
            case.name
        );
    }
    assert_eq!(
        app.session_count(),
        0,
        "no refused launch may open a session"
    );
}

#[both_backends]
async fn the_same_good_id_token_posted_twice_is_a_reused_nonce(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Moodle);
    let login = app.login(&reg).await;
    let token = app.sign(&app.claims(&reg, &login.nonce, Role::Instructor));
    let fields = [
        ("id_token", token.as_str()),
        ("state", login.state.as_str()),
    ];
    assert_course_page(
        &app.post_launch(&fields, Some(&login.cookie)).await,
        true,
        "first post",
    );
    let replay = app.post_launch(&fields, Some(&login.cookie)).await;
    assert_eq!(replay.error_code().as_deref(), Some("nonce_reused"));
    assert_eq!(replay.status, 401);
    assert_eq!(app.session_count(), 1);
}

#[both_backends]
async fn concurrent_posts_of_one_token_open_exactly_one_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Canvas);
    let login = app.login(&reg).await;
    let token = app.sign(&app.claims(&reg, &login.nonce, Role::Instructor));
    let fields = [
        ("id_token", token.as_str()),
        ("state", login.state.as_str()),
    ];
    let posts = (0..10).map(|_| app.post_launch(&fields, Some(&login.cookie)));
    let pages = futures_util::future::join_all(posts).await;
    let accepted = pages.iter().filter(|p| p.status == 200).count();
    assert_eq!(
        accepted, 1,
        "exactly one concurrent post of the same launch may succeed"
    );
    assert_eq!(app.session_count(), 1);
}

#[both_backends]
async fn an_expired_state_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Sakai);
    let login = app.login(&reg).await;
    app.clock.advance(time::Duration::minutes(11));
    // The token itself is fresh: only the state has aged.
    let token = app.sign(&app.claims(&reg, &login.nonce, Role::Instructor));
    let page = app.post_token(&login, &token).await;
    assert_eq!(page.error_code().as_deref(), Some("state_expired"));
}

#[one_backend]
async fn a_get_of_the_launch_url_is_a_clear_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get_page("/lti/launch", None).await;
    assert_eq!(page.status, 405);
    assert!(page.error_code().is_some());
}
