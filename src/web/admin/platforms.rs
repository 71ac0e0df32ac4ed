//! Platforms: the list, adding one by hand, and each platform's page with
//! its details, modules, deployments and deployment policy, activation and
//! removal.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{AdminForm, AdminSession, Denied, NoFields, failed, platform_id, see_other};
use crate::domain::field::{Field, FieldError};
use crate::domain::ids::PlatformId;
use crate::domain::platform::{
    Deployment, DeploymentPolicy, DeploymentsNeeded, Lms, Modules, NewPlatform, Platform,
    PlatformFields as Fields,
};
use crate::service::Tool;
use crate::service::failure::Failure;
use crate::service::failure::Kind;
use crate::service::platforms::{self, Details, PlatformError};
use crate::web::error::{PageError, status_of};
use crate::web::render::{ASSET_VERSION, html, long_date};

/// One platform as the list shows it.
struct PlatformRow {
    id: i64,
    name: String,
    lms: &'static str,
    issuer: String,
    client_id: String,
    deployments: String,
    policy: &'static str,
    pending: bool,
}

impl From<&Platform> for PlatformRow {
    fn from(p: &Platform) -> Self {
        PlatformRow {
            id: p.id.0,
            name: p.name.clone(),
            lms: p.lms.display_name(),
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            deployments: p.deployment_ids.join(", "),
            policy: policy_label(p.deployment_policy),
            pending: p.pending,
        }
    }
}

fn policy_label(policy: DeploymentPolicy) -> &'static str {
    match policy {
        DeploymentPolicy::Strict => "Listed deployments only",
        DeploymentPolicy::RegisterOnFirstLaunch => "Record new deployments on first launch",
    }
}

#[derive(Template)]
#[template(path = "admin/platforms.html")]
struct PlatformsPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    registration_url: String,
    platforms: Vec<PlatformRow>,
    pending: usize,
}

pub async fn list(tool: web::Data<Tool>, session: AdminSession) -> Result<HttpResponse, Denied> {
    let base = tool.settings.server.public_url.as_str();
    let listed = platforms::list(&tool).await.map_err(failed(&tool))?;
    let rows: Vec<PlatformRow> = listed.iter().map(PlatformRow::from).collect();
    Ok(html(
        StatusCode::OK,
        &PlatformsPage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "platforms",
            registration_url: format!("{base}/lti/register"),
            pending: rows.iter().filter(|r| r.pending).count(),
            platforms: rows,
        },
    ))
}

/// The add form's values and its one error.
#[derive(Default, Deserialize)]
pub struct PlatformFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    lms: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    auth_url: String,
    #[serde(default)]
    jwks_url: String,
    #[serde(default)]
    token_url: String,
    #[serde(default)]
    deployment_ids: String,
}

#[derive(Template)]
#[template(path = "admin/platform_new.html")]
struct NewPlatformPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    form: &'a PlatformFields,
    lms_options: Vec<(&'static str, &'static str)>,
    error_field: &'a str,
    error: &'a str,
}

fn lms_options() -> Vec<(&'static str, &'static str)> {
    Lms::ALL
        .iter()
        .map(|l| (l.as_str(), l.display_name()))
        .collect()
}

pub async fn new_form(session: AdminSession) -> HttpResponse {
    html(
        StatusCode::OK,
        &NewPlatformPage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "platforms",
            form: &PlatformFields::default(),
            lms_options: lms_options(),
            error_field: "",
            error: "",
        },
    )
}

/// The form's name of a field, and the label it shows.
fn form_field(field: Field) -> (&'static str, &'static str) {
    match field {
        Field::PlatformName => ("name", "Name"),
        Field::Lms => ("lms", "LMS"),
        Field::Issuer => ("issuer", "Issuer"),
        Field::ClientId => ("client_id", "Client ID"),
        Field::AuthUrl => ("auth_url", "Auth URL"),
        Field::JwksUrl => ("jwks_url", "JWKS URL"),
        Field::TokenUrl => ("token_url", "Token URL"),
        _ => ("deployment_ids", "Deployment IDs"),
    }
}

/// A refused field as the form shows it: the field's name, and the problem
/// after the field's label.
fn field_error(err: &FieldError) -> (&'static str, String) {
    let (name, label) = form_field(err.field);
    (name, format!("{label}: {}", err.problem))
}

impl PlatformFields {
    /// The platform the form describes, by the rules of `platform add`.
    fn parse(&self) -> Result<NewPlatform, FieldError> {
        let deployments: Vec<String> = self
            .deployment_ids
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        NewPlatform::parse(
            &Fields {
                name: &self.name,
                lms: &self.lms,
                issuer: &self.issuer,
                client_id: &self.client_id,
                auth_url: &self.auth_url,
                jwks_url: &self.jwks_url,
                token_url: Some(&self.token_url),
                deployment_ids: &deployments,
            },
            DeploymentsNeeded::AtLeastOne,
        )
    }
}

pub async fn add(
    tool: web::Data<Tool>,
    form: AdminForm<PlatformFields>,
) -> Result<HttpResponse, Denied> {
    let fields = &form.fields;
    let again = |status: StatusCode, field: &str, error: &str| {
        html(
            status,
            &NewPlatformPage {
                version: ASSET_VERSION,
                csrf: &form.session.csrf,
                section: "platforms",
                form: fields,
                lms_options: lms_options(),
                error_field: field,
                error,
            },
        )
    };
    let new = match fields.parse() {
        Ok(new) => new,
        Err(err) => {
            let (field, problem) = field_error(&err);
            return Ok(again(status_of(err.kind()), field, &problem));
        }
    };
    match platforms::add(&tool, new).await {
        Ok(id) => Ok(see_other(&format!("/admin/platforms/{}", id.0))),
        Err(err @ PlatformError::AlreadyRegistered { .. }) => Ok(again(
            status_of(err.kind()),
            "client_id",
            "A platform with this issuer and client id is registered already.",
        )),
        Err(other) => Err(failed(&tool)(other)),
    }
}

