//! The registration side of an LMS, simulated for LTI Dynamic Registration
//! tests: one small HTTP server per flavour on 127.0.0.1, serving the
//! platform's OpenID configuration and its registration endpoint with the
//! checks and error shapes of the real LMS ("Dynamic registration" for each
//! LMS in docs/lms-platforms.md):
//!
//! - Moodle lists `messages_supported` as plain strings and
//!   `placements: ["AddContentMenu"]`; its registration endpoint wants
//!   `Authorization: Bearer <registration_token>` (401
//!   `missing_registration_token` / `token_already_used`), refuses missing
//!   fields with 400, and answers with `client_id` and the tool
//!   configuration's `deployment_id`.
//! - Canvas demands `application_type` web, the `client_credentials` and
//!   `implicit` grant types, a `domain` without a scheme and a `claims`
//!   array, and says what is wrong with 422 `{"errors": [...]}`; it answers
//!   with a `client_id` and no deployment (that comes when an admin installs
//!   the tool).
//! - Sakai answers 400 `invalid_authorization` for a missing or malformed
//!   Bearer and 403 for a token it did not issue (or one already used); its
//!   answer carries a top-level `deployment_id`.
//! - Brightspace sends no `registration_token`: the one-time token is inside
//!   the configuration URL (and its registration endpoint); a registration
//!   POST that carries an `Authorization` header is refused with 400, a
//!   domain can be registered once, and the tool's key set must answer.
//!
//! Knobs make it misbehave (a slow, broken or lying configuration; a
//! registration endpoint answering what a test wants), and it records every
//! registration request it gets so tests can check what the tool sent.
//!
//! The platform's `jwks_uri` is given by the test: point it at a key set
//! whose key signs the test's id_tokens, and the launches that follow a
//! registration verify.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::{Method, StatusCode};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The tool configuration object of a registration (request and answer).
pub const LTC: &str = "https://purl.imsglobal.org/spec/lti-tool-configuration";
/// The platform configuration object of an OpenID configuration.
pub const LPC: &str = "https://purl.imsglobal.org/spec/lti-platform-configuration";
pub const CANVAS_PRIVACY_LEVEL: &str = "https://canvas.instructure.com/lti/privacy_level";
pub const RESOURCE_LINK: &str = "LtiResourceLinkRequest";
pub const DEEP_LINKING: &str = "LtiDeepLinkingRequest";

/// Which LMS the simulation plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavour {
    Moodle,
    Canvas,
    Sakai,
    Brightspace,
}

impl Flavour {
    pub const ALL: [Flavour; 4] = [
        Flavour::Moodle,
        Flavour::Canvas,
        Flavour::Sakai,
        Flavour::Brightspace,
    ];

    /// `product_family_code` in the OpenID configuration.
    pub fn product_family_code(self) -> &'static str {
        match self {
            Flavour::Moodle => "moodle",
            Flavour::Canvas => "canvas",
            // Sakai's configuration says "sakailms.org", its launches "sakai".
            Flavour::Sakai => "sakailms.org",
            Flavour::Brightspace => "desire2learn",
        }
    }

    /// The tool's name for this flavour (`data-lms`, `platform list`).
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Moodle => "moodle",
            Flavour::Canvas => "canvas",
            Flavour::Sakai => "sakai",
            Flavour::Brightspace => "brightspace",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Flavour::Moodle => "Moodle",
            Flavour::Canvas => "Canvas",
            Flavour::Sakai => "Sakai",
            Flavour::Brightspace => "Brightspace",
        }
    }

    /// Whether the LMS opens the tool's registration URL with a
    /// `registration_token` (Brightspace puts its token in the
    /// configuration URL instead).
    pub fn sends_registration_token(self) -> bool {
        self != Flavour::Brightspace
    }
}

/// Ways to make the simulated LMS misbehave. Change them with
/// [`SimLms::knobs`]; they apply to the requests that follow.
#[derive(Clone, Debug, Default)]
pub struct Knobs {
    /// The configuration answers only after this long.
    pub config_delay: Option<Duration>,
    /// The configuration answers this status (with a small text body).
    pub config_status: Option<u16>,
    /// The configuration answers 302 to this URL.
    pub config_redirect: Option<String>,
    /// The configuration answers 200 with an HTML page.
    pub config_not_json: bool,
    /// The configuration names this issuer instead of the sim's base URL.
    pub issuer: Option<String>,
    /// Top-level fields left out of the configuration.
    pub config_without: Vec<String>,
    /// Fields of the configuration replaced by these values.
    pub config_override: Vec<(String, Value)>,
    /// `messages_supported` lists only the resource link message.
    pub only_resource_link: bool,
    /// The configuration's `product_family_code` instead of the flavour's.
    pub product_family_code: Option<String>,
    /// One more placement offered in the configuration (LMS-sent text).
    pub extra_placement: Option<String>,
    /// The registration endpoint answers only after this long.
    pub registration_delay: Option<Duration>,
    /// The registration endpoint answers this status and body, whatever
    /// came (a body starting with `{` is sent as JSON, else as text).
    pub registration_reply: Option<(u16, String)>,
    /// Every registration gets this client id (default: a new one each).
    pub client_id: Option<String>,
    /// The deployment id Moodle or Sakai return (default: Moodle a new one
    /// per registration, Sakai "1").
    pub deployment_id: Option<String>,
}

