//! LTI Dynamic Registration at /lti/register against a simulated Moodle,
//! Canvas, Sakai and Brightspace (tests/support/sim_lms.rs, each with its
//! LMS's quirks): the confirmation page, the registration the tool sends,
//! the stored platform and the launch that follows; every bad case ends on
//! a page with its own code and nothing stored; pending platforms wait for
//! `guestlink platform activate`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use guestlink::demo::claims::Role;
use guestlink::domain::platform::{DeploymentPolicy, Lms, Platform};
use serde_json::{Value, json};

use crate::helpers::{Backend, Page, Registered, TestApp, free_port, login_result};
use crate::registration_helpers::{
    Tool, assert_done, assert_error, attrs, form_fields, lms_of, main_text, stderr, stdout,
    succeeded,
};
use crate::support::sim_lms::{
    CANVAS_PRIVACY_LEVEL, DEEP_LINKING, Flavour, Knobs, RESOURCE_LINK, RecordedRequest, SimLms,
};
use guestlink_test_macros::{both_backends, one_backend};

/// A Canvas deployment id created when an admin installs the tool, after
/// the registration.
const LATER_CANVAS_DEPLOYMENT: &str = "1:8865aa05b4b79b64a91a86042e43af5ea8ae79eb";
/// A Brightspace deployment (an upper-case GUID) created after the registration.
const LATER_BRIGHTSPACE_DEPLOYMENT: &str = "A4B7C0D2-5E8F-4A1B-9C3D-6E7F8A9B0C1D";

fn assert_course_page(page: &Page, case: &str) {
    assert_eq!(page.status, 200, "{case}: {}", page.body);
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("course"),
        "{case}: {}",
        page.body
    );
}

fn set_of(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
}

