//! The guest-access part of the JSON API (`/api/media/{id}/guest-access`
//! and `/guest-links`, README.md "What a launch shows"): the switch, links,
//! and who came in (JSON or CSV). Scripts and the page's modal call these
//! routes, so their paths and JSON names stay stable.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::json_body;
use super::render::rfc3339;
use super::session::ApiSession;
use crate::domain::field::{Field, FieldError};
use crate::domain::guest_access::{GuestLink, MAX_LINKS, Visit};
use crate::service::Tool;
use crate::service::guest_links::MOST_VISITS_PER_PAGE;
use crate::service::guest_links::{self, GuestAccess, LinkRequest, LinkView, ManagedItem};

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

/// A page of visits; `next` is the cursor of the following page (`?after=`).
#[derive(Serialize)]
struct VisitsJson<'a> {
    visits: Vec<VisitJson<'a>>,
    next: Option<String>,
}

/// Read as text, so a malformed value is answered in JSON naming it.
#[derive(Deserialize)]
pub struct VisitsQuery {
    format: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

/// Visits per JSON page unless `limit` says otherwise.
const VISITS_PER_PAGE: i64 = 100;

/// The item, if the session may manage its guest access; called before a
/// body is read, so a learner's malformed body is a 403, not a 400.
async fn managed(tool: &Tool, api: &ApiSession, id: &str) -> Result<ManagedItem, ApiError> {
    Ok(guest_links::manage(tool, &api.session, id).await?)
}

pub async fn get(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let item = managed(&tool, &api, &id).await?;
    let access = guest_links::get(&tool, &item).await?;
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
    let body = json_body::object(payload).await?;
    let enabled = body.required_bool(
        Field::Enabled,
        "Send {\"enabled\": true} or {\"enabled\": false}.",
    )?;
    let access = guest_links::set_enabled(&tool, &item, enabled).await?;
    Ok(no_store(HttpResponse::Ok()).json(access_json(&access)))
}

/// POST `{"name", "click_limit", "duration_days"}`.
pub async fn create_link(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let item = managed(&tool, &api, &id).await?;
    let body = json_body::object(payload).await?;
    let request = LinkRequest {
        name: body.optional_text(Field::Name)?.map(str::to_string),
        click_limit: body.number(Field::ClickLimit),
        duration_days: body.number(Field::DurationDays),
    };
    let link = guest_links::create_link(&tool, &item, request).await?;
    Ok(no_store(HttpResponse::Created()).json(LinkJson::of(&link)))
}

pub async fn delete_link(
    tool: web::Data<Tool>,
    api: ApiSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, link_id) = path.into_inner();
    let item = managed(&tool, &api, &id).await?;
    guest_links::delete_link(&tool, &item, &link_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The guests who came in through a link: a page of them as JSON (`?after=`
/// and `?limit=` page through), or all of them as a CSV download, streamed
/// page by page so a link with many guests never sits whole in memory.
pub async fn visits(
    tool: web::Data<Tool>,
    api: ApiSession,
    path: web::Path<(String, String)>,
    query: web::Query<VisitsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, link_id) = path.into_inner();
    let item = managed(&tool, &api, &id).await?;
    let link = guest_links::visited_link(&tool, &item, &link_id).await?;
    let number = |field: Field, raw: Option<&str>| match raw {
        None => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .map(Some)
            .map_err(|_| FieldError::new(field, format!("{field} must be a whole number."))),
    };
    match query.format.as_deref() {
        None | Some("json") => {
            let after = number(Field::After, query.after.as_deref())?;
            let limit = number(Field::Limit, query.limit.as_deref())?.unwrap_or(VISITS_PER_PAGE);
            if !(1..=MOST_VISITS_PER_PAGE).contains(&limit) {
                return Err(FieldError::new(
                    Field::Limit,
                    format!("limit must be from 1 to {MOST_VISITS_PER_PAGE}."),
                )
                .into());
            }
            let page = guest_links::visits_page(&tool, &link, after, limit).await?;
            Ok(no_store(HttpResponse::Ok()).json(VisitsJson {
                visits: page
                    .visits
                    .iter()
                    .map(|v| VisitJson {
                        name: &v.name,
                        email: &v.email,
                        at: rfc3339(v.at),
                    })
                    .collect(),
                next: page.next.map(|n| n.to_string()),
            }))
        }
        Some("csv") => Ok(no_store(HttpResponse::Ok())
            .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"guests-{}.csv\"", link.id),
            ))
            .streaming(visits_csv_stream(tool.into_inner(), link))),
        Some(_) => Err(FieldError::new(Field::Format, "format must be json or csv.").into()),
    }
}