/// One request the registration endpoint received.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub path: String,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Value::Null` when it was not JSON).
    pub body: Value,
    pub raw_body: String,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The tool configuration object of the body.
    pub fn ltc(&self) -> &Value {
        &self.body[LTC]
    }
}

/// A registration the LMS accepted, as it answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    pub client_id: String,
    /// The deployment the answer carried (Moodle, Sakai), if any.
    pub deployment_id: Option<String>,
    /// The full answer.
    pub answer: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokenState {
    Fresh,
    Used,
}

struct SimState {
    flavour: Flavour,
    base: String,
    jwks_uri: Mutex<String>,
    /// Where `/jwks` of the LMS relays to, when it serves one.
    jwks_upstream: Mutex<Option<String>>,
    knobs: Mutex<Knobs>,
    config_hits: AtomicUsize,
    registrations: Mutex<Vec<RecordedRequest>>,
    issued: Mutex<Vec<Issued>>,
    /// Registration tokens this LMS handed out (Brightspace: the one-time
    /// tokens of its configuration URLs).
    tokens: Mutex<HashMap<String, TokenState>>,
    /// Brightspace: the domains registered already (one registration each).
    domains: Mutex<HashSet<String>>,
    counter: AtomicUsize,
}

impl SimState {
    fn knobs(&self) -> Knobs {
        self.knobs.lock().unwrap().clone()
    }

    fn next(&self) -> usize {
        self.counter.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn issuer(&self) -> String {
        self.knobs
            .lock()
            .unwrap()
            .issuer
            .clone()
            .unwrap_or_else(|| self.base.clone())
    }

    fn authorization_endpoint(&self) -> String {
        let path = match self.flavour {
            Flavour::Moodle => "/mod/lti/auth.php",
            Flavour::Canvas => "/api/lti/authorize_redirect",
            Flavour::Sakai => "/imsoidc/lti13/oidc_auth",
            Flavour::Brightspace => "/d2l/lti/authenticate",
        };
        format!("{}{path}", self.base)
    }

    fn token_endpoint(&self) -> String {
        match self.flavour {
            Flavour::Moodle => format!("{}/mod/lti/token.php", self.base),
            Flavour::Canvas => format!("{}/login/oauth2/token", self.base),
            Flavour::Sakai => format!("{}/imsblis/lti13/token/7", self.base),
            // Brightspace's token endpoint is global, not the tenant's.
            Flavour::Brightspace => "https://auth.brightspace.com/core/connect/token".into(),
        }
    }

    fn registration_path(&self, one_time: Option<&str>) -> String {
        match self.flavour {
            Flavour::Moodle => "/mod/lti/openid-registration.php".into(),
            Flavour::Canvas => "/api/lti/registrations".into(),
            Flavour::Sakai => "/imsblis/lti13/registration_endpoint/7".into(),
            Flavour::Brightspace => format!(
                "/d2l/lti/dynamic-registration/register/{}",
                one_time.unwrap_or_default()
            ),
        }
    }

    fn configuration_path(&self) -> &'static str {
        match self.flavour {
            Flavour::Moodle => "/mod/lti/openid-configuration.php",
            Flavour::Canvas => "/api/lti/security/openid-configuration",
            Flavour::Sakai => "/imsblis/lti13/well_known",
            Flavour::Brightspace => "/d2l/lti/dynamic-registration/openid-configuration/",
        }
    }

