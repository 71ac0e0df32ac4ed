//! Headless-browser checks against `guestlink demo`: each demo LMS button is
//! clicked in real Chromium and must go through the whole LTI 1.3 flow
//! (`/lti/login`, the demo LMS's authorization endpoint, the auto-submitted
//! form post to `/lti/launch`) to the course page.
//!
//! Runs only when built with `GUESTLINK_BROWSER_TESTS=1` (CI sets it;
//! otherwise each check is reported as ignored) and needs
//! `chromium` and `chromedriver` (Debian: `chromium chromium-driver`).
//! Screenshots of every course page land in `target/screenshots/`.
//!
//! A second check opens the demo video's media page: the video must play,
//! the three-dot menu must work from the keyboard, and Edit details must save.
//! A third adds content through deep linking from the demo Canvas and opens
//! the link the demo LMS received, which must land on that media page. A
//! fourth walks the guest-link story: an owner creates a link, a
//! guest in a second browser profile enters and watches, the owner deletes
//! the link and the guest's refresh shows why they can no longer get in.
//! A fifth signs in to the admin console with a printed link, registers
//! guestlink from a small simulated Moodle (LTI Dynamic Registration in a
//! frame, closed by the tool's message) and launches from it.

#[path = "browser/av.rs"]
mod av;
#[path = "browser/invites.rs"]
mod invites;
#[path = "api/janus_helpers.rs"]
#[allow(dead_code)]
mod janus_helpers;
/// What `janus_helpers` takes from the API tests' helpers.
mod helpers {
    pub use super::support::webdriver::free_port;
}
#[path = "browser/rooms.rs"]
mod rooms;
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::process::LoggedChild;
use support::webdriver::{WebDriver, free_port, keys};

const LMSES: [&str; 4] = ["moodle", "canvas", "sakai", "brightspace"];
const ROLES: [&str; 2] = ["instructor", "student"];

const SERVER_START_TIMEOUT: Duration = Duration::from_secs(30);
const COURSE_PAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// `guestlink demo` on a free port with a fresh data directory, killed on drop.
struct DemoServer {
    process: LoggedChild,
    base: String,
    port: u16,
    data_dir_path: PathBuf,
    // Removed after the process is gone (fields drop after `Drop::drop`).
    _data_dir: tempfile::TempDir,
}

impl DemoServer {
    async fn start() -> DemoServer {
        DemoServer::start_with(&[]).await
    }

    /// Like `start`, with these settings added.
    async fn start_with(settings: &[(&str, &str)]) -> DemoServer {
        DemoServer::start_on("127.0.0.1", settings).await
    }

    /// Like `start_with`, its public URL on `host` (say `localhost`, a
    /// different site from pages on 127.0.0.1).
    async fn start_on(host: &str, settings: &[(&str, &str)]) -> DemoServer {
        DemoServer::start_at(host, free_port(), settings).await
    }