/// The CSV of a link's visits: the header line, then one chunk per page.
fn visits_csv_stream(
    tool: std::sync::Arc<Tool>,
    link: GuestLink,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    use futures_util::StreamExt;
    let header = web::Bytes::from_static(CSV_HEADER.as_bytes());
    // The next page starts after this visit; None before the first page, and
    // Some(None) once the last was read.
    let rows = futures_util::stream::unfold(Some(None), move |after: Option<Option<i64>>| {
        let (tool, link) = (tool.clone(), link.clone());
        async move {
            let after = after?;
            match guest_links::visits_page(&tool, &link, after, MOST_VISITS_PER_PAGE).await {
                Ok(page) if page.visits.is_empty() => None,
                Ok(page) => Some((
                    Ok(web::Bytes::from(visits_csv_rows(&page.visits))),
                    page.next.map(Some),
                )),
                Err(err) => {
                    tracing::warn!(error = %err, "the visits CSV broke off");
                    Some((
                        Err(std::io::Error::other("the visits could not be read")),
                        None,
                    ))
                }
            }
        }
    });
    futures_util::stream::once(async move { Ok(header) }).chain(rows)
}

fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    // Link URLs and guests' emails are secrets and personal data.
    builder.insert_header((CACHE_CONTROL, "no-store"));
    builder
}

const CSV_HEADER: &str = "name,email,at\r\n";

/// `name,email,at` rows, every cell quoted and defused (see [`csv_cell`]).
pub fn visits_csv_rows(visits: &[Visit]) -> String {
    let mut out = String::new();
    for visit in visits {
        let at = rfc3339(visit.at);
        let cells = [csv_cell(&visit.name), csv_cell(&visit.email), csv_cell(&at)];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Characters a spreadsheet may read as the start of a formula.
fn starts_formula(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// Characters after which a spreadsheet may start a new cell: whichever
/// separator it assumes (comma, semicolon, tab, pipe) or a line break.
fn separates_cells(c: char) -> bool {
    matches!(c, ',' | ';' | '\t' | '|' | '\r' | '\n')
}

/// One CSV cell: always quoted, and a `'` put before anything that could
/// start a formula wherever a spreadsheet might see a cell begin: at the
/// start, and after any separator it might assume (a guest's name
/// `x;=HYPERLINK(...)` is two cells to a spreadsheet splitting on `;`).
/// Spaces do not protect a formula, so they are looked past.
pub fn csv_cell(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    out.push('"');
    let mut cell_start = true;
    for c in value.chars() {
        if cell_start && starts_formula(c) {
            out.push('\'');
        }
        if c == '"' {
            out.push('"');
        }
        out.push(c);
        cell_start = separates_cells(c) || (cell_start && c == ' ');
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let visits = [Visit {
            id: 1,
            name: "=HYPERLINK(\"x\")".into(),
            email: "a,b@example.edu".into(),
            at: crate::domain::time::Timestamp::from_unix(0),
        }];
        assert_eq!(
            visits_csv_rows(&visits),
            "\"'=HYPERLINK(\"\"x\"\")\",\"a,b@example.edu\",\"1970-01-01T00:00:00Z\"\r\n"
        );
    }

    #[test]
    fn a_formula_is_defused_after_any_separator_a_spreadsheet_might_assume() {
        assert_eq!(csv_cell("x;=1+1"), "\"x;'=1+1\"");
        assert_eq!(csv_cell("a, +cmd"), "\"a, '+cmd\"");
        assert_eq!(csv_cell("a|@SUM(1)"), "\"a|'@SUM(1)\"");
        assert_eq!(csv_cell("  -2"), "\"  '-2\"");
        assert_eq!(csv_cell("\t=1"), "\"'\t'=1\"");
        assert_eq!(csv_cell("a-b@example.edu"), "\"a-b@example.edu\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn an_empty_cell_is_an_empty_quoted_cell() {
        assert_eq!(csv_cell(""), "\"\"");
    }

    #[test]
    fn a_formula_after_a_line_break_is_defused() {
        assert_eq!(csv_cell("Ada\n=1+1"), "\"Ada\n'=1+1\"");
        assert_eq!(csv_cell("\r@x"), "\"'\r'@x\"");
    }

    #[test]
    fn signs_inside_a_cell_are_left_alone() {
        assert_eq!(csv_cell("Jean-Luc +1"), "\"Jean-Luc +1\"");
        assert_eq!(csv_cell("a=b"), "\"a=b\"");
    }

    #[test]
    fn each_visit_is_one_crlf_terminated_row_in_order() {
        let visit = |id, name: &str| Visit {
            id,
            name: name.into(),
            email: format!("{name}@example.edu"),
            at: crate::domain::time::Timestamp::from_unix(60 * id),
        };
        assert_eq!(visits_csv_rows(&[]), "");
        assert_eq!(
            visits_csv_rows(&[visit(1, "ada"), visit(2, "bob")]),
            "\"ada\",\"ada@example.edu\",\"1970-01-01T00:01:00Z\"\r\n\"bob\",\"bob@example.edu\",\"1970-01-01T00:02:00Z\"\r\n"
        );
    }
}
