//! A minimal W3C WebDriver client for headless-browser tests: starts its own
//! `chromedriver` on a free port, opens one headless Chromium session with a
//! fresh profile, and speaks the handful of WebDriver commands the tests need
//! over reqwest. Dropping the [`WebDriver`] ends the session (which closes
//! Chromium) and kills chromedriver.

#![allow(dead_code)]

use super::process::LoggedChild;
use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long chromedriver may take to answer `/status` with `ready: true`.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);

/// An upper bound on any single WebDriver command (the page-load timeout set
/// on the session is lower, so a stuck navigation is reported by the driver).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// A WebDriver error (`code` is the W3C error code such as `no such element`)
/// or a local problem (`code` is `driver`, `transport` or `timeout`).
#[derive(Clone, Debug)]
pub struct Error {
    pub code: String,
    pub message: String,
}

impl Error {
    fn new(code: &str, message: impl Into<String>) -> Error {
        Error {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Writes `prefs` (dotted names, as chromedriver takes them: "a.b.c") as
/// the nested JSON of the profile's `Default/Preferences`.
fn write_preferences(profile: &Path, prefs: &serde_json::Map<String, Value>) -> Result<()> {
    let mut root = json!({});
    for (name, value) in prefs {
        let mut at = &mut root;
        let parts: Vec<&str> = name.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            at = at
                .as_object_mut()
                .expect("an object")
                .entry(part.to_string())
                .or_insert_with(|| json!({}));
        }
        at[parts[parts.len() - 1]] = value.clone();
    }
    let dir = profile.join("Default");
    std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join("Preferences"), root.to_string()))
        .map_err(|e| {
            Error::new(
                "driver",
                format!("cannot write the profile's preferences: {e}"),
            )
        })
}

/// A TCP port on loopback that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port on 127.0.0.1");
    listener
        .local_addr()
        .expect("local address of the ephemeral listener")
        .port()
}

/// The first of `names` that is an executable file, as an absolute path or
/// found on `PATH`.
fn find_program(names: &[&str]) -> Option<PathBuf> {
    for name in names {
        let candidate = Path::new(name);
        if candidate.is_absolute() {
            if candidate.is_file() {
                return Some(candidate.to_path_buf());
            }
            continue;
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let full = dir.join(name);
                if full.is_file() {
                    return Some(full);
                }
            }
        }
    }
    None
}

/// A `chromedriver` child process, killed when dropped.
struct Driver {
    process: LoggedChild,
    port: u16,
    // Holds the log file; removed after the process is gone.
    _log_dir: tempfile::TempDir,
}