struct DeploymentView {
    id: String,
    added: String,
    added_by: &'static str,
}

#[derive(Template)]
#[template(path = "admin/platform.html")]
struct PlatformPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    p: &'a Platform,
    lms_name: &'a str,
    modules: Modules,
    policy: &'a str,
    deployments: Vec<DeploymentView>,
    error_field: &'a str,
    error: &'a str,
    form_name: &'a str,
    form_auth_url: &'a str,
    form_jwks_url: &'a str,
    form_token_url: &'a str,
}

fn platform_view<'a>(
    session: &'a AdminSession,
    p: &'a Platform,
    deployments: &[Deployment],
    edit: Option<(&'a EditFields, &'a str, &'a str)>,
) -> PlatformPage<'a> {
    let (form_name, form_auth_url, form_jwks_url, form_token_url, error_field, error) = match edit {
        Some((f, field, error)) => (
            f.name.as_str(),
            f.auth_url.as_str(),
            f.jwks_url.as_str(),
            f.token_url.as_str(),
            field,
            error,
        ),
        None => (
            p.name.as_str(),
            p.auth_url.as_str(),
            p.jwks_url.as_str(),
            p.token_url.as_deref().unwrap_or(""),
            "",
            "",
        ),
    };
    PlatformPage {
        version: ASSET_VERSION,
        csrf: &session.csrf,
        section: "platforms",
        p,
        lms_name: p.lms.display_name(),
        modules: p.modules,
        policy: p.deployment_policy.as_str(),
        deployments: deployments
            .iter()
            .map(|d| DeploymentView {
                id: d.id.clone(),
                added: long_date(d.created_at),
                added_by: if d.added_by_launch { "launch" } else { "admin" },
            })
            .collect(),
        error_field,
        error,
        form_name,
        form_auth_url,
        form_jwks_url,
        form_token_url,
    }
}

pub async fn show(
    tool: web::Data<Tool>,
    session: AdminSession,
    path: web::Path<String>,
) -> Result<HttpResponse, Denied> {
    let (platform, deployments) = platforms::platform(&tool, platform_id(&path)?)
        .await
        .map_err(failed(&tool))?;
    Ok(html(
        StatusCode::OK,
        &platform_view(&session, &platform, &deployments, None),
    ))
}

#[derive(Deserialize)]
pub struct EditFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    auth_url: String,
    #[serde(default)]
    jwks_url: String,
    #[serde(default)]
    token_url: String,
}

impl EditFields {
    fn parse(&self, p: &Platform) -> Result<Details, FieldError> {
        Details::parse(
            p,
            &Fields {
                name: &self.name,
                auth_url: &self.auth_url,
                jwks_url: &self.jwks_url,
                token_url: Some(&self.token_url),
                ..Fields::default()
            },
        )
    }
}

pub async fn edit(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<EditFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    let (platform, deployments) = platforms::platform(&tool, id)
        .await
        .map_err(failed(&tool))?;
    let details = match form.fields.parse(&platform) {
        Ok(details) => details,
        Err(err) => {
            let (field, problem) = field_error(&err);
            return Ok(html(
                status_of(err.kind()),
                &platform_view(
                    &form.session,
                    &platform,
                    &deployments,
                    Some((&form.fields, field, &problem)),
                ),
            ));
        }
    };
    platforms::edit(&tool, id, details)
        .await
        .map_err(failed(&tool))?;
    Ok(back_to(id))
}

fn back_to(id: PlatformId) -> HttpResponse {
    see_other(&format!("/admin/platforms/{}", id.0))
}

#[derive(Deserialize)]
pub struct ModuleFields {
    invite_to_media: Option<String>,
    media_page: Option<String>,
}

pub async fn set_modules(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<ModuleFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    // An unticked checkbox is not sent: absent means off.
    let modules = Modules {
        invite_to_media: form.fields.invite_to_media.is_some(),
        media_page: form.fields.media_page.is_some(),
    };
    platforms::set_modules(&tool, id, modules)
        .await
        .map_err(failed(&tool))?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub struct PolicyFields {
    #[serde(default)]
    policy: String,
}

pub async fn set_deployment_policy(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<PolicyFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    let policy = DeploymentPolicy::parse(&form.fields.policy).map_err(failed(&tool))?;
    platforms::set_deployment_policy(&tool, id, policy)
        .await
        .map_err(failed(&tool))?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub struct DeploymentFields {
    #[serde(default)]
    deployment_id: String,
}

pub async fn add_deployment(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<DeploymentFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    platforms::add_deployments(&tool, id, std::slice::from_ref(&form.fields.deployment_id))
        .await
        .map_err(failed(&tool))?;
    Ok(back_to(id))
}

pub async fn activate(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    _form: AdminForm<NoFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    platforms::activate(&tool, id)
        .await
        .map_err(failed(&tool))?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub struct RemoveFields {
    force: Option<String>,
}

pub async fn remove(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<RemoveFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    match platforms::remove(&tool, id, form.fields.force.is_some()).await {
        Ok(_) => Ok(see_other("/admin")),
        Err(PlatformError::HoldsMedia { count, .. }) => Err(Denied::Page(PageError::new(
            Kind::Conflict,
            "platform_holds_media",
            "This platform's courses hold media",
            &format!(
                "Platform {} holds {count} media item(s). Tick “Also delete its media” to remove them with it.",
                id.0
            ),
        ))),
        Err(other) => Err(failed(&tool)(other)),
    }
}
