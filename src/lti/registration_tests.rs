//! Unit tests of `crate::lti::registration`, kept beside it.

use super::*;

fn config(messages: Value) -> Vec<u8> {
    json!({
        "issuer": "https://moodle.example.edu",
        "authorization_endpoint": "https://moodle.example.edu/mod/lti/auth.php",
        "token_endpoint": "https://moodle.example.edu/mod/lti/token.php",
        "jwks_uri": "https://moodle.example.edu/mod/lti/certs.php",
        "registration_endpoint": "https://moodle.example.edu/mod/lti/openid-registration.php",
        PLATFORM_CONFIGURATION: {
            "product_family_code": "Moodle",
            "version": "4.5.1 (Build: 20241209)",
            "messages_supported": messages,
        }
    })
    .to_string()
    .into_bytes()
}

#[test]
fn messages_supported_are_read_as_strings_and_as_objects() {
    let moodle =
        PlatformConfiguration::parse(&config(json!([RESOURCE_LINK, DEEP_LINKING]))).unwrap();
    assert_eq!(moodle.messages_supported, vec![RESOURCE_LINK, DEEP_LINKING]);
    assert_eq!(moodle.product_family.as_deref(), Some("moodle"));
    let canvas = PlatformConfiguration::parse(&config(json!([
        {"type": RESOURCE_LINK, "placements": ["course_navigation"]}
    ])))
    .unwrap();
    assert!(canvas.supports(RESOURCE_LINK));
    assert!(!canvas.supports(DEEP_LINKING));
}

#[test]
fn a_configuration_without_a_registration_endpoint_is_refused() {
    let mut doc: Value = serde_json::from_slice(&config(json!([]))).unwrap();
    doc.as_object_mut().unwrap().remove("registration_endpoint");
    let err = PlatformConfiguration::parse(doc.to_string().as_bytes()).unwrap_err();
    assert!(err.contains("registration_endpoint"), "{err}");
    assert!(PlatformConfiguration::parse(b"<html>").is_err());
}

#[test]
fn canvas_gets_its_placements_claims_and_privacy_level() {
    let config = PlatformConfiguration::parse(&config(json!([]))).unwrap();
    let tool = ToolUrls {
        base: "https://media.example.edu",
        domain: "media.example.edu",
    };
    let offer = offer(&config, PlacementStyle::Canvas);
    let body = registration_request(&tool, &offer, PlacementStyle::Canvas);
    let lti = &body[TOOL_CONFIGURATION];
    assert_eq!(lti["domain"], "media.example.edu");
    assert_eq!(lti["claims"].as_array().unwrap().len(), CLAIMS.len());
    assert_eq!(
        lti["https://canvas.instructure.com/lti/privacy_level"],
        "public"
    );
    assert_eq!(lti["messages"][1]["placements"][0], "link_selection");
    assert_eq!(body["application_type"], "web");
    assert_eq!(body["scope"], "", "no services, but Canvas needs the field");
    let ims_offer = super::offer(&config, PlacementStyle::Ims);
    let ims = registration_request(&tool, &ims_offer, PlacementStyle::Ims);
    assert!(
        ims[TOOL_CONFIGURATION]
            .get("https://canvas.instructure.com/lti/privacy_level")
            .is_none()
    );
    assert!(
        ims[TOOL_CONFIGURATION]["messages"][0]
            .get("placements")
            .is_none()
    );
}

