//! The tool's signing keys: current and retired, and rotation.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{AdminForm, AdminSession, Denied, NoFields, failed, readable_time, see_other};
use crate::service::Tool;
use crate::web::render::{ASSET_VERSION, html};

struct KeyView {
    kid: String,
    created: String,
    state: &'static str,
    retired: String,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    keys: Vec<KeyView>,
    grace_days: i64,
}

pub async fn page(tool: web::Data<Tool>, session: AdminSession) -> Result<HttpResponse, Denied> {
    let keys = crate::service::keys::summaries(&tool)
        .await
        .map_err(failed(&tool))?
        .into_iter()
        .map(|k| KeyView {
            kid: k.kid,
            created: readable_time(k.created_at),
            state: if k.retired_at.is_some() {
                "retired"
            } else {
                "current"
            },
            retired: k.retired_at.map(readable_time).unwrap_or_default(),
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        &KeysPage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "keys",
            keys,
            grace_days: tool.settings.lti.key_grace.whole_days(),
        },
    ))
}

pub async fn rotate(
    tool: web::Data<Tool>,
    _form: AdminForm<NoFields>,
) -> Result<HttpResponse, Denied> {
    crate::service::keys::rotate(&tool)
        .await
        .map_err(failed(&tool))?;
    Ok(see_other("/admin/keys"))
}
