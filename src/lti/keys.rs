//! The tool's own RSA signing keys and the JWKS that publishes them.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use jsonwebtoken::EncodingKey;
use serde::Serialize;

use super::der;
use crate::crypto::{b64url, b64url_decode};

/// An RSA key pair the tool signs with, as stored: PKCS#8 DER (base64url)
/// plus the public modulus and exponent for the JWKS.
#[derive(Clone)]
pub struct ToolKey {
    pub kid: String,
    pub private_pkcs8_b64: String,
    pub n: String,
    pub e: String,
}

impl std::fmt::Debug for ToolKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid RSA key: {0}")]
pub struct KeyError(String);

impl ToolKey {
    /// A fresh 2048-bit key with a random kid.
    pub fn generate() -> Result<ToolKey, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|e| KeyError(e.to_string()))?;
        let pkcs8 = pair.as_der().map_err(|e| KeyError(e.to_string()))?;
        Self::from_pkcs8(crate::crypto::random_token(12), pkcs8.as_ref())
    }

    /// Loads a PKCS#8 DER key under the given kid.
    pub fn from_pkcs8(kid: String, pkcs8: &[u8]) -> Result<ToolKey, KeyError> {
        let pair = KeyPair::from_pkcs8(pkcs8).map_err(|e| KeyError(e.to_string()))?;
        let (n, e) = der::rsa_public_components(pair.public_key().as_ref())
            .ok_or_else(|| KeyError("cannot read the public key".into()))?;
        Ok(ToolKey {
            kid,
            private_pkcs8_b64: b64url(pkcs8),
            n: b64url(&n),
            e: b64url(&e),
        })
    }

    /// Loads a PEM "PRIVATE KEY" (PKCS#8), as `openssl genpkey` writes it.
    pub fn from_pkcs8_pem(kid: String, pem: &str) -> Result<ToolKey, KeyError> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body.trim())
            .map_err(|e| KeyError(e.to_string()))?;
        Self::from_pkcs8(kid, &der)
    }

    pub fn encoding_key(&self) -> Result<EncodingKey, KeyError> {
        let pkcs8 =
            b64url_decode(&self.private_pkcs8_b64).ok_or_else(|| KeyError("bad base64".into()))?;
        let pkcs1 =
            der::pkcs8_to_pkcs1(&pkcs8).ok_or_else(|| KeyError("not a PKCS#8 RSA key".into()))?;
        Ok(EncodingKey::from_rsa_der(&pkcs1))
    }

    pub fn jwk(&self) -> Jwk {
        Jwk::rs256(&self.kid, &self.n, &self.e)
    }

    /// Signs `claims` as an RS256 JWT with this key's kid in the header.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding_key()?)
            .map_err(|e| KeyError(e.to_string()))
    }
}

/// One public key as JWKS publishes it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub key_use: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

impl Jwk {
    /// An RS256 signing key from its kid, modulus and exponent (base64url).
    pub fn rs256(kid: &str, n: &str, e: &str) -> Jwk {
        Jwk {
            kty: "RSA",
            alg: "RS256",
            key_use: "sig",
            kid: kid.to_string(),
            n: n.to_string(),
            e: e.to_string(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_signs_what_its_jwk_verifies() {
        let key = ToolKey::generate().unwrap();
        let token = key.sign(&serde_json::json!({"hello": "world"})).unwrap();
        let jwk = key.jwk();
        let decoding = jsonwebtoken::DecodingKey::from_rsa_components(&jwk.n, &jwk.e).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let data =
            jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims["hello"], "world");
        assert_eq!(data.header.kid.as_deref(), Some(key.kid.as_str()));
        // 2048-bit modulus.
        assert_eq!(b64url_decode(&jwk.n).unwrap().len(), 256);
    }

    #[test]
    fn a_jwk_publishes_an_rs256_signing_key_under_its_kid() {
        let jwk = Jwk::rs256("k1", "bW9k", "AQAB");
        let json = serde_json::to_value(&jwk).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "kty": "RSA",
                "alg": "RS256",
                "use": "sig",
                "kid": "k1",
                "n": "bW9k",
                "e": "AQAB",
            })
        );
    }

    #[test]
    fn a_key_loaded_again_from_its_pkcs8_has_the_same_public_half() {
        let key = ToolKey::generate().unwrap();
        let der = b64url_decode(&key.private_pkcs8_b64).unwrap();
        let again = ToolKey::from_pkcs8("other".into(), &der).unwrap();
        assert_eq!(
            (again.n.as_str(), again.e.as_str()),
            (key.n.as_str(), key.e.as_str())
        );
        assert_eq!(again.kid, "other");
    }

    #[test]
    fn a_pem_private_key_loads_as_its_der_does() {
        let key = ToolKey::generate().unwrap();
        let der = b64url_decode(&key.private_pkcs8_b64).unwrap();
        let body = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|l| std::str::from_utf8(l).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        );
        let loaded = ToolKey::from_pkcs8_pem("k".into(), &pem).unwrap();
        assert_eq!(loaded.n, key.n);
        assert_eq!(loaded.private_pkcs8_b64, key.private_pkcs8_b64);
    }

    #[test]
    fn what_is_not_a_pkcs8_rsa_key_is_refused() {
        assert!(ToolKey::from_pkcs8("k".into(), b"not a key").is_err());
        assert!(
            ToolKey::from_pkcs8_pem("k".into(), "-----BEGIN X-----\n!!!\n-----END X-----").is_err()
        );
    }

    #[test]
    fn a_keys_debug_shows_its_kid_and_no_key_material() {
        let key = ToolKey::generate().unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.kid));
        assert!(!shown.contains(&key.private_pkcs8_b64[..40]));
    }

    #[test]
    fn two_generated_keys_differ_in_kid_and_modulus() {
        let (a, b) = (ToolKey::generate().unwrap(), ToolKey::generate().unwrap());
        assert_ne!(a.kid, b.kid);
        assert_ne!(a.n, b.n);
    }
}

/// One of the tool's keys as an administrator sees it: no key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySummary {
    pub kid: String,
    pub created_at: crate::domain::time::Timestamp,
    /// When it stopped signing; it stays published for the grace period.
    pub retired_at: Option<crate::domain::time::Timestamp>,
}
