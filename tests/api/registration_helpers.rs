//! Shared by the dynamic registration and admin console tests: the tool
//! under test with the settings it runs with (for the command line), the
//! command line against its database, simulated LMSs whose key set is the
//! test platform's, the registration round trip, and a look into the stored
//! platforms.

use std::process::{Command, Output};

use guestlink::config::{DatabaseUrl, Settings};
use guestlink::domain::platform::{Lms, Platform};
use scraper::Selector;

use crate::helpers::{Backend, Page, TestApp, count_rows, spawn_app_with};
use crate::support::sim_lms::{Flavour, SimLms, register_url};

/// The tool under test.
pub struct Tool {
    pub app: TestApp,
}

impl Tool {
    pub async fn start(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Tool {
        Tool {
            app: spawn_app_with(backend, adjust).await,
        }
    }

    /// A tool that lets the simulated LMSs on 127.0.0.1 register (plain
    /// http allowed for a listed loopback host; registrations active at once).
    pub async fn allowing_loopback(backend: Backend) -> Tool {
        Tool::start(backend, |s| {
            s.lti.registration_allowed_hosts = vec!["127.0.0.1:*".parse().unwrap()];
        })
        .await
    }

    /// The DATABASE_URL the command line needs to reach this tool's database.
    pub fn database_url(&self) -> String {
        match &self.app.settings.database.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// `guestlink ARGS` against this tool's database, data directory and public URL.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_guestlink"))
            .args(args)
            .env_clear()
            .env("GUESTLINK_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", self.database_url())
            .env("GUESTLINK_DATA_DIR", &self.app.settings.data_dir)
            .env(
                "GUESTLINK_PUBLIC_URL",
                self.app.settings.server.public_url.as_str(),
            )
            .output()
            .expect("the guestlink binary runs")
    }

    /// A simulated LMS whose key set is the test platform's, so launches
    /// signed with the test platform's key verify.
    pub fn sim(&self, flavour: Flavour) -> SimLms {
        SimLms::start(flavour, &format!("{}/jwks", self.app.platform.base))
    }

    /// Every stored platform, oldest first.
    pub fn platforms(&self) -> Vec<Platform> {
        guestlink::store::platforms::list(&mut self.app.db.get_read().unwrap()).unwrap()
    }

    pub fn platform_count(&self) -> i64 {
        count_rows(&self.app.db, "platforms")
    }

    /// Runs one SQL statement against the tool's database.
    pub fn execute_sql(&self, sql: &str) {
        use diesel::RunQueryDsl;
        let mut conn = self.app.db.get_write().unwrap();
        guestlink::with_conn!(&mut conn, c => diesel::sql_query(sql).execute(c).unwrap());
    }

    /// Makes a platform wait as pending, as a registration without an
    /// allowed-hosts list leaves it.
    pub fn make_pending(&self, id: i64) {
        self.execute_sql(&format!(
            "UPDATE platforms SET pending = true WHERE id = {id}"
        ));
    }

    /// The id of the platform with this issuer and client id.
    pub fn platform_id(&self, issuer: &str, client_id: &str) -> i64 {
        self.platforms()
            .into_iter()
            .find(|p| p.issuer == issuer && p.client_id == client_id)
            .unwrap_or_else(|| panic!("a platform {issuer} {client_id}"))
            .id
            .0
    }

    /// GET /lti/register as the LMS opens it.
    pub async fn open_register(&self, config_url: &str, token: Option<&str>) -> Page {
        self.get_page_at(&register_url(&self.app.address, config_url, token))
            .await
    }

    pub async fn get_page_at(&self, url: &str) -> Page {
        Page::from(self.app.http.get(url).send().await.unwrap()).await
    }

    /// POST /lti/register with these form fields.
    pub async fn post_register(&self, fields: &[(String, String)]) -> Page {
        Page::from(
            self.app
                .http
                .post(self.app.url("/lti/register"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(fields).unwrap())
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The whole registration as an LMS admin does it: open the tool's
    /// registration URL, check the confirmation page, press Register.
    /// Returns the confirmation page and the page after Register.
    pub async fn register_dynamically(
        &self,
        config_url: &str,
        token: Option<&str>,
    ) -> (Page, Page) {
        let confirm = self.open_register(config_url, token).await;
        assert_eq!(
            confirm.attr("main", "data-page").as_deref(),
            Some("register-confirm"),
            "{}: {}",
            confirm.status,
            main_text(&confirm)
        );
        let done = self.post_register(&form_fields(&confirm)).await;
        (confirm, done)
    }

    /// A registration of `sim` that must succeed; returns the stored platform.
    pub async fn register_sim(&self, sim: &SimLms) -> Platform {
        let config_url = sim.configuration_url();
        let token = sim.registration_token();
        let (_, done) = self
            .register_dynamically(&config_url, token.as_deref())
            .await;
        assert_done(&done);
        let id: i64 = done
            .attr("main", "data-platform-id")
            .unwrap()
            .parse()
            .unwrap();
        self.platforms()
            .into_iter()
            .find(|p| p.id.0 == id)
            .expect("the registered platform is stored")
    }
}

/// The tool's LMS flavour for a simulated LMS.
pub fn lms_of(flavour: Flavour) -> Lms {
    match flavour {
        Flavour::Moodle => Lms::Moodle,
        Flavour::Canvas => Lms::Canvas,
        Flavour::Sakai => Lms::Sakai,
        Flavour::Brightspace => Lms::Brightspace,
    }
}

/// The hidden fields of the confirmation page's registration form.
pub fn form_fields(page: &Page) -> Vec<(String, String)> {
    let selector = Selector::parse(r#"form[action="/lti/register"] input[type="hidden"]"#).unwrap();
    page.html
        .select(&selector)
        .filter_map(|input| {
            let value = input.value();
            Some((
                value.attr("name")?.to_string(),
                value.attr("value").unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// Asserts the page is the registration's success page.
pub fn assert_done(page: &Page) {
    assert_eq!(page.status, 200, "registration: {}", page.body);
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("register-done"),
        "{}",
        page.body
    );
}

/// Asserts an error page with this status and code.
pub fn assert_error(page: &Page, status: u16, code: &str, case: &str) {
    assert_eq!(
        (page.status, page.error_code().as_deref()),
        (status, Some(code)),
        "{case}: {}",
        main_text(page)
    );
}

/// The text of the page's main element, whitespace collapsed (for messages).
pub fn main_text(page: &Page) -> String {
    page.text("main")
        .unwrap_or_else(|| page.body.clone())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_string()
}

pub fn succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {:?}: {}",
        output.status,
        stderr(output)
    );
}

/// The value of `attr` on every element matching `selector`.
pub fn attrs(page: &Page, selector: &str, attr: &str) -> Vec<String> {
    let selector = Selector::parse(selector).unwrap();
    page.html
        .select(&selector)
        .filter_map(|e| e.value().attr(attr).map(str::to_string))
        .collect()
}

/// How many elements match `selector`.
pub fn count(page: &Page, selector: &str) -> usize {
    let selector = Selector::parse(selector).unwrap();
    page.html.select(&selector).count()
}

/// The Location header, without the tool's origin when it is absolute.
pub fn location(page: &Page, tool: &TestApp) -> Option<String> {
    page.headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .map(|l| {
            l.strip_prefix(&tool.address)
                .map(str::to_string)
                .unwrap_or(l)
        })
}
