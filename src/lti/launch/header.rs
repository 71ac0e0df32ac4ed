//! Step 2: the JWT header alone. Only RS256 is accepted and a `kid` is
//! required; `none`, HS256 (the "sign with the public key" attack) and every
//! other algorithm are refused before any key is looked at.

use serde_json::Value;

use crate::crypto::b64url_decode;
use crate::lti::LaunchError;

pub(super) fn check(token: &str) -> Result<String, LaunchError> {
    if token.is_empty() {
        return Err(LaunchError::MissingIdToken);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LaunchError::MalformedToken);
    };
    let header: Value = b64url_decode(header)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(LaunchError::MalformedToken)?;
    match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => {}
        Some(other) => {
            return Err(LaunchError::UnsupportedAlgorithm(
                other.chars().take(20).collect(),
            ));
        }
        None => return Err(LaunchError::MalformedToken),
    }
    match header.get("kid").and_then(Value::as_str) {
        Some(kid) if !kid.is_empty() => Ok(kid.to_string()),
        _ => Err(LaunchError::MissingKid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::b64url;

    fn token_with_header(header: &str) -> String {
        format!("{}.{}.sig", b64url(header.as_bytes()), b64url(b"{}"))
    }

    #[test]
    fn alg_none_is_unsupported_algorithm() {
        let token = format!("{}.{}.", b64url(br#"{"alg":"none"}"#), b64url(b"{}"));
        assert_eq!(
            check(&token),
            Err(LaunchError::UnsupportedAlgorithm("none".into()))
        );
    }

    #[test]
    fn hs256_is_unsupported_algorithm() {
        assert_eq!(
            check(&token_with_header(r#"{"alg":"HS256","kid":"k"}"#)),
            Err(LaunchError::UnsupportedAlgorithm("HS256".into()))
        );
    }

    #[test]
    fn a_missing_kid_is_missing_kid() {
        assert_eq!(
            check(&token_with_header(r#"{"alg":"RS256"}"#)),
            Err(LaunchError::MissingKid)
        );
    }

    #[test]
    fn garbage_is_malformed_token() {
        assert_eq!(check("garbage"), Err(LaunchError::MalformedToken));
        assert_eq!(check("a.b.c.d"), Err(LaunchError::MalformedToken));
        assert_eq!(check(""), Err(LaunchError::MissingIdToken));
    }

    #[test]
    fn rs256_with_kid_passes() {
        assert_eq!(
            check(&token_with_header(r#"{"alg":"RS256","kid":"k1"}"#)),
            Ok("k1".into())
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_as_a_token_is_refused_or_yields_a_kid_without_panicking(token in ".{0,300}") {
            let _ = check(&token);
        }

        #[test]
        fn any_bytes_as_a_header_are_read_without_panicking(header in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let token = format!("{}.e30.sig", b64url(&header));
            let _ = check(&token);
        }

        #[test]
        fn an_rs256_header_gives_back_its_kid(kid in ".{1,64}", extra in "[a-z]{0,8}") {
            let header = serde_json::json!({"alg": "RS256", "kid": kid, "typ": extra});
            let token = token_with_header(&header.to_string());
            proptest::prop_assert_eq!(check(&token), Ok(kid));
        }
    }
}
