//! Launch diagnostics for the admin console: each login and launch that
//! failed, with the check that stopped it and the claims that came, and the
//! launches that succeeded, so an admin can fix a registration without
//! reading logs. The raw id_token (and so its signature) is never kept; the
//! claims are decoded from its payload.
//!
//! Recording a refusal never fails a request: a diagnostics write that fails
//! is logged. A successful launch's record is written in the same
//! transaction as its session (one round trip on the launch path).

use std::net::IpAddr;

use serde_json::Value;

use super::Tool;
use super::failure::Fault;
use crate::crypto::hash_secret;
use crate::domain::diagnostics::{AttemptScope, LaunchAttempt, Stage};
use crate::domain::ids::PlatformId;
use crate::domain::platform::Platform;
use crate::lti::LaunchError;
use crate::lti::claims::{DEPLOYMENT_ID, unverified_payload};
use crate::store::launch_attempts::{self, NewAttempt};
use crate::store::login_states;

/// Refusals recorded per client address and minute: the claims of a refused
/// launch are unverified, so anyone could send a stream of them naming a
/// real platform and push its real records out.
const REFUSALS_PER_MINUTE: u32 = 30;

/// Claims longer than this (some platforms send kilobytes of custom data)
/// are cut, with a note.
const LARGEST_CLAIMS: usize = 16 * 1024;

/// The claims as they are stored: compact JSON (every launch writes them,
/// so every byte counts), cut to a bounded size.
pub fn claims_text(claims: &Value) -> String {
    let text = serde_json::to_string(claims).unwrap_or_default();
    if text.len() <= LARGEST_CLAIMS {
        return text;
    }
    let mut cut = LARGEST_CLAIMS;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}\n… (cut: the claims were {} bytes)",
        &text[..cut],
        text.len()
    )
}

/// Stored claims as the diagnostics page shows them: indented when they are
/// whole JSON, as they are when they were cut.
pub fn readable_claims(stored: &str) -> String {
    serde_json::from_str::<Value>(stored)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| stored.to_string())
}

/// The reason in plain words, with what to check.
fn reason(err: &LaunchError, base: &str) -> String {
    let detail = err.detail().map(|d| format!(": {d}")).unwrap_or_default();
    format!(
        "{err}{detail}.\n{}",
        err.admin_hint().replace("{base}", base)
    )
}