fn strings(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The confirmation page shows what will be registered and carries the form.
fn assert_confirm_page(
    tool: &Tool,
    sim: &SimLms,
    page: &Page,
    config_url: &str,
    token: Option<&str>,
) {
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("register-confirm")
    );
    assert_eq!(
        page.attr("main", "data-lms").as_deref(),
        Some(sim.flavour.as_str())
    );
    assert_eq!(
        page.attr("main", "data-activation").as_deref(),
        Some("active")
    );
    for shown in [
        sim.issuer(),
        tool.app.url("/lti/login"),
        tool.app.url("/lti/launch"),
        RESOURCE_LINK.to_string(),
        DEEP_LINKING.to_string(),
    ] {
        assert!(page.body.contains(&shown), "the page shows {shown}");
    }
    assert_eq!(
        crate::registration_helpers::count(page, r#"form[method="post"][action="/lti/register"]"#),
        1,
        "one registration form"
    );
    let fields = form_fields(page);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        field("openid_configuration").as_deref(),
        Some(config_url),
        "{fields:?}"
    );
    assert_eq!(field("registration_token").as_deref(), token, "{fields:?}");
    assert!(
        field("confirm").is_some_and(|c| !c.is_empty()),
        "{fields:?}"
    );
    let buttons = page
        .html
        .select(&scraper::Selector::parse(r#"form[action="/lti/register"] button"#).unwrap())
        .filter(|b| b.value().attr("type") != Some("button"))
        .map(|b| b.text().collect::<String>().trim().to_string())
        .collect::<Vec<_>>();
    assert!(
        buttons.iter().any(|b| b == "Register"),
        "a Register button: {buttons:?}"
    );
}

/// The registration request has the shape every LMS accepts, with the
/// flavour's additions, and a Bearer token exactly when one was given.
fn assert_registration_request(
    tool: &Tool,
    flavour: Flavour,
    request: &RecordedRequest,
    token: Option<&str>,
) {
    assert!(
        request
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        request.headers
    );
    let expected_auth = token.map(|t| format!("Bearer {t}"));
    assert_eq!(
        request.header("authorization"),
        expected_auth.as_deref(),
        "{flavour:?}: Authorization"
    );
    let body = &request.body;
    assert_eq!(body["application_type"], "web", "{body}");
    assert_eq!(body["response_types"], json!(["id_token"]), "{body}");
    assert!(
        set_of(&body["grant_types"]).is_superset(&strings(&["implicit", "client_credentials"])),
        "{body}"
    );
    assert_eq!(body["initiate_login_uri"], tool.app.url("/lti/login"));
    assert_eq!(body["redirect_uris"], json!([tool.app.url("/lti/launch")]));
    assert_eq!(body["client_name"], "guestlink");
    assert_eq!(body["jwks_uri"], tool.app.url("/.well-known/jwks.json"));
    assert_eq!(body["token_endpoint_auth_method"], "private_key_jwt");
    assert!(
        body["logo_uri"]
            .as_str()
            .is_some_and(|l| l.starts_with(&tool.app.address)),
        "logo_uri: {body}"
    );
    // No LTI services, but the field is there: Canvas fails without it.
    assert_eq!(body["scope"], "", "no LTI services: {body}");

    let ltc = request.ltc();
    assert_eq!(
        ltc["domain"],
        tool.app.address.trim_start_matches("http://"),
        "host:port without a scheme"
    );
    assert_eq!(ltc["target_link_uri"], tool.app.url("/lti/launch"));
    assert!(ltc["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(
        set_of(&ltc["claims"]),
        strings(&["iss", "sub", "name", "given_name", "family_name", "email"])
    );
    let messages = ltc["messages"].as_array().expect("messages");
    let types: BTreeSet<String> = messages
        .iter()
        .map(|m| m["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, strings(&[RESOURCE_LINK, DEEP_LINKING]), "{ltc}");
    let message = |kind: &str| messages.iter().find(|m| m["type"] == kind).unwrap();
    for m in messages {
        assert_eq!(m["target_link_uri"], tool.app.url("/lti/launch"), "{m}");
        assert!(m["label"].as_str().is_some_and(|l| !l.is_empty()), "{m}");
    }
    assert!(
        message(DEEP_LINKING)["placements"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{ltc}"
    );
    if flavour == Flavour::Canvas {
        assert_eq!(ltc[CANVAS_PRIVACY_LEVEL], "public");
        assert_eq!(
            set_of(&message(RESOURCE_LINK)["placements"]),
            strings(&["course_navigation"])
        );
        assert_eq!(
            set_of(&message(DEEP_LINKING)["placements"]),
            strings(&["link_selection", "editor_button"])
        );
    } else {
        assert!(ltc.get(CANVAS_PRIVACY_LEVEL).is_none(), "{ltc}");
    }
}

/// The page after Register ends the LMS's dialog: a script (inline or
/// loaded) posts the close message to the frame's parent or the opener.
async fn assert_closes_the_dialog(tool: &Tool, page: &Page) {
    let mut scripts: Vec<String> = page
        .html
        .select(&scraper::Selector::parse("script:not([src])").unwrap())
        .map(|s| s.text().collect())
        .collect();
    for src in attrs(page, "script[src]", "src") {
        let url = if src.starts_with("http") {
            src
        } else {
            tool.app.url(&src)
        };
        scripts.push(
            tool.app
                .http
                .get(url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    assert!(
        scripts.iter().any(|s| s.contains("org.imsglobal.lti.close")
            && s.contains("opener")
            && s.contains("parent")),
        "a script posts org.imsglobal.lti.close to window.parent or window.opener"
    );
}

/// A whole registration of `flavour`, checked step by step; returns the
/// tool, the LMS and the stored platform.
async fn registration_round_trip(backend: Backend, flavour: Flavour) -> (Tool, SimLms, Platform) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(flavour);
    let config_url = sim.configuration_url();
    let token = sim.registration_token();

    let confirm = tool.open_register(&config_url, token.as_deref()).await;
    assert_confirm_page(&tool, &sim, &confirm, &config_url, token.as_deref());
    assert!(
        sim.registration_requests().is_empty(),
        "opening the page registers nothing"
    );
    assert_eq!(tool.platform_count(), 0);

    let done = tool.post_register(&form_fields(&confirm)).await;
    assert_done(&done);
    assert_eq!(
        done.attr("main", "data-activation").as_deref(),
        Some("active")
    );
    assert!(done.body.contains("You can close this window"));
    assert_closes_the_dialog(&tool, &done).await;

    let requests = sim.registration_requests();
    assert_eq!(requests.len(), 1, "one registration request");
    assert_registration_request(&tool, flavour, &requests[0], token.as_deref());

    let issued = sim.issued();
    assert_eq!(issued.len(), 1, "the LMS accepted the registration");
    let platforms = tool.platforms();
    assert_eq!(platforms.len(), 1);
    let platform = platforms[0].clone();
    assert_eq!(
        done.attr("main", "data-platform-id"),
        Some(platform.id.0.to_string())
    );
    assert_eq!(platform.lms, lms_of(flavour));
    assert_eq!(
        platform.name,
        format!(
            "{} ({})",
            flavour.display_name(),
            sim.base().trim_start_matches("http://")
        ),
        "named after the configuration's host"
    );
    assert_eq!(platform.issuer, sim.issuer());
    assert_eq!(platform.client_id, issued[0].client_id);
    assert_eq!(platform.auth_url, sim.authorization_endpoint());
    assert_eq!(platform.jwks_url, sim.jwks_uri());
    assert_eq!(platform.token_url, Some(sim.token_endpoint()));
    assert_eq!(
        platform.deployment_ids,
        issued[0].deployment_id.iter().cloned().collect::<Vec<_>>()
    );
    assert_eq!(
        platform.deployment_policy,
        DeploymentPolicy::RegisterOnFirstLaunch
    );
    (tool, sim, platform)
}

fn registered(platform: &Platform, deployment_id: &str) -> Registered {
    Registered {
        lms: platform.lms,
        issuer: platform.issuer.clone(),
        client_id: platform.client_id.clone(),
        deployment_id: deployment_id.to_string(),
    }
}

/// The deployments of a platform with who added each.
fn deployments_of(tool: &Tool, platform: &Platform) -> Vec<(String, String)> {
    guestlink::store::platforms::deployments_of(&mut tool.app.db.get_read().unwrap(), platform.id)
        .unwrap()
        .into_iter()
        .map(|d| {
            let by = if d.added_by_launch { "launch" } else { "admin" };
            (d.id, by.to_string())
        })
        .collect()
}

#[both_backends]
async fn moodle_registers_dynamically_and_launches(backend: Backend) {
    let (tool, sim, platform) = registration_round_trip(backend, Flavour::Moodle).await;
    let deployment = sim.issued()[0]
        .deployment_id
        .clone()
        .expect("Moodle answers with a deployment id");
    assert_eq!(platform.deployment_ids, vec![deployment.clone()]);
    let page = tool
        .app
        .launch_as(&registered(&platform, &deployment), Role::Instructor)
        .await;
    assert_course_page(&page, "Moodle launch after registration");
}

#[both_backends]
async fn sakai_registers_dynamically_and_launches(backend: Backend) {
    let (tool, _sim, platform) = registration_round_trip(backend, Flavour::Sakai).await;
    assert_eq!(platform.deployment_ids, vec!["1".to_string()]);
    let page = tool
        .app
        .launch_as(&registered(&platform, "1"), Role::Student)
        .await;
    assert_course_page(&page, "Sakai launch after registration");
}

/// Canvas creates the deployment only when an admin installs the tool:
/// the registration stores none, and the first launch from the new
/// deployment gets in and records it.
#[both_backends]
async fn canvas_registers_dynamically_and_its_later_deployment_launches(backend: Backend) {
    let (tool, _sim, platform) = registration_round_trip(backend, Flavour::Canvas).await;
    assert!(platform.deployment_ids.is_empty());
    let page = tool
        .app
        .launch_as(
            &registered(&platform, LATER_CANVAS_DEPLOYMENT),
            Role::Instructor,
        )
        .await;
    assert_course_page(&page, "Canvas launch from a deployment made later");
    assert_eq!(
        deployments_of(&tool, &platform),
        vec![(LATER_CANVAS_DEPLOYMENT.to_string(), "launch".to_string())]
    );
    let again = tool
        .app
        .launch_as(
            &registered(&platform, LATER_CANVAS_DEPLOYMENT),
            Role::Student,
        )
        .await;
    assert_course_page(&again, "second launch from the recorded deployment");
    assert_eq!(deployments_of(&tool, &platform).len(), 1);
}

/// Brightspace opens the registration URL without a registration_token
/// (its one-time token is in the configuration URL): the tool sends no
/// Authorization header, and the deployment comes with the first launch.
#[both_backends]
async fn brightspace_registers_without_a_token_and_launches(backend: Backend) {
    let (tool, sim, platform) = registration_round_trip(backend, Flavour::Brightspace).await;
    assert!(
        sim.registration_requests()[0]
            .header("authorization")
            .is_none()
    );
    assert!(platform.deployment_ids.is_empty());
    let page = tool
        .app
        .launch_as(
            &registered(&platform, LATER_BRIGHTSPACE_DEPLOYMENT),
            Role::Instructor,
        )
        .await;
    assert_course_page(&page, "Brightspace launch after registration");
    assert_eq!(
        deployments_of(&tool, &platform),
        vec![(
            LATER_BRIGHTSPACE_DEPLOYMENT.to_string(),
            "launch".to_string()
        )]
    );
}

/// Hosted Canvas names the shared issuer https://canvas.instructure.com
/// whatever host serves its configuration.
#[both_backends]
async fn canvas_with_the_shared_issuer_registers_and_launches(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Canvas);
    sim.knobs(|k| k.issuer = Some("https://canvas.instructure.com".into()));
    let platform = tool.register_sim(&sim).await;
    assert_eq!(platform.issuer, "https://canvas.instructure.com");
    // Named after the school's host: the shared issuer names no school.
    assert_eq!(
        platform.name,
        format!("Canvas ({})", sim.base().trim_start_matches("http://"))
    );
    let page = tool
        .app
        .launch_as(
            &registered(&platform, LATER_CANVAS_DEPLOYMENT),
            Role::Instructor,
        )
        .await;
    assert_course_page(&page, "launch with the shared Canvas issuer");
}

/// Only the message types the platform lists are registered, whether it
/// lists them as strings (Moodle) or objects (Canvas).
#[one_backend]
async fn only_the_message_types_the_platform_supports_are_registered(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    for flavour in [Flavour::Moodle, Flavour::Canvas] {
        let sim = tool.sim(flavour);
        sim.knobs(|k| k.only_resource_link = true);
        tool.register_sim(&sim).await;
        let request = &sim.registration_requests()[0];
        let types: Vec<&Value> = request.ltc()["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["type"])
            .collect();
        assert_eq!(types, vec![&json!(RESOURCE_LINK)], "{flavour:?}");
    }
}

/// The flavour comes from the configuration's product family code.
#[one_backend]
async fn the_product_family_code_decides_the_flavour(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Sakai);
    for (code, lms) in [
        ("sakailms.org", "sakai"),
        ("sakai", "sakai"),
        ("moodle", "moodle"),
        ("canvas", "canvas"),
        ("desire2learn", "brightspace"),
        ("d2l", "brightspace"),
        ("brightspace", "brightspace"),
        ("BlackboardLearn", "generic"),
    ] {
        sim.knobs(|k| k.product_family_code = Some(code.into()));
        let page = tool
            .open_register(
                &sim.configuration_url(),
                sim.registration_token().as_deref(),
            )
            .await;
        assert_eq!(page.status, 200, "{code}: {}", main_text(&page));
        assert_eq!(
            page.attr("main", "data-lms").as_deref(),
            Some(lms),
            "{code}"
        );
    }
    // Brightspace and other platforms send no token; a generic one may.
    sim.knobs(|k| k.product_family_code = Some("BlackboardLearn".into()));
    let page = tool.open_register(&sim.configuration_url(), None).await;
    assert_eq!(page.attr("main", "data-lms").as_deref(), Some("generic"));
}

/// An allowed host may be listed with its port (then every URL of the
/// configuration is on that host and port: the LMS serves its own key set).
#[one_backend]
async fn an_allowed_host_may_be_listed_with_its_port(backend: Backend) {
    let sim = SimLms::start(Flavour::Sakai, "http://127.0.0.1:9/jwks");
    let host_port = sim.base().trim_start_matches("http://").to_string();
    let tool = Tool::start(backend, |s| {
        s.lti.registration_allowed_hosts = vec![host_port.parse().unwrap()];
    })
    .await;
    sim.serve_jwks_from(&format!("{}/jwks", tool.app.platform.base));
    let platform = tool.register_sim(&sim).await;
    let page = tool
        .app
        .launch_as(&registered(&platform, "1"), Role::Instructor)
        .await;
    assert_course_page(&page, "launch after a host:port registration");
}

/// Opens the registration and, when the tool shows the confirmation, goes
/// on and presses Register: the page where the registration ended.
async fn register_to_the_end(tool: &Tool, config_url: &str, token: Option<&str>) -> Page {
    let page = tool.open_register(config_url, token).await;
    if page.attr("main", "data-page").as_deref() == Some("register-confirm") {
        tool.post_register(&form_fields(&page)).await
    } else {
        page
    }
}

/// Nothing was sent to the LMS and nothing stored.
fn assert_nothing_happened(tool: &Tool, sim: &SimLms, case: &str) {
    assert!(
        sim.registration_requests().is_empty(),
        "{case}: nothing is sent to the LMS"
    );
    assert_eq!(tool.platform_count(), 0, "{case}: nothing is stored");
}

#[one_backend]
async fn the_configuration_url_is_required(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    for (case, path) in [
        ("missing", "/lti/register"),
        ("empty", "/lti/register?openid_configuration="),
        (
            "not a URL",
            "/lti/register?openid_configuration=not%20a%20url",
        ),
        (
            "only a token",
            "/lti/register?registration_token=abc.def.ghi",
        ),
    ] {
        let page = tool.app.get_page(path, None).await;
        assert_error(&page, 400, "registration_missing_configuration", case);
    }
    assert_eq!(tool.platform_count(), 0);
}

#[one_backend]
async fn a_missing_registration_token_is_refused_where_the_lms_requires_one(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    for flavour in [Flavour::Moodle, Flavour::Canvas, Flavour::Sakai] {
        let sim = tool.sim(flavour);
        let page = register_to_the_end(&tool, &sim.configuration_url(), None).await;
        let case = format!("{flavour:?} without a token");
        assert_error(&page, 400, "registration_token_missing", &case);
        assert_nothing_happened(&tool, &sim, &case);
    }
}

#[both_backends]
async fn a_registration_token_is_used_once(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Moodle);
    let config_url = sim.configuration_url();
    let token = sim.registration_token();
    let (confirm, done) = tool
        .register_dynamically(&config_url, token.as_deref())
        .await;
    assert_done(&done);

    let replayed = tool.post_register(&form_fields(&confirm)).await;
    assert_error(
        &replayed,
        400,
        "registration_token_used",
        "the same form posted again",
    );
    let reopened = register_to_the_end(&tool, &config_url, token.as_deref()).await;
    assert_error(
        &reopened,
        400,
        "registration_token_used",
        "the same token in a new registration",
    );
    assert_eq!(
        sim.registration_requests().len(),
        1,
        "the LMS saw one registration"
    );
    assert_eq!(tool.platform_count(), 1);
}

/// Brightspace's configuration URL is the one-time token: the same URL
/// twice is a reused token.
#[both_backends]
async fn a_configuration_url_without_a_token_is_used_once(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Brightspace);
    let config_url = sim.configuration_url();
    let (_, done) = tool.register_dynamically(&config_url, None).await;
    assert_done(&done);
    let again = register_to_the_end(&tool, &config_url, None).await;
    assert_error(
        &again,
        400,
        "registration_token_used",
        "the same configuration URL again",
    );
    assert_eq!(sim.registration_requests().len(), 1);
    assert_eq!(tool.platform_count(), 1);
}

#[one_backend]
async fn an_expired_registration_token_is_refused(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    for flavour in [Flavour::Moodle, Flavour::Canvas] {
        let sim = tool.sim(flavour);
        let token = sim.expired_registration_token();
        let page = register_to_the_end(&tool, &sim.configuration_url(), Some(&token)).await;
        let case = format!("{flavour:?} with an expired token");
        assert_error(&page, 400, "registration_token_expired", &case);
        assert_nothing_happened(&tool, &sim, &case);
    }
}

#[one_backend]
async fn an_unreachable_configuration_is_explained(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Moodle);
    let token = sim.registration_token();
    let closed = format!(
        "http://127.0.0.1:{}/mod/lti/openid-configuration.php",
        free_port()
    );
    let page = tool.open_register(&closed, token.as_deref()).await;
    assert_error(
        &page,
        502,
        "registration_config_unreachable",
        "nothing listens",
    );

    for status in [500, 404] {
        sim.knobs(|k| k.config_status = Some(status));
        let page = tool
            .open_register(&sim.configuration_url(), token.as_deref())
            .await;
        assert_error(
            &page,
            502,
            "registration_config_unreachable",
            &format!("the configuration answers {status}"),
        );
    }

    // A redirect is not followed (it could lead anywhere).
    let target = tool.sim(Flavour::Moodle);
    sim.knobs(|k| {
        *k = Knobs {
            config_redirect: Some(target.configuration_url()),
            ..Knobs::default()
        }
    });
    let page = tool
        .open_register(&sim.configuration_url(), token.as_deref())
        .await;
    assert_error(
        &page,
        502,
        "registration_config_unreachable",
        "the configuration redirects",
    );
    assert_eq!(target.config_hits(), 0, "the redirect was not followed");
    assert_nothing_happened(&tool, &sim, "unreachable configuration");
}

#[one_backend]
async fn a_slow_configuration_times_out(backend: Backend) {
    let tool = Tool::start(backend, |s| {
        s.lti.registration_allowed_hosts = vec!["127.0.0.1:*".parse().unwrap()];
        s.lti.registration_timeout = guestlink::domain::time::Duration::seconds(1);
    })
    .await;
    let sim = tool.sim(Flavour::Moodle);
    sim.knobs(|k| k.config_delay = Some(Duration::from_secs(3)));
    let started = Instant::now();
    let page = tool
        .open_register(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    assert_error(
        &page,
        504,
        "registration_config_timeout",
        "slow configuration",
    );
    assert!(
        started.elapsed() < Duration::from_millis(2800),
        "the tool gave up after its timeout, not when the LMS answered: {:?}",
        started.elapsed()
    );
    assert_nothing_happened(&tool, &sim, "slow configuration");
}

#[one_backend]
async fn a_slow_registration_endpoint_times_out(backend: Backend) {
    let tool = Tool::start(backend, |s| {
        s.lti.registration_allowed_hosts = vec!["127.0.0.1:*".parse().unwrap()];
        s.lti.registration_timeout = guestlink::domain::time::Duration::seconds(1);
    })
    .await;
    let sim = tool.sim(Flavour::Canvas);
    let confirm = tool
        .open_register(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    sim.knobs(|k| k.registration_delay = Some(Duration::from_secs(3)));
    let started = Instant::now();
    let page = tool.post_register(&form_fields(&confirm)).await;
    assert_error(
        &page,
        504,
        "registration_timeout",
        "slow registration endpoint",
    );
    assert!(
        started.elapsed() < Duration::from_millis(2800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(tool.platform_count(), 0, "nothing is stored");
}

#[one_backend]
async fn a_configuration_that_is_not_json_or_incomplete_is_invalid(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Moodle);
    let token = sim.registration_token();
    type Change = Box<dyn Fn(&mut Knobs)>;
    let without = |field: &'static str| -> Change {
        Box::new(move |k: &mut Knobs| k.config_without = vec![field.into()])
    };
    let cases: Vec<(&str, Change)> = vec![
        ("an HTML page", Box::new(|k| k.config_not_json = true)),
        ("no issuer", without("issuer")),
        (
            "no authorization_endpoint",
            without("authorization_endpoint"),
        ),
        ("no jwks_uri", without("jwks_uri")),
        ("no registration_endpoint", without("registration_endpoint")),
        (
            "a plain http authorization endpoint on a public host",
            Box::new(|k| {
                k.config_override = vec![(
                    "authorization_endpoint".into(),
                    json!("http://moodle.example.edu/mod/lti/auth.php"),
                )]
            }),
        ),
        (
            "a jwks_uri that is a number",
            Box::new(|k| k.config_override = vec![("jwks_uri".into(), json!(42))]),
        ),
        (
            "a registration endpoint that is not a URL",
            Box::new(|k| {
                k.config_override = vec![("registration_endpoint".into(), json!("register here"))]
            }),
        ),
    ];
    for (case, change) in cases {
        sim.knobs(|k| {
            *k = Knobs::default();
            change(k);
        });
        let page = tool
            .open_register(&sim.configuration_url(), token.as_deref())
            .await;
        assert_error(&page, 502, "registration_config_invalid", case);
    }
    assert_nothing_happened(&tool, &sim, "invalid configuration");
}

#[one_backend]
async fn an_issuer_on_another_host_is_refused(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    for (flavour, issuer) in [
        (Flavour::Moodle, "https://moodle.example.edu"),
        (Flavour::Canvas, "https://canvas.example.edu"),
        (Flavour::Brightspace, "https://127.0.0.1.evil.example"),
    ] {
        let sim = tool.sim(flavour);
        sim.knobs(|k| k.issuer = Some(issuer.into()));
        let page = tool
            .open_register(
                &sim.configuration_url(),
                sim.registration_token().as_deref(),
            )
            .await;
        assert_error(&page, 400, "registration_issuer_mismatch", issuer);
        assert_nothing_happened(&tool, &sim, issuer);
    }
}

/// With no allowed hosts, an http configuration URL is refused as
/// insecure before anything is fetched.
#[one_backend]
async fn an_http_configuration_url_is_refused_without_outbound_allowed_hosts(backend: Backend) {
    let tool = Tool::start(backend, |s| s.lti.outbound_allowed_hosts.clear()).await;
    let sim = tool.sim(Flavour::Moodle);
    let page = tool
        .open_register(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    assert_error(&page, 400, "registration_insecure_url", "http on 127.0.0.1");
    assert_eq!(sim.config_hits(), 0, "nothing was fetched");
    assert_nothing_happened(&tool, &sim, "http configuration URL");
}

/// Plain http is allowed only for listed loopback hosts.
#[one_backend]
async fn an_http_configuration_url_on_a_listed_public_host_is_refused(backend: Backend) {
    let tool = Tool::start(backend, |s| {
        s.lti.registration_allowed_hosts = vec!["moodle.example.edu".parse().unwrap()];
    })
    .await;
    let page = tool
        .open_register(
            "http://moodle.example.edu/mod/lti/openid-configuration.php",
            Some("a.b.c"),
        )
        .await;
    assert_error(
        &page,
        400,
        "registration_insecure_url",
        "http on a listed public host",
    );
    assert_eq!(tool.platform_count(), 0);
}

/// With no allowed hosts, only public addresses are fetched.
#[one_backend]
async fn private_addresses_are_refused_without_outbound_allowed_hosts(backend: Backend) {
    let tool = Tool::start(backend, |s| s.lti.outbound_allowed_hosts.clear()).await;
    let sim = tool.sim(Flavour::Moodle);
    let port = sim.base().rsplit(':').next().unwrap().to_string();
    for host in [
        format!("127.0.0.1:{port}"),
        "localhost".to_string(),
        "10.0.0.8".into(),
        "172.16.5.4".into(),
        "192.168.1.10".into(),
        "169.254.169.254".into(),
        "0.0.0.0".into(),
        "[::1]".into(),
        "[::ffff:127.0.0.1]".into(),
        "[fd00::1]".into(),
        "[fe80::1]".into(),
    ] {
        let url = format!("https://{host}/mod/lti/openid-configuration.php");
        let page = tool.open_register(&url, Some("a.b.c")).await;
        assert_error(&page, 403, "registration_private_address", &url);
    }
    assert_eq!(sim.config_hits(), 0);
    assert_eq!(tool.platform_count(), 0);
}

/// Accepting a host's registrations does not let the tool fetch from a
/// private address: that is the outbound list's to allow.
#[one_backend]
async fn a_registration_allowed_host_still_needs_the_outbound_list(backend: Backend) {
    let tool = Tool::start(backend, |s| {
        s.lti.registration_allowed_hosts = vec!["127.0.0.1:*".parse().unwrap()];
        s.lti.outbound_allowed_hosts.clear();
    })
    .await;
    let sim = tool.sim(Flavour::Moodle);
    let page = tool
        .open_register(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    assert_error(
        &page,
        400,
        "registration_insecure_url",
        "http on an unlisted loopback",
    );
    let https = sim.configuration_url().replace("http://", "https://");
    let page = tool
        .open_register(&https, sim.registration_token().as_deref())
        .await;
    assert_error(
        &page,
        403,
        "registration_private_address",
        "https on loopback",
    );
    assert_eq!(sim.config_hits(), 0, "nothing was fetched");
    assert_eq!(tool.platform_count(), 0);
}

#[one_backend]
async fn hosts_outside_the_allowed_list_are_refused(backend: Backend) {
    let tool = Tool::start(backend, |s| {
        s.lti.registration_allowed_hosts = vec!["moodle.example.edu".parse().unwrap()];
    })
    .await;
    let sim = tool.sim(Flavour::Moodle);
    let https_sim = sim.configuration_url().replace("http://", "https://");
    for url in [
        https_sim.as_str(),
        "https://moodle.other.example/mod/lti/openid-configuration.php",
        "https://moodle.example.edu.evil.example/mod/lti/openid-configuration.php",
    ] {
        let page = tool.open_register(url, Some("a.b.c")).await;
        assert_error(&page, 403, "registration_host_not_allowed", url);
    }
    assert_eq!(sim.config_hits(), 0);
    assert_eq!(tool.platform_count(), 0);
}

/// The LMS refuses the registration: the admin sees a 502 page with the
/// LMS's status and its own words, nothing is stored, and the token is
/// given back.
async fn assert_refused(
    tool: &Tool,
    sim: &SimLms,
    make_it_refuse: impl FnOnce(&SimLms),
    status: u16,
    said: &[&str],
) {
    let before = tool.platform_count();
    let confirm = tool
        .open_register(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    assert_eq!(
        confirm.attr("main", "data-page").as_deref(),
        Some("register-confirm"),
        "{}",
        confirm.body
    );
    let sent = sim.registration_requests().len();
    make_it_refuse(sim);
    let page = tool.post_register(&form_fields(&confirm)).await;
    let case = format!("{:?} answering {status}", sim.flavour);
    assert_error(&page, 502, "registration_refused", &case);
    assert_eq!(
        sim.registration_requests().len(),
        sent + 1,
        "{case}: the registration was sent"
    );
    let text = page.text("main").unwrap_or_default();
    assert!(
        text.contains(&status.to_string()),
        "{case}: the LMS's status is shown: {text}"
    );
    for words in said {
        assert!(
            text.contains(words),
            "{case}: the LMS's words {words:?} are shown: {text}"
        );
    }
    assert_eq!(tool.platform_count(), before, "{case}: nothing is stored");

    // The LMS certainly did not register guestlink, so the token is given
    // back: the same form reaches the LMS again instead of being refused as
    // a reuse.
    let again = tool.post_register(&form_fields(&confirm)).await;
    assert_error(
        &again,
        502,
        "registration_refused",
        &format!("{case}, again"),
    );
    assert_eq!(
        sim.registration_requests().len(),
        sent + 2,
        "{case}: the second try was sent"
    );
}

/// Moodle's answer to a token used meanwhile: 401 `token_already_used`, as text.
#[one_backend]
async fn moodle_answering_401_is_explained(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Moodle);
    assert_refused(
        &tool,
        &sim,
        SimLms::use_up_tokens,
        401,
        &["token_already_used"],
    )
    .await;
}

/// Canvas's schema errors: 422 `{"errors": [...]}`, each item shown.
#[one_backend]
async fn canvas_answering_422_is_explained(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Canvas);
    let errors = json!({"errors": [
        "https://purl.imsglobal.org/spec/lti-tool-configuration.messages[1].placements: migration_selection needs the LtiDeepLinkingRequest message",
        "scope https://purl.imsglobal.org/spec/lti-ags/scope/score is not allowed for this account"
    ]});
    assert_refused(
        &tool,
        &sim,
        |sim| sim.knobs(|k| k.registration_reply = Some((422, errors.to_string()))),
        422,
        &[
            "migration_selection needs the LtiDeepLinkingRequest message",
            "is not allowed for this account",
        ],
    )
    .await;
}

/// Sakai's answer to a token it no longer accepts: 403, as text.
#[one_backend]
async fn sakai_answering_403_is_explained(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Sakai);
    assert_refused(
        &tool,
        &sim,
        SimLms::use_up_tokens,
        403,
        &["registration token mismatch or expired"],
    )
    .await;
}

/// Brightspace lets a domain register once: a second registration gets
/// 400 with an OAuth-style error and description.
#[one_backend]
async fn brightspace_answering_400_is_explained(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Brightspace);
    tool.register_sim(&sim).await;
    assert_refused(
        &tool,
        &sim,
        |_| {},
        400,
        &["is already used by another registration"],
    )
    .await;
}

/// Sakai refuses a missing or malformed Bearer with 400 `invalid_authorization`.
#[one_backend]
async fn sakai_answering_400_is_explained(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Sakai);
    assert_refused(
        &tool,
        &sim,
        |sim| sim.knobs(|k| k.registration_reply = Some((400, "invalid_authorization".into()))),
        400,
        &["invalid_authorization"],
    )
    .await;
}

/// `text` is shown (as text: the page's text has it) and never as markup.
fn assert_shown_escaped(page: &Page, text: &str) {
    assert!(
        main_text(page).contains(text),
        "{text:?} is shown: {}",
        main_text(page)
    );
    assert!(
        !page.body.contains(text),
        "{text:?} is escaped: {}",
        page.body
    );
}

/// The LMS's error text is the LMS's: shown escaped.
#[one_backend]
async fn the_lms_error_text_is_shown_escaped(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Canvas);
    let confirm = tool
        .open_register(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    sim.knobs(|k| {
        k.registration_reply = Some((
            422,
            json!({"errors": ["<script>alert(3)</script> is not a placement"]}).to_string(),
        ))
    });
    let page = tool.post_register(&form_fields(&confirm)).await;
    assert_error(
        &page,
        502,
        "registration_refused",
        "markup in the LMS's error",
    );
    assert_shown_escaped(&page, "<script>alert(3)</script> is not a placement");
}

/// What the LMS's configuration says is shown escaped on the confirmation page.
#[one_backend]
async fn the_configuration_is_shown_escaped(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Moodle);
    sim.knobs(|k| {
        k.extra_placement = Some("<script>alert(2)</script>".into());
        k.config_override = vec![(
            crate::support::sim_lms::LPC.into(),
            json!({
                "product_family_code": "moodle",
                "version": "<script>alert(2)</script>",
                "messages_supported": [RESOURCE_LINK, DEEP_LINKING],
                "placements": ["AddContentMenu", "<script>alert(2)</script>"],
            }),
        )];
    });
    let page = tool
        .open_register(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("register-confirm"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(2)"), "{}", page.body);
}

#[one_backend]
async fn a_registration_answer_without_a_client_id_is_refused(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Moodle);
    for (case, reply) in [
        ("JSON without client_id", r#"{"client_name": "guestlink"}"#),
        ("a text answer", "OK"),
    ] {
        let confirm = tool
            .open_register(
                &sim.configuration_url(),
                sim.registration_token().as_deref(),
            )
            .await;
        sim.knobs(|k| k.registration_reply = Some((200, reply.into())));
        let page = tool.post_register(&form_fields(&confirm)).await;
        assert_error(&page, 502, "registration_response_invalid", case);
    }
    assert_eq!(tool.platform_count(), 0);
}

/// The confirmation form cannot be altered: each change is refused before
/// anything is sent, and the genuine form still works afterwards.
#[one_backend]
async fn a_tampered_confirmation_is_refused(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Moodle);
    let other_lms = tool.sim(Flavour::Moodle);
    let confirm = tool
        .open_register(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    let genuine = form_fields(&confirm);
    let with = |name: &str, value: Option<String>| -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> =
            genuine.iter().filter(|(n, _)| n != name).cloned().collect();
        if let Some(value) = value {
            fields.push((name.to_string(), value));
        }
        fields
    };
    let confirm_value = genuine
        .iter()
        .find(|(n, _)| n == "confirm")
        .unwrap()
        .1
        .clone();
    let mut altered = confirm_value.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let cases = vec![
        ("confirm altered", with("confirm", Some(altered))),
        ("confirm missing", with("confirm", None)),
        ("confirm empty", with("confirm", Some(String::new()))),
        (
            "another configuration URL",
            with("openid_configuration", Some(other_lms.configuration_url())),
        ),
        (
            "another registration token",
            with("registration_token", sim.registration_token()),
        ),
        ("the token left out", with("registration_token", None)),
    ];
    for (case, fields) in cases {
        let page = tool.post_register(&fields).await;
        assert_error(&page, 400, "registration_form_invalid", case);
    }
    assert_nothing_happened(&tool, &sim, "tampered form");
    assert!(other_lms.registration_requests().is_empty());
    assert_eq!(
        other_lms.config_hits(),
        0,
        "a configuration URL the tool did not confirm is not fetched"
    );

    assert_done(&tool.post_register(&genuine).await);
}

#[one_backend]
async fn a_confirmation_expires_after_thirty_minutes(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Sakai);
    let config_url = sim.configuration_url();
    let first = tool
        .open_register(&config_url, sim.registration_token().as_deref())
        .await;
    let second = tool
        .open_register(&config_url, sim.registration_token().as_deref())
        .await;
    tool.app.clock.advance(time::Duration::minutes(29));
    assert_done(&tool.post_register(&form_fields(&first)).await);
    tool.app.clock.advance(time::Duration::minutes(2));
    let late = tool.post_register(&form_fields(&second)).await;
    assert_error(&late, 400, "registration_form_invalid", "31 minutes after");
    assert_eq!(sim.registration_requests().len(), 1);
    assert_eq!(tool.platform_count(), 1);
}

/// Register fetches and checks the configuration again; a check failing
/// then sends nothing and does not use the token up.
#[both_backends]
async fn the_configuration_is_checked_again_on_register(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Canvas);
    let confirm = tool
        .open_register(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    let form = form_fields(&confirm);

    sim.knobs(|k| k.issuer = Some("https://canvas.example.edu".into()));
    assert_error(
        &tool.post_register(&form).await,
        400,
        "registration_issuer_mismatch",
        "the issuer changed meanwhile",
    );
    sim.knobs(|k| {
        *k = Knobs {
            config_not_json: true,
            ..Knobs::default()
        }
    });
    assert_error(
        &tool.post_register(&form).await,
        502,
        "registration_config_invalid",
        "the configuration broke meanwhile",
    );
    assert_nothing_happened(&tool, &sim, "configuration changed before Register");

    sim.knobs(|k| *k = Knobs::default());
    assert_done(&tool.post_register(&form).await);
}

#[both_backends]
async fn registering_the_same_client_twice_is_a_conflict(backend: Backend) {
    let tool = Tool::allowing_loopback(backend).await;
    let sim = tool.sim(Flavour::Moodle);
    sim.knobs(|k| k.client_id = Some("k3JpQ8sLm2Xv7Ta".into()));
    tool.register_sim(&sim).await;
    let (_, again) = tool
        .register_dynamically(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    assert_error(
        &again,
        409,
        "registration_conflict",
        "the same issuer and client id",
    );
    assert_eq!(tool.platform_count(), 1);
}

/// The `platform list` line of the platform with this issuer.
fn list_line(tool: &Tool, issuer: &str) -> String {
    let list = stdout(&tool.cli(&["platform", "list"]));
    list.lines()
        .find(|l| l.contains(&format!("\tissuer={issuer}\t")))
        .unwrap_or_else(|| panic!("{issuer} listed: {list}"))
        .to_string()
}

/// Anyone may start a registration, so the ones waiting for activation are
/// bounded: a few per LMS host (one host cannot fill the list for all), and
/// a week: nobody activated them, they go.
#[both_backends]
async fn pending_registrations_are_capped_per_host_and_expire(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let sim = tool.sim(Flavour::Moodle);
    for n in 0..3 {
        assert!(
            tool.register_sim(&sim).await.pending,
            "registration {n} waits"
        );
    }
    let page = tool
        .open_register(
            &sim.configuration_url(),
            sim.registration_token().as_deref(),
        )
        .await;
    assert_error(
        &page,
        429,
        "registration_pending_limit",
        "a fourth from one host",
    );
    let other = tool.sim(Flavour::Sakai);
    assert!(
        tool.register_sim(&other).await.pending,
        "another host still may"
    );
    assert_eq!(tool.platform_count(), 4);

    let housekeeping = crate::helpers::tool(&tool.app.db, &tool.app.settings, &tool.app.clock);
    tool.app.clock.advance(time::Duration::days(6));
    guestlink::service::housekeeping::purge_long_lived(&housekeeping).await;
    assert_eq!(tool.platform_count(), 4, "six days: still waiting");
    tool.app
        .clock
        .advance(time::Duration::days(1) + time::Duration::minutes(1));
    guestlink::service::housekeeping::purge_long_lived(&housekeeping).await;
    assert_eq!(tool.platform_count(), 0, "a week: gone");
}

/// Registrations racing each other cannot all squeeze under the caps: the
/// count and the insert take turns.
#[both_backends]
async fn racing_pending_registrations_stay_within_the_caps(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let inserts = (0..12).map(|i| {
        let db = tool.app.db.clone();
        let now = tool.app.clock.now();
        std::thread::spawn(move || {
            let mut new = guestlink::domain::platform::NewPlatform::parse(
                &guestlink::domain::platform::PlatformFields {
                    name: &format!("Racer {i}"),
                    lms: "moodle",
                    issuer: &format!("https://racer-{i}.example.edu"),
                    client_id: "client",
                    auth_url: "https://racer.example.edu/auth",
                    jwks_url: "https://racer.example.edu/jwks",
                    token_url: None,
                    deployment_ids: &[],
                },
                guestlink::domain::platform::DeploymentsNeeded::MayComeLater,
            )
            .unwrap();
            new.pending = true;
            new.registration_host = Some(format!("host-{}", i % 2));
            let caps = guestlink::store::platforms::PendingCaps {
                total: 5,
                per_host: 3,
            };
            guestlink::store::platforms::insert_within(
                &mut db.get_write().unwrap(),
                &new,
                now,
                Some(caps),
            )
            .unwrap()
            .is_some()
        })
    });
    let added = inserts
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("an insert"))
        .filter(|added| *added)
        .count();
    assert_eq!(added, 5, "the total cap held");
    assert_eq!(tool.platform_count(), 5);
}

/// A platform waiting as pending (as dynamic registration without allowed
/// hosts leaves it) cannot log in until `guestlink platform activate`.
#[both_backends]
async fn a_pending_platform_launches_only_once_activated(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let issuer = "https://moodle.pending.test";
    let auth_url = format!("{}/auth", tool.app.platform.base);
    let jwks_url = format!("{}/jwks", tool.app.platform.base);
    let added = tool.cli(&[
        "platform",
        "add",
        "--name",
        "Pending Moodle",
        "--lms",
        "moodle",
        "--issuer",
        issuer,
        "--client-id",
        "pending-client-1",
        "--auth-url",
        &auth_url,
        "--jwks-url",
        &jwks_url,
        "--deployment-id",
        "4",
    ]);
    succeeded(&added, "platform add");
    let id = stdout(&added);
    assert!(
        list_line(&tool, issuer).ends_with("\tstatus=active"),
        "{}",
        list_line(&tool, issuer)
    );
    tool.make_pending(id.parse().unwrap());
    assert!(
        list_line(&tool, issuer).ends_with("\tstatus=pending"),
        "{}",
        list_line(&tool, issuer)
    );

    let reg = Registered {
        lms: Lms::Moodle,
        issuer: issuer.into(),
        client_id: "pending-client-1".into(),
        deployment_id: "4".into(),
    };
    let refused = Page::from(tool.app.post_login(&tool.app.login_form(&reg)).await).await;
    assert_error(
        &refused,
        400,
        "platform_pending",
        "login of a pending platform",
    );

    let activated = tool.cli(&["platform", "activate", &id]);
    succeeded(&activated, "platform activate");
    assert_eq!(stdout(&activated), format!("platform {id} activated"));
    assert!(list_line(&tool, issuer).ends_with("\tstatus=active"));
    let again = tool.cli(&["platform", "activate", &id]);
    succeeded(&again, "platform activate, a second time");
    assert_eq!(stdout(&again), format!("platform {id} is already active"));
    let unknown = tool.cli(&["platform", "activate", "999999"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", stderr(&unknown));
    assert_eq!(stderr(&unknown).lines().count(), 1, "{}", stderr(&unknown));

    // Another process changed the registration: the server sees it within
    // its registration cache's lifetime (10 s).
    let login = login_within(&tool.app, &reg, Duration::from_secs(15)).await;
    let claims = tool.app.claims(&reg, &login.nonce, Role::Instructor);
    let page = tool.app.post_token(&login, &tool.app.sign(&claims)).await;
    assert_course_page(&page, "launch after activation");
}

/// Login initiation, retried until it redirects or `patience` runs out.
async fn login_within(
    app: &TestApp,
    reg: &Registered,
    patience: Duration,
) -> crate::helpers::LoginResult {
    let deadline = Instant::now() + patience;
    loop {
        let response = app.post_login(&app.login_form(reg)).await;
        if response.status().as_u16() == 302 {
            return login_result(&response);
        }
        let page = Page::from(response).await;
        assert!(
            Instant::now() < deadline,
            "login still refused after {patience:?}: {:?} {}",
            page.error_code(),
            page.status
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
