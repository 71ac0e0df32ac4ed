//! The test harness: a fresh database per test (SQLite in a temp dir, or a
//! PostgreSQL database created for the test and dropped after), the real
//! server on a random port, and a test platform that serves a JWKS and signs
//! id_tokens in each LMS's claim shape.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use guestlink::clock::Clock;
use guestlink::config::{DatabaseUrl, Settings};
use guestlink::crypto::{MacKey, Sealer, SecretKey};
use guestlink::demo::claims::{self, LaunchClaims, Role};
use guestlink::domain::platform::{Lms, NewPlatform};
use guestlink::lti::keys::{JwkSet, ToolKey};
use guestlink::service::Tool;
use guestlink::startup::Application;
use guestlink::store::Db;
use scraper::{Html, Selector};
use serde_json::Value;

pub const TOOL_KEY: &str = include_str!("../fixtures/tool_key.pem");
pub const PLATFORM_KEY_A: &str = include_str!("../fixtures/platform_key_a.pem");
pub const PLATFORM_KEY_B: &str = include_str!("../fixtures/platform_key_b.pem");
pub const PLATFORM_PUBLIC_KEY_A: &str = include_str!("../fixtures/platform_key_a.pub.pem");
/// The secret key every test's tool seals its secrets with (each test has a
/// database of its own, so sharing the key shares nothing).
pub const TEST_SECRET_KEY: &str = "dGVzdCBzZWNyZXQga2V5IGZvciBndWVzdGxpbmsgb25seSE=";

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn postgres() -> Option<Backend> {
        std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .map(|url| Backend::Postgres(without_tls(url)))
    }
}

