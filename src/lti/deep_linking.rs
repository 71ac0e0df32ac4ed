//! The LTI Deep Linking 2.0 response: the claims of the JWT a tool posts back
//! to the platform's `deep_link_return_url`.

use serde_json::{Map, Value, json};

use super::claims;
use super::launch::DeepLinkingSettings;

/// The content item type guestlink returns: a link the platform launches.
pub const RESOURCE_LINK_TYPE: &str = "ltiResourceLink";

/// How long the platform may take to accept the response.
const RESPONSE_LIFETIME_SECONDS: i64 = 300;

/// One `ltiResourceLink` content item.
#[derive(Clone, Debug)]
pub struct ResourceLinkItem {
    pub title: String,
    pub text: String,
    pub url: String,
    pub custom: Map<String, Value>,
}

/// Who answers whom: the tool (its client id) to the platform (its issuer).
pub struct Parties<'a> {
    pub client_id: &'a str,
    pub issuer: &'a str,
    pub deployment_id: &'a str,
}

/// Whether the placement accepts the only content item type guestlink makes.
/// An empty `accept_types` is read as "anything", as some platforms send it.
pub fn accepts_resource_links(settings: &DeepLinkingSettings) -> bool {
    settings.accept_types.is_empty()
        || settings
            .accept_types
            .iter()
            .any(|t| t == RESOURCE_LINK_TYPE)
}

/// The response claims: `iss` is the tool's client id and `aud` the platform,
/// the request's `data` is echoed unchanged, and an empty `items` tells the
/// platform nothing was chosen.
pub fn response_claims(
    parties: &Parties<'_>,
    settings: &DeepLinkingSettings,
    items: &[ResourceLinkItem],
    now: i64,
    nonce: &str,
) -> Value {
    let content_items: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut value = json!({
                "type": RESOURCE_LINK_TYPE,
                "title": item.title,
                "url": item.url,
            });
            if !item.text.is_empty() {
                value["text"] = json!(item.text);
            }
            if !item.custom.is_empty() {
                value["custom"] = Value::Object(item.custom.clone());
            }
            value
        })
        .collect();
    let mut response = json!({
        "iss": parties.client_id,
        "aud": parties.issuer,
        "iat": now,
        "exp": now + RESPONSE_LIFETIME_SECONDS,
        "nonce": nonce,
        (claims::MESSAGE_TYPE): claims::DEEP_LINKING_RESPONSE,
        (claims::VERSION): claims::LTI_VERSION,
        (claims::DEPLOYMENT_ID): parties.deployment_id,
        (claims::DL_CONTENT_ITEMS): content_items,
    });
    if let Some(data) = &settings.data {
        response[claims::DL_DATA] = data.clone();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(data: Option<Value>) -> DeepLinkingSettings {
        DeepLinkingSettings {
            return_url: "https://lms.example.edu/dl".into(),
            accept_types: vec!["ltiResourceLink".into()],
            accept_multiple: false,
            auto_create: false,
            data,
        }
    }

    #[test]
    fn the_response_is_addressed_from_tool_to_platform_and_echoes_data() {
        let parties = Parties {
            client_id: "tool-1",
            issuer: "https://lms.example.edu",
            deployment_id: "d1",
        };
        let item = ResourceLinkItem {
            title: "Week 1".into(),
            text: String::new(),
            url: "https://tool/media/x".into(),
            custom: Map::new(),
        };
        let claims = response_claims(&parties, &settings(Some(json!("abc"))), &[item], 100, "n");
        assert_eq!(claims["iss"], "tool-1");
        assert_eq!(claims["aud"], "https://lms.example.edu");
        assert_eq!(claims[claims::DL_DATA], "abc");
        assert_eq!(
            claims[claims::DL_CONTENT_ITEMS][0]["type"],
            "ltiResourceLink"
        );
        assert!(claims[claims::DL_CONTENT_ITEMS][0].get("text").is_none());
        let without = response_claims(&parties, &settings(None), &[], 100, "n");
        assert!(without.get(claims::DL_DATA).is_none());
        assert_eq!(without[claims::DL_CONTENT_ITEMS], json!([]));
        let object = json!({"course": 5, "nested": {"list": [1, "two"]}});
        let echoed = response_claims(&parties, &settings(Some(object.clone())), &[], 100, "n");
        assert_eq!(
            echoed[claims::DL_DATA],
            object,
            "data of any JSON type comes back as it came"
        );
    }

    fn parties() -> Parties<'static> {
        Parties {
            client_id: "tool-1",
            issuer: "https://lms.example.edu",
            deployment_id: "d1",
        }
    }

    fn item(title: &str, text: &str, custom: Map<String, Value>) -> ResourceLinkItem {
        ResourceLinkItem {
            title: title.into(),
            text: text.into(),
            url: format!("https://tool.example.edu/media/{title}"),
            custom,
        }
    }

    fn accepting(types: &[&str]) -> DeepLinkingSettings {
        DeepLinkingSettings {
            accept_types: types.iter().map(|t| t.to_string()).collect(),
            ..settings(None)
        }
    }

    #[test]
    fn a_placement_listing_no_types_accepts_resource_links() {
        assert!(accepts_resource_links(&accepting(&[])));
    }

    #[test]
    fn a_placement_accepts_resource_links_only_when_it_lists_them() {
        assert!(accepts_resource_links(&accepting(&[
            "file",
            "ltiResourceLink"
        ])));
        assert!(!accepts_resource_links(&accepting(&[
            "file", "html", "link"
        ])));
        assert!(
            !accepts_resource_links(&accepting(&["LtiResourceLink"])),
            "type names are case-sensitive"
        );
    }

    #[test]
    fn the_response_is_a_deep_linking_response_of_lti_1_3_for_the_deployment() {
        let claims = response_claims(&parties(), &settings(None), &[], 1_000, "n-1");
        assert_eq!(claims[claims::MESSAGE_TYPE], "LtiDeepLinkingResponse");
        assert_eq!(claims[claims::VERSION], "1.3.0");
        assert_eq!(claims[claims::DEPLOYMENT_ID], "d1");
        assert_eq!(claims["nonce"], "n-1");
    }

    #[test]
    fn the_response_expires_five_minutes_after_it_is_made() {
        let claims = response_claims(&parties(), &settings(None), &[], 1_000, "n");
        assert_eq!(claims["iat"], 1_000);
        assert_eq!(claims["exp"], 1_300);
    }

    #[test]
    fn items_keep_their_order_and_carry_text_and_custom_only_when_they_have_them() {
        let mut custom = Map::new();
        custom.insert("guestlink_media_id".into(), json!("m2"));
        let items = [item("a", "", Map::new()), item("b", "About b", custom)];
        let claims = response_claims(&parties(), &settings(None), &items, 0, "n");
        let sent = claims[claims::DL_CONTENT_ITEMS].as_array().unwrap();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0]["title"], "a");
        assert_eq!(sent[0]["url"], "https://tool.example.edu/media/a");
        assert!(sent[0].get("custom").is_none());
        assert_eq!(sent[1]["text"], "About b");
        assert_eq!(sent[1]["custom"], json!({"guestlink_media_id": "m2"}));
    }
}
