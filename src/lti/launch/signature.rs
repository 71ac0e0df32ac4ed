//! Step 4: the signature with the platform's key, pinned to RS256; then the
//! registered claims: `iss`, `aud`/`azp`, and `exp`/`iat`/`nbf` against the
//! tool's clock with a small leeway (platforms' clocks drift; Moodle's
//! tokens live only 60 seconds). The rules are OpenID Connect Core §3.1.3.7
//! (https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)
//! as the LTI Security Framework §5.1.3 applies them
//! (https://www.imsglobal.org/spec/security/v1p0/#authentication-response-validation).

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::Leeway;
use crate::lti::claims::VerifiedClaims;
use crate::lti::{LaunchError, Registration};

pub(super) fn verify(
    token: &str,
    key: &DecodingKey,
    registration: &Registration,
    leeway: Leeway,
) -> Result<VerifiedClaims, LaunchError> {
    let mut validation = Validation::new(Algorithm::RS256);
    // Dates, issuer and audience are checked below, against the tool's clock
    // and with their own error codes.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let data =
        jsonwebtoken::decode::<serde_json::Value>(token, key, &validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::InvalidAlgorithm => LaunchError::UnsupportedAlgorithm("not RS256".into()),
            ErrorKind::Base64(_)
            | ErrorKind::Json(_)
            | ErrorKind::Utf8(_)
            | ErrorKind::InvalidToken => LaunchError::MalformedToken,
            _ => LaunchError::InvalidSignature,
        })?;
    if !data.claims.is_object() {
        return Err(LaunchError::MalformedToken);
    }
    let claims = VerifiedClaims(data.claims);
    check_issuer(&claims, registration)?;
    check_audience(&claims, registration)?;
    check_dates(&claims, leeway)?;
    Ok(claims)
}

fn check_issuer(claims: &VerifiedClaims, registration: &Registration) -> Result<(), LaunchError> {
    match claims.string("iss")? {
        None => Err(LaunchError::MissingClaim("iss")),
        Some(iss) if iss == registration.issuer => Ok(()),
        Some(_) => Err(LaunchError::InvalidIssuer),
    }
}

fn check_audience(claims: &VerifiedClaims, registration: &Registration) -> Result<(), LaunchError> {
    let audiences = claims.audiences()?;
    if !audiences.contains(&registration.client_id.as_str()) {
        return Err(LaunchError::InvalidAudience);
    }
    match claims.string("azp")? {
        None if audiences.len() > 1 => Err(LaunchError::MissingAzp),
        Some(azp) if azp != registration.client_id => Err(LaunchError::InvalidAzp),
        _ => Ok(()),
    }
}

fn check_dates(claims: &VerifiedClaims, leeway: Leeway) -> Result<(), LaunchError> {
    let exp = claims
        .date("exp")?
        .ok_or(LaunchError::MissingClaim("exp"))?;
    let iat = claims
        .date("iat")?
        .ok_or(LaunchError::MissingClaim("iat"))?;
    // NumericDate claims are seconds (RFC 7519 §2, Terminology:
    // https://www.rfc-editor.org/rfc/rfc7519#section-2), read here to the
    // whole second (a fraction is dropped).
    let (now, skew) = (leeway.now.unix(), leeway.skew.whole_seconds());
    if now > exp + skew {
        return Err(LaunchError::TokenExpired);
    }
    if iat > now + skew {
        return Err(LaunchError::IssuedInFuture);
    }
    if let Some(nbf) = claims.date("nbf")?
        && nbf > now + skew
    {
        return Err(LaunchError::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fakes::{
        CLIENT_ID, NOW, key_a, leeway, registration, resource_link_claims, sign_a, sign_b,
    };
    use super::*;

    fn verified(claims: Value) -> Result<VerifiedClaims, LaunchError> {
        verify(&sign_a(&claims), &key_a(), &registration(), leeway())
    }

    fn with(mut claims: Value, name: &str, value: Value) -> Value {
        claims[name] = value;
        claims
    }

    fn without(mut claims: Value, name: &str) -> Value {
        claims.as_object_mut().unwrap().remove(name);
        claims
    }

    #[test]
    fn a_token_signed_by_the_platform_with_its_claims_in_order_passes() {
        assert!(verified(resource_link_claims()).is_ok());
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let token = sign_b(&resource_link_claims());
        assert_eq!(
            verify(&token, &key_a(), &registration(), leeway()).unwrap_err(),
            LaunchError::InvalidSignature
        );
    }

    #[test]
    fn a_changed_payload_breaks_the_signature() {
        let token = sign_a(&resource_link_claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = crate::crypto::b64url(
            with(resource_link_claims(), "sub", json!("admin"))
                .to_string()
                .as_bytes(),
        );
        parts[1] = &forged;
        assert_eq!(
            verify(&parts.join("."), &key_a(), &registration(), leeway()).unwrap_err(),
            LaunchError::InvalidSignature
        );
    }

    #[test]
    fn issuer_and_audience_must_be_the_registration_s() {
        let claims = resource_link_claims();
        let cases = [
            (
                with(claims.clone(), "iss", json!("https://evil.example")),
                LaunchError::InvalidIssuer,
            ),
            (
                without(claims.clone(), "iss"),
                LaunchError::MissingClaim("iss"),
            ),
            (
                with(claims.clone(), "aud", json!("another-tool")),
                LaunchError::InvalidAudience,
            ),
            (
                with(claims.clone(), "aud", json!([CLIENT_ID, "another-tool"])),
                LaunchError::MissingAzp,
            ),
            (
                with(
                    with(claims.clone(), "aud", json!([CLIENT_ID, "x"])),
                    "azp",
                    json!("x"),
                ),
                LaunchError::InvalidAzp,
            ),
            (
                with(claims.clone(), "aud", json!(7)),
                LaunchError::InvalidClaim("aud"),
            ),
        ];
        for (claims, expected) in cases {
            assert_eq!(verified(claims).unwrap_err(), expected);
        }
        let several = with(
            with(claims, "aud", json!([CLIENT_ID, "x"])),
            "azp",
            json!(CLIENT_ID),
        );
        assert!(verified(several).is_ok());
    }

    #[test]
    fn dates_are_held_to_the_clock_with_the_leeway() {
        let claims = resource_link_claims();
        let (now, late) = (NOW.unix(), leeway().skew.whole_seconds() + 1);
        let cases = [
            (
                with(claims.clone(), "exp", json!(now - late)),
                LaunchError::TokenExpired,
            ),
            (
                with(claims.clone(), "iat", json!(now + late)),
                LaunchError::IssuedInFuture,
            ),
            (
                with(claims.clone(), "nbf", json!(now + late)),
                LaunchError::NotYetValid,
            ),
            (
                without(claims.clone(), "exp"),
                LaunchError::MissingClaim("exp"),
            ),
            (
                without(claims.clone(), "iat"),
                LaunchError::MissingClaim("iat"),
            ),
            (
                with(claims.clone(), "exp", json!("tomorrow")),
                LaunchError::InvalidClaim("exp"),
            ),
        ];
        for (claims, expected) in cases {
            assert_eq!(verified(claims).unwrap_err(), expected);
        }
        let within = with(claims, "exp", json!(now - leeway().skew.whole_seconds()));
        assert!(verified(within).is_ok(), "a token a little late passes");
    }

    #[test]
    fn a_payload_that_is_not_an_object_is_malformed() {
        let token = sign_a(&json!(["not", "an", "object"]));
        assert_eq!(
            verify(&token, &key_a(), &registration(), leeway()).unwrap_err(),
            LaunchError::MalformedToken
        );
    }
}