    fn configuration(&self, one_time: Option<&str>) -> Value {
        let knobs = self.knobs();
        let extra: Vec<Value> = knobs.extra_placement.iter().map(|p| json!(p)).collect();
        let mut platform = match self.flavour {
            Flavour::Moodle => {
                let mut placements = vec![json!("AddContentMenu")];
                placements.extend(extra.clone());
                json!({
                    "product_family_code": "moodle",
                    // Moodle puts its human release string here.
                    "version": "4.4.1+ (Build: 20240628)",
                    "messages_supported": [RESOURCE_LINK, DEEP_LINKING],
                    "placements": placements,
                    "variables": ["basic-lti-launch-request", "ContentItemSelectionRequest", "ToolProxyRegistrationRequest", "Context.id", "Context.title", "Context.label", "Person.name.full", "Person.email.primary"],
                })
            }
            Flavour::Canvas => json!({
                "product_family_code": "canvas",
                "version": "OpenSource",
                "messages_supported": [
                    {"type": RESOURCE_LINK, "placements": ["course_navigation", "account_navigation", "assignment_selection", "link_selection", "module_menu_modal"]},
                    {"type": DEEP_LINKING, "placements": ["link_selection", "editor_button", "assignment_selection", "homework_submission", "migration_selection", "module_index_menu_modal"]},
                ],
                "variables": ["Canvas.course.id", "Canvas.user.id", "Person.name.full"],
                "https://canvas.instructure.com/lti/account_name": "Example University",
                "https://canvas.instructure.com/lti/account_lti_guid": "hYx2Qe:canvas-lms",
            }),
            Flavour::Sakai => json!({
                "product_family_code": "sakailms.org",
                "version": "23.1",
                "messages_supported": [
                    {"type": RESOURCE_LINK},
                    {"type": DEEP_LINKING, "placements": ["ContentArea", "RichTextEditor"]},
                ],
            }),
            Flavour::Brightspace => json!({
                "product_family_code": "desire2learn",
                "version": "20.24.6",
                "messages_supported": [
                    {"type": RESOURCE_LINK, "placements": ["ContentArea"]},
                    {"type": DEEP_LINKING, "placements": ["ContentArea", "RichTextEditor"]},
                ],
            }),
        };
        if self.flavour != Flavour::Moodle && !extra.is_empty() {
            let messages = platform["messages_supported"].as_array_mut().unwrap();
            match messages[0]
                .get_mut("placements")
                .and_then(Value::as_array_mut)
            {
                Some(placements) => placements.extend(extra),
                None => messages[0]["placements"] = json!(extra),
            }
        }
        if let Some(code) = &knobs.product_family_code {
            platform["product_family_code"] = json!(code);
        }
        if knobs.only_resource_link {
            let messages = platform["messages_supported"].as_array_mut().unwrap();
            messages.retain(|m| m == RESOURCE_LINK || m["type"] == RESOURCE_LINK);
        }
        let mut config = json!({
            "issuer": self.issuer(),
            "authorization_endpoint": self.authorization_endpoint(),
            "token_endpoint": self.token_endpoint(),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": self.jwks_uri.lock().unwrap().clone(),
            "registration_endpoint": format!("{}{}", self.base, self.registration_path(one_time)),
            "scopes_supported": [
                "openid",
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
            ],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["iss", "sub", "aud", "name", "given_name", "family_name", "email"],
            (LPC): platform,
        });
        let object = config.as_object_mut().unwrap();
        for field in &knobs.config_without {
            object.remove(field);
        }
        for (field, value) in &knobs.config_override {
            object.insert(field.clone(), value.clone());
        }
        config
    }
}

/// A simulated LMS (registration side), serving until the test ends.
pub struct SimLms {
    pub flavour: Flavour,
    state: Arc<SimState>,
}

