//! The guest-access part of the JSON API (CONTRACT.md): the switch, links,
//! and who came in (JSON or CSV).

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ApiError;
use super::media_api::json_body;
use super::render::rfc3339;
use super::session::ApiSession;
use crate::domain::guest_access::{MAX_LINKS, NumberField};
use crate::service::guest_links::{self, GuestAccess, LinkRequest, LinkView, ManagedItem};
use crate::service::{ServiceError, Tool};
use crate::store::guest_links::Visit;

#[derive(Serialize)]
struct LinkJson<'a> {
    id: &'a str,
    name: &'a str,
    url: &'a str,
    created_at: String,
    expires_at: Option<String>,
    click_limit: Option<i64>,
    clicks: i64,
    status: &'static str,
}

impl<'a> LinkJson<'a> {
    fn of(view: &'a LinkView) -> LinkJson<'a> {
        LinkJson {
            id: &view.link.id,
            name: &view.link.name,
            url: &view.url,
            created_at: rfc3339(view.link.created_at),
            expires_at: view.link.expires_at.map(rfc3339),
            click_limit: view.link.click_limit,
            clicks: view.link.clicks,
            status: view.status.as_str(),
        }
    }
}

#[derive(Serialize)]
struct GuestAccessJson<'a> {
    enabled: bool,
    max_links: usize,
    supported: bool,
    links: Vec<LinkJson<'a>>,
}

fn access_json(access: &GuestAccess) -> GuestAccessJson<'_> {
    GuestAccessJson {
        enabled: access.enabled,
        max_links: MAX_LINKS,
        supported: access.supported,
        links: access.links.iter().map(LinkJson::of).collect(),
    }
}

#[derive(Serialize)]
struct VisitJson<'a> {
    name: &'a str,
    email: &'a str,
    at: String,
}

#[derive(Serialize)]
struct VisitsJson<'a> {
    visits: Vec<VisitJson<'a>>,
}

#[derive(Deserialize)]
pub struct VisitsQuery {
    format: Option<String>,
}

fn api_error(err: ServiceError) -> ApiError {
    ApiError::from_service(err)
}

fn invalid(field: &'static str, message: &str) -> ApiError {
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid",
        message: message.into(),
        field: Some(field),
    }
}

/// The item, if the session may manage its guest access; called before a
/// body is read, so a learner's malformed body is a 403, not a 400.
async fn managed(tool: &Tool, api: &ApiSession, id: &str) -> Result<ManagedItem, ApiError> {
    guest_links::manage(tool, &api.session, id)
        .await
        .map_err(api_error)
}

pub async fn get(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let item = managed(&tool, &api, &id).await?;
    let access = guest_links::get(&tool, &item).await.map_err(api_error)?;
    Ok(no_store(HttpResponse::Ok()).json(access_json(&access)))
}

/// PUT `{"enabled": bool}`.
pub async fn put(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let item = managed(&tool, &api, &id).await?;
    let body: serde_json::Map<String, Value> = json_body(payload).await?;
    let enabled = body
        .get("enabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            invalid(
                "enabled",
                "Send {\"enabled\": true} or {\"enabled\": false}.",
            )
        })?;
    let access = guest_links::set_enabled(&tool, &item, enabled)
        .await
        .map_err(api_error)?;
    Ok(no_store(HttpResponse::Ok()).json(access_json(&access)))
}

/// A JSON number field as the rules read it: null or missing is absent,
/// a whole number is one, anything else ("abc", 1.5) is not.
fn number_field(body: &serde_json::Map<String, Value>, name: &str) -> NumberField {
    match body.get(name) {
        None | Some(Value::Null) => NumberField::Absent,
        Some(Value::Number(n)) => n.as_i64().map_or(NumberField::NotWhole, NumberField::Whole),
        Some(_) => NumberField::NotWhole,
    }
}

/// POST `{"name", "click_limit", "duration_days"}`.
pub async fn create_link(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let item = managed(&tool, &api, &id).await?;
    let body: serde_json::Map<String, Value> = json_body(payload).await?;
    let name = match body.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => return Err(invalid("name", "The link name must be text.")),
    };
    let request = LinkRequest {
        name,
        click_limit: number_field(&body, "click_limit"),
        duration_days: number_field(&body, "duration_days"),
    };
    let link = guest_links::create_link(&tool, &item, request)
        .await
        .map_err(api_error)?;
    Ok(no_store(HttpResponse::Created()).json(LinkJson::of(&link)))
}

pub async fn delete_link(
    tool: web::Data<Tool>,
    api: ApiSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, link_id) = path.into_inner();
    let item = managed(&tool, &api, &id).await?;
    guest_links::delete_link(&tool, &item, &link_id)
        .await
        .map_err(api_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// The guests who came in through a link, as JSON or (`?format=csv`) a CSV
/// download.
pub async fn visits(
    tool: web::Data<Tool>,
    api: ApiSession,
    path: web::Path<(String, String)>,
    query: web::Query<VisitsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, link_id) = path.into_inner();
    let item = managed(&tool, &api, &id).await?;
    let (link, visits) = guest_links::visits(&tool, &item, &link_id)
        .await
        .map_err(api_error)?;
    match query.format.as_deref() {
        None | Some("json") => Ok(no_store(HttpResponse::Ok()).json(VisitsJson {
            visits: visits
                .iter()
                .map(|v| VisitJson {
                    name: &v.name,
                    email: &v.email,
                    at: rfc3339(v.at),
                })
                .collect(),
        })),
        Some("csv") => Ok(no_store(HttpResponse::Ok())
            .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"guests-{}.csv\"", link.id),
            ))
            .body(visits_csv(&visits))),
        Some(_) => Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid",
            message: "format must be json or csv.".into(),
            field: Some("format"),
        }),
    }
}

fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    // Link URLs and guests' emails are secrets and personal data.
    builder.insert_header((CACHE_CONTROL, "no-store"));
    builder
}

/// `name,email,at` rows. Cells are quoted when needed, and a cell a
/// spreadsheet would run as a formula (= + - @ at its start) gets a `'`.
pub fn visits_csv(visits: &[Visit]) -> String {
    let mut out = String::from("name,email,at\r\n");
    for visit in visits {
        let at = rfc3339(visit.at);
        let cells = [csv_cell(&visit.name), csv_cell(&visit.email), csv_cell(&at)];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let visits = [Visit {
            name: "=HYPERLINK(\"x\")".into(),
            email: "a,b@example.edu".into(),
            at: 0,
        }];
        assert_eq!(
            visits_csv(&visits),
            "name,email,at\r\n\"'=HYPERLINK(\"\"x\"\")\",\"a,b@example.edu\",1970-01-01T00:00:00Z\r\n"
        );
    }
}
