//! The demo LMS, mounted only by `guestlink demo`: one platform per flavour
//! (Moodle, Canvas, Sakai, Brightspace) with its own key, authorization
//! endpoint and JWKS under `/demo`. Every demo launch goes through the real
//! `/lti/login` and `/lti/launch`; nothing is bypassed.

pub mod claims;
mod content;
mod deep_link;

use std::path::Path;

use actix_web::http::StatusCode;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::clock::Clock;
use crate::domain::platform::{DeploymentsNeeded, Lms, NewPlatform, PlatformFields};
use crate::lti::keys::{JwkSet, ToolKey};
use crate::service::Tool;
use crate::service::failure::Fault;
use crate::store::platforms;
use crate::web::error::PageError;
use crate::web::render::{ASSET_VERSION, html};
use claims::{LaunchClaims, Role};

pub const FLAVOURS: [Lms; 4] = [Lms::Moodle, Lms::Canvas, Lms::Sakai, Lms::Brightspace];

/// One demo platform: what it registered in the tool and the key it signs with.
#[derive(Clone, Debug)]
pub struct DemoPlatform {
    pub lms: Lms,
    pub issuer: String,
    pub client_id: String,
    pub deployment_id: String,
    pub key: ToolKey,
}

#[derive(Clone, Debug)]
pub struct DemoLms {
    pub base: String,
    pub platforms: Vec<DemoPlatform>,
}

/// Client and deployment ids in each LMS's own shape (each LMS's "Issuer,
/// ids and endpoints" in docs/lms-platforms.md); the tests' platforms use
/// them too.
pub fn ids(lms: Lms) -> (&'static str, &'static str) {
    match lms {
        Lms::Moodle => ("k3JpQ8sLm2Xv7Ta", "4"),
        Lms::Canvas => (
            "10000000000042",
            "327:a17deed8f179120345abd3e8b6e22a3d8ff68a63",
        ),
        Lms::Sakai => ("0c8f5a52-4a6b-4b0e-9d2f-7b1d1a9e2c33", "1"),
        Lms::Brightspace | Lms::Generic => (
            "811b8625-b463-4a94-b745-ce3f6408ec83",
            "9806AD80-2B03-4637-8032-E67553DD8B0F",
        ),
    }
}

impl DemoLms {
    /// Registers the demo platforms in the tool (once), gives their courses
    /// sample media, and loads or creates their signing keys in the data
    /// directory.
    pub async fn prepare(tool: &Tool) -> Result<DemoLms, Fault> {
        let base = tool.settings.server.public_url.as_str().to_string();
        let mut list = Vec::new();
        for lms in FLAVOURS {
            let issuer = format!("{base}/demo/{lms}");
            let (client_id, deployment_id) = ids(lms);
            let new = NewPlatform::parse(
                &PlatformFields {
                    name: &format!("Demo {}", lms.display_name()),
                    lms: lms.as_str(),
                    issuer: &issuer,
                    client_id,
                    auth_url: &format!("{issuer}/auth"),
                    jwks_url: &format!("{issuer}/jwks"),
                    token_url: None,
                    deployment_ids: &[deployment_id.to_string()],
                },
                DeploymentsNeeded::AtLeastOne,
            )
            .map_err(|e| Fault::Internal(anyhow::anyhow!("demo platform {e}")))?;
            let (now, media_dir) = (tool.clock.now(), crate::service::media::media_dir(tool));
            tool.db
                .write(move |conn| {
                    let known = platforms::find_by_issuer(conn, &new.issuer)?
                        .iter()
                        .any(|p| p.client_id == new.client_id);
                    if !known {
                        platforms::insert(conn, &new, now)?;
                    }
                    content::seed_course(conn, &media_dir, &new.issuer, &new.client_id, lms, now)
                })
                .await?;
            let key = load_or_create_key(&tool.settings.data_dir.join("demo-keys"), lms)?;
            list.push(DemoPlatform {
                lms,
                issuer,
                client_id: client_id.to_string(),
                deployment_id: deployment_id.to_string(),
                key,
            });
        }
        Ok(DemoLms {
            base,
            platforms: list,
        })
    }

