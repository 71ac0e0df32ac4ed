//! Launch diagnostics: the last launches and refusals, with the failed
//! check, what to fix, and the claims that came.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{AdminSession, Denied, failed, platform_id, readable_time};
use crate::domain::diagnostics::{AttemptScope, LaunchAttempt};
use crate::domain::platform::Platform;
use crate::service::{Tool, diagnostics};
use crate::web::render::{ASSET_VERSION, capitalised, html};

struct AttemptView {
    when: String,
    platform_id: Option<i64>,
    platform: String,
    issuer: String,
    client_id: String,
    deployment_id: String,
    stage: &'static str,
    outcome: &'static str,
    code: String,
    reason: String,
    hint: String,
    claims: String,
}

impl AttemptView {
    fn of(attempt: LaunchAttempt, platforms: &[Platform]) -> AttemptView {
        let (reason, hint) = attempt.reason_and_hint();
        let (reason, hint) = (capitalised(reason), hint.to_string());
        AttemptView {
            when: readable_time(attempt.created_at),
            platform: match attempt.platform_id {
                Some(id) => platforms
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| format!("platform {}", id.0)),
                None => "Unknown issuer".to_string(),
            },
            platform_id: attempt.platform_id.map(|id| id.0),
            outcome: if attempt.succeeded() { "ok" } else { "failed" },
            stage: attempt.stage.as_str(),
            reason,
            hint,
            issuer: attempt.issuer,
            client_id: attempt.client_id.unwrap_or_default(),
            deployment_id: attempt.deployment_id.unwrap_or_default(),
            code: attempt.error_code.unwrap_or_default(),
            claims: attempt
                .claims
                .as_deref()
                .map(diagnostics::readable_claims)
                .unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/diagnostics.html")]
struct DiagnosticsPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    attempts: Vec<AttemptView>,
    /// The platform filter's options: value, label, selected.
    filters: Vec<(String, String, bool)>,
    days: i64,
    keep: i64,
}

#[derive(Deserialize)]
pub struct DiagnosticsQuery {
    platform: Option<String>,
}

/// The filter's choices: every platform, all, and unknown issuers.
fn filters(platforms: &[Platform], wanted: &str) -> Vec<(String, String, bool)> {
    let mut filters = vec![(
        String::new(),
        "All platforms".to_string(),
        wanted.is_empty(),
    )];
    for p in platforms {
        let id = p.id.0.to_string();
        let selected = wanted == id;
        filters.push((id, p.name.clone(), selected));
    }
    filters.push((
        "unknown".into(),
        "Unknown issuers".into(),
        wanted == "unknown",
    ));
    filters
}

pub async fn page(
    tool: web::Data<Tool>,
    session: AdminSession,
    query: web::Query<DiagnosticsQuery>,
) -> Result<HttpResponse, Denied> {
    let wanted = query.platform.as_deref().unwrap_or("");
    let scope = match wanted {
        "" => AttemptScope::All,
        "unknown" => AttemptScope::UnknownIssuers,
        id => AttemptScope::Platform(platform_id(id)?),
    };
    let (attempts, platforms) = diagnostics::recent(&tool, scope)
        .await
        .map_err(failed(&tool))?;
    Ok(html(
        StatusCode::OK,
        &DiagnosticsPage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "diagnostics",
            filters: filters(&platforms, wanted),
            attempts: attempts
                .into_iter()
                .map(|a| AttemptView::of(a, &platforms))
                .collect(),
            days: tool.settings.admin.diagnostics_kept.whole_days(),
            keep: diagnostics::KEPT_PER_PLATFORM,
        },
    ))
}