/// The test database is local, so its URL asks libpq for no TLS unless it
/// says otherwise. With TLS, a pool still reconnecting in the background
/// (each test's database is dropped WITH (FORCE) under its pool) can be in
/// the middle of a handshake when the test process exits, and OpenSSL's exit
/// cleanup then crashes that thread: every test passes and the process
/// still dies of SIGSEGV.
fn without_tls(url: String) -> String {
    if url.contains("sslmode=") {
        url
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// A database that exists for one test only: a copy of a template that
/// already has every migration (see [`templates`]), so a test pays for a
/// copy rather than for running the migrations.
pub struct TestDb {
    pub url: DatabaseUrl,
    pub dir: tempfile::TempDir,
    admin_url: Option<String>,
    name: Option<String>,
}

impl TestDb {
    pub fn new(backend: &Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("a temp dir");
        match backend {
            Backend::Sqlite => {
                let path = dir.path().join("test.sqlite3");
                std::fs::copy(templates::sqlite(), &path).expect("copy the SQLite template");
                TestDb {
                    url: DatabaseUrl::Sqlite(path),
                    dir,
                    admin_url: None,
                    name: None,
                }
            }
            Backend::Postgres(admin_url) => {
                let name = format!(
                    "guestlink_test_{}",
                    guestlink::crypto::random_token(9)
                        .to_lowercase()
                        .replace(['-', '_'], "x")
                );
                let template = templates::postgres(admin_url);
                let mut admin =
                    PgConnection::establish(admin_url).expect("TEST_DATABASE_URL answers");
                admin
                    .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .expect("create test database");
                let url = replace_database(admin_url, &name);
                TestDb {
                    url: DatabaseUrl::Postgres(url),
                    dir,
                    admin_url: Some(admin_url.clone()),
                    name: Some(name),
                }
            }
        }
    }

    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let (Some(admin_url), Some(name)) = (&self.admin_url, &self.name)
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Migrated template databases, one per set of migrations (named by a hash
/// of the migration files, so a changed migration makes a new template and
/// never reuses a stale one), made by whichever test needs one first.
mod templates {
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection, RunQueryDsl};

    /// A hash of one backend's migration files.
    fn migrations_hash(backend: &str) -> String {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("the migrations directory")
            .flatten()
            .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
            .map(|f| f.path())
            .collect();
        files.sort();
        let mut all = String::new();
        for file in files {
            all.push_str(&file.display().to_string());
            all.push_str(&std::fs::read_to_string(&file).unwrap_or_default());
        }
        guestlink::crypto::hash_secret(&all)[..16].to_string()
    }

    /// Runs guestlink's own migrations on the database at `url`.
    fn migrate(url: &str, data_dir: &Path) {
        let env = [
            ("DATABASE_URL".to_string(), url.to_string()),
            (
                "GUESTLINK_DATA_DIR".to_string(),
                data_dir.display().to_string(),
            ),
        ];
        let sources = guestlink::config::Sources::new(env.into_iter().collect()).unwrap();
        let settings =
            guestlink::config::Settings::load(&sources, guestlink::config::Mode::Serve).unwrap();
        let db = guestlink::store::Db::connect_for(&settings, guestlink::store::PoolUse::Command)
            .expect("the template migrates");
        drop(db);
    }

    /// The SQLite template file, in the tests' own scratch directory.
    pub fn sqlite() -> &'static Path {
        static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
        TEMPLATE.get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
            let path = dir.join(format!("template-{}.sqlite3", migrations_hash("sqlite")));
            if !path.exists() {
                // Built aside and renamed into place, so a test process
                // running beside this one never copies a half-made file.
                let scratch = tempfile::tempdir_in(dir).expect("a scratch dir");
                let building = scratch.path().join("template.sqlite3");
                migrate(&format!("sqlite://{}", building.display()), scratch.path());
                // Back out of WAL, so the one file holds everything.
                let mut conn = diesel::SqliteConnection::establish(&building.display().to_string())
                    .expect("the template opens");
                // The migrating pool's connections close as it is dropped;
                // one r2d2 was still opening may close a moment later.
                let mut tries = 0;
                while let Err(e) = conn.batch_execute("PRAGMA journal_mode = DELETE;") {
                    tries += 1;
                    assert!(tries < 100, "the template stays in use: {e}");
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                drop(conn);
                std::fs::rename(&building, &path).expect("the template is put in place");
            }
            path
        })
    }

    /// The PostgreSQL template database's name.
    pub fn postgres(admin_url: &str) -> &'static str {
        static TEMPLATE: OnceLock<String> = OnceLock::new();
        TEMPLATE.get_or_init(|| {
            let name = format!("guestlink_template_{}", migrations_hash("postgres"));
            let mut admin = PgConnection::establish(admin_url).expect("TEST_DATABASE_URL answers");
            // Test processes running side by side make it once between them.
            admin.batch_execute("SELECT pg_advisory_lock(727275)").unwrap();
            let exists = diesel::sql_query(format!(
                "SELECT 1 AS one FROM pg_database WHERE datname = '{name}'"
            ))
            .execute(&mut admin)
            .unwrap()
                > 0;
            if !exists {
                // Built under another name and renamed when complete, so a
                // run that stops halfway never leaves a template to reuse.
                let building = format!("{name}_building");
                for statement in [
                    format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
                    format!("CREATE DATABASE {building}"),
                ] {
                    admin.batch_execute(&statement).expect("create the template");
                }
                let scratch = tempfile::tempdir().unwrap();
                migrate(&super::replace_database(admin_url, &building), scratch.path());
                // No connection may stay open on a template being copied.
                for statement in [
                    format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{building}'"
                    ),
                    format!("ALTER DATABASE {building} RENAME TO {name}"),
                ] {
                    admin
                        .batch_execute(&statement)
                        .expect("the template is put in place");
                }
            }
            admin.batch_execute("SELECT pg_advisory_unlock(727275)").unwrap();
            name
        })
    }
}

pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The settings a test's app runs with: the defaults `guestlink serve`
/// reads from an empty environment, but for what a test needs (its own
/// database and port, small pools, a short key-set timeout, the loopback
/// hosts its platforms serve on). Tests change the rest in their `adjust`.
pub fn test_settings(db: &TestDb, port: u16) -> Settings {
    let env = [
        ("DATABASE_URL", db.url_string()),
        ("GUESTLINK_DATA_DIR", db.dir.path().display().to_string()),
        ("GUESTLINK_BIND", format!("127.0.0.1:{port}")),
        ("GUESTLINK_SECRET_KEY", TEST_SECRET_KEY.to_string()),
        ("GUESTLINK_JWKS_REFETCH_SECONDS", "0".into()),
        ("GUESTLINK_JWKS_TIMEOUT_SECONDS", "2".into()),
        ("GUESTLINK_UPLOAD_MAX_MB", "1".into()),
        ("GUESTLINK_COURSE_QUOTA_MB", "0".into()),
        // The test platforms and simulated LMSs serve on this machine.
        ("GUESTLINK_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1:*".into()),
        ("GUESTLINK_DB_POOL_SIZE", "4".into()),
        ("GUESTLINK_DB_TIMEOUT_SECONDS", "2".into()),
        ("GUESTLINK_WORKERS", "2".into()),
        ("GUESTLINK_LOG", "warn".into()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect();
    let sources = guestlink::config::Sources::new(env).expect("no config file");
    Settings::load(&sources, guestlink::config::Mode::Serve).expect("the test settings load")
}

/// A platform as the tests play it: a JWKS endpoint that can rotate its
/// key, go down or hang, and a key to sign id_tokens with.
pub struct TestPlatform {
    pub base: String,
    pub keys: Arc<Mutex<Vec<ToolKey>>>,
    pub hits: Arc<AtomicUsize>,
    pub down: Arc<AtomicBool>,
    pub hang: Arc<AtomicBool>,
    /// Answer the key set with a redirect to `/jwks-elsewhere` (which serves it).
    pub redirect: Arc<AtomicBool>,
    /// Answer with an endless stream of bytes without a length.
    pub endless: Arc<AtomicBool>,
    /// Bytes the endless answer got out before the reader stopped it.
    pub endless_bytes: Arc<AtomicUsize>,
    pub elsewhere_hits: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct PlatformState {
    keys: Arc<Mutex<Vec<ToolKey>>>,
    hits: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
    hang: Arc<AtomicBool>,
    redirect: Arc<AtomicBool>,
    endless: Arc<AtomicBool>,
    endless_bytes: Arc<AtomicUsize>,
    elsewhere_hits: Arc<AtomicUsize>,
}

/// At most this much of the endless answer is ever produced.
pub const ENDLESS_LIMIT: usize = 256 * 1024 * 1024;

async fn serve_jwks(state: web::Data<PlatformState>) -> HttpResponse {
    state.hits.fetch_add(1, Ordering::SeqCst);
    if state.hang.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    if state.down.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().finish();
    }
    if state.redirect.load(Ordering::SeqCst) {
        return HttpResponse::Found()
            .insert_header(("Location", "/jwks-elsewhere"))
            .finish();
    }
    if state.endless.load(Ordering::SeqCst) {
        let counter = state.endless_bytes.clone();
        let chunk = web::Bytes::from(vec![b' '; 64 * 1024]);
        let body = futures_util::stream::unfold(0usize, move |sent| {
            let (counter, chunk) = (counter.clone(), chunk.clone());
            async move {
                if sent >= ENDLESS_LIMIT {
                    return None;
                }
                counter.fetch_add(chunk.len(), Ordering::SeqCst);
                Some((Ok::<_, std::io::Error>(chunk), sent + 64 * 1024))
            }
        });
        return HttpResponse::Ok()
            .content_type("application/json")
            .streaming(body);
    }
    keys_answer(&state)
}

async fn serve_jwks_elsewhere(state: web::Data<PlatformState>) -> HttpResponse {
    state.elsewhere_hits.fetch_add(1, Ordering::SeqCst);
    keys_answer(&state)
}

fn keys_answer(state: &PlatformState) -> HttpResponse {
    let keys = state
        .keys
        .lock()
        .unwrap()
        .iter()
        .map(ToolKey::jwk)
        .collect();
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "max-age=300"))
        .json(JwkSet { keys })
}

pub fn platform_key(pem: &str, kid: &str) -> ToolKey {
    ToolKey::from_pkcs8_pem(kid.to_string(), pem).expect("fixture key")
}

