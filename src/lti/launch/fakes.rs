//! What the launch steps' unit tests stand on: a registration, the login
//! state the service would have read, tokens signed with the test keys of
//! `tests/fixtures`, and key sources that answer without a network.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{Value, json};

use super::{LaunchInput, LaunchRead, Leeway, PlatformKeys, PlatformRead, StateRecord};
use crate::crypto::hash_secret;
use crate::domain::time::{Duration, Timestamp};
use crate::lti::claims;
use crate::lti::{LaunchError, Registration};

pub const ISSUER: &str = "https://lms.example.edu";
pub const CLIENT_ID: &str = "tool-client";
pub const DEPLOYMENT: &str = "1";
pub const STATE: &str = "state-value";
pub const NONCE: &str = "nonce-value";
pub const BINDING: &str = "binding-value";
pub const KID: &str = "key-a";
pub const NOW: Timestamp = Timestamp::from_unix(1_800_000_000);

const KEY_A: &str = include_str!("../../../tests/fixtures/platform_key_a.pem");
const KEY_A_PUBLIC: &str = include_str!("../../../tests/fixtures/platform_key_a.pub.pem");
const KEY_B: &str = include_str!("../../../tests/fixtures/platform_key_b.pem");

pub fn registration() -> Registration {
    Registration {
        platform_id: 7,
        issuer: ISSUER.into(),
        client_id: CLIENT_ID.into(),
        auth_url: format!("{ISSUER}/auth"),
        jwks_url: format!("{ISSUER}/jwks"),
        deployment_ids: vec![DEPLOYMENT.into()],
        register_new_deployments: false,
    }
}

pub fn state_record() -> StateRecord {
    StateRecord {
        platform_id: 7,
        nonce_hash: hash_secret(NONCE),
        binding_hash: hash_secret(BINDING),
        expires_at: NOW + Duration::minutes(5),
    }
}

/// What the service reads for a launch of [`STATE`].
pub fn read() -> LaunchRead {
    LaunchRead {
        state: Some(state_record()),
        platform: Some(PlatformRead {
            registration: registration(),
            pending: false,
        }),
    }
}

pub fn input(id_token: &str) -> LaunchInput<'_> {
    LaunchInput {
        id_token,
        state: STATE,
        binding: BINDING,
    }
}

pub fn leeway() -> Leeway {
    Leeway {
        now: NOW,
        skew: Duration::minutes(1),
    }
}

/// The claims of a resource-link launch from an instructor in a course.
pub fn resource_link_claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "user-1",
        "exp": NOW.unix() + 60,
        "iat": NOW.unix(),
        "nonce": NONCE,
        "name": "Ada Lovelace",
        "email": "ada@example.edu",
        (claims::DEPLOYMENT_ID): DEPLOYMENT,
        (claims::VERSION): claims::LTI_VERSION,
        (claims::MESSAGE_TYPE): claims::RESOURCE_LINK_REQUEST,
        (claims::RESOURCE_LINK): {"id": "link-1", "title": "Week 1"},
        (claims::ROLES): ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
        (claims::CONTEXT): {"id": "course-1", "label": "BIO101", "title": "Biology"},
    })
}

/// The claims of a deep-linking request.
pub fn deep_linking_claims() -> Value {
    let mut claims = resource_link_claims();
    let object = claims.as_object_mut().unwrap();
    object.remove(claims::RESOURCE_LINK);
    object.insert(
        claims::MESSAGE_TYPE.into(),
        claims::DEEP_LINKING_REQUEST.into(),
    );
    object.insert(
        claims::DEEP_LINKING_SETTINGS.into(),
        json!({
            "deep_link_return_url": format!("{ISSUER}/deep-link-return"),
            "accept_types": ["ltiResourceLink"],
            "accept_multiple": true,
        }),
    );
    claims
}

fn sign(claims: &Value, pem: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.into());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("a test key");
    jsonwebtoken::encode(&header, claims, &key).expect("signed")
}

/// Signed with the key [`FixedKey::a`] verifies.
pub fn sign_a(claims: &Value) -> String {
    sign(claims, KEY_A)
}

/// Signed with another key.
pub fn sign_b(claims: &Value) -> String {
    sign(claims, KEY_B)
}

pub fn key_a() -> DecodingKey {
    DecodingKey::from_rsa_pem(KEY_A_PUBLIC.as_bytes()).expect("a test key")
}

/// A platform that publishes one key, [`KID`].
pub struct FixedKey(DecodingKey);

impl FixedKey {
    pub fn a() -> FixedKey {
        FixedKey(key_a())
    }
}

impl PlatformKeys for FixedKey {
    async fn key(&self, _jwks_url: &str, kid: &str) -> Result<DecodingKey, LaunchError> {
        if kid == KID {
            Ok(self.0.clone())
        } else {
            Err(LaunchError::UnknownKid)
        }
    }
}

/// A platform whose key set has no key the token names.
pub struct NoKeys;

impl PlatformKeys for NoKeys {
    async fn key(&self, _jwks_url: &str, _kid: &str) -> Result<DecodingKey, LaunchError> {
        Err(LaunchError::UnknownKid)
    }
}
