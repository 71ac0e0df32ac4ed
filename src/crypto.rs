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

/// A random number from the operating system's generator.
pub fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    rand::rngs::SysRng
        .try_fill_bytes(&mut buf)
        .expect("the operating system's random number generator failed");
    u64::from_le_bytes(buf)
}

/// Whether `value` is shaped like a token this tool hands out: base64url, 16
/// to 64 characters. Anything else is not looked up, and never goes back out
/// in a header.
pub fn is_token_shaped(value: &str) -> bool {
    is_base64url_of_length(value, 16..=64)
}

/// Whether `value` is base64url (no padding) of a length in `lengths`.
pub fn is_base64url_of_length(value: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// 128 random bits: the size of every secret token guestlink issues.
pub fn secret_token() -> String {
    random_token(16)
}

/// Hex SHA-256 of a secret, the form in which secrets are stored and compared.
pub fn hash_secret(secret: &str) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes()).as_ref())
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

/// The operator's key for secrets at rest (`GUESTLINK_SECRET_KEY`): at least
/// 32 random bytes. Never printed; only keys derived from it are used.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

/// The least a secret key may hold, in bytes.
pub const SECRET_KEY_BYTES: usize = 32;

impl SecretKey {
    /// Reads a key written as base64 (standard or URL-safe, padded or not).
    pub fn parse(text: &str) -> Result<SecretKey, String> {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
        let text = text.trim();
        let bytes = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or("is not base64 (make one with: openssl rand -base64 32)")?;
        if bytes.len() < SECRET_KEY_BYTES {
            return Err(format!(
                "holds {} bytes; it needs at least {SECRET_KEY_BYTES} (make one with: openssl rand -base64 32)",
                bytes.len()
            ));
        }
        Ok(SecretKey(bytes))
    }

    /// A fresh key, written as it is stored in a key file.
    pub fn generate() -> (SecretKey, String) {
        let text = random_token(SECRET_KEY_BYTES);
        let key = SecretKey::parse(&text).expect("a fresh key parses");
        (key, text)
    }

    /// A key for one purpose, so that no two uses share key material.
    fn derive(&self, purpose: &str) -> [u8; 32] {
        let mac = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.0);
        let tag = aws_lc_rs::hmac::sign(&mac, purpose.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Seals secrets kept in the database (the tool's private keys, the media
/// URL key, guest-link tokens) with AES-256-GCM under a key derived from the
/// operator's [`SecretKey`], and makes keyed lookup hashes of tokens. A copy
/// of the database without the operator's key opens none of them.
///
/// Each sealed value names what it is (its `context`, bound as associated
/// data), so a sealed value cannot be moved into another column or row.
pub struct Sealer {
    aead: aws_lc_rs::aead::LessSafeKey,
    lookup: aws_lc_rs::hmac::Key,
}

/// Sealed values start with this, so plain ones left from before are told apart.
pub const SEALED_PREFIX: &str = "sealed1.";

/// A sealed value that did not open: the wrong key, or altered.
#[derive(Debug, thiserror::Error)]
#[error(
    "a sealed secret could not be opened: the secret key is not the one it was sealed with, or it was altered"
)]
pub struct Unsealable;

impl Sealer {
    pub fn new(key: &SecretKey) -> Sealer {
        let aead = aws_lc_rs::aead::UnboundKey::new(
            &aws_lc_rs::aead::AES_256_GCM,
            &key.derive("guestlink sealing key v1"),
        )
        .expect("a 32-byte AES-256-GCM key");
        Sealer {
            aead: aws_lc_rs::aead::LessSafeKey::new(aead),
            lookup: aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA256,
                &key.derive("guestlink lookup key v1"),
            ),
        }
    }

