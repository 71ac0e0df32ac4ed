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
    fn hash_is_hex_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