impl TestPlatform {
    pub fn start() -> TestPlatform {
        let keys = Arc::new(Mutex::new(vec![platform_key(PLATFORM_KEY_A, "key-a")]));
        let state = PlatformState {
            keys: keys.clone(),
            hits: Arc::new(AtomicUsize::new(0)),
            down: Arc::new(AtomicBool::new(false)),
            hang: Arc::new(AtomicBool::new(false)),
            redirect: Arc::new(AtomicBool::new(false)),
            endless: Arc::new(AtomicBool::new(false)),
            endless_bytes: Arc::new(AtomicUsize::new(0)),
            elsewhere_hits: Arc::new(AtomicUsize::new(0)),
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/jwks", web::get().to(serve_jwks))
                .route("/jwks-elsewhere", web::get().to(serve_jwks_elsewhere))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        TestPlatform {
            base: format!("http://127.0.0.1:{port}"),
            keys,
            hits: state.hits,
            down: state.down,
            hang: state.hang,
            redirect: state.redirect,
            endless: state.endless,
            endless_bytes: state.endless_bytes,
            elsewhere_hits: state.elsewhere_hits,
        }
    }

    pub fn signing_key(&self) -> ToolKey {
        self.keys.lock().unwrap()[0].clone()
    }

    /// Publishes `key` instead of the current one (a platform key rotation).
    pub fn rotate_to(&self, key: ToolKey) {
        *self.keys.lock().unwrap() = vec![key];
    }
}

/// One platform registration in the tool under test.
#[derive(Clone, Debug)]
pub struct Registered {
    pub lms: Lms,
    pub issuer: String,
    pub client_id: String,
    pub deployment_id: String,
}

pub struct TestApp {
    pub address: String,
    pub db: Db,
    /// The settings the app runs with.
    pub settings: Settings,
    pub clock: Clock,
    pub platform: TestPlatform,
    pub http: reqwest::Client,
    /// The running server's own state, for calling its use cases directly
    /// (a change made through it counts at once, as the admin console's do).
    pub tool: Tool,
    /// Held so the test's database lives as long as the app, and is dropped with it.
    _test_db: TestDb,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    crate::log_check::capture_log();
    crate::log_check::record_secret(TEST_SECRET_KEY);
    let test_db = TestDb::new(&backend);
    let port = free_port();
    let mut settings = test_settings(&test_db, port);
    adjust(&mut settings);
    let clock = Clock::system();
    let db = Db::connect(&settings).expect("test database connects");
    // A fixed tool key: generating RSA keys per test would dominate test time.
    guestlink::store::keys::ensure_current(
        &mut db.get_write().unwrap(),
        &test_sealer(),
        clock.now(),
        || platform_key(TOOL_KEY, "tool-key-1"),
    )
    .unwrap();
    let app = Application::build_with_db(db.clone(), settings.clone(), clock.clone())
        .await
        .expect("the app starts");
    let port = app.port();
    let tool = app.tool.clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        settings,
        db,
        clock,
        platform: TestPlatform::start(),
        http,
        tool,
        _test_db: test_db,
    }
}

/// Another instance of `app`'s tool on the same database, as a second
/// server behind a load balancer would be (same settings and clock, its
/// own port); its address.
pub async fn second_instance(app: &TestApp) -> String {
    let mut settings = app.settings.clone();
    settings.server.bind = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let db = Db::connect(&settings).expect("the second instance connects");
    let second = Application::build_with_db(db, settings, app.clock.clone())
        .await
        .expect("the second instance starts");
    let port = second.port();
    actix_web::rt::spawn(second.run_until_stopped());
    format!("http://127.0.0.1:{port}")
}

/// The sealer of every test's tool.
pub fn test_sealer() -> Sealer {
    Sealer::new(&SecretKey::parse(TEST_SECRET_KEY).unwrap())
}

/// A `Tool` on the test's database, for calling use cases directly (the
/// periodic purge, a fresh cache). Its URL key signs nothing the server checks.
pub fn tool(db: &Db, settings: &Settings, clock: &Clock) -> Tool {
    Tool::new(
        db.clone(),
        settings.clone(),
        clock.clone(),
        MacKey::new(b"not used to sign anything here"),
        test_sealer(),
    )
}