impl SimLms {
    /// Starts the simulation on a free port of 127.0.0.1. Must run inside
    /// an actix (tokio) runtime, as `#[actix_web::test]` tests do.
    pub fn start(flavour: Flavour, jwks_uri: &str) -> SimLms {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(SimState {
            flavour,
            base: format!("http://127.0.0.1:{port}"),
            jwks_uri: Mutex::new(jwks_uri.to_string()),
            jwks_upstream: Mutex::new(None),
            knobs: Mutex::new(Knobs::default()),
            config_hits: AtomicUsize::new(0),
            registrations: Mutex::new(Vec::new()),
            issued: Mutex::new(Vec::new()),
            tokens: Mutex::new(HashMap::new()),
            domains: Mutex::new(HashSet::new()),
            counter: AtomicUsize::new(0),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(handle))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        SimLms { flavour, state }
    }

    /// `http://127.0.0.1:PORT`, the LMS's own address.
    pub fn base(&self) -> &str {
        &self.state.base
    }

    /// The issuer the configuration names.
    pub fn issuer(&self) -> String {
        self.state.issuer()
    }

    pub fn authorization_endpoint(&self) -> String {
        self.state.authorization_endpoint()
    }

    pub fn token_endpoint(&self) -> String {
        self.state.token_endpoint()
    }

    pub fn jwks_uri(&self) -> String {
        self.state.jwks_uri.lock().unwrap().clone()
    }

    /// Publishes the key set at `upstream` as the LMS's own `{base}/jwks`
    /// (relayed on each request), so every URL of its configuration is on
    /// the LMS's host and port.
    pub fn serve_jwks_from(&self, upstream: &str) {
        *self.state.jwks_upstream.lock().unwrap() = Some(upstream.to_string());
        *self.state.jwks_uri.lock().unwrap() = format!("{}/jwks", self.base());
    }

    /// The OpenID configuration URL the LMS hands the tool. Brightspace: a
    /// new one each call, carrying a fresh one-time token; the others keep
    /// one URL (Sakai's carries a query string, as Sakai's does).
    pub fn configuration_url(&self) -> String {
        let path = self.state.configuration_path();
        match self.flavour {
            Flavour::Sakai => format!("{}{path}?key=7&clientId=sakai-tool-7", self.base()),
            Flavour::Brightspace => {
                let token = format!("ONE-TIME-{}", guestlink::crypto::random_token(12));
                self.state
                    .tokens
                    .lock()
                    .unwrap()
                    .insert(token.clone(), TokenState::Fresh);
                format!("{}{path}{token}", self.base())
            }
            _ => format!("{}{path}", self.base()),
        }
    }

    /// A fresh registration token valid for an hour (JWT-shaped, as Moodle
    /// and Canvas send them); None for Brightspace, which sends none.
    pub fn registration_token(&self) -> Option<String> {
        if !self.flavour.sends_registration_token() {
            return None;
        }
        Some(self.issue_token(unix_now() + 3600))
    }

    /// A registration token whose `exp` has passed (an admin who left the
    /// LMS's registration dialog open too long).
    pub fn expired_registration_token(&self) -> String {
        self.issue_token(unix_now() - 120)
    }

    fn issue_token(&self, exp: i64) -> String {
        let n = self.state.next();
        let token = registration_jwt(&json!({
            "iss": self.base(),
            "sub": format!("registration-{n}"),
            "scope": "reg",
            "iat": exp - 3600,
            "exp": exp,
            "jti": guestlink::crypto::random_token(9),
        }));
        self.state
            .tokens
            .lock()
            .unwrap()
            .insert(token.clone(), TokenState::Fresh);
        token
    }

    /// The tool's registration URL as the LMS opens it: a fresh
    /// configuration URL and, where the flavour sends one, a fresh token.
    /// Returns the URL, the configuration URL and the token.
    pub fn register_url(&self, tool_base: &str) -> (String, String, Option<String>) {
        let config = self.configuration_url();
        let token = self.registration_token();
        (
            register_url(tool_base, &config, token.as_deref()),
            config,
            token,
        )
    }

    /// Changes the knobs for the requests that follow.
    pub fn knobs(&self, change: impl FnOnce(&mut Knobs)) {
        change(&mut self.state.knobs.lock().unwrap());
    }

    /// Marks every token handed out so far as used, as if another tool
    /// (or an earlier attempt) had registered with it.
    pub fn use_up_tokens(&self) {
        for state in self.state.tokens.lock().unwrap().values_mut() {
            *state = TokenState::Used;
        }
    }

    /// Every registration request received, oldest first.
    pub fn registration_requests(&self) -> Vec<RecordedRequest> {
        self.state.registrations.lock().unwrap().clone()
    }

    /// Every registration accepted, oldest first.
    pub fn issued(&self) -> Vec<Issued> {
        self.state.issued.lock().unwrap().clone()
    }

    /// How many times the configuration was requested.
    pub fn config_hits(&self) -> usize {
        self.state.config_hits.load(Ordering::SeqCst)
    }
}

/// `{tool}/lti/register?openid_configuration=...&registration_token=...`.
pub fn register_url(tool_base: &str, config_url: &str, token: Option<&str>) -> String {
    let mut query = vec![("openid_configuration", config_url)];
    if let Some(token) = token {
        query.push(("registration_token", token));
    }
    format!(
        "{tool_base}/lti/register?{}",
        serde_urlencoded::to_string(query).unwrap()
    )
}

/// A JWT-shaped registration token (`header.payload.signature`, base64url)
/// with these claims. The signature is random bytes: the tool cannot check
/// it (it has no key of the LMS's registration service) and must not need to.
pub fn registration_jwt(claims: &Value) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "registration-key-1"});
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        guestlink::crypto::random_token(64)
    )
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn handle(req: HttpRequest, body: web::Bytes, state: web::Data<SimState>) -> HttpResponse {
    let path = req.path().to_string();
    let config_path = state.configuration_path();
    if req.method() == Method::GET {
        let upstream = state.jwks_upstream.lock().unwrap().clone();
        if path == "/jwks"
            && let Some(upstream) = upstream
        {
            return relay_jwks(&upstream).await;
        }
        if state.flavour == Flavour::Brightspace {
            if let Some(token) = path.strip_prefix(config_path) {
                return serve_configuration(&state, Some(token)).await;
            }
        } else if path == config_path {
            if state.flavour == Flavour::Sakai && !req.query_string().contains("key=7") {
                return text(400, "missing key");
            }
            // Canvas and Moodle show their configuration only to the holder
            // of a registration token they issued (docs/lms-platforms.md).
            if matches!(state.flavour, Flavour::Canvas | Flavour::Moodle)
                && bearer(&req).is_none_or(|t| token_is_fresh(&state, &t).is_none())
            {
                return json_reply(
                    401,
                    json!({"errors": [{"message": "registration token required"}]}),
                );
            }
            return serve_configuration(&state, None).await;
        }
    }
    if req.method() == Method::POST {
        let one_time = match state.flavour {
            Flavour::Brightspace => path
                .strip_prefix(&state.registration_path(Some("")))
                .map(str::to_string),
            _ => (path == state.registration_path(None)).then(String::new),
        };
        if let Some(one_time) = one_time {
            return register(&state, &req, &body, &one_time).await;
        }
    }
    HttpResponse::NotFound().body("not found")
}