    fn platform(&self, lms: &str) -> Option<&DemoPlatform> {
        self.platforms.iter().find(|p| p.lms.as_str() == lms)
    }
}

fn load_or_create_key(dir: &Path, lms: Lms) -> Result<ToolKey, Fault> {
    let internal = |e: String| Fault::Internal(anyhow::anyhow!(e));
    let path = dir.join(format!("{lms}.key"));
    if let Ok(text) = std::fs::read_to_string(&path) {
        let der = crate::crypto::b64url_decode(text.trim())
            .ok_or_else(|| internal(format!("{} is damaged", path.display())))?;
        return ToolKey::from_pkcs8(format!("demo-{lms}"), &der)
            .map_err(|e| internal(e.to_string()));
    }
    let generated = ToolKey::generate().map_err(|e| internal(e.to_string()))?;
    let key = ToolKey {
        kid: format!("demo-{lms}"),
        ..generated
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| internal(format!("cannot create {}: {e}", dir.display())))?;
    std::fs::write(&path, &key.private_pkcs8_b64)
        .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
    Ok(key)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/demo", web::get().to(demo_index))
        .route("/demo/outbox", web::get().to(outbox))
        .route("/demo/{lms}/auth", web::get().to(authorize_get))
        .route("/demo/{lms}/auth", web::post().to(authorize_post))
        .route("/demo/{lms}/jwks", web::get().to(jwks))
        .route(
            "/demo/{lms}/deep-link-return",
            web::post().to(deep_link::returned),
        );
}

#[derive(Template)]
#[template(path = "demo/outbox.html")]
struct OutboxPage<'a> {
    version: &'a str,
    messages: Vec<(crate::service::mail::Caught, String)>,
}

/// The demo's outbox: the invitation email the tool would have sent, so
/// the invite flow can be tried with no mail server.
async fn outbox(tool: web::Data<Tool>) -> HttpResponse {
    let messages = tool
        .mailer
        .caught()
        .into_iter()
        .map(|m| {
            let at = crate::service::invites::long_time(m.at);
            (m, at)
        })
        .collect();
    let mut response = html(
        StatusCode::OK,
        &OutboxPage {
            version: ASSET_VERSION,
            messages,
        },
    );
    response.headers_mut().insert(
        CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    response
}

struct DemoCard {
    lms_name: &'static str,
    buttons: Vec<LaunchButton>,
}

struct LaunchButton {
    role: &'static str,
    /// What the demo LMS is asked to send: `LMS-ROLE` for a resource link,
    /// `LMS-deeplink` for a deep-linking request.
    message_hint: String,
    label: &'static str,
    method: &'static str,
    issuer: String,
    client_id: String,
    deployment_id: String,
}

#[derive(Template)]
#[template(path = "demo/index.html")]
struct DemoIndex<'a> {
    version: &'a str,
    target_link_uri: String,
    cards: Vec<DemoCard>,
}

async fn demo_index(demo: web::Data<DemoLms>) -> HttpResponse {
    let mut cards = Vec::new();
    for p in &demo.platforms {
        let mut buttons = Vec::new();
        for (role, hint, label) in [
            (
                "instructor",
                role_hint(p.lms, "instructor"),
                "Launch as instructor",
            ),
            ("student", role_hint(p.lms, "student"), "Launch as student"),
            (
                "instructor",
                format!("{}-{}", p.lms, deep_link::HINT),
                "Add content (deep linking)",
            ),
        ] {
            buttons.push(LaunchButton {
                role,
                message_hint: hint,
                label,
                // Sakai starts logins with a GET redirect, the others with a form POST.
                method: if p.lms == Lms::Sakai { "get" } else { "post" },
                issuer: p.issuer.clone(),
                client_id: p.client_id.clone(),
                deployment_id: p.deployment_id.clone(),
            });
        }
        cards.push(DemoCard {
            lms_name: p.lms.display_name(),
            buttons,
        });
    }
    html(
        StatusCode::OK,
        &DemoIndex {
            version: ASSET_VERSION,
            target_link_uri: format!("{}/lti/launch", demo.base),
            cards,
        },
    )
}

