//! Step 4: the signature with the platform's key, pinned to RS256; then the
//! registered claims: `iss`, `aud`/`azp`, and `exp`/`iat`/`nbf` against the
//! tool's clock with a small leeway (platforms' clocks drift; Moodle's
//! tokens live only 60 seconds).

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
    if leeway.now > exp + leeway.seconds {
        return Err(LaunchError::TokenExpired);
    }
    if iat > leeway.now + leeway.seconds {
        return Err(LaunchError::IssuedInFuture);
    }
    if let Some(nbf) = claims.date("nbf")?
        && nbf > leeway.now + leeway.seconds
    {
        return Err(LaunchError::NotYetValid);
    }
    Ok(())
}