async fn relay_jwks(upstream: &str) -> HttpResponse {
    match reqwest::get(upstream).await {
        Ok(response) if response.status().is_success() => HttpResponse::Ok()
            .content_type("application/json")
            .body(response.bytes().await.unwrap_or_default().to_vec()),
        _ => HttpResponse::BadGateway().finish(),
    }
}

async fn serve_configuration(state: &SimState, one_time: Option<&str>) -> HttpResponse {
    state.config_hits.fetch_add(1, Ordering::SeqCst);
    let knobs = state.knobs();
    if let Some(delay) = knobs.config_delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(location) = knobs.config_redirect {
        return HttpResponse::Found()
            .insert_header(("Location", location))
            .finish();
    }
    if let Some(status) = knobs.config_status {
        return text(status, "the configuration is not available right now");
    }
    if knobs.config_not_json {
        return HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body("<!doctype html><title>Log in</title><p>Please log in to continue.</p>");
    }
    if let Some(token) = one_time {
        // A Brightspace configuration URL works for the tokens it made
        // (a used one too: only the registration itself is one-time).
        if !state.tokens.lock().unwrap().contains_key(token) {
            return HttpResponse::NotFound().json(json!({"error": "not_found"}));
        }
    }
    HttpResponse::Ok().json(state.configuration(one_time))
}

fn text(status: u16, body: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap())
        .content_type("text/plain; charset=utf-8")
        .body(body.to_string())
}

fn json_reply(status: u16, body: Value) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap()).json(body)
}

fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

fn non_empty_str<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn contains(body: &Value, name: &str, item: &str) -> bool {
    body.get(name)
        .and_then(Value::as_array)
        .is_some_and(|items| items.iter().any(|i| i == item))
}

fn non_empty_array(body: &Value, name: &str) -> bool {
    body.get(name)
        .and_then(Value::as_array)
        .is_some_and(|items| !items.is_empty() && items.iter().all(Value::is_string))
}

/// `host[:port]` of a URL, as Moodle compares it with `domain`.
fn domain_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let host = url.host_str()?.to_string();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

fn is_loopback_url(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .is_some_and(|h| matches!(h.as_str(), "127.0.0.1" | "localhost" | "[::1]"))
}

/// The answer of an accepted registration: the request echoed, with what
/// the LMS assigned.
fn accept(
    state: &SimState,
    mut body: Value,
    client_id: String,
    deployment_id: Option<String>,
    extra: impl FnOnce(&mut Value),
) -> HttpResponse {
    body["client_id"] = json!(client_id);
    extra(&mut body);
    state.issued.lock().unwrap().push(Issued {
        client_id,
        deployment_id,
        answer: body.to_string(),
    });
    HttpResponse::Ok().json(body)
}

async fn register(state: &SimState, req: &HttpRequest, raw: &[u8], one_time: &str) -> HttpResponse {
    let raw_body = String::from_utf8_lossy(raw).to_string();
    let body: Value = serde_json::from_str(&raw_body).unwrap_or(Value::Null);
    state.registrations.lock().unwrap().push(RecordedRequest {
        path: req.path().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        body: body.clone(),
        raw_body,
    });
    let knobs = state.knobs();
    if let Some(delay) = knobs.registration_delay {
        tokio::time::sleep(delay).await;
    }
    if let Some((status, reply)) = knobs.registration_reply {
        return if reply.trim_start().starts_with('{') {
            HttpResponse::build(StatusCode::from_u16(status).unwrap())
                .content_type("application/json")
                .body(reply)
        } else {
            text(status, &reply)
        };
    }
    match state.flavour {
        Flavour::Moodle => register_moodle(state, req, body, &knobs),
        Flavour::Canvas => register_canvas(state, req, body, &knobs),
        Flavour::Sakai => register_sakai(state, req, body, raw.len(), &knobs),
        Flavour::Brightspace => register_brightspace(state, req, body, one_time, &knobs).await,
    }
}

/// Takes a token for one registration: None if it was not handed out,
/// Some(false) if it was used already.
fn take_token(state: &SimState, token: &str) -> Option<bool> {
    let mut tokens = state.tokens.lock().unwrap();
    match tokens.get(token).copied() {
        None => None,
        Some(TokenState::Used) => Some(false),
        Some(TokenState::Fresh) => {
            tokens.insert(token.to_string(), TokenState::Used);
            Some(true)
        }
    }
}