fn role_hint(lms: Lms, role: &str) -> String {
    format!("{lms}-{role}")
}

#[derive(Debug, Deserialize)]
struct AuthParams {
    client_id: Option<String>,
    lti_message_hint: Option<String>,
    redirect_uri: Option<String>,
    login_hint: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    response_type: Option<String>,
    response_mode: Option<String>,
    scope: Option<String>,
}

#[derive(Template)]
#[template(path = "demo/autopost.html")]
struct AutoPost<'a> {
    version: &'a str,
    lms_name: &'a str,
    action: &'a str,
    id_token: &'a str,
    state: &'a str,
}

async fn authorize_get(
    demo: web::Data<DemoLms>,
    lms: web::Path<String>,
    q: web::Query<AuthParams>,
) -> Result<HttpResponse, PageError> {
    authorize(&demo, &lms, q.into_inner(), &Clock::system())
}

async fn authorize_post(
    demo: web::Data<DemoLms>,
    lms: web::Path<String>,
    f: web::Form<AuthParams>,
) -> Result<HttpResponse, PageError> {
    authorize(&demo, &lms, f.into_inner(), &Clock::system())
}

fn demo_error(message: &str) -> PageError {
    PageError::new(
        crate::service::failure::Kind::Malformed,
        "demo_auth_refused",
        "The demo LMS refused this authentication request",
        message,
    )
}

/// The platform's OIDC authorization endpoint: checks the request as an LMS
/// would, signs an id_token for the demo user and posts it to the tool.
fn authorize(
    demo: &DemoLms,
    lms: &str,
    q: AuthParams,
    clock: &Clock,
) -> Result<HttpResponse, PageError> {
    let platform = demo.platform(lms).ok_or_else(PageError::not_found)?;
    let expected_redirect = format!("{}/lti/launch", demo.base);
    if q.scope.as_deref() != Some("openid")
        || q.response_type.as_deref() != Some("id_token")
        || q.response_mode.as_deref() != Some("form_post")
    {
        return Err(demo_error(
            "scope, response_type or response_mode is wrong.",
        ));
    }
    if q.client_id.as_deref() != Some(platform.client_id.as_str()) {
        return Err(demo_error("The client_id is not this tool's."));
    }
    if q.redirect_uri.as_deref() != Some(expected_redirect.as_str()) {
        return Err(demo_error("The redirect_uri is not the registered one."));
    }
    let (Some(state), Some(nonce)) = (q.state.as_deref(), q.nonce.as_deref()) else {
        return Err(demo_error("state and nonce are required."));
    };
    let role = q
        .login_hint
        .as_deref()
        .and_then(Role::parse)
        .ok_or_else(|| demo_error("Unknown demo user."))?;
    let context_id = claims::course_context_id(platform.lms);
    let launch = LaunchClaims {
        lms: platform.lms,
        issuer: &platform.issuer,
        client_id: &platform.client_id,
        deployment_id: &platform.deployment_id,
        nonce,
        role,
        now: clock.now(),
        target_link_uri: &expected_redirect,
        context_id: &context_id,
    };
    let payload = match deep_link::Request::from_hint(q.lti_message_hint.as_deref()) {
        deep_link::Request::Picker => {
            claims::deep_linking(&launch, &deep_link::return_url(&demo.base, platform.lms))
        }
        deep_link::Request::Link { media_id } => {
            deep_link::link_launch(&launch, &demo.base, &media_id)
        }
        deep_link::Request::None => claims::resource_link(&launch),
    };
    let id_token = platform
        .key
        .sign(&payload)
        .map_err(|_| PageError::internal())?;
    Ok(html(
        StatusCode::OK,
        &AutoPost {
            version: ASSET_VERSION,
            lms_name: platform.lms.display_name(),
            action: &expected_redirect,
            id_token: &id_token,
            state,
        },
    ))
}

async fn jwks(demo: web::Data<DemoLms>, lms: web::Path<String>) -> Result<HttpResponse, PageError> {
    let platform = demo.platform(&lms).ok_or_else(PageError::not_found)?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .json(JwkSet {
            keys: vec![platform.key.jwk()],
        }))
}
