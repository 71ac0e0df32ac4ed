//! Headless-browser checks against `guestlink demo`: each demo LMS button is
//! clicked in real Chromium and must go through the whole LTI 1.3 flow
//! (`/lti/login`, the demo LMS's authorization endpoint, the auto-submitted
//! form post to `/lti/launch`) to the course page.
//!
//! Runs only with `GUESTLINK_BROWSER_TESTS=1` (CI sets it) and needs
//! `chromium` and `chromedriver` (Debian: `chromium chromium-driver`).
//! Screenshots of every course page land in `target/screenshots/`.

#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::process::LoggedChild;
use support::webdriver::{WebDriver, free_port};

const LMSES: [&str; 4] = ["moodle", "canvas", "sakai", "brightspace"];
const ROLES: [&str; 2] = ["instructor", "student"];

const SERVER_START_TIMEOUT: Duration = Duration::from_secs(30);
const COURSE_PAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// `guestlink demo` on a free port with a fresh data directory, killed on drop.
struct DemoServer {
    process: LoggedChild,
    base: String,
    // Removed after the process is gone (fields drop after `Drop::drop`).
    _data_dir: tempfile::TempDir,
}

impl DemoServer {
    async fn start() -> DemoServer {
        let port = free_port();
        let data_dir = tempfile::tempdir().expect("create a temporary data directory");
        let log_path = data_dir.path().join("guestlink.log");
        let log = std::fs::File::create(&log_path).expect("create the server log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_guestlink"));
        // Only the settings below: nothing from the developer's environment
        // (a DATABASE_URL, a GUESTLINK_CONFIG file, a public URL) may leak in.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("GUESTLINK_") || name == "DATABASE_URL" {
                command.env_remove(name.as_ref());
            }
        }
        let child = command
            .arg("demo")
            .env("GUESTLINK_BIND", format!("127.0.0.1:{port}"))
            .env("GUESTLINK_DATA_DIR", data_dir.path())
            .env("GUESTLINK_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file handle"))
            .stderr(log)
            .spawn()
            .expect("start the guestlink binary");
        let mut server = DemoServer {
            process: LoggedChild::new(child, log_path),
            base: format!("http://127.0.0.1:{port}"),
            _data_dir: data_dir,
        };
        server.wait_healthy().await;
        server
    }

    fn log_tail(&self) -> String {
        self.process.log_tail(30)
    }

    async fn wait_healthy(&mut self) {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("build an HTTP client");
        let url = format!("{}/healthz", self.base);
        let deadline = Instant::now() + SERVER_START_TIMEOUT;
        loop {
            if let Some(status) = self.process.exited() {
                panic!(
                    "guestlink demo exited before answering /healthz ({status}); its log:\n{}",
                    self.log_tail()
                );
            }
            let last = match client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                Ok(response) if response.status() == reqwest::StatusCode::OK => return,
                Ok(response) => format!("HTTP {}", response.status()),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                panic!(
                    "guestlink demo did not answer 200 on {url} within {}s (last: {last}); its log:\n{}",
                    SERVER_START_TIMEOUT.as_secs(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// `$CARGO_TARGET_DIR/screenshots`, or `target/screenshots` in the package.
fn screenshot_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => manifest.join(dir),
        None => manifest.join("target"),
    };
    target.join("screenshots")
}

/// Clicks one demo button from a freshly loaded `/demo` and checks the course
/// page it ends on.
async fn launch(
    browser: &WebDriver,
    server: &DemoServer,
    lms: &str,
    role: &str,
    shots: &Path,
) -> Result<(), String> {
    let button = format!("{lms}-{role}");
    let demo_url = format!("{}/demo", server.base);
    browser
        .goto(&demo_url)
        .await
        .map_err(|e| format!("cannot open {demo_url}: {e}"))?;
    let element = browser
        .find(&format!(r#"button[data-demo-launch="{button}"]"#))
        .await
        .map_err(|e| format!("the button is not on {demo_url}: {e}"))?;
    browser
        .click(element.as_str())
        .await
        .map_err(|e| format!("clicking it failed: {e}"))?;

    let main = match browser
        .wait_for(r#"main[data-page="course"]"#, COURSE_PAGE_TIMEOUT)
        .await
    {
        Ok(main) => main,
        Err(e) => {
            let text = browser.page_text().await.unwrap_or_default();
            let text: String = text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(600)
                .collect();
            return Err(format!(
                "did not reach the course page: {e}; the page says: {text}"
            ));
        }
    };

    let expected = if role == "instructor" {
        "true"
    } else {
        "false"
    };
    let can_manage = browser
        .attribute(&main, "data-can-manage")
        .await
        .map_err(|e| format!("reading data-can-manage: {e}"))?;
    if can_manage.as_deref() != Some(expected) {
        return Err(format!(
            "the course page has data-can-manage={can_manage:?}, expected {expected:?} for a {role}"
        ));
    }

    let meta = browser
        .find(r#"meta[name="guestlink-session"]"#)
        .await
        .map_err(|e| format!("the course page has no guestlink-session meta: {e}"))?;
    let session = browser
        .attribute(&meta, "content")
        .await
        .map_err(|e| format!("reading the session meta: {e}"))?;
    if session.as_deref().unwrap_or("").trim().is_empty() {
        return Err("the guestlink-session meta on the course page is empty".to_string());
    }

    let path = shots.join(format!("demo-{button}.png"));
    browser
        .screenshot(&path)
        .await
        .map_err(|e| format!("cannot save the screenshot {}: {e}", path.display()))?;
    Ok(())
}

#[tokio::test]
async fn demo_launch_buttons_end_on_the_course_page() {
    if std::env::var("GUESTLINK_BROWSER_TESTS").as_deref() != Ok("1") {
        println!(
            "browser test skipped: set GUESTLINK_BROWSER_TESTS=1 to run it (needs chromium and chromedriver)"
        );
        return;
    }

    let server = DemoServer::start().await;
    let browser = WebDriver::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start headless Chromium: {e}"));
    let shots = screenshot_dir();

    let mut failures = Vec::new();
    for lms in LMSES {
        for role in ROLES {
            let button = format!("{lms}-{role}");
            match launch(&browser, &server, lms, role, &shots).await {
                Ok(()) => println!("demo button {button}: reached the course page"),
                Err(problem) => {
                    let _ = browser
                        .screenshot(&shots.join(format!("demo-{button}-failed.png")))
                        .await;
                    failures.push(format!("demo button {button}: {problem}"));
                }
            }
        }
    }
    let _ = browser.quit().await;

    if !failures.is_empty() {
        panic!(
            "{} of {} demo launches failed:\n{}\nguestlink log:\n{}",
            failures.len(),
            LMSES.len() * ROLES.len(),
            failures.join("\n"),
            server.log_tail()
        );
    }
    println!("screenshots are in {}", shots.display());
}