fn token_is_fresh(state: &SimState, token: &str) -> Option<bool> {
    state
        .tokens
        .lock()
        .unwrap()
        .get(token)
        .map(|s| *s == TokenState::Fresh)
}

/// Moodle's `openid-registration.php`: errors as plain text.
fn register_moodle(
    state: &SimState,
    req: &HttpRequest,
    body: Value,
    knobs: &Knobs,
) -> HttpResponse {
    let Some(token) = bearer(req) else {
        return text(401, "missing_registration_token");
    };
    match token_is_fresh(state, &token) {
        None => return text(401, "invalid_registration_token"),
        Some(false) => return text(401, "token_already_used"),
        Some(true) => {}
    }
    if body.is_null() {
        return text(400, "invalid_json");
    }
    if !contains(&body, "response_types", "id_token") {
        return text(400, "invalid_response_types");
    }
    if non_empty_str(&body, "initiate_login_uri").is_none() {
        return text(400, "missing_initiate_login_uri");
    }
    if !non_empty_array(&body, "redirect_uris") {
        return text(400, "missing_redirect_uris");
    }
    if non_empty_str(&body, "client_name").is_none() {
        return text(400, "missing_client_name");
    }
    if non_empty_str(&body, "jwks_uri").is_none() {
        return text(400, "missing_jwks_uri");
    }
    if body["token_endpoint_auth_method"] != "private_key_jwt" {
        return text(400, "invalid_token_endpoint_auth_method");
    }
    if body.get("application_type").is_some() && body["application_type"] != "web" {
        return text(400, "invalid_application_type");
    }
    let ltc = &body[LTC];
    if !ltc.is_object() {
        return text(400, "missing_lti_tool_configuration");
    }
    let Some(domain) = non_empty_str(ltc, "domain") else {
        return text(400, "missing_domain");
    };
    if let Some(target) = non_empty_str(ltc, "target_link_uri")
        && domain_of(target).as_deref() != Some(domain)
    {
        return text(400, "domain_targetlinkuri_mismatch");
    }
    if take_token(state, &token) != Some(true) {
        return text(401, "token_already_used");
    }
    let n = state.next();
    let client_id = knobs
        .client_id
        .clone()
        .unwrap_or_else(|| format!("mdlK3JpQ8sLm{n:03}"));
    let deployment_id = knobs
        .deployment_id
        .clone()
        .unwrap_or_else(|| (n + 2).to_string());
    let answered = deployment_id.clone();
    accept(state, body, client_id, Some(deployment_id), move |b| {
        b[LTC]["deployment_id"] = json!(answered);
    })
}

/// Canvas placements a registration may ask for (plus the IMS names and
/// the `https://canvas.instructure.com/lti/<placement>` form).
const CANVAS_PLACEMENTS: &[&str] = &[
    "account_navigation",
    "analytics_hub",
    "assignment_edit",
    "assignment_group_menu",
    "assignment_index_menu",
    "assignment_menu",
    "assignment_selection",
    "assignment_view",
    "collaboration",
    "conference_selection",
    "course_assignments_menu",
    "course_home_sub_navigation",
    "course_navigation",
    "course_settings_sub_navigation",
    "discussion_topic_index_menu",
    "discussion_topic_menu",
    "editor_button",
    "file_index_menu",
    "file_menu",
    "global_navigation",
    "homework_submission",
    "link_selection",
    "migration_selection",
    "module_group_menu",
    "module_index_menu",
    "module_index_menu_modal",
    "module_menu",
    "module_menu_modal",
    "page_index_menu",
    "page_menu",
    "post_grades",
    "quiz_index_menu",
    "quiz_menu",
    "resource_selection",
    "similarity_detection",
    "student_context_card",
    "submission_type_selection",
    "tool_configuration",
    "top_navigation",
    "user_navigation",
    "wiki_index_menu",
    "wiki_page_menu",
    "ContentArea",
    "RichTextEditor",
];

const CANVAS_SCOPES: &[&str] = &[
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    "https://canvas.instructure.com/lti/public_jwk/scope/update",
    "https://canvas.instructure.com/lti/account_lookup/scope/show",
    "https://canvas.instructure.com/lti/data_services/scope/show",
];

fn canvas_placement_known(placement: &str) -> bool {
    let name = placement
        .strip_prefix("https://canvas.instructure.com/lti/")
        .unwrap_or(placement);
    CANVAS_PLACEMENTS.contains(&name)
}

