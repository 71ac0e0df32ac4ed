//! The Canvas developer-key JSON (docs/lms-platforms.md, "Developer key JSON"): the fields Canvas
//! reads, built from the public URL, and every URL in it answers.

use serde_json::Value;

use crate::helpers::{Backend, spawn_app};
use guestlink_test_macros::one_backend;

/// Every string in `value` that is a URL of the tool.
fn urls_in(value: &Value, base: &str, found: &mut Vec<String>) {
    match value {
        Value::String(s) if s.starts_with(base) => found.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| urls_in(v, base, found)),
        Value::Object(map) => map.values().for_each(|v| urls_in(v, base, found)),
        _ => {}
    }
}

#[one_backend]
async fn the_canvas_json_has_what_canvas_reads_and_its_urls_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .http
        .get(app.url("/lti/config/canvas.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let config: Value = response.json().await.unwrap();
    let base = app.url("");
    assert_eq!(config["title"], "guestlink");
    assert!(
        config["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(config["oidc_initiation_url"], app.url("/lti/login"));
    assert_eq!(config["target_link_uri"], app.url("/lti/launch"));
    assert_eq!(config["public_jwk_url"], app.url("/.well-known/jwks.json"));
    assert!(config["scopes"].is_array());
    let extension = &config["extensions"][0];
    assert_eq!(extension["platform"], "canvas.instructure.com");
    // Canvas wants the domain without a scheme.
    let domain = base.trim_start_matches("http://").trim_end_matches('/');
    assert_eq!(extension["domain"], domain);
    assert_eq!(extension["privacy_level"], "public");
    let placements = extension["settings"]["placements"].as_array().unwrap();
    let message_of = |name: &str| {
        placements
            .iter()
            .find(|p| p["placement"] == name)
            .map(|p| p["message_type"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(
        message_of("course_navigation").as_deref(),
        Some("LtiResourceLinkRequest")
    );
    assert_eq!(
        message_of("link_selection").as_deref(),
        Some("LtiDeepLinkingRequest")
    );
    assert_eq!(
        message_of("editor_button").as_deref(),
        Some("LtiDeepLinkingRequest")
    );
    for placement in placements {
        assert_eq!(placement["target_link_uri"], app.url("/lti/launch"));
    }

    let mut urls = Vec::new();
    urls_in(&config, base.trim_end_matches('/'), &mut urls);
    assert!(urls.len() >= 6, "{urls:?}");
    for url in urls {
        let status = app.http.get(&url).send().await.unwrap().status().as_u16();
        // The login and launch URLs answer a bare GET with their error page;
        // what matters is that the route exists and does not fail.
        assert!(status != 404 && status < 500, "{url} answered {status}");
    }
}