    pub fn seal(&self, context: &str, plain: &[u8]) -> String {
        format!("{SEALED_PREFIX}{}", self.seal_token(context, plain))
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, Unsealable> {
        let token = sealed.strip_prefix(SEALED_PREFIX).ok_or(Unsealable)?;
        self.open_token(context, token)
    }

    /// Like [`Sealer::seal`], as a URL-safe token without the prefix that
    /// marks stored values: for values handed out rather than stored.
    pub fn seal_token(&self, context: &str, plain: &[u8]) -> String {
        use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::SysRng
            .try_fill_bytes(&mut nonce)
            .expect("the operating system's random number generator failed");
        let mut data = plain.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM sealing of a small value");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        b64url(&out)
    }

    pub fn open_token(&self, context: &str, token: &str) -> Result<Vec<u8>, Unsealable> {
        use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};
        let raw = b64url_decode(token)
            .filter(|raw| raw.len() > NONCE_LEN)
            .ok_or(Unsealable)?;
        let (nonce, data) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unsealable)?;
        let mut data = data.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| Unsealable)?;
        Ok(plain.to_vec())
    }

    pub fn seal_text(&self, context: &str, plain: &str) -> String {
        self.seal(context, plain.as_bytes())
    }

    pub fn open_text(&self, context: &str, sealed: &str) -> Result<String, Unsealable> {
        String::from_utf8(self.open(context, sealed)?).map_err(|_| Unsealable)
    }

    /// A keyed hash of a token, hex: what a token is looked up by when the
    /// token itself must not be stored in the clear.
    pub fn lookup_hash(&self, token: &str) -> String {
        hex(aws_lc_rs::hmac::sign(&self.lookup, token.as_bytes()).as_ref())
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// The bytes of lowercase or uppercase hex text; None if it is not hex.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
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
    fn hex_goes_both_ways_and_refuses_what_is_not_hex() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xab, 0xff];
        assert_eq!(hex(&bytes), "00017f80abff");
        assert_eq!(hex_decode("00017f80abff").unwrap(), bytes);
        assert_eq!(hex_decode("00017F80ABFF").unwrap(), bytes);
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn a_sealed_token_is_url_safe_and_opens_only_in_its_context() {
        let sealer = Sealer::new(&SecretKey::generate().0);
        let token = sealer.seal_token("one", b"value");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(sealer.open_token("one", &token).unwrap(), b"value");
        assert!(sealer.open_token("two", &token).is_err());
    }

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
    fn sealed_values_open_only_with_their_key_and_context() {
        let (key, text) = SecretKey::generate();
        assert!(SecretKey::parse(&text).is_ok());
        let sealer = Sealer::new(&key);
        let sealed = sealer.seal_text("tool_keys/k1", "private");
        assert!(sealed.starts_with(SEALED_PREFIX));
        assert!(!sealed.contains("private"));
        assert_ne!(
            sealed,
            sealer.seal_text("tool_keys/k1", "private"),
            "a fresh nonce each time"
        );
        assert_eq!(
            sealer.open_text("tool_keys/k1", &sealed).unwrap(),
            "private"
        );
        assert!(
            sealer.open_text("tool_keys/k2", &sealed).is_err(),
            "another context"
        );
        let other = Sealer::new(&SecretKey::generate().0);
        assert!(
            other.open_text("tool_keys/k1", &sealed).is_err(),
            "another key"
        );
        assert!(sealer.open_text("tool_keys/k1", "sealed1.AAAA").is_err());
        assert!(sealer.open_text("tool_keys/k1", "plain").is_err());
        assert_eq!(sealer.lookup_hash("t"), sealer.lookup_hash("t"));
        assert_ne!(sealer.lookup_hash("t"), other.lookup_hash("t"));
    }

    #[test]
    fn short_or_malformed_secret_keys_are_refused() {
        assert!(SecretKey::parse("c2hvcnQ=").is_err());
        assert!(SecretKey::parse("not base64 at all!").is_err());
        let standard = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
        assert!(SecretKey::parse(standard).is_ok());
        assert!(format!("{:?}", SecretKey::parse(standard).unwrap()) == "SecretKey(<redacted>)");
    }

    #[test]
    fn hash_is_hex_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn url_safe(token: &str) -> bool {
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    #[test]
    fn a_random_token_is_unpadded_base64url_of_its_bytes() {
        for (bytes, chars) in [(12, 16), (16, 22), (32, 43), (0, 0)] {
            let token = random_token(bytes);
            assert_eq!(token.len(), chars, "{bytes} bytes");
            assert!(url_safe(&token), "{token}");
            assert_eq!(b64url_decode(&token).unwrap().len(), bytes);
        }
    }

    #[test]
    fn the_tokens_the_tool_issues_are_token_shaped() {
        assert!(is_token_shaped(&secret_token()));
        assert!(is_token_shaped(&random_token(12)));
        assert!(is_token_shaped(&random_token(48)));
    }

    #[test]
    fn a_token_shape_is_16_to_64_url_safe_characters() {
        assert!(!is_token_shaped(&"a".repeat(15)));
        assert!(is_token_shaped(&"a".repeat(16)));
        assert!(is_token_shaped(&"a".repeat(64)));
        assert!(!is_token_shaped(&"a".repeat(65)));
        for bad in [
            "aaaaaaaaaaaaaaa+",
            "aaaaaaaaaaaaaaa/",
            "aaaaaaaaaaaaaaa=",
            "aaaaaaa aaaaaaaa",
            "aaaaaaaaaaaaaaaé",
        ] {
            assert!(!is_token_shaped(bad), "{bad}");
        }
    }

    #[test]
    fn secrets_are_equal_only_when_every_byte_is() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
        assert!(secrets_equal("", ""));
    }

    #[test]
    fn a_mac_tag_is_the_same_each_time_and_changes_with_one_character() {
        let key = MacKey::new(b"k");
        let tag = key.sign("m");
        assert_eq!(tag, key.sign("m"));
        assert_eq!(b64url_decode(&tag).unwrap().len(), 32);
        let mut altered = tag.clone().into_bytes();
        altered[0] = if altered[0] == b'A' { b'B' } else { b'A' };
        assert!(!key.verify("m", std::str::from_utf8(&altered).unwrap()));
        assert!(!key.verify("m", &tag[..tag.len() - 1]), "a shortened tag");
    }

    #[test]
    fn an_altered_sealed_value_does_not_open() {
        let sealer = Sealer::new(&SecretKey::generate().0);
        let sealed = sealer.seal_text("ctx", "secret value");
        let body = sealed.strip_prefix(SEALED_PREFIX).unwrap();
        let mut raw = b64url_decode(body).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let altered = format!("{SEALED_PREFIX}{}", b64url(&raw));
        assert!(sealer.open_text("ctx", &altered).is_err());
    }

    #[test]
    fn nothing_and_binary_values_seal_and_open_again() {
        let sealer = Sealer::new(&SecretKey::generate().0);
        assert_eq!(sealer.open("c", &sealer.seal("c", b"")).unwrap(), b"");
        let binary = [0u8, 255, 10, 13];
        assert_eq!(
            sealer.open("c", &sealer.seal("c", &binary)).unwrap(),
            binary
        );
    }

    #[test]
    fn a_sealed_value_that_is_not_text_does_not_open_as_text() {
        let sealer = Sealer::new(&SecretKey::generate().0);
        let sealed = sealer.seal("c", &[0xff, 0xfe]);
        assert!(sealer.open("c", &sealed).is_ok());
        assert!(sealer.open_text("c", &sealed).is_err());
    }

    #[test]
    fn the_same_key_text_seals_and_looks_up_alike_across_restarts() {
        let text = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
        let first = Sealer::new(&SecretKey::parse(text).unwrap());
        let again = Sealer::new(&SecretKey::parse(text).unwrap());
        let sealed = first.seal_text("c", "v");
        assert_eq!(again.open_text("c", &sealed).unwrap(), "v");
        assert_eq!(first.lookup_hash("tok"), again.lookup_hash("tok"));
    }

    #[test]
    fn a_lookup_hash_is_keyed_hex_unlike_the_plain_hash() {
        let sealer = Sealer::new(&SecretKey::generate().0);
        let hash = sealer.lookup_hash("tok");
        assert_eq!(hash.len(), 64);
        assert!(
            hash.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(hash, hash_secret("tok"));
        assert_ne!(hash, sealer.lookup_hash("tok2"));
    }

    #[test]
    fn a_secret_key_is_read_in_any_base64_with_surrounding_whitespace() {
        let bytes: Vec<u8> = (0u8..32)
            .map(|b| b.wrapping_mul(37).wrapping_add(250))
            .collect();
        let standard = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert!(
            standard.contains('+') || standard.contains('/'),
            "{standard}"
        );
        for text in [
            standard.clone(),
            format!("  {standard}\n"),
            standard.trim_end_matches('=').to_string(),
            URL_SAFE_NO_PAD.encode(&bytes),
            base64::engine::general_purpose::URL_SAFE.encode(&bytes),
        ] {
            assert!(SecretKey::parse(&text).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn a_secret_key_needs_32_bytes_and_says_how_many_it_has() {
        let short = URL_SAFE_NO_PAD.encode([7u8; 31]);
        let err = SecretKey::parse(&short).unwrap_err();
        assert!(err.starts_with("holds 31 bytes"), "{err}");
        assert!(SecretKey::parse(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_ok());
    }

    #[test]
    fn key_holders_never_print_their_keys() {
        assert_eq!(format!("{:?}", MacKey::new(b"secret")), "MacKey(..)");
        assert_eq!(
            format!("{:?}", Sealer::new(&SecretKey::generate().0)),
            "Sealer(..)"
        );
    }

    #[test]
    fn base64url_decoding_tolerates_padding_and_refuses_other_alphabets() {
        assert_eq!(b64url_decode("YQ==").unwrap(), b"a");
        assert_eq!(b64url_decode("YQ").unwrap(), b"a");
        assert_eq!(b64url_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(b64url_decode("+/8"), None);
    }
}