    /// Like `start_on`, on `port` (chosen before, to tell another process).
    async fn start_at(host: &str, port: u16, settings: &[(&str, &str)]) -> DemoServer {
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
        command.envs(settings.iter().copied());
        let child = command
            .arg("demo")
            .env("GUESTLINK_BIND", format!("127.0.0.1:{port}"))
            .env("GUESTLINK_PUBLIC_URL", format!("http://{host}:{port}"))
            .env("GUESTLINK_DATA_DIR", data_dir.path())
            .env("GUESTLINK_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file handle"))
            .stderr(log)
            .spawn()
            .expect("start the guestlink binary");
        let mut server = DemoServer {
            process: LoggedChild::new(child, log_path),
            base: format!("http://{host}:{port}"),
            port,
            data_dir_path: data_dir.path().to_path_buf(),
            _data_dir: data_dir,
        };
        server.wait_healthy().await;
        server
    }

    /// `guestlink ARGS` against the server's data directory (SQLite); its
    /// standard output, or why it failed.
    fn cli(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new(env!("CARGO_BIN_EXE_guestlink"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("GUESTLINK_CONFIG")
            .env_remove("GUESTLINK_PUBLIC_URL")
            .env("GUESTLINK_BIND", format!("127.0.0.1:{}", self.port))
            .env("GUESTLINK_DATA_DIR", &self.data_dir_path)
            .output()
            .map_err(|e| format!("cannot run guestlink {args:?}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "guestlink {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// A one-time admin sign-in link, from `guestlink admin login-link`
    /// run against the server's data directory.
    fn admin_login_link(&self) -> Result<String, String> {
        let output = Command::new(env!("CARGO_BIN_EXE_guestlink"))
            .args(["admin", "login-link"])
            .env_remove("DATABASE_URL")
            .env_remove("GUESTLINK_CONFIG")
            .env_remove("GUESTLINK_PUBLIC_URL")
            .env("GUESTLINK_BIND", format!("127.0.0.1:{}", self.port))
            .env("GUESTLINK_DATA_DIR", &self.data_dir_path)
            .output()
            .map_err(|e| format!("cannot run guestlink admin login-link: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "guestlink admin login-link failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
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
#[cfg_attr(
    not(guestlink_browser_tests),
    ignore = "set GUESTLINK_BROWSER_TESTS=1 to run it (needs chromium and chromedriver)"
)]
async fn demo_launch_buttons_end_on_the_course_page() {
    let server = DemoServer::start().await;
    let browser = start_browser().await;
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

/// A headless Chromium with a fresh profile of its own.
async fn start_browser() -> WebDriver {
    WebDriver::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start headless Chromium: {e}"))
}

/// Ends a check: the browsers quit, each first saving what it showed as
/// `{name}-failed.png` if the check failed, which then fails the test with
/// the server's log.
async fn conclude<const N: usize>(
    result: Result<(), String>,
    browsers: [(&str, WebDriver); N],
    server: &DemoServer,
    shots: &Path,
) {
    for (name, browser) in browsers {
        if result.is_err() {
            let _ = browser
                .screenshot(&shots.join(format!("{name}-failed.png")))
                .await;
        }
        let _ = browser.quit().await;
    }
    if let Err(problem) = result {
        panic!("{problem}\nguestlink log:\n{}", server.log_tail());
    }
}

/// Starts the page's video (muted, as autoplay rules want) and waits until
/// its clock passes one second.
async fn play_video(browser: &WebDriver, whose: &str) -> Result<(), String> {
    browser
        .execute(
            "const v = document.getElementById('player'); v.muted = true; v.play(); return true;",
            vec![],
        )
        .await
        .map_err(|e| format!("starting {whose} video: {e}"))?;
    let played = wait_until(
        browser,
        &format!("{whose} video's currentTime advancing past 1 s"),
        "const v = document.getElementById('player'); return v.error ? 'error ' + v.error.code : v.currentTime > 1;",
    )
    .await?;
    if played.is_string() {
        return Err(format!("{whose} video failed to play: {played}"));
    }
    Ok(())
}

/// Presses `key` on the focused element and returns the text of the element
/// focused afterwards.
async fn press(browser: &WebDriver, key: &str) -> Result<String, String> {
    let focused = browser.active_element().await.map_err(|e| e.to_string())?;
    browser
        .send_keys(&focused, key)
        .await
        .map_err(|e| e.to_string())?;
    let now = browser.active_element().await.map_err(|e| e.to_string())?;
    Ok(browser.text(&now).await.unwrap_or_default())
}

async fn wait_until(
    browser: &WebDriver,
    what: &str,
    script: &str,
) -> Result<serde_json::Value, String> {
    let deadline = Instant::now() + COURSE_PAGE_TIMEOUT;
    loop {
        let value = browser
            .execute(script, vec![])
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        if value.as_bool() != Some(false) && !value.is_null() {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{what}: still not the case after {}s",
                COURSE_PAGE_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn check_media_page(
    browser: &WebDriver,
    server: &DemoServer,
    shots: &Path,
) -> Result<(), String> {
    browser
        .goto(&format!("{}/demo", server.base))
        .await
        .map_err(|e| e.to_string())?;
    let button = browser
        .find(r#"button[data-demo-launch="moodle-instructor"]"#)
        .await
        .map_err(|e| e.to_string())?;
    browser.click(&button).await.map_err(|e| e.to_string())?;
    let video_link = browser
        .wait_for(r#"li[data-kind="video"] a"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the library lists no video: {e}"))?;
    browser
        .click(&video_link)
        .await
        .map_err(|e| e.to_string())?;
    browser
        .wait_for(
            r#"main[data-page="media"] video#player"#,
            COURSE_PAGE_TIMEOUT,
        )
        .await
        .map_err(|e| format!("the video's media page did not open: {e}"))?;

    // The video plays: its clock moves.
    play_video(browser, "the owner's").await?;
    browser
        .screenshot(&shots.join("media-page-video.png"))
        .await
        .map_err(|e| e.to_string())?;

    // The three-dot menu, by keyboard only (the button takes focus as Tab would give it).
    let has_button = browser
        .execute(
            "const b = document.getElementById('media-menu-button'); if (b) b.focus(); return !!b;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    if has_button != serde_json::json!(true) {
        return Err("the media page has no three-dot menu button".into());
    }
    let steps = [
        (keys::ENTER, "Invite users", "Enter on the menu button"),
        (keys::ARROW_DOWN, "Manage guest access", "ArrowDown"),
        (keys::ARROW_DOWN, "Edit details", "ArrowDown again"),
        (keys::ARROW_DOWN, "Delete", "ArrowDown a third time"),
        (
            keys::ARROW_DOWN,
            "Invite users",
            "ArrowDown from the last item",
        ),
        (keys::ARROW_UP, "Delete", "ArrowUp from the first item"),
    ];
    for (key, expected, what) in steps {
        let focused = press(browser, key).await?;
        if focused != expected {
            return Err(format!("{what} focused {focused:?}, not {expected:?}"));
        }
        if expected == "Delete" {
            browser
                .screenshot(&shots.join("media-page-menu.png"))
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    press(browser, keys::ESCAPE).await?;
    let closed = browser
        .execute(
            "const b = document.getElementById('media-menu-button'); return [document.activeElement === b, b.getAttribute('aria-expanded'), document.getElementById('media-menu').hidden];",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    if closed != serde_json::json!([true, "false", true]) {
        return Err(format!(
            "Escape should close the menu and return focus to its button; [focus on button, aria-expanded, hidden] = {closed}"
        ));
    }

    // Edit details saves.
    press(browser, keys::ENTER).await?;
    press(browser, keys::ARROW_DOWN).await?;
    let third = press(browser, keys::ARROW_DOWN).await?;
    if third != "Edit details" {
        return Err(format!(
            "the third menu item is {third:?}, not Edit details"
        ));
    }
    press(browser, keys::ENTER).await?;
    let title = browser
        .wait_for("#edit-dialog[open] #edit-title", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("Edit details did not open its dialog: {e}"))?;
    browser
        .execute(
            "document.getElementById('edit-title').value = ''; return true;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    let new_title = "Week 1: <Welcome> & introductions";
    browser
        .send_keys(&title, new_title)
        .await
        .map_err(|e| e.to_string())?;
    browser
        .screenshot(&shots.join("media-page-edit.png"))
        .await
        .map_err(|e| e.to_string())?;
    let save = browser
        .find("#edit-form button[type=submit]")
        .await
        .map_err(|e| e.to_string())?;
    browser.click(&save).await.map_err(|e| e.to_string())?;
    wait_until(
        browser,
        "the page title showing the saved title",
        &format!(
            "return !document.getElementById('edit-dialog').open && document.querySelector('h1[data-field=title]').textContent === {};",
            serde_json::json!(new_title)
        ),
    )
    .await?;
    let url = browser.current_url().await.map_err(|e| e.to_string())?;
    browser.goto(&url).await.map_err(|e| e.to_string())?;
    let heading = browser
        .wait_for("h1[data-field=title]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let saved = browser.text(&heading).await.map_err(|e| e.to_string())?;
    if saved != new_title {
        return Err(format!(
            "after a reload the title is {saved:?}, not the saved {new_title:?}"
        ));
    }
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(guestlink_browser_tests),
    ignore = "set GUESTLINK_BROWSER_TESTS=1 to run it (needs chromium and chromedriver)"
)]
async fn the_media_page_plays_video_and_its_menu_works_by_keyboard() {
    let server = DemoServer::start().await;
    let browser = start_browser().await;
    let shots = screenshot_dir();
    let result = check_media_page(&browser, &server, &shots).await;
    conclude(result, [("media-page", browser)], &server, &shots).await;
}

async fn check_deep_linking(
    browser: &WebDriver,
    server: &DemoServer,
    shots: &Path,
) -> Result<(), String> {
    browser
        .goto(&format!("{}/demo", server.base))
        .await
        .map_err(|e| e.to_string())?;
    let button = browser
        .find(r#"button[data-demo-launch="canvas-deeplink"]"#)
        .await
        .map_err(|e| format!("no deep-linking button on the demo page: {e}"))?;
    browser.click(&button).await.map_err(|e| e.to_string())?;
    browser
        .wait_for(r#"main[data-page="deep-link"]"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the picker did not open: {e}"))?;
    browser
        .screenshot(&shots.join("deep-link-picker.png"))
        .await
        .map_err(|e| e.to_string())?;
    let choice = browser
        .find(r#"#deep-link-form input[name="media"]"#)
        .await
        .map_err(|e| format!("the picker offers no media: {e}"))?;
    let chosen = browser
        .attribute(&choice, "value")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("a choice without a value")?;
    browser.click(&choice).await.map_err(|e| e.to_string())?;
    let add = browser
        .find(r#"#deep-link-form button[value="add"]"#)
        .await
        .map_err(|e| e.to_string())?;
    browser.click(&add).await.map_err(|e| e.to_string())?;
    // The tool's auto-submitting form carries the signed response to the
    // demo LMS, which verifies it and lists the link it received.
    browser
        .wait_for(
            &format!(r#"[data-returned-media="{chosen}"]"#),
            COURSE_PAGE_TIMEOUT,
        )
        .await
        .map_err(|e| format!("the demo LMS did not receive the chosen item: {e}"))?;
    browser
        .screenshot(&shots.join("deep-link-returned.png"))
        .await
        .map_err(|e| e.to_string())?;
    let open = browser
        .find(r#"button[data-open-link="student"]"#)
        .await
        .map_err(|e| e.to_string())?;
    browser.click(&open).await.map_err(|e| e.to_string())?;
    browser
        .wait_for(
            &format!(r#"main[data-page="media"][data-media-id="{chosen}"]"#),
            COURSE_PAGE_TIMEOUT,
        )
        .await
        .map_err(|e| format!("launching the returned link did not open its media page: {e}"))?;
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(guestlink_browser_tests),
    ignore = "set GUESTLINK_BROWSER_TESTS=1 to run it (needs chromium and chromedriver)"
)]
async fn deep_linking_in_the_demo_adds_a_link_that_opens_its_media_page() {
    let server = DemoServer::start().await;
    let browser = start_browser().await;
    let shots = screenshot_dir();
    let result = check_deep_linking(&browser, &server, &shots).await;
    conclude(result, [("deep-link", browser)], &server, &shots).await;
}

/// Expiry dates as the modal writes them ("April 16, 2026", UTC) for a link
/// made now with `days` days; two, in case the test straddles midnight.
fn expected_expiry(days: i64) -> [String; 2] {
    let at = |t: time::OffsetDateTime| format!("{} {}, {}", t.month(), t.day(), t.year());
    let now = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    [at(now), at(now + time::Duration::minutes(2))]
}

async fn shot(browser: &WebDriver, shots: &Path, name: &str) -> Result<(), String> {
    browser
        .screenshot(&shots.join(format!("{name}.png")))
        .await
        .map_err(|e| format!("screenshot {name}: {e}"))
}

async fn click(browser: &WebDriver, css: &str) -> Result<(), String> {
    let element = browser
        .wait_for(css, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("{css}: {e}"))?;
    browser
        .click(&element)
        .await
        .map_err(|e| format!("clicking {css}: {e}"))
}

async fn text_of(browser: &WebDriver, css: &str) -> Result<String, String> {
    let element = browser
        .wait_for(css, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("{css}: {e}"))?;
    browser.text(&element).await.map_err(|e| e.to_string())
}

/// "Share a guest link to specific media", as an owner and a guest take it.
async fn walk_the_guest_link_steps(
    owner: &WebDriver,
    guest: &WebDriver,
    server: &DemoServer,
    shots: &Path,
) -> Result<(), String> {
    // 1. The media page of the item to share.
    owner
        .goto(&format!("{}/demo", server.base))
        .await
        .map_err(|e| e.to_string())?;
    click(owner, r#"button[data-demo-launch="moodle-instructor"]"#).await?;
    click(owner, r#"li[data-kind="video"] a"#).await?;
    owner
        .wait_for(r#"main[data-page="media"]"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the media page did not open: {e}"))?;
    shot(owner, shots, "guest-link-1-media-page").await?;

    // 2-3. The three dots below the player, then Manage guest access.
    click(owner, "#media-menu-button").await?;
    shot(owner, shots, "guest-link-2-menu").await?;
    click(
        owner,
        r#"#media-menu [role="menuitem"][data-action="guest-access"]"#,
    )
    .await?;
    let count = text_of(owner, "#guest-access-dialog[open] #ga-count").await?;
    if count != "No links added" {
        return Err(format!(
            "a new item's modal says {count:?}, not \"No links added\""
        ));
    }
    shot(owner, shots, "guest-link-3-manage-guest-access").await?;

    // 4. Toggle on Enable guest access, then Create new link.
    click(owner, "#ga-switch").await?;
    wait_until(
        owner,
        "the switch turning on",
        "return document.getElementById('ga-switch').getAttribute('aria-checked') === 'true' && !document.getElementById('ga-create').disabled;",
    )
    .await?;
    click(owner, "#ga-create").await?;
    let name = owner
        .wait_for("#create-link-dialog[open] #cl-name", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("Create new link did not open its dialog: {e}"))?;
    // 5-7. A name, 3 clicks, 7 days.
    owner
        .send_keys(&name, "Webinar invite")
        .await
        .map_err(|e| e.to_string())?;
    let clicks = owner.find("#cl-clicks").await.map_err(|e| e.to_string())?;
    owner
        .send_keys(&clicks, "3")
        .await
        .map_err(|e| e.to_string())?;
    let days = owner.find("#cl-days").await.map_err(|e| e.to_string())?;
    owner
        .send_keys(&days, "7")
        .await
        .map_err(|e| e.to_string())?;
    shot(owner, shots, "guest-link-4-create-new-link").await?;
    // 8. Create.
    click(owner, r#"#create-link-form button[type="submit"]"#).await?;
    wait_until(
        owner,
        "the new link's row",
        "return !document.getElementById('create-link-dialog').open && document.querySelectorAll('#ga-links tbody tr').length === 1;",
    )
    .await?;
    let row = text_of(owner, "#ga-links tbody tr").await?;
    let dates = expected_expiry(7);
    if !row.contains("Webinar invite")
        || !dates.iter().any(|d| row.contains(d.as_str()))
        || !row.contains("0 / 3")
    {
        return Err(format!(
            "the row reads {row:?}; expected the name, {} and \"0 / 3\"",
            dates[0]
        ));
    }
    let count = text_of(owner, "#ga-count").await?;
    if count != "1 link" {
        return Err(format!("after one link the modal says {count:?}"));
    }
    shot(owner, shots, "guest-link-5-link-created").await?;

    // 9. The copy icon: the clipboard, or the selected field to copy by hand.
    click(owner, r#"[data-link-action="copy"]"#).await?;
    let copied = wait_until(
        owner,
        "the copy being confirmed",
        "const s = document.getElementById('ga-status').textContent; const f = document.getElementById('ga-copy-fallback'); return (s.includes('copied') || !f.hidden) ? document.querySelector('#ga-links tbody tr').getAttribute('data-link-url') : false;",
    )
    .await?;
    let url = copied.as_str().ok_or("no link URL in the row")?.to_string();
    shot(owner, shots, "guest-link-6-copied").await?;

    // 10. The guest, in another browser profile: name, email, the video.
    guest.goto(&url).await.map_err(|e| e.to_string())?;
    let guest_name = guest
        .wait_for(
            r#"main[data-page="guest-entry"] #guest-name"#,
            COURSE_PAGE_TIMEOUT,
        )
        .await
        .map_err(|e| format!("the guest entry page did not open: {e}"))?;
    shot(guest, shots, "guest-link-7-guest-entry").await?;
    guest
        .send_keys(&guest_name, "Grace Guest")
        .await
        .map_err(|e| e.to_string())?;
    let email = guest
        .find("#guest-email")
        .await
        .map_err(|e| e.to_string())?;
    guest
        .send_keys(&email, "grace@example.org")
        .await
        .map_err(|e| e.to_string())?;
    click(guest, "#guest-entry-form button[type=submit]").await?;
    guest
        .wait_for(
            r#"main[data-page="guest-view"] video#player"#,
            COURSE_PAGE_TIMEOUT,
        )
        .await
        .map_err(|e| format!("the guest did not reach the media: {e}"))?;
    play_video(guest, "the guest's").await?;
    shot(guest, shots, "guest-link-8-guest-watching").await?;

    // The owner deletes the link: "Deleted links can't be restored".
    click(owner, r#"[data-link-action="delete"]"#).await?;
    let warning = text_of(owner, "#delete-link-dialog[open]").await?;
    if !warning.contains("Deleted links can't be restored") {
        return Err(format!("the delete confirmation says {warning:?}"));
    }
    shot(owner, shots, "guest-link-9-delete-confirmation").await?;
    click(owner, r#"#delete-link-form button[type="submit"]"#).await?;
    wait_until(
        owner,
        "the link leaving the table",
        "return document.getElementById('ga-count').textContent === 'No links added';",
    )
    .await?;

    // The guest's refresh shows why they can no longer get in.
    guest
        .goto(&format!("{url}/view"))
        .await
        .map_err(|e| e.to_string())?;
    let main = guest
        .wait_for("main[data-unavailable-reason]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the guest's refresh did not show the unavailable page: {e}"))?;
    let reason = guest
        .attribute(&main, "data-unavailable-reason")
        .await
        .map_err(|e| e.to_string())?;
    if reason.as_deref() != Some("deleted") {
        return Err(format!(
            "the unavailable page gives {reason:?}, not deleted"
        ));
    }
    shot(guest, shots, "guest-link-10-guest-unavailable").await?;
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(guestlink_browser_tests),
    ignore = "set GUESTLINK_BROWSER_TESTS=1 to run it (needs chromium and chromedriver)"
)]
async fn an_owner_shares_a_guest_link_and_a_guest_watches_until_it_is_deleted() {
    let server = DemoServer::start().await;
    let owner = start_browser().await;
    // A second browser with its own fresh profile: the guest shares nothing
    // with the owner.
    let guest = start_browser().await;
    let shots = screenshot_dir();
    let result = walk_the_guest_link_steps(&owner, &guest, &server, &shots).await;
    conclude(
        result,
        [("guest-link-owner", owner), ("guest-link-guest", guest)],
        &server,
        &shots,
    )
    .await;
}

/// A small Moodle for the registration check: its OpenID configuration
/// (messages as plain strings, as Moodle writes them), a registration
/// endpoint that wants its Bearer token, its key set, the page that shows a
/// tool's registration in a frame and listens for the close message, a
/// course link that starts a launch, and an authorization endpoint that
/// signs the id_token and posts it back, as Moodle's auth.php does.
mod mini_moodle {
    use std::sync::Mutex;

    use actix_web::{App, HttpResponse, HttpServer, web};
    use guestlink::lti::keys::{JwkSet, ToolKey};
    use serde_json::{Value, json};

    pub const TOKEN: &str = "moodle-registration-token-1";
    pub const CLIENT_ID: &str = "moodle-client-77";
    pub const DEPLOYMENT_ID: &str = "3";

    #[derive(Default)]
    struct Registered {
        login_url: String,
        launch_url: String,
    }

    struct State {
        base: String,
        tool_base: String,
        key: ToolKey,
        registered: Mutex<Option<Registered>>,
    }

    pub struct MiniMoodle {
        pub base: String,
    }

    impl MiniMoodle {
        pub fn start(tool_base: &str) -> MiniMoodle {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
            let key = ToolKey::from_pkcs8_pem(
                "moodle-key".into(),
                include_str!("fixtures/platform_key_a.pem"),
            )
            .expect("the fixture key");
            let state = web::Data::new(State {
                base: base.clone(),
                tool_base: tool_base.to_string(),
                key,
                registered: Mutex::new(None),
            });
            // Its own thread and actix system: the test itself runs on tokio.
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    HttpServer::new(move || {
                        App::new()
                            .app_data(state.clone())
                            .route(
                                "/mod/lti/openid-configuration.php",
                                web::get().to(configuration),
                            )
                            .route("/mod/lti/openid-registration.php", web::post().to(register))
                            .route("/mod/lti/certs.php", web::get().to(certs))
                            .route("/admin/tool/register", web::get().to(register_frame))
                            .route("/course/view", web::get().to(course_link))
                            .route("/mod/lti/auth.php", web::get().to(authorize))
                    })
                    .workers(1)
                    .disable_signals()
                    .listen(listener)
                    .expect("listen")
                    .run()
                    .await
                    .expect("the mini Moodle runs")
                })
            });
            MiniMoodle { base }
        }
    }

    fn page(body: String) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(body)
    }

    async fn configuration(state: web::Data<State>) -> HttpResponse {
        let b = &state.base;
        HttpResponse::Ok().json(json!({
            "issuer": b,
            "authorization_endpoint": format!("{b}/mod/lti/auth.php"),
            "token_endpoint": format!("{b}/mod/lti/token.php"),
            "jwks_uri": format!("{b}/mod/lti/certs.php"),
            "registration_endpoint": format!("{b}/mod/lti/openid-registration.php"),
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "moodle",
                "version": "4.5.1 (Build: 20241209)",
                "messages_supported": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
                "placements": ["AddContentMenu"],
            },
        }))
    }

    async fn register(
        state: web::Data<State>,
        req: actix_web::HttpRequest,
        body: web::Json<Value>,
    ) -> HttpResponse {
        let bearer = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if bearer != Some(&format!("Bearer {TOKEN}")) {
            return HttpResponse::Unauthorized().body("missing_registration_token");
        }
        let mut answer = body.into_inner();
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        *state.registered.lock().unwrap() = Some(Registered {
            login_url: text(&answer["initiate_login_uri"]),
            launch_url: text(&answer["redirect_uris"][0]),
        });
        answer["client_id"] = json!(CLIENT_ID);
        answer["https://purl.imsglobal.org/spec/lti-tool-configuration"]["deployment_id"] =
            json!(DEPLOYMENT_ID);
        HttpResponse::Ok().json(answer)
    }

    async fn certs(state: web::Data<State>) -> HttpResponse {
        HttpResponse::Ok().json(JwkSet {
            keys: vec![state.key.jwk()],
        })
    }

    /// Moodle's Manage tools page: the tool's registration page in a frame;
    /// the frame goes when the tool posts the close message.
    async fn register_frame(state: web::Data<State>) -> HttpResponse {
        let src = format!(
            "{}/lti/register?openid_configuration={}&registration_token={TOKEN}",
            state.tool_base,
            urlencode(&format!("{}/mod/lti/openid-configuration.php", state.base))
        );
        page(format!(
            r#"<!doctype html><title>Manage tools</title><h1>Manage tools</h1>
<p id="status">registering</p>
<iframe id="tool" src="{src}" style="width:1000px;height:1400px"></iframe>
<script>
window.addEventListener("message", function (e) {{
  if (e.data && e.data.subject === "org.imsglobal.lti.close") {{
    document.getElementById("status").textContent = "closed";
    document.getElementById("tool").remove();
  }}
}});
</script>"#
        ))
    }

    /// A course's link to the tool: starts the launch like Moodle does.
    async fn course_link(state: web::Data<State>) -> HttpResponse {
        let registered = state.registered.lock().unwrap();
        let Some(reg) = registered.as_ref() else {
            return HttpResponse::NotFound().body("the tool is not registered");
        };
        page(format!(
            r#"<!doctype html><form id="f" method="post" action="{}">
<input type="hidden" name="iss" value="{}">
<input type="hidden" name="login_hint" value="teacher-1">
<input type="hidden" name="target_link_uri" value="{}">
<input type="hidden" name="client_id" value="{CLIENT_ID}">
<input type="hidden" name="lti_deployment_id" value="{DEPLOYMENT_ID}">
<input type="hidden" name="lti_message_hint" value="link-1">
</form><script>document.getElementById("f").submit();</script>"#,
            reg.login_url, state.base, reg.launch_url
        ))
    }

    async fn authorize(
        state: web::Data<State>,
        query: web::Query<std::collections::HashMap<String, String>>,
    ) -> HttpResponse {
        let context = json!({"id": "course-9", "label": "BIO101", "title": "Biology 101"});
        page(super::signed_launch_form(
            &state.key,
            &state.base,
            &query,
            DEPLOYMENT_ID,
            context,
            "",
        ))
    }

    fn urlencode(text: &str) -> String {
        url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }
}

/// The admin's walk: sign in with a printed link, see the console, register
/// guestlink from the mini Moodle's Manage tools page (the registration in a
/// frame, closed by the tool's message), launch from a course, and find that
/// launch in the diagnostics.
async fn register_and_launch(
    browser: &WebDriver,
    server: &DemoServer,
    moodle: &mini_moodle::MiniMoodle,
    shots: &Path,
) -> Result<(), String> {
    let link = server.admin_login_link()?;
    browser.goto(&link).await.map_err(|e| e.to_string())?;
    browser
        .wait_for(r#"main[data-page="admin-login"]"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the sign-in page did not show: {e}"))?;
    shot(browser, shots, "admin-01-sign-in").await?;
    click(
        browser,
        r#"main[data-page="admin-login"] button[type="submit"]"#,
    )
    .await?;
    browser
        .wait_for(r#"main[data-page="admin-platforms"]"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("signing in did not open the platforms page: {e}"))?;
    shot(browser, shots, "admin-02-platforms").await?;

    browser
        .goto(&format!("{}/admin/tool/register", moodle.base))
        .await
        .map_err(|e| e.to_string())?;
    let frame = browser
        .wait_for("iframe#tool", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the Manage tools page has no frame: {e}"))?;
    browser
        .enter_frame(&frame)
        .await
        .map_err(|e| format!("entering the frame: {e}"))?;
    browser
        .wait_for(r#"main[data-page="register-confirm"]"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the frame does not show the confirmation page: {e}"))?;
    let confirm_text = browser.page_text().await.unwrap_or_default();
    if !confirm_text.contains(&moodle.base) || !confirm_text.contains("LtiDeepLinkingRequest") {
        return Err(format!(
            "the confirmation page does not show the issuer and message types: {confirm_text}"
        ));
    }
    browser.leave_frame().await.map_err(|e| e.to_string())?;
    shot(browser, shots, "admin-03-register-confirm").await?;
    browser
        .enter_frame(&frame)
        .await
        .map_err(|e| e.to_string())?;
    click(
        browser,
        r#"form[action="/lti/register"] button[type="submit"]"#,
    )
    .await?;
    browser.leave_frame().await.map_err(|e| e.to_string())?;
    wait_until(
        browser,
        "the Manage tools page receiving org.imsglobal.lti.close",
        "return document.getElementById('status').textContent === 'closed';",
    )
    .await?;
    shot(browser, shots, "admin-04-registration-closed").await?;

    browser
        .goto(&format!("{}/admin", server.base))
        .await
        .map_err(|e| e.to_string())?;
    let row = browser
        .wait_for(r#"tr[data-status="active"] td a"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let _ = row;
    let listed = browser.page_text().await.unwrap_or_default();
    if !listed.contains(mini_moodle::CLIENT_ID) {
        return Err(format!("the new platform is not listed: {listed}"));
    }
    shot(browser, shots, "admin-05-platform-listed").await?;

    browser
        .goto(&format!("{}/course/view", moodle.base))
        .await
        .map_err(|e| e.to_string())?;
    browser
        .wait_for(r#"main[data-page="course"]"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| {
            format!("the launch from the registered Moodle did not reach the course page: {e}")
        })?;
    shot(browser, shots, "admin-06-launched").await?;

    browser
        .goto(&format!("{}/admin/diagnostics", server.base))
        .await
        .map_err(|e| e.to_string())?;
    browser
        .wait_for(r#"tr[data-outcome="ok"]"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the launch is not in the diagnostics: {e}"))?;
    shot(browser, shots, "admin-07-diagnostics").await?;
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(guestlink_browser_tests),
    ignore = "set GUESTLINK_BROWSER_TESTS=1 to run it (needs chromium and chromedriver)"
)]
async fn an_admin_signs_in_registers_a_moodle_and_its_launch_works() {
    let server = DemoServer::start_with(&[
        ("GUESTLINK_REGISTRATION_ALLOWED_HOSTS", "127.0.0.1:*"),
        ("GUESTLINK_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1:*"),
    ])
    .await;
    let moodle = mini_moodle::MiniMoodle::start(&server.base);
    let browser = start_browser().await;
    let shots = screenshot_dir();
    let result = register_and_launch(&browser, &server, &moodle, &shots).await;
    conclude(result, [("admin-registration", browser)], &server, &shots).await;
}

/// What an LMS's authorization endpoint answers: an instructor's resource
/// link launch (into `context`) signed with `key`, in a form that posts
/// itself to the tool's redirect URI, with `extra_fields` in it.
fn signed_launch_form(
    key: &guestlink::lti::keys::ToolKey,
    issuer: &str,
    query: &std::collections::HashMap<String, String>,
    deployment_id: &str,
    context: serde_json::Value,
    extra_fields: &str,
) -> String {
    let q = |name: &str| query.get(name).cloned().unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = serde_json::json!({
        "iss": issuer,
        "aud": q("client_id"),
        "sub": "teacher-1",
        "iat": now,
        "exp": now + 60,
        "nonce": q("nonce"),
        "name": "Ada Teacher",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": deployment_id,
        "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": q("redirect_uri"),
        "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "link-1"},
        "https://purl.imsglobal.org/spec/lti/claim/roles": [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
        ],
        "https://purl.imsglobal.org/spec/lti/claim/context": context,
    });
    let token = key.sign(&claims).expect("signs");
    format!(
        r#"<!doctype html><form id="f" method="post" action="{}">
<input type="hidden" name="id_token" value="{token}">
<input type="hidden" name="state" value="{}">
{extra_fields}
</form><script>document.getElementById("f").submit();</script>"#,
        q("redirect_uri"),
        q("state")
    )
}

/// A Canvas-like LMS on 127.0.0.1 that frames the tool (on `localhost`, so
/// another site) the way an LMS does, and offers LTI platform storage
/// (`lti.put_data` / `lti.get_data` by postMessage) for a browser that
/// refuses the tool's cookies: a course page with the tool in an iframe, an
/// authorization endpoint that signs the id_token and posts it into the
/// frame, and its key set.
mod framing_lms {
    use actix_web::{App, HttpResponse, HttpServer, web};
    use guestlink::lti::keys::{JwkSet, ToolKey};
    use serde_json::json;

    pub const CLIENT_ID: &str = "10000000000077";
    pub const DEPLOYMENT_ID: &str = "77:framing";

    struct State {
        base: String,
        tool_base: String,
        key: ToolKey,
    }

    pub struct FramingLms {
        pub base: String,
    }

    impl FramingLms {
        pub fn start(tool_base: &str) -> FramingLms {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
            let key = ToolKey::from_pkcs8_pem(
                "framing-key".into(),
                include_str!("fixtures/platform_key_a.pem"),
            )
            .expect("the fixture key");
            let state = web::Data::new(State {
                base: base.clone(),
                tool_base: tool_base.to_string(),
                key,
            });
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    HttpServer::new(move || {
                        App::new()
                            .app_data(state.clone())
                            .route("/courses/1", web::get().to(course))
                            .route("/auth", web::get().to(authorize))
                            .route("/jwks", web::get().to(jwks))
                    })
                    .workers(1)
                    .disable_signals()
                    .listen(listener)
                    .expect("listen")
                    .run()
                    .await
                    .expect("the framing LMS runs")
                })
            });
            FramingLms { base }
        }

        /// `platform add` arguments that register this LMS in the tool.
        pub fn platform_add(&self) -> Vec<String> {
            [
                "platform",
                "add",
                "--name",
                "Framing Canvas",
                "--lms",
                "canvas",
                "--issuer",
                &self.base,
                "--client-id",
                CLIENT_ID,
                "--auth-url",
                &format!("{}/auth", self.base),
                "--jwks-url",
                &format!("{}/jwks", self.base),
                "--deployment-id",
                DEPLOYMENT_ID,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect()
        }
    }

    fn page(body: String) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(body)
    }

    fn urlencode(text: &str) -> String {
        url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }

    /// The course page: the tool in a frame, and platform storage for it.
    async fn course(state: web::Data<State>) -> HttpResponse {
        let tool = &state.tool_base;
        let login = format!(
            "{tool}/lti/login?iss={}&login_hint=teacher-1&target_link_uri={}&client_id={CLIENT_ID}&lti_deployment_id={}&lti_storage_target=_parent",
            urlencode(&state.base),
            urlencode(&format!("{tool}/lti/launch")),
            urlencode(DEPLOYMENT_ID),
        );
        page(format!(
            r#"<!doctype html><title>Biology 101</title>
<h1 style="font:16px sans-serif">Biology 101 · guestlink</h1>
<iframe id="tool" name="tool" src="{login}" style="width:1180px;height:760px;border:1px solid #888"></iframe>
<script>
var stored = {{}};
window.addEventListener("message", function (e) {{
  if (e.origin !== {origin}) return;
  var d = e.data || {{}};
  if (d.subject === "lti.put_data") {{
    stored[d.key] = d.value;
    e.source.postMessage({{subject: "lti.put_data.response", message_id: d.message_id, key: d.key, value: d.value}}, e.origin);
  }} else if (d.subject === "lti.get_data") {{
    e.source.postMessage({{subject: "lti.get_data.response", message_id: d.message_id, key: d.key, value: stored[d.key]}}, e.origin);
  }}
}});
</script>"#,
            origin = json!(tool),
        ))
    }

    async fn authorize(
        state: web::Data<State>,
        query: web::Query<std::collections::HashMap<String, String>>,
    ) -> HttpResponse {
        let context = json!({"id": "course-1", "label": "BIO101", "title": "Biology 101"});
        // Canvas names the storage frame in the launch too.
        let storage = r#"<input type="hidden" name="lti_storage_target" value="_parent">"#;
        page(super::signed_launch_form(
            &state.key,
            &state.base,
            &query,
            DEPLOYMENT_ID,
            context,
            storage,
        ))
    }

    async fn jwks(state: web::Data<State>) -> HttpResponse {
        HttpResponse::Ok().json(JwkSet {
            keys: vec![state.key.jwk()],
        })
    }
}

/// Waits inside the current frame for `css`, naming `what` when it fails.
async fn wait_in_frame(browser: &WebDriver, css: &str, what: &str) -> Result<String, String> {
    match browser.wait_for(css, COURSE_PAGE_TIMEOUT).await {
        Ok(element) => Ok(element),
        Err(e) => {
            let text = browser.page_text().await.unwrap_or_default();
            let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            Err(format!(
                "{what}: {e}; the frame shows: {}",
                text.chars().take(500).collect::<String>()
            ))
        }
    }
}

/// The frame's address, checked to carry no session.
async fn frame_url_without_session(browser: &WebDriver, what: &str) -> Result<String, String> {
    let url = browser
        .execute("return location.href;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    let url = url.as_str().unwrap_or_default().to_string();
    if url.contains("session") {
        return Err(format!("{what}: the address carries the session: {url}"));
    }
    Ok(url)
}

/// The tool inside another site's frame, in a browser that refuses every
/// cookie of the tool's origin: launch (platform storage carries the login's
/// binding), navigate, reload, go back, upload, open the guest-access modal.
/// The session never appears in an address.
async fn walk_the_tool_in_a_frame_without_cookies(
    browser: &WebDriver,
    server: &DemoServer,
    lms: &framing_lms::FramingLms,
    shots: &Path,
) -> Result<(), String> {
    browser
        .goto(&format!("{}/courses/1", lms.base))
        .await
        .map_err(|e| e.to_string())?;
    let frame = browser
        .wait_for("iframe#tool", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    browser
        .enter_frame(&frame)
        .await
        .map_err(|e| e.to_string())?;
    wait_in_frame(
        browser,
        r#"main[data-page="course"]"#,
        "the launch in the frame",
    )
    .await?;
    let cookies = browser
        .execute(
            "document.cookie = 'probe=1; SameSite=None; Secure'; \
             var storage; try { sessionStorage.setItem('probe', '1'); storage = 'usable'; } catch (e) { storage = 'refused'; } \
             return [document.cookie, storage];",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    if cookies[0] != "" {
        return Err(format!(
            "the profile should refuse the tool's cookies; [cookies, sessionStorage] = {cookies}"
        ));
    }
    println!("in the frame: [cookies, sessionStorage] = {cookies}");
    frame_url_without_session(browser, "the launch").await?;
    shot(browser, shots, "framed-1-library").await?;

    // Upload: the new item's page opens.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/demo/assets/lecture.webm");
    let title = browser
        .find("#add-title")
        .await
        .map_err(|e| e.to_string())?;
    browser
        .send_keys(&title, "Framed lecture")
        .await
        .map_err(|e| e.to_string())?;
    let file = browser.find("#add-file").await.map_err(|e| e.to_string())?;
    browser
        .send_keys(&file, &sample.display().to_string())
        .await
        .map_err(|e| e.to_string())?;
    click(browser, "#add-media button[type=submit]").await?;
    wait_in_frame(
        browser,
        r#"main[data-page="media"] video#player"#,
        "the uploaded item's page",
    )
    .await?;
    let heading = text_of(browser, "h1[data-field=title]").await?;
    if heading != "Framed lecture" {
        return Err(format!("the new item's page shows {heading:?}"));
    }
    let media_url = frame_url_without_session(browser, "after the upload").await?;
    shot(browser, shots, "framed-2-uploaded").await?;

    // Reload: no cookie comes back; the tab's kept session resumes the page.
    browser
        .execute("location.reload(); return true;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    wait_in_frame(
        browser,
        r#"main[data-page="media"] video#player"#,
        "the reloaded media page",
    )
    .await?;
    if frame_url_without_session(browser, "after the reload").await? != media_url {
        return Err("the reload landed elsewhere".into());
    }
    play_video(browser, "the reloaded page's").await?;
    shot(browser, shots, "framed-3-reloaded").await?;

    // Back: the library again, resumed the same way, listing the upload.
    browser
        .execute("history.back(); return true;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    wait_in_frame(
        browser,
        r#"main[data-page="course"] li[data-kind="video"] a"#,
        "back to the library",
    )
    .await?;
    frame_url_without_session(browser, "after Back").await?;
    shot(browser, shots, "framed-4-back").await?;

    // Navigate: the library's link opens the media page.
    click(browser, r#"li[data-kind="video"] a"#).await?;
    wait_in_frame(
        browser,
        r#"main[data-page="media"] video#player"#,
        "the media page from the library",
    )
    .await?;
    frame_url_without_session(browser, "the media page").await?;

    // The guest-access modal, through the three-dot menu.
    click(browser, "#media-menu-button").await?;
    click(
        browser,
        r#"#media-menu [role="menuitem"][data-action="guest-access"]"#,
    )
    .await?;
    let count = text_of(browser, "#guest-access-dialog[open] #ga-count").await?;
    if count != "No links added" {
        return Err(format!("the modal says {count:?}"));
    }
    shot(browser, shots, "framed-5-guest-access").await?;
    let history = browser
        .execute("return history.length;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "framed walk done; history length {history}; server {}",
        server.base
    );
    Ok(())
}

#[tokio::test]
#[cfg_attr(
    not(guestlink_browser_tests),
    ignore = "set GUESTLINK_BROWSER_TESTS=1 to run it (needs chromium and chromedriver)"
)]
async fn the_tool_works_in_a_frame_that_refuses_its_cookies() {
    let server = DemoServer::start_on(
        "localhost",
        &[("GUESTLINK_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1:*")],
    )
    .await;
    let lms = framing_lms::FramingLms::start(&server.base);
    let args = lms.platform_add();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    server.cli(&args).unwrap_or_else(|e| panic!("{e}"));
    // Every cookie of the tool's origin refused, in any frame.
    let prefs = serde_json::json!({
        "profile.content_settings.exceptions.cookies": {
            format!("{},*", server.base): { "setting": 2 }
        }
    });
    let browser = WebDriver::start_with_prefs(prefs)
        .await
        .unwrap_or_else(|e| panic!("cannot start headless Chromium: {e}"));
    let shots = screenshot_dir();
    let result = walk_the_tool_in_a_frame_without_cookies(&browser, &server, &lms, &shots).await;
    conclude(result, [("framed", browser)], &server, &shots).await;
}
