//! Random tokens and hashes.
//!
//! Every secret guestlink hands out (session tokens, login state, nonces,
//! browser bindings) is 128 or more bits from the operating system's CSPRNG,
//! encoded base64url. Only a SHA-256 of a secret is stored, so a copy of the
//! database does not let anyone act as a session.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng;

/// A fresh random token of `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::SysRng
        .try_fill_bytes(&mut buf)
        .expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(buf)
}

/// 128 random bits: the size of every secret token guestlink issues.
pub fn secret_token() -> String {
    random_token(16)
}

/// Hex SHA-256 of a secret, the form in which secrets are stored and compared.
pub fn hash_secret(secret: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest.as_ref() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Constant-time equality for secrets compared in memory.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// An HMAC-SHA256 key for values the tool hands out and must recognise
/// later unaltered (signed media URLs).
pub struct MacKey(aws_lc_rs::hmac::Key);

impl MacKey {
    pub fn new(secret: &[u8]) -> MacKey {
        MacKey(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            secret,
        ))
    }

    /// The base64url tag of `message`.
    pub fn sign(&self, message: &str) -> String {
        b64url(aws_lc_rs::hmac::sign(&self.0, message.as_bytes()).as_ref())
    }

    /// Whether `tag` is this key's tag of `message` (constant time).
    pub fn verify(&self, message: &str, tag: &str) -> bool {
        b64url_decode(tag)
            .is_some_and(|tag| aws_lc_rs::hmac::verify(&self.0, message.as_bytes(), &tag).is_ok())
    }
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(..)")
    }
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_tokens_carry_128_bits_and_differ() {
        let a = secret_token();
        let b = secret_token();
        assert_eq!(b64url_decode(&a).unwrap().len(), 16);
        assert_ne!(a, b);
    }

    #[test]
    fn mac_tags_verify_only_for_their_message_and_key() {
        let key = MacKey::new(b"k1");
        let tag = key.sign("media-a|u1|100");
        assert!(key.verify("media-a|u1|100", &tag));
        assert!(!key.verify("media-b|u1|100", &tag));
        assert!(!MacKey::new(b"k2").verify("media-a|u1|100", &tag));
        assert!(!key.verify("media-a|u1|100", "not base64 !"));
    }

    #[test]
    fn hash_is_hex_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