/// `guestlink serve` as a separate process on a fresh database, with these
/// environment variables, and a `TestApp` that talks to it (its platform,
/// clock and HTTP client as usual). The process is killed when the returned
/// guard drops.
pub async fn spawn_binary(backend: Backend, env: &[(&str, &str)]) -> (TestApp, ServerProcess) {
    crate::log_check::capture_log();
    let test_db = TestDb::new(&backend);
    let port = free_port();
    let settings = test_settings(&test_db, port);
    let db = Db::connect_for(&settings, guestlink::store::PoolUse::Command).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_guestlink"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", test_db.url_string())
        .env("GUESTLINK_DATA_DIR", test_db.dir.path())
        .env("GUESTLINK_BIND", format!("127.0.0.1:{port}"))
        .env("GUESTLINK_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("GUESTLINK_SECRET_KEY", TEST_SECRET_KEY)
        .env("GUESTLINK_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("guestlink serve starts");
    let process = ServerProcess(child);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let address = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if http
            .get(format!("{address}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "guestlink serve answers its health check");
    let clock = Clock::system();
    let app = TestApp {
        address,
        // The server is another process: this state shares its database, not its caches.
        tool: tool(&db, &settings, &clock),
        settings,
        db,
        clock,
        platform: TestPlatform::start(),
        http,
        _test_db: test_db,
    };
    (app, process)
}

/// A server process, killed on drop.
pub struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What login initiation handed the browser.
#[derive(Debug, Clone)]
pub struct LoginResult {
    pub state: String,
    pub nonce: String,
    /// The `name=value` of the state cookie.
    pub cookie: String,
    pub set_cookie: String,
    pub location: String,
}

pub struct Page {
    pub status: u16,
    pub html: Html,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    pub async fn from(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        let page = Page {
            status,
            html: Html::parse_document(&body),
            body,
            headers,
        };
        if let Some(token) = page.session_token() {
            crate::log_check::record_secret(&token);
        }
        crate::log_check::record_grants(&page.body);
        page
    }

    /// The value of `attr` on the first element matching `selector`.
    pub fn attr(&self, selector: &str, attr: &str) -> Option<String> {
        let sel = Selector::parse(selector).unwrap();
        self.html
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr(attr))
            .map(str::to_string)
    }

    pub fn error_code(&self) -> Option<String> {
        self.attr("main[data-error-code]", "data-error-code")
    }

    pub fn text(&self, selector: &str) -> Option<String> {
        let sel = Selector::parse(selector).unwrap();
        self.html
            .select(&sel)
            .next()
            .map(|e| e.text().collect::<String>().trim().to_string())
    }

    pub fn session_token(&self) -> Option<String> {
        self.attr("meta[name=guestlink-session]", "content")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Registers a platform of this LMS flavour served by the test platform.
    pub fn register(&self, lms: Lms) -> Registered {
        let (client_id, deployment_id) = guestlink::demo::ids(lms);
        self.register_with(
            lms,
            &format!("https://{lms}.lms.test"),
            client_id,
            deployment_id,
        )
    }

    pub fn register_with(
        &self,
        lms: Lms,
        issuer: &str,
        client_id: &str,
        deployment_id: &str,
    ) -> Registered {
        let new = NewPlatform::parse(
            &guestlink::domain::platform::PlatformFields {
                name: &format!("Test {lms}"),
                lms: lms.as_str(),
                issuer,
                client_id,
                auth_url: &format!("{}/auth", self.platform.base),
                jwks_url: &format!("{}/jwks", self.platform.base),
                token_url: None,
                deployment_ids: &[deployment_id.to_string()],
            },
            guestlink::domain::platform::DeploymentsNeeded::AtLeastOne,
        )
        .unwrap();
        guestlink::store::platforms::insert(
            &mut self.db.get_write().unwrap(),
            &new,
            self.clock.now(),
        )
        .unwrap();
        Registered {
            lms,
            issuer: issuer.into(),
            client_id: client_id.into(),
            deployment_id: deployment_id.into(),
        }
    }

    pub fn login_form(&self, reg: &Registered) -> Vec<(String, String)> {
        vec![
            ("iss".into(), reg.issuer.clone()),
            ("login_hint".into(), "user-hint".into()),
            ("target_link_uri".into(), self.url("/lti/launch")),
            ("lti_message_hint".into(), "message-hint".into()),
            ("client_id".into(), reg.client_id.clone()),
            ("lti_deployment_id".into(), reg.deployment_id.clone()),
        ]
    }

    pub async fn post_login(&self, form: &[(String, String)]) -> reqwest::Response {
        self.http
            .post(self.url("/lti/login"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap()
    }

    /// Login initiation that must succeed with a redirect.
    pub async fn login(&self, reg: &Registered) -> LoginResult {
        let response = self.post_login(&self.login_form(reg)).await;
        assert_eq!(
            response.status().as_u16(),
            302,
            "login initiation should redirect"
        );
        login_result(&response)
    }

    pub fn claims(&self, reg: &Registered, nonce: &str, role: Role) -> Value {
        claims::resource_link(&LaunchClaims {
            lms: reg.lms,
            issuer: &reg.issuer,
            client_id: &reg.client_id,
            deployment_id: &reg.deployment_id,
            nonce,
            role,
            now: self.clock.now(),
            target_link_uri: &self.url("/lti/launch"),
            context_id: "course-1",
        })
    }

    pub fn sign(&self, claims: &Value) -> String {
        if let Some(email) = claims["email"].as_str() {
            crate::log_check::record_secret(email);
        }
        let token = self.platform.signing_key().sign(claims).unwrap();
        crate::log_check::record_secret(&token);
        token
    }

    pub async fn post_launch(&self, fields: &[(&str, &str)], cookie: Option<&str>) -> Page {
        self.post_launch_with(fields, cookie, &[]).await
    }

    /// A launch POST with these request headers too (`Sec-Fetch-Site`, `Origin`).
    pub async fn post_launch_with(
        &self,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = self
            .http
            .post(self.url("/lti/launch"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap());
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Page::from(request.send().await.unwrap()).await
    }

    /// Posts `token` to the launch URL as the browser that started `login`.
    pub async fn post_token(&self, login: &LoginResult, token: &str) -> Page {
        self.post_launch(
            &[("id_token", token), ("state", &login.state)],
            Some(&login.cookie),
        )
        .await
    }

    /// A complete launch as `role`, ending on whatever page the tool shows.
    pub async fn launch_as(&self, reg: &Registered, role: Role) -> Page {
        self.launch_with(reg, role, |_| {}).await
    }

    /// A complete launch as `role` whose claims `change` alters before signing.
    pub async fn launch_with(
        &self,
        reg: &Registered,
        role: Role,
        change: impl FnOnce(&mut Value),
    ) -> Page {
        let login = self.login(reg).await;
        let mut claims = self.claims(reg, &login.nonce, role);
        change(&mut claims);
        self.post_token(&login, &self.sign(&claims)).await
    }

    /// The tool's key set, as an LMS fetches it.
    pub async fn published_jwks(&self) -> Value {
        self.http
            .get(self.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The kids of the published keys, in order.
    pub async fn published_kids(&self) -> Vec<String> {
        self.published_jwks().await["keys"]
            .as_array()
            .expect("a keys array")
            .iter()
            .map(|k| k["kid"].as_str().expect("a kid").to_string())
            .collect()
    }

    pub async fn get_page(&self, path: &str, bearer: Option<&str>) -> Page {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        Page::from(request.send().await.unwrap()).await
    }

    pub fn session_count(&self) -> i64 {
        count_rows(&self.db, "sessions")
    }
}

pub fn count_rows(db: &Db, table: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let mut conn = db.get_read().unwrap();
    guestlink::with_conn!(&mut conn, c => diesel::sql_query(&sql).get_result::<Count>(c).unwrap().n)
}

/// Runs SQL statements on the test's database (to set up what an older
/// guestlink would have left).
pub fn execute(db: &Db, sql: &str) {
    use diesel::connection::SimpleConnection;
    let mut conn = db.get_write().unwrap();
    guestlink::with_conn!(&mut conn, c => c.batch_execute(sql).unwrap());
}

/// Every value of a text column of a table (to check what is stored in the clear).
pub fn column_values(db: &Db, table: &str, column: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        v: Option<String>,
    }
    let sql = format!("SELECT {column} AS v FROM {table}");
    let mut conn = db.get_read().unwrap();
    let rows: Vec<Value> =
        guestlink::with_conn!(&mut conn, c => diesel::sql_query(&sql).load(c).unwrap());
    rows.into_iter().filter_map(|r| r.v).collect()
}

pub fn login_result(response: &reqwest::Response) -> LoginResult {
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let url = url::Url::parse(&location).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
            .unwrap()
    };
    let set_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("guestlink_state_"))
        .expect("a state cookie");
    crate::log_check::record_secret(&param("state"));
    crate::log_check::record_secret(&param("nonce"));
    LoginResult {
        state: param("state"),
        nonce: param("nonce"),
        cookie: set_cookie.split(';').next().unwrap().to_string(),
        set_cookie,
        location,
    }
}

/// The test clock's now as a date-time, to compare with the API's RFC 3339 times.
pub fn wall(clock: &Clock) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(clock.now().unix()).expect("a valid instant")
}