/// Canvas's `/api/lti/registrations`: schema errors as 422 `{"errors": [...]}`.
fn register_canvas(
    state: &SimState,
    req: &HttpRequest,
    body: Value,
    knobs: &Knobs,
) -> HttpResponse {
    let Some(token) = bearer(req) else {
        return json_reply(
            401,
            json!({"errors": [{"message": "user authorization required"}], "status": "unauthorized"}),
        );
    };
    match token_is_fresh(state, &token) {
        None => {
            return json_reply(
                401,
                json!({"errors": [{"message": "Invalid access token."}], "status": "unauthorized"}),
            );
        }
        Some(false) => {
            return json_reply(
                401,
                json!({"errors": [{"message": "registration token already used"}], "status": "unauthorized"}),
            );
        }
        Some(true) => {}
    }
    // Canvas splits `scope` without a nil check: a registration without
    // one is a 500 there.
    if body.get("scope").and_then(Value::as_str).is_none() {
        return text(500, "undefined method `split' for nil");
    }
    let mut errors: Vec<String> = Vec::new();
    if body.is_null() {
        errors.push("the registration must be a JSON object".into());
    }
    if body["application_type"] != "web" {
        errors.push("application_type must be \"web\"".into());
    }
    if !contains(&body, "grant_types", "client_credentials")
        || !contains(&body, "grant_types", "implicit")
    {
        errors.push("grant_types must include client_credentials and implicit".into());
    }
    if !contains(&body, "response_types", "id_token") {
        errors.push("response_types must include id_token".into());
    }
    if !non_empty_array(&body, "redirect_uris") {
        errors.push("redirect_uris is required".into());
    }
    for field in ["initiate_login_uri", "client_name", "jwks_uri"] {
        if non_empty_str(&body, field).is_none() {
            errors.push(format!("{field} is required"));
        }
    }
    if body["token_endpoint_auth_method"] != "private_key_jwt" {
        errors.push("token_endpoint_auth_method must be \"private_key_jwt\"".into());
    }
    if let Some(scope) = body.get("scope") {
        match scope.as_str() {
            Some(scopes) => {
                for s in scopes.split_whitespace() {
                    if !CANVAS_SCOPES.contains(&s) {
                        errors.push(format!("scope {s} is not a scope Canvas knows"));
                    }
                }
            }
            None => errors.push("scope must be a string".into()),
        }
    }
    let ltc = &body[LTC];
    if !ltc.is_object() {
        errors.push(format!("{LTC} is required"));
    } else {
        match non_empty_str(ltc, "domain") {
            None => errors.push(format!("{LTC}.domain is required")),
            Some(domain) if domain.contains("://") || domain.contains('/') => errors.push(format!(
                "{LTC}.domain must be a host name without a scheme or path, got {domain}"
            )),
            Some(_) => {}
        }
        if !ltc.get("claims").is_some_and(Value::is_array) {
            errors.push(format!("{LTC}.claims is required"));
        }
        match ltc.get("messages").and_then(Value::as_array) {
            None => errors.push(format!("{LTC}.messages is required")),
            Some(messages) => {
                for (i, message) in messages.iter().enumerate() {
                    if non_empty_str(message, "type").is_none() {
                        errors.push(format!("{LTC}.messages[{i}].type is required"));
                    }
                    if let Some(placements) = message.get("placements") {
                        let Some(placements) = placements.as_array() else {
                            errors.push(format!("{LTC}.messages[{i}].placements must be an array"));
                            continue;
                        };
                        for p in placements {
                            if !p.as_str().is_some_and(canvas_placement_known) {
                                errors.push(format!(
                                    "{LTC}.messages[{i}].placements: {p} is not a Canvas placement"
                                ));
                            }
                        }
                    }
                }
            }
        }
        if let Some(level) = ltc.get(CANVAS_PRIVACY_LEVEL)
            && !["public", "name_only", "email_only", "anonymous"]
                .iter()
                .any(|l| level == l)
        {
            errors.push(format!(
                "{CANVAS_PRIVACY_LEVEL} {level} is not a privacy level"
            ));
        }
        if let Some(custom) = ltc.get("custom_parameters")
            && !custom
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string))
        {
            errors.push(format!("{LTC}.custom_parameters values must be strings"));
        }
    }
    if !errors.is_empty() {
        return json_reply(422, json!({ "errors": errors }));
    }
    if take_token(state, &token) != Some(true) {
        return json_reply(
            401,
            json!({"errors": [{"message": "registration token already used"}], "status": "unauthorized"}),
        );
    }
    let n = state.next();
    let client_id = knobs
        .client_id
        .clone()
        .unwrap_or_else(|| format!("{}", 170_000_000_000_000u64 + n as u64));
    let config_url = format!("{}/api/lti/registrations/{n}/view", state.base);
    accept(state, body, client_id, None, move |b| {
        b["https://canvas.instructure.com/lti/registration_config_url"] = json!(config_url);
    })
}