#[test]
fn deployment_ids_are_found_where_each_lms_puts_them() {
    let moodle = assigned(br#"{"client_id":"abc","https://purl.imsglobal.org/spec/lti-tool-configuration":{"deployment_id":"7"}}"#).unwrap();
    assert_eq!(moodle.deployment_id.as_deref(), Some("7"));
    let sakai = assigned(br#"{"client_id":"x","deployment_id":"1"}"#).unwrap();
    assert_eq!(sakai.deployment_id.as_deref(), Some("1"));
    let canvas = assigned(br#"{"client_id":10000000000123}"#).unwrap();
    assert_eq!(canvas.client_id, "10000000000123");
    assert_eq!(canvas.deployment_id, None);
    assert!(assigned(br#"{"deployment_id":"1"}"#).is_err());
}

#[test]
fn platform_errors_become_sentences() {
    assert_eq!(
        refusal_reasons(br#"{"errors":[{"field":"claims","message":"is required"}]}"#),
        vec!["claims: is required"]
    );
    assert_eq!(
        refusal_reasons(br#"{"error":"token_already_used"}"#),
        vec!["token_already_used"]
    );
    assert_eq!(
        refusal_reasons(br#"{"error":"invalid_authorization","error_description":"no bearer"}"#),
        vec!["invalid_authorization: no bearer"]
    );
    assert_eq!(refusal_reasons(b"missing_domain"), vec!["missing_domain"]);
    assert!(refusal_reasons(b"<html><body>500</body></html>").is_empty());
}

#[test]
fn a_jwt_registration_token_tells_its_expiry() {
    let payload = crate::crypto::b64url(br#"{"sub":"c1","scope":"reg","exp":1700000000}"#);
    assert_eq!(
        token_expiry(&format!("e30.{payload}.sig")),
        Some(1_700_000_000)
    );
    assert_eq!(token_expiry("opaque-token"), None);
}

fn tool() -> ToolUrls<'static> {
    ToolUrls {
        base: "https://media.example.edu",
        domain: "media.example.edu",
    }
}

fn without(key: &str) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(&config(json!([]))).unwrap();
    doc.as_object_mut().unwrap().remove(key);
    doc.to_string().into_bytes()
}

#[test]
fn a_canvas_configuration_is_read_with_its_placements_ignored() {
    let canvas = json!({
        "issuer": "https://canvas.instructure.com",
        "authorization_endpoint": "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "token_endpoint": "https://sso.canvaslms.com/login/oauth2/token",
        "jwks_uri": "https://sso.canvaslms.com/api/lti/security/jwks",
        "registration_endpoint": "https://school.instructure.com/api/lti/registrations",
        "scopes_supported": ["openid"],
        PLATFORM_CONFIGURATION: {
            "product_family_code": "canvas",
            "version": "OpenSource",
            "messages_supported": [
                {"type": RESOURCE_LINK, "placements": ["course_navigation"]},
                {"type": DEEP_LINKING, "placements": ["link_selection"]},
            ],
            "https://canvas.instructure.com/lti/account_name": "School",
        }
    });
    let read = PlatformConfiguration::parse(canvas.to_string().as_bytes()).unwrap();
    assert_eq!(read.issuer, "https://canvas.instructure.com");
    assert_eq!(read.product_family.as_deref(), Some("canvas"));
    assert_eq!(read.version.as_deref(), Some("OpenSource"));
    assert_eq!(read.messages_supported, [RESOURCE_LINK, DEEP_LINKING]);
}

#[test]
fn a_sakai_configuration_without_a_token_endpoint_is_read() {
    let sakai = json!({
        "issuer": "https://sakai.example.edu",
        "authorization_endpoint": "https://sakai.example.edu/imsoidc/lti13/oidc_auth",
        "token_endpoint": "",
        "jwks_uri": "https://sakai.example.edu/imsblis/lti13/keyset",
        "registration_endpoint": "https://sakai.example.edu/imsblis/lti13/registration_endpoint/1",
        PLATFORM_CONFIGURATION: {"product_family_code": " SakaiLMS.org "}
    });
    let read = PlatformConfiguration::parse(sakai.to_string().as_bytes()).unwrap();
    assert_eq!(read.token_endpoint, None, "an empty endpoint is none");
    assert_eq!(read.product_family.as_deref(), Some("sakailms.org"));
    assert!(read.messages_supported.is_empty());
}

#[test]
fn a_configuration_without_its_lti_part_supports_every_message() {
    let mut doc: Value = serde_json::from_slice(&config(json!([]))).unwrap();
    doc.as_object_mut().unwrap().remove(PLATFORM_CONFIGURATION);
    let read = PlatformConfiguration::parse(doc.to_string().as_bytes()).unwrap();
    assert_eq!((&read.product_family, &read.version), (&None, &None));
    assert!(read.supports(RESOURCE_LINK) && read.supports(DEEP_LINKING));
}

#[test]
fn message_entries_that_are_neither_text_nor_typed_objects_are_skipped() {
    let read = PlatformConfiguration::parse(&config(json!([
        7,
        null,
        {"placements": ["x"]},
        {"type": DEEP_LINKING},
    ])))
    .unwrap();
    assert_eq!(read.messages_supported, [DEEP_LINKING]);
    assert!(!read.supports(RESOURCE_LINK));
}

#[test]
fn each_required_configuration_field_is_named_when_missing() {
    for key in [
        "issuer",
        "authorization_endpoint",
        "jwks_uri",
        "registration_endpoint",
    ] {
        let err = PlatformConfiguration::parse(&without(key)).unwrap_err();
        assert_eq!(err, format!("it has no {key}"));
    }
}

#[test]
fn a_blank_or_non_text_required_field_counts_as_missing() {
    let mut doc: Value = serde_json::from_slice(&config(json!([]))).unwrap();
    doc["issuer"] = json!("  ");
    assert_eq!(
        PlatformConfiguration::parse(doc.to_string().as_bytes()).unwrap_err(),
        "it has no issuer"
    );
    doc["issuer"] = json!(42);
    assert_eq!(
        PlatformConfiguration::parse(doc.to_string().as_bytes()).unwrap_err(),
        "it has no issuer"
    );
}

#[test]
fn json_that_is_not_an_object_is_not_a_configuration() {
    assert_eq!(
        PlatformConfiguration::parse(b"[1, 2]").unwrap_err(),
        "the answer is not a JSON object"
    );
    assert_eq!(
        PlatformConfiguration::parse(b"").unwrap_err(),
        "the answer is not JSON"
    );
}

#[test]
fn only_the_messages_a_platform_supports_are_offered() {
    let only_deep_linking = PlatformConfiguration::parse(&config(json!([DEEP_LINKING]))).unwrap();
    let offered = offer(&only_deep_linking, PlacementStyle::Ims);
    assert_eq!(
        offered
            .messages
            .iter()
            .map(|m| m.message_type)
            .collect::<Vec<_>>(),
        [DEEP_LINKING]
    );
    let unknown_only =
        PlatformConfiguration::parse(&config(json!(["LtiSubmissionReviewRequest"]))).unwrap();
    assert!(
        offer(&unknown_only, PlacementStyle::Canvas)
            .messages
            .is_empty()
    );
}

#[test]
fn ims_platforms_get_ims_placement_names_and_canvas_its_own() {
    let config = PlatformConfiguration::parse(&config(json!([]))).unwrap();
    let ims = offer(&config, PlacementStyle::Ims);
    assert_eq!(ims.messages[0].label, "guestlink");
    assert!(ims.messages[0].placements.is_empty());
    assert_eq!(
        ims.messages[1].placements,
        ["ContentArea", "RichTextEditor"]
    );
    let canvas = offer(&config, PlacementStyle::Canvas);
    assert_eq!(canvas.messages[0].label, "Media");
    assert_eq!(canvas.messages[0].placements, ["course_navigation"]);
    assert_eq!(
        canvas.messages[1].placements,
        ["link_selection", "editor_button"]
    );
}

#[test]
fn the_registration_request_points_every_url_at_the_tool() {
    let config = PlatformConfiguration::parse(&config(json!([]))).unwrap();
    let body = registration_request(
        &tool(),
        &offer(&config, PlacementStyle::Ims),
        PlacementStyle::Ims,
    );
    assert_eq!(
        body["initiate_login_uri"],
        "https://media.example.edu/lti/login"
    );
    assert_eq!(
        body["redirect_uris"],
        json!(["https://media.example.edu/lti/launch"])
    );
    assert_eq!(
        body["jwks_uri"],
        "https://media.example.edu/.well-known/jwks.json"
    );
    assert_eq!(
        body["logo_uri"],
        "https://media.example.edu/static/img/icon.svg"
    );
    let lti = &body[TOOL_CONFIGURATION];
    assert_eq!(
        lti["target_link_uri"],
        "https://media.example.edu/lti/launch"
    );
    for message in lti["messages"].as_array().unwrap() {
        assert_eq!(
            message["target_link_uri"],
            "https://media.example.edu/lti/launch"
        );
    }
}

#[test]
fn the_registration_request_asks_for_an_id_token_signed_by_the_tools_keys() {
    let config = PlatformConfiguration::parse(&config(json!([]))).unwrap();
    let body = registration_request(
        &tool(),
        &offer(&config, PlacementStyle::Ims),
        PlacementStyle::Ims,
    );
    assert_eq!(body["response_types"], json!(["id_token"]));
    assert_eq!(
        body["grant_types"],
        json!(["implicit", "client_credentials"])
    );
    assert_eq!(body["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(body[TOOL_CONFIGURATION]["claims"], json!(CLAIMS));
}

#[test]
fn a_registration_offering_nothing_sends_no_messages() {
    let body = registration_request(&tool(), &Offer { messages: vec![] }, PlacementStyle::Canvas);
    assert_eq!(body[TOOL_CONFIGURATION]["messages"], json!([]));
}

#[test]
fn an_assigned_client_id_is_trimmed_and_a_blank_one_refused() {
    assert_eq!(
        assigned(br#"{"client_id":" abc "}"#).unwrap().client_id,
        "abc"
    );
    for body in [
        &br#"{"client_id":"  "}"#[..],
        br#"{"client_id":null}"#,
        br#"{"client_id":true}"#,
    ] {
        assert_eq!(
            assigned(body).unwrap_err(),
            "it has no client_id",
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!(assigned(b"<html>").unwrap_err(), "the answer is not JSON");
}

#[test]
fn the_deployment_in_the_tool_configuration_wins_over_the_top_level_one() {
    let both = assigned(
        br#"{"client_id":"c","deployment_id":"top","https://purl.imsglobal.org/spec/lti-tool-configuration":{"deployment_id":12}}"#,
    )
    .unwrap();
    assert_eq!(both.deployment_id.as_deref(), Some("12"));
    let blank_inner = assigned(
        br#"{"client_id":"c","deployment_id":"top","https://purl.imsglobal.org/spec/lti-tool-configuration":{"deployment_id":""}}"#,
    )
    .unwrap();
    assert_eq!(blank_inner.deployment_id.as_deref(), Some("top"));
}

#[test]
fn a_single_error_that_is_not_a_list_is_one_reason() {
    assert_eq!(
        refusal_reasons(br#"{"errors":"domain taken"}"#),
        ["domain taken"]
    );
    assert_eq!(
        refusal_reasons(br#"{"errors":{"errorMessage":"bad scope","path":"scope"}}"#),
        ["scope: bad scope"]
    );
}

#[test]
fn at_most_ten_platform_errors_are_kept() {
    let errors: Vec<String> = (0..15).map(|i| format!("e{i}")).collect();
    let body = json!({ "errors": errors }).to_string();
    let reasons = refusal_reasons(body.as_bytes());
    assert_eq!(reasons.len(), 10);
    assert_eq!(reasons[9], "e9");
}

#[test]
fn a_long_reason_is_clipped_to_300_characters() {
    let body = json!({ "error_description": "é".repeat(400) }).to_string();
    let reasons = refusal_reasons(body.as_bytes());
    assert_eq!(reasons[0].chars().count(), 301);
    assert!(reasons[0].ends_with('…'));
    let plain = "x".repeat(300);
    assert_eq!(refusal_reasons(plain.as_bytes()), vec![plain]);
}

#[test]
fn an_error_object_without_a_message_is_shown_as_its_json() {
    assert_eq!(
        refusal_reasons(br#"{"errors":[{"code":17}]}"#),
        [r#"{"code":17}"#]
    );
}

#[test]
fn listed_errors_and_an_oidc_error_are_both_kept() {
    assert_eq!(
        refusal_reasons(br#"{"errors":["a"],"error":"invalid_request"}"#),
        ["a", "invalid_request"]
    );
    assert_eq!(
        refusal_reasons(br#"{"error_description":"no token"}"#),
        ["no token"]
    );
}

#[test]
fn an_answer_without_reasons_gives_none() {
    for body in [&b""[..], b"   ", br#"{"ok":false}"#, b"  <!doctype html>"] {
        assert!(
            refusal_reasons(body).is_empty(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn a_registration_token_without_a_whole_exp_tells_no_expiry() {
    for payload in [
        br#"{"sub":"c1"}"#.as_slice(),
        br#"{"exp":"1700000000"}"#,
        br#"{"exp":1.7e9}"#,
    ] {
        let token = format!("e30.{}.sig", crate::crypto::b64url(payload));
        assert_eq!(
            token_expiry(&token),
            None,
            "{}",
            String::from_utf8_lossy(payload)
        );
    }
}