fn text_claim(claims: &Value, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// The registered platform an attempt came from, if one matches.
async fn platform_of(tool: &Tool, issuer: &str, client_id: Option<&str>) -> Option<PlatformId> {
    if issuer.is_empty() {
        return None;
    }
    let candidates = tool.registrations.by_issuer(tool, issuer).await.ok()?;
    match client_id {
        Some(client) => candidates.iter().find(|p| p.client_id == client),
        None if candidates.len() == 1 => candidates.first(),
        None => None,
    }
    .map(|p| p.id)
}

/// Records a refusal, with the error's code, reason and advice.
async fn write(tool: &Tool, client: Option<IpAddr>, err: &LaunchError, attempt: OwnedAttempt) {
    let now = tool.clock.now();
    let (code, reason) = (
        err.code(),
        reason(err, tool.settings.server.public_url.as_str()),
    );
    if let Some(ip) = client
        && !tool.diagnostics_limiter.allow(ip, now, REFUSALS_PER_MINUTE)
    {
        return;
    }
    let result = tool
        .db
        .write(move |conn| {
            launch_attempts::record(
                conn,
                &NewAttempt {
                    platform_id: attempt.platform_id,
                    issuer: &attempt.issuer,
                    client_id: attempt.client_id.as_deref(),
                    deployment_id: attempt.deployment_id.as_deref(),
                    stage: attempt.stage,
                    error_code: Some(code),
                    reason: Some(&reason),
                    claims: attempt.claims.as_deref(),
                    now,
                },
            )
        })
        .await;
    if let Err(err) = result {
        tracing::warn!(error = %err, "a launch diagnostic could not be recorded");
    }
}

struct OwnedAttempt {
    platform_id: Option<PlatformId>,
    issuer: String,
    client_id: Option<String>,
    deployment_id: Option<String>,
    stage: Stage,
    claims: Option<String>,
}

/// A refused login initiation (an unknown issuer, a pending platform...).
pub async fn login_refused(
    tool: &Tool,
    client: Option<IpAddr>,
    issuer: Option<&str>,
    client_id: Option<&str>,
    deployment_id: Option<&str>,
    err: &LaunchError,
) {
    let issuer = issuer.unwrap_or_default().trim().to_string();
    let platform_id = platform_of(tool, &issuer, client_id).await;
    write(
        tool,
        client,
        err,
        OwnedAttempt {
            platform_id,
            issuer,
            client_id: client_id.map(str::to_string),
            deployment_id: deployment_id.map(str::to_string),
            stage: Stage::Login,
            claims: None,
        },
    )
    .await;
}

/// A refused launch: the claims are read from the token's payload; the
/// platform from the issuer and audience, or else from the login state.
pub async fn launch_refused(
    tool: &Tool,
    client: Option<IpAddr>,
    id_token: &str,
    state: &str,
    err: &LaunchError,
) {
    let claims = unverified_payload(id_token);
    let issuer = claims
        .as_ref()
        .and_then(|c| text_claim(c, "iss"))
        .unwrap_or_default();
    let client_id = claims
        .as_ref()
        .and_then(|c| text_claim(c, "azp").or_else(|| text_claim(c, "aud")));
    let mut platform_id = platform_of(tool, &issuer, client_id.as_deref()).await;
    if platform_id.is_none() && !state.is_empty() && state.len() <= 100 {
        let hash = hash_secret(state);
        platform_id = tool
            .db
            .read(move |conn| login_states::find(conn, &hash))
            .await
            .ok()
            .flatten()
            .map(|record| PlatformId(record.platform_id));
    }
    write(
        tool,
        client,
        err,
        OwnedAttempt {
            platform_id,
            issuer,
            client_id,
            deployment_id: claims.as_ref().and_then(|c| text_claim(c, DEPLOYMENT_ID)),
            stage: Stage::Launch,
            claims: claims.as_ref().map(claims_text),
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_read_from_the_payload_and_never_include_the_signature() {
        let payload = crate::crypto::b64url(br#"{"iss":"https://lms.example.edu","aud":["c1"]}"#);
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.SIGNATURE");
        let claims = unverified_payload(&token).unwrap();
        assert_eq!(text_claim(&claims, "aud").as_deref(), Some("c1"));
        let stored = claims_text(&claims);
        assert!(!stored.contains("SIGNATURE"));
        assert!(readable_claims(&stored).contains("\n  \"aud\": [\n"));
        assert!(unverified_payload("not a token").is_none());
    }

    #[test]
    fn long_claims_are_cut() {
        let claims = serde_json::json!({"custom": "é".repeat(20_000)});
        let text = claims_text(&claims);
        assert!(text.len() < LARGEST_CLAIMS + 100);
        assert!(text.ends_with("bytes)"));
    }
}

/// At most this many attempts are kept (and listed) per platform.
pub const KEPT_PER_PLATFORM: i64 = launch_attempts::KEEP_PER_PLATFORM;

/// At most this many attempts are listed for all platforms together.
const LISTED_FOR_ALL: i64 = 200;

/// The newest attempts in `scope`, and the platforms (to name them).
pub async fn recent(
    tool: &Tool,
    scope: AttemptScope,
) -> Result<(Vec<LaunchAttempt>, Vec<Platform>), Fault> {
    let limit = match scope {
        AttemptScope::All => LISTED_FOR_ALL,
        _ => launch_attempts::KEEP_PER_PLATFORM,
    };
    Ok(tool
        .db
        .read(move |conn| {
            Ok((
                launch_attempts::recent(conn, scope, limit)?,
                crate::store::platforms::list(conn)?,
            ))
        })
        .await?)
}