impl Driver {
    fn spawn() -> Result<Driver> {
        let program = find_program(&["/usr/bin/chromedriver", "chromedriver"]).ok_or_else(|| {
            Error::new("driver", "chromedriver was not found at /usr/bin/chromedriver or on PATH (Debian: apt-get install chromium-driver)")
        })?;
        let log_dir = tempfile::Builder::new()
            .prefix("chromedriver-log-")
            .tempdir()
            .map_err(|e| {
                Error::new(
                    "driver",
                    format!("cannot create a temporary directory: {e}"),
                )
            })?;
        let log_path = log_dir.path().join("chromedriver.log");
        let port = free_port();
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                Error::new("driver", format!("cannot start {}: {e}", program.display()))
            })?;
        Ok(Driver {
            process: LoggedChild::new(child, log_path),
            port,
            _log_dir: log_dir,
        })
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The end of chromedriver's log, to explain a failure.
    fn log_tail(&self) -> String {
        self.process.log_tail(20)
    }

    /// Polls `GET /status` until the driver says it is ready.
    async fn wait_ready(&mut self, client: &reqwest::Client) -> Result<()> {
        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        let url = format!("{}/status", self.base());
        loop {
            if let Some(status) = self.process.exited() {
                return Err(Error::new(
                    "driver",
                    format!(
                        "chromedriver exited early ({status}); log:\n{}",
                        self.log_tail()
                    ),
                ));
            }
            let last = match client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                Ok(response) => match response.json::<Value>().await {
                    Ok(body) if body["value"]["ready"] == json!(true) => return Ok(()),
                    Ok(body) => format!("not ready: {body}"),
                    Err(e) => format!("unreadable /status: {e}"),
                },
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(Error::new(
                    "driver",
                    format!(
                        "chromedriver was not ready after {}s ({last}); log:\n{}",
                        DRIVER_START_TIMEOUT.as_secs(),
                        self.log_tail()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One headless Chromium session behind its own chromedriver.
pub struct WebDriver {
    client: reqwest::Client,
    session_id: String,
    open: bool,
    // Dropped in this order after `Drop::drop` has ended the session: the
    // driver process first, then the browser profile it was using.
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl WebDriver {
    /// Starts chromedriver and opens a headless Chromium session with a fresh
    /// profile directory.
    pub async fn start() -> Result<WebDriver> {
        Self::start_with_prefs(json!({})).await
    }

    /// Like [`WebDriver::start`], with these Chromium preferences in the
    /// profile (say, content settings that block an origin's cookies).
    pub async fn start_with_prefs(prefs: Value) -> Result<WebDriver> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .map_err(|e| Error::new("transport", format!("cannot build the HTTP client: {e}")))?;
        let mut driver = Driver::spawn()?;
        driver.wait_ready(&client).await?;

        let profile = tempfile::Builder::new()
            .prefix("chromium-profile-")
            .tempdir()
            .map_err(|e| {
                Error::new(
                    "driver",
                    format!("cannot create a temporary profile directory: {e}"),
                )
            })?;
        let mut chrome_options = json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
                // The media page test plays a (muted) video without a click.
                "--autoplay-policy=no-user-gesture-required",
                // Rooms' audio and video: a test pattern and a tone for the
                // camera and microphone, allowed without a prompt.
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                // Host candidates as addresses, not mDNS names: resolving
                // those would send multicast out of a non-loopback
                // interface.
                "--disable-features=WebRtcHideLocalIpsWithMdns",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        // chromedriver applies `prefs` only to a profile it makes itself, so
        // they go straight into this profile's Preferences file.
        if let Some(prefs) = prefs.as_object().filter(|p| !p.is_empty()) {
            write_preferences(profile.path(), prefs)?;
        }
        if let Some(binary) = find_program(&[
            "/usr/bin/chromium",
            "chromium",
            "chromium-browser",
            "google-chrome",
        ]) {
            chrome_options["binary"] = json!(binary.display().to_string());
        }
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": { "pageLoad": 30_000, "script": 15_000, "implicit": 0 },
                    "goog:chromeOptions": chrome_options,
                }
            }
        });
        let url = format!("{}/session", driver.base());
        let value = send(client.post(&url).json(&capabilities))
            .await
            .map_err(|e| {
                Error::new(
                    &e.code,
                    format!(
                        "new session: {}; chromedriver log:\n{}",
                        e.message,
                        driver.log_tail()
                    ),
                )
            })?;
        let session_id = value["sessionId"]
            .as_str()
            .ok_or_else(|| {
                Error::new(
                    "driver",
                    format!("new session answered without a sessionId: {value}"),
                )
            })?
            .to_string();
        Ok(WebDriver {
            client,
            session_id,
            open: true,
            driver,
            _profile: profile,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.driver.base(), self.session_id, path)
    }

    async fn get(&self, path: &str) -> Result<Value> {
        send(self.client.get(self.url(path))).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        send(self.client.post(self.url(path)).json(&body)).await
    }

    /// Navigates and waits for the page to load.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({ "url": url })).await.map(|_| ())
    }

    pub async fn current_url(&self) -> Result<String> {
        let value = self.get("/url").await?;
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::new("driver", format!("URL is not a string: {value}")))
    }

    pub async fn title(&self) -> Result<String> {
        let value = self.get("/title").await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// The first element matching a CSS selector (error `no such element` if none).
    pub async fn find(&self, css: &str) -> Result<String> {
        let value = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await?;
        element_id(&value)
    }

    /// Every element matching a CSS selector, possibly none.
    pub async fn find_all(&self, css: &str) -> Result<Vec<String>> {
        let value = self
            .post(
                "/elements",
                json!({ "using": "css selector", "value": css }),
            )
            .await?;
        value
            .as_array()
            .ok_or_else(|| Error::new("driver", format!("find elements answered {value}")))?
            .iter()
            .map(element_id)
            .collect()
    }

    /// Commands go to the document inside this iframe element from now on.
    pub async fn enter_frame(&self, element: &str) -> Result<()> {
        self.post("/frame", json!({ "id": { ELEMENT_KEY: element } }))
            .await
            .map(|_| ())
    }

    /// Commands go to the parent of the current frame from now on.
    pub async fn leave_frame(&self) -> Result<()> {
        self.post("/frame/parent", json!({})).await.map(|_| ())
    }

    pub async fn click(&self, element: &str) -> Result<()> {
        self.post(&format!("/element/{element}/click"), json!({}))
            .await
            .map(|_| ())
    }

    /// Types `keys` into an element; WebDriver's key codes (see [`keys`])
    /// press special keys.
    pub async fn send_keys(&self, element: &str, keys: &str) -> Result<()> {
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": keys }),
        )
        .await
        .map(|_| ())
    }

    /// The element that has the keyboard focus.
    pub async fn active_element(&self) -> Result<String> {
        let value = self.get("/element/active").await?;
        element_id(&value)
    }

    /// An attribute's value, `None` when the element does not have it.
    pub async fn attribute(&self, element: &str, name: &str) -> Result<Option<String>> {
        let value = self
            .get(&format!("/element/{element}/attribute/{name}"))
            .await?;
        Ok(value.as_str().map(str::to_string))
    }

    /// The element's rendered text.
    pub async fn text(&self, element: &str) -> Result<String> {
        let value = self.get(&format!("/element/{element}/text")).await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// Runs `script` as a function body in the page (`arguments[i]` are `args`)
    /// and returns what it returns.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Polls until an element matches `css` and returns the first one. Errors
    /// while the page is navigating are retried; at the deadline the error
    /// names the selector, the current URL and the last driver error.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut last_error: Option<Error> = None;
        loop {
            match self.find_all(css).await {
                Ok(found) if !found.is_empty() => return Ok(found[0].clone()),
                Ok(_) => {}
                Err(e) => last_error = Some(e),
            }
            if Instant::now() >= deadline {
                let url = self
                    .current_url()
                    .await
                    .unwrap_or_else(|e| format!("(unknown: {e})"));
                let mut message = format!(
                    "no element matched {css} within {:.1}s; the page is {url}",
                    timeout.as_secs_f64()
                );
                if let Some(e) = last_error {
                    message.push_str(&format!(" (last driver error: {e})"));
                }
                return Err(Error::new("timeout", message));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's visible text, for failure messages.
    pub async fn page_text(&self) -> Result<String> {
        let value = self
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// Resizes the browser window (W3C "Set Window Rect"); the viewport, and
    /// so the screenshots, follow.
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.post("/window/rect", json!({ "width": width, "height": height }))
            .await
            .map(|_| ())
    }

    /// Saves a PNG of the viewport, creating the parent directories.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let value = self.get("/screenshot").await?;
        let encoded = value
            .as_str()
            .ok_or_else(|| Error::new("driver", "screenshot is not a string"))?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| Error::new("driver", format!("screenshot is not base64: {e}")))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::new("driver", format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        std::fs::write(path, png)
            .map_err(|e| Error::new("driver", format!("cannot write {}: {e}", path.display())))
    }

    /// Ends the session (Chromium exits); chromedriver is killed on drop.
    pub async fn quit(mut self) -> Result<()> {
        self.open = false;
        send(self.client.delete(self.url(""))).await.map(|_| ())
    }
}

impl Drop for WebDriver {
    // Drop cannot await, so the session is deleted with a plain blocking HTTP
    // request; otherwise killing chromedriver would leave Chromium running.
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        self.open = false;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.driver.port));
        if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
            let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                self.session_id, self.driver.port
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
            }
        }
    }
}

fn element_id(value: &Value) -> Result<String> {
    value[ELEMENT_KEY]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::new("driver", format!("not an element reference: {value}")))
}

/// Sends one command and unwraps `{"value": ...}`, turning a WebDriver error
/// answer into an [`Error`].
async fn send(request: reqwest::RequestBuilder) -> Result<Value> {
    let response = request
        .send()
        .await
        .map_err(|e| Error::new("transport", e.to_string()))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| {
        Error::new(
            "transport",
            format!("HTTP {status} with an unreadable body: {e}"),
        )
    })?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if let Some(code) = value.get("error").and_then(Value::as_str) {
        let message = value
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // Chromium's messages carry a long native stack trace after the first line.
        let message = message.lines().next().unwrap_or_default();
        return Err(Error::new(code, message));
    }
    if !status.is_success() {
        return Err(Error::new("driver", format!("HTTP {status}: {body}")));
    }
    Ok(value)
}

/// WebDriver's codes for special keys (W3C WebDriver, "Keyboard actions").
pub mod keys {
    pub const ENTER: &str = "\u{E007}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const ARROW_UP: &str = "\u{E013}";
    pub const ARROW_DOWN: &str = "\u{E015}";
}