/// Sakai's registration endpoint: 400 `invalid_authorization`, 403 for a
/// token it does not know, errors as plain text.
fn register_sakai(
    state: &SimState,
    req: &HttpRequest,
    body: Value,
    size: usize,
    knobs: &Knobs,
) -> HttpResponse {
    let Some(token) = bearer(req) else {
        return text(400, "invalid_authorization");
    };
    if token_is_fresh(state, &token) != Some(true) {
        return text(403, "registration token mismatch or expired");
    }
    if size > 300 * 1024 {
        return text(400, "registration request too large");
    }
    if body.is_null() {
        return text(400, "could not parse the registration JSON");
    }
    for field in ["initiate_login_uri", "jwks_uri"] {
        if non_empty_str(&body, field).is_none() {
            return text(400, &format!("missing {field}"));
        }
    }
    if !non_empty_array(&body, "redirect_uris") {
        return text(400, "missing redirect_uris");
    }
    if take_token(state, &token) != Some(true) {
        return text(403, "registration token mismatch or expired");
    }
    let n = state.next();
    let client_id = knobs
        .client_id
        .clone()
        .unwrap_or_else(|| format!("0c8f5a52-4a6b-4b0e-9d2f-{n:012}"));
    let deployment_id = knobs.deployment_id.clone().unwrap_or_else(|| "1".into());
    let answered = deployment_id.clone();
    accept(state, body, client_id, Some(deployment_id), move |b| {
        b["deployment_id"] = json!(answered);
    })
}

/// Brightspace's registration endpoint: the one-time token is in the URL,
/// an Authorization header is refused, a domain is registered once, URLs
/// are https (loopback ones let through for tests) and the tool's key set
/// must answer. Errors in the OAuth shape.
async fn register_brightspace(
    state: &SimState,
    req: &HttpRequest,
    body: Value,
    one_time: &str,
    knobs: &Knobs,
) -> HttpResponse {
    let error = |status: u16, error: &str, description: String| {
        json_reply(
            status,
            json!({"error": error, "error_description": description}),
        )
    };
    if req.headers().contains_key("authorization") {
        return error(
            400,
            "invalid_request",
            "The registration request must not carry an Authorization header: its one-time token is in the URL".into(),
        );
    }
    match token_is_fresh(state, one_time) {
        None => return error(401, "invalid_token", "Unknown registration link".into()),
        Some(false) => {
            return error(
                401,
                "invalid_token",
                "This registration link was used already".into(),
            );
        }
        Some(true) => {}
    }
    if body.is_null() {
        return error(
            400,
            "invalid_client_metadata",
            "The registration is not JSON".into(),
        );
    }
    let ltc = &body[LTC];
    let mut urls: Vec<String> = ["initiate_login_uri", "jwks_uri"]
        .iter()
        .filter_map(|f| non_empty_str(&body, f).map(str::to_string))
        .collect();
    if urls.len() < 2 || !non_empty_array(&body, "redirect_uris") {
        return error(
            400,
            "invalid_client_metadata",
            "initiate_login_uri, jwks_uri and redirect_uris are required".into(),
        );
    }
    urls.extend(
        body["redirect_uris"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|u| u.as_str().map(str::to_string)),
    );
    for url in &urls {
        if !url.starts_with("https://") && !is_loopback_url(url) {
            return error(
                400,
                "invalid_client_metadata",
                format!("{url} must be an https URL"),
            );
        }
    }
    let Some(domain) = non_empty_str(ltc, "domain").map(str::to_string) else {
        return error(
            400,
            "invalid_client_metadata",
            "The tool domain is required".into(),
        );
    };
    if state.domains.lock().unwrap().contains(&domain) {
        return error(
            400,
            "invalid_client_metadata",
            format!("The domain {domain} is already used by another registration"),
        );
    }
    let jwks_uri = body["jwks_uri"].as_str().unwrap().to_string();
    if !keyset_answers(&jwks_uri).await {
        return error(
            400,
            "invalid_client_metadata",
            format!("The tool's keyset at {jwks_uri} could not be fetched"),
        );
    }
    if take_token(state, one_time) != Some(true) {
        return error(
            401,
            "invalid_token",
            "This registration link was used already".into(),
        );
    }
    state.domains.lock().unwrap().insert(domain);
    let n = state.next();
    let client_id = knobs
        .client_id
        .clone()
        .unwrap_or_else(|| format!("8d6c2f4e-1b7a-4c3d-9e5f-{n:012}"));
    accept(state, body, client_id, None, |_| {})
}

async fn keyset_answers(url: &str) -> bool {
    let Ok(client) = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    else {
        return false;
    };
    match client.get(url).send().await {
        Ok(response) if response.status().is_success() => response
            .json::<Value>()
            .await
            .is_ok_and(|keys| keys["keys"].as_array().is_some_and(|k| !k.is_empty())),
        _ => false,
    }
}
