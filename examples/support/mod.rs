//! What the load examples share: the command line's flags, the HTTP client,
//! the demo platform and its launches, the phase runner and what it prints
//! (rates, p50/p99 latency, CPU split).
//!
//! Included by each example with `#[path = "support/mod.rs"] mod support;`.
//! Each example uses its own part of it, so what one of them leaves unused is
//! not a warning.
#![allow(dead_code)]

use std::cell::Cell;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use guestlink::demo::claims::{self, LaunchClaims, Role};
use guestlink::domain::platform::Lms;
use guestlink::lti::keys::ToolKey;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};

pub const FORM: &str = "application/x-www-form-urlencoded";

/// Clock ticks per second in /proc (USER_HZ, 100 on every mainstream Linux).
const USER_HZ: f64 = 100.0;

// ---- Command line ------------------------------------------------------------

/// The command line as `(flag, value)` pairs, from `--flag value` or
/// `--flag=value`; `-h` or `--help` prints `usage` and exits.
pub fn flags(usage: &'static str) -> impl Iterator<Item = Result<(String, String), String>> {
    let mut raw = std::env::args().skip(1);
    std::iter::from_fn(move || {
        let arg = raw.next()?;
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            println!("{usage}");
            std::process::exit(0);
        }
        let value = match inline {
            Some(value) => Ok(value),
            None => raw.next().ok_or_else(|| format!("{name} needs a value")),
        };
        Some(value.map(|value| (name, value)))
    })
}

/// A flag's value as a whole number.
pub fn number(name: &str, value: &str) -> Result<usize, String> {
    value
        .parse::<usize>()
        .map_err(|_| format!("{name}: '{value}' is not a whole number"))
}

/// `--lms`: one of the demo's four platforms.
pub fn demo_lms(name: &str) -> Result<Lms, String> {
    let lms: Lms = name
        .parse()
        .map_err(|e: guestlink::domain::field::FieldError| format!("--lms: {}", e.problem))?;
    if lms == Lms::Generic {
        return Err("--lms: the demo has moodle, canvas, sakai and brightspace".into());
    }
    Ok(lms)
}

/// Runs `run` on a single-threaded runtime, so every request of the load
/// comes from this one thread (and the one core the script pins it to).
/// The exit status of a load run: 0 when everything answered as it should,
/// 1 when something did not (`failed` says what; the details are printed
/// above), 2 for a bad argument or a run that could not be made.
pub fn exit_code(
    name: &str,
    usage: &str,
    failed: &str,
    outcome: Result<Result<bool, String>, String>,
) -> std::process::ExitCode {
    match outcome {
        Ok(Ok(true)) => std::process::ExitCode::SUCCESS,
        Ok(Ok(false)) => {
            eprintln!("{name}: {failed}");
            std::process::ExitCode::from(1)
        }
        Ok(Err(problem)) => {
            eprintln!("{name}: {problem}");
            std::process::ExitCode::from(2)
        }
        Err(problem) => {
            eprintln!("{name}: {problem}\n{usage}");
            std::process::ExitCode::from(2)
        }
    }
}

pub fn block_on<T>(run: impl Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, run)
}

/// One keep-alive connection per request in flight, no redirects followed
/// (the load checks them itself), no cookie store (each simulated browser
/// sends its own cookies).
pub fn http_client(concurrency: usize) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency)
        .pool_idle_timeout(None)
        .tcp_nodelay(true)
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

// ---- The demo platform and its launches --------------------------------------

/// The demo platform the load comes from, and where the tool listens.
pub struct Platform {
    pub lms: Lms,
    pub issuer: String,
    pub client_id: String,
    pub deployment_id: String,
    pub key: ToolKey,
    pub login_url: String,
    pub launch_url: String,
    pub health_url: String,
}

/// Finds the demo platform's client and deployment ids on the demo page (or
/// takes them from the arguments, when both are given) and loads its signing
/// key from `DATA_DIR/demo-keys/LMS.key`.
pub async fn demo_platform(
    client: &reqwest::Client,
    base: &str,
    data_dir: &Path,
    lms: Lms,
    ids: (Option<&str>, Option<&str>),
) -> Result<Platform, String> {
    let issuer = format!("{base}/demo/{lms}");
    let (client_id, deployment_id) = match ids {
        (Some(c), Some(d)) => (c.to_string(), d.to_string()),
        _ => {
            let page = client
                .get(format!("{base}/demo"))
                .send()
                .await
                .map_err(|e| format!("GET {base}/demo: {e}"))?;
            if !page.status().is_success() {
                return Err(format!(
                    "GET {base}/demo answered {}: is this `guestlink demo`?",
                    page.status()
                ));
            }
            let html = page
                .text()
                .await
                .map_err(|e| format!("GET {base}/demo: {e}"))?;
            let form = html
                .split("<form")
                .find(|form| form.contains(&format!("data-demo-launch=\"{lms}-instructor\"")))
                .ok_or_else(|| format!("the demo page has no {lms} platform"))?;
            let found_issuer = input_value(form, "iss").unwrap_or_default();
            if found_issuer != issuer {
                return Err(format!(
                    "the demo {lms} issuer is {found_issuer}, not {issuer}: --url must be the tool's public URL"
                ));
            }
            let client_id =
                input_value(form, "client_id").ok_or("the demo page shows no client_id")?;
            let deployment_id = input_value(form, "lti_deployment_id")
                .ok_or("the demo page shows no deployment id")?;
            (client_id, deployment_id)
        }
    };
    let path = data_dir.join("demo-keys").join(format!("{lms}.key"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let der = guestlink::crypto::b64url_decode(text.trim())
        .ok_or_else(|| format!("{} is not base64url", path.display()))?;
    let key = ToolKey::from_pkcs8(format!("demo-{lms}"), &der)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Platform {
        lms,
        issuer,
        client_id,
        deployment_id,
        key,
        login_url: format!("{base}/lti/login"),
        launch_url: format!("{base}/lti/launch"),
        health_url: format!("{base}/healthz"),
    })
}

/// The value of the hidden input `name` in a piece of HTML.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    let end = html[start..].find('"')? + start;
    let value = html[start..end]
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    Some(value)
}

/// What a login initiation handed back for the launch.
pub struct Login {
    pub role: Role,
    /// The `sub` this launch's id_token names instead of the demo user's.
    pub sub: Option<String>,
    pub state: String,
    pub nonce: String,
    /// `guestlink_state_<state>=<binding>`, as the browser would send it back.
    pub cookie: String,
}

/// One login initiation (`POST /lti/login`): it must answer 302 with `state`
/// and `nonce` in its Location and the state's cookie.
pub async fn login(
    client: &reqwest::Client,
    p: &Platform,
    role: Role,
    sub: Option<String>,
) -> Result<Login, String> {
    let form = serde_urlencoded::to_string([
        ("iss", p.issuer.as_str()),
        ("login_hint", role.as_str()),
        ("target_link_uri", p.launch_url.as_str()),
        ("client_id", p.client_id.as_str()),
        ("lti_deployment_id", p.deployment_id.as_str()),
    ])
    .expect("a form");
    let response = client
        .post(&p.login_url)
        .header(CONTENT_TYPE, FORM)
        .body(form)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cookie = set_cookie(response.headers(), "guestlink_state_");
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("response cut off: {e}"))?;
    if status.as_u16() != 302 {
        return Err(format!("answered {status}: {}", summary(&body)));
    }
    let location = location.ok_or("302 without a Location")?;
    let query = location
        .split_once('?')
        .map(|(_, q)| q)
        .ok_or("the Location has no query")?;
    let query = query.split('#').next().unwrap_or_default();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| format!("the Location's query does not parse: {e}"))?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let state = param("state").ok_or("the Location has no state")?;
    let nonce = param("nonce").ok_or("the Location has no nonce")?;
    let cookie = cookie.ok_or("302 without a state cookie")?;
    if !cookie.starts_with(&format!("guestlink_state_{state}=")) {
        return Err(format!("the state cookie is not for this state: {cookie}"));
    }
    Ok(Login {
        role,
        sub,
        state,
        nonce,
        cookie,
    })
}

/// `name=value` of the first Set-Cookie whose name starts with `prefix`.
pub fn set_cookie(headers: &reqwest::header::HeaderMap, prefix: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(prefix))
        .map(|c| c.split(';').next().unwrap_or_default().trim().to_string())
}

/// One launch (`POST /lti/launch`); returns the session token it opened.
pub async fn launch(
    client: &reqwest::Client,
    platform: &Platform,
    login: &Login,
    id_token: &str,
) -> Result<String, String> {
    let form =
        serde_urlencoded::to_string([("id_token", id_token), ("state", login.state.as_str())])
            .expect("a form");
    let response = client
        .post(&platform.launch_url)
        .header(CONTENT_TYPE, FORM)
        .header(COOKIE, login.cookie.as_str())
        .body(form)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let session = set_cookie(response.headers(), "guestlink_session=");
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("response cut off: {e}"))?;
    if status.as_u16() != 200 {
        return Err(format!("answered {status}: {}", summary(&body)));
    }
    match session.and_then(|c| c.strip_prefix("guestlink_session=").map(str::to_string)) {
        Some(token) => Ok(token),
        None => Err(format!(
            "answered 200 without a session cookie: {}",
            summary(&body)
        )),
    }
}

/// A whole demo launch of the instructor (login, signed id_token, launch);
/// returns the session token, for the JSON API as Bearer.
pub async fn instructor_session(
    client: &reqwest::Client,
    platform: &Platform,
) -> Result<String, String> {
    let login = login(client, platform, Role::Instructor, None)
        .await
        .map_err(|e| format!("instructor login: {e}"))?;
    let (mut tokens, _) = sign_all(platform, std::slice::from_ref(&login));
    let id_token = tokens
        .pop()
        .expect("one token per login")
        .map_err(|e| format!("signing the instructor's id_token: {e}"))?;
    launch(client, platform, &login, &id_token)
        .await
        .map_err(|e| format!("instructor launch: {e}"))
}

/// Signs one id_token per login, on as many threads as this process may use.
pub fn sign_all(platform: &Platform, logins: &[Login]) -> (Vec<Result<String, String>>, usize) {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(logins.len())
        .max(1);
    let chunk = logins.len().div_ceil(threads).max(1);
    let context_id = format!("demo-course-{}", platform.lms);
    let tokens: Vec<Result<String, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = logins
            .chunks(chunk)
            .map(|part| {
                let context_id = context_id.as_str();
                scope.spawn(move || {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_secs() as i64)
                        .unwrap_or(0);
                    part.iter()
                        .map(|login| {
                            let mut payload = claims::resource_link(&LaunchClaims {
                                lms: platform.lms,
                                issuer: &platform.issuer,
                                client_id: &platform.client_id,
                                deployment_id: &platform.deployment_id,
                                nonce: &login.nonce,
                                role: login.role,
                                now: guestlink::domain::time::Timestamp::from_unix(now),
                                target_link_uri: &platform.launch_url,
                                context_id,
                            });
                            if let Some(sub) = &login.sub {
                                payload["sub"] = serde_json::Value::String(sub.clone());
                            }
                            platform.key.sign(&payload).map_err(|e| e.to_string())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a signing thread panicked"))
            .collect()
    });
    (tokens, threads)
}

// ---- Phases ------------------------------------------------------------------

/// One request of a phase, run on this thread.
pub type Job<T> = Pin<Box<dyn Future<Output = Result<T, String>>>>;

/// One cheap request (`GET /healthz`) per connection, so that a timed phase
/// starts on open connections (the server closes idle keep-alive ones).
pub async fn reconnect(client: &reqwest::Client, health_url: &str, concurrency: usize) {
    let health = {
        let (client, url) = (client.clone(), Rc::new(health_url.to_string()));
        move |_index: usize| {
            let (client, url) = (client.clone(), url.clone());
            Box::pin(async move {
                let response = client
                    .get(url.as_str())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                response
                    .bytes()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }) as Job<()>
        }
    };
    run_phase(concurrency, concurrency, health).await;
}

/// The outcome of one phase: each job's output in order, every latency.
pub struct Phase<T> {
    pub outputs: Vec<Option<T>>,
    pub latencies: Vec<Duration>,
    pub errors: Vec<(usize, String)>,
    pub elapsed: Duration,
}

/// Runs jobs `0..n` with `concurrency` of them in flight at any time.
pub async fn run_phase<T, F, Fut>(n: usize, concurrency: usize, job: F) -> Phase<T>
where
    T: 'static,
    F: Fn(usize) -> Fut + 'static,
    Fut: Future<Output = Result<T, String>> + 'static,
{
    let job = Rc::new(job);
    let next = Rc::new(Cell::new(0usize));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.min(n))
        .map(|_| {
            let (job, next) = (job.clone(), next.clone());
            tokio::task::spawn_local(async move {
                let mut done = Vec::new();
                loop {
                    let index = next.get();
                    if index >= n {
                        break;
                    }
                    next.set(index + 1);
                    let sent = Instant::now();
                    let result = job(index).await;
                    done.push((index, sent.elapsed(), result));
                }
                (done, Instant::now())
            })
        })
        .collect();
    let mut phase = Phase {
        outputs: (0..n).map(|_| None).collect(),
        latencies: Vec::with_capacity(n),
        errors: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for worker in workers {
        let (done, finished) = worker.await.expect("a load task panicked");
        phase.elapsed = phase.elapsed.max(finished.duration_since(started));
        for (index, latency, result) in done {
            phase.latencies.push(latency);
            match result {
                Ok(output) => phase.outputs[index] = Some(output),
                Err(problem) => phase.errors.push((index, problem)),
            }
        }
    }
    phase.errors.sort_by_key(|(index, _)| *index);
    phase
}

/// Runs jobs `0..n` at a fixed arrival rate: job `i` is due `i / rate`
/// seconds after the start, whatever the earlier ones do (an open load, as
/// many independent guests would be), with at most `max_in_flight` in flight.
/// A job's latency counts from when it was due, so time spent waiting for a
/// free slot is counted too.
pub async fn run_paced<T, F, Fut>(n: usize, rate: f64, max_in_flight: usize, job: F) -> Phase<T>
where
    T: 'static,
    F: Fn(usize) -> Fut + 'static,
    Fut: Future<Output = Result<T, String>> + 'static,
{
    let job = Rc::new(job);
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(max_in_flight.max(1)));
    let started = tokio::time::Instant::now();
    let mut running = Vec::with_capacity(n);
    for index in 0..n {
        let due = started + Duration::from_secs_f64(index as f64 / rate);
        tokio::time::sleep_until(due).await;
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let job = job.clone();
        running.push(tokio::task::spawn_local(async move {
            let result = job(index).await;
            drop(slot);
            let done = tokio::time::Instant::now();
            (index, done.duration_since(due), result, done)
        }));
    }
    let mut phase = Phase {
        outputs: (0..n).map(|_| None).collect(),
        latencies: Vec::with_capacity(n),
        errors: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for task in running {
        let (index, latency, result, done) = task.await.expect("a load task panicked");
        phase.elapsed = phase.elapsed.max(done.duration_since(started));
        phase.latencies.push(latency);
        match result {
            Ok(output) => phase.outputs[index] = Some(output),
            Err(problem) => phase.errors.push((index, problem)),
        }
    }
    phase.errors.sort_by_key(|(index, _)| *index);
    phase
}

pub fn all_or_first_error<T>(what: &str, phase: Phase<T>) -> Result<Vec<T>, String> {
    if let Some((index, problem)) = phase.errors.first() {
        return Err(format!(
            "{what} #{index} failed: {problem} ({} of {} failed)",
            phase.errors.len(),
            phase.outputs.len()
        ));
    }
    Ok(phase.outputs.into_iter().flatten().collect())
}

/// Prints the first few errors of a phase; true if there were none.
pub fn report_errors(phase: &str, errors: &[(usize, String)]) -> bool {
    for (index, problem) in errors.iter().take(5) {
        eprintln!("{phase} #{index}: {problem}");
    }
    if errors.len() > 5 {
        eprintln!("{phase}: ... and {} more errors", errors.len() - 5);
    }
    errors.is_empty()
}

/// An error page's code (or a guest's unavailable reason), or the start of
/// the body.
pub fn summary(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    for (marker, what) in [
        ("data-error-code=\"", "error code"),
        ("data-unavailable-reason=\"", "unavailable reason"),
    ] {
        if let Some(start) = text.find(marker) {
            let rest = &text[start + marker.len()..];
            return format!("{what} {}", &rest[..rest.find('"').unwrap_or(0)]);
        }
    }
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(160).collect()
}

/// Whether `needle` occurs in a response body.
pub fn contains(body: &[u8], needle: &str) -> bool {
    body.windows(needle.len()).any(|w| w == needle.as_bytes())
}

// ---- What is printed ---------------------------------------------------------

/// The heading of the table `Stats::print` fills.
pub fn print_heading() {
    println!(
        "{:<8} {:>8} {:>7} {:>8} {:>9} {:>8} {:>8}",
        "phase", "requests", "errors", "seconds", "rate/s", "p50 ms", "p99 ms"
    );
}

pub struct Stats {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Stats {
    pub fn of<T>(phase: &Phase<T>) -> Stats {
        let mut sorted = phase.latencies.clone();
        sorted.sort();
        // Nearest rank: the smallest latency at least `q` of requests did not exceed.
        let quantile = |q: f64| {
            if sorted.is_empty() {
                return 0.0;
            }
            let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            sorted[rank - 1].as_secs_f64() * 1000.0
        };
        let seconds = phase.elapsed.as_secs_f64();
        let answered = phase.latencies.len() - phase.errors.len();
        Stats {
            requests: phase.latencies.len(),
            errors: phase.errors.len(),
            seconds,
            rate: if seconds > 0.0 {
                answered as f64 / seconds
            } else {
                0.0
            },
            p50_ms: quantile(0.50),
            p99_ms: quantile(0.99),
        }
    }

    pub fn print(&self, phase: &str) {
        println!(
            "{:<8} {:>8} {:>7} {:>8.3} {:>9.1} {:>8.2} {:>8.2}",
            phase, self.requests, self.errors, self.seconds, self.rate, self.p50_ms, self.p99_ms
        );
    }
}

/// CPU counters from /proc at one moment (Linux; zeros elsewhere).
pub struct Usage {
    at: Instant,
    client_ticks: u64,
    server: Option<(u64, u64)>,
    postgres_ticks: u64,
    machine_busy: u64,
    machine_total: u64,
    cpus: usize,
}

/// utime + stime and the thread count of a process.
fn process_ticks(pid: &str) -> Option<(u64, u64, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    // After the command: state is field 3, utime 14, stime 15, num_threads 20.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let threads = fields.get(17)?.parse::<u64>().ok()?;
    Some((ticks, threads, comm))
}

impl Usage {
    pub fn now(server_pid: Option<u32>) -> Usage {
        let client_ticks = process_ticks("self").map(|(t, _, _)| t).unwrap_or(0);
        let server = server_pid
            .and_then(|pid| process_ticks(&pid.to_string()))
            .map(|(t, threads, _)| (t, threads));
        let mut postgres_ticks = 0;
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(pid) = name
                    .to_str()
                    .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                else {
                    continue;
                };
                if let Some((ticks, _, comm)) = process_ticks(pid)
                    && comm == "postgres"
                {
                    postgres_ticks += ticks;
                }
            }
        }
        let (mut machine_busy, mut machine_total, mut cpus) = (0, 0, 0);
        if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
            for line in stat.lines() {
                let mut parts = line.split_whitespace();
                match parts.next() {
                    Some("cpu") => {
                        let values: Vec<u64> = parts.filter_map(|v| v.parse().ok()).collect();
                        // user nice system idle iowait irq softirq steal (guest is inside user).
                        let total: u64 = values.iter().take(8).sum();
                        let idle = values.get(3).copied().unwrap_or(0)
                            + values.get(4).copied().unwrap_or(0);
                        machine_total = total;
                        machine_busy = total - idle;
                    }
                    Some(cpu) if cpu.starts_with("cpu") => cpus += 1,
                    _ => {}
                }
            }
        }
        Usage {
            at: Instant::now(),
            client_ticks,
            server,
            postgres_ticks,
            machine_busy,
            machine_total,
            cpus,
        }
    }

    pub fn since(&self, before: &Usage, requests: usize) -> UsageDelta {
        let wall = self.at.duration_since(before.at).as_secs_f64().max(1e-9);
        let cores = |ticks: u64| ticks as f64 / USER_HZ / wall;
        let machine_total = self
            .machine_total
            .saturating_sub(before.machine_total)
            .max(1) as f64;
        UsageDelta {
            client: cores(self.client_ticks.saturating_sub(before.client_ticks)),
            server: match (before.server, self.server) {
                (Some((b, _)), Some((a, threads))) => {
                    Some((cores(a.saturating_sub(b)), a.saturating_sub(b), threads))
                }
                _ => None,
            },
            postgres: cores(self.postgres_ticks.saturating_sub(before.postgres_ticks)),
            machine: self.machine_busy.saturating_sub(before.machine_busy) as f64 / machine_total
                * self.cpus as f64,
            cpus: self.cpus,
            requests,
        }
    }
}

pub struct UsageDelta {
    client: f64,
    server: Option<(f64, u64, u64)>,
    postgres: f64,
    machine: f64,
    cpus: usize,
    requests: usize,
}

impl UsageDelta {
    pub fn print(&self) {
        let server = match self.server {
            Some((cores, ticks, threads)) => format!(
                "server {cores:.2} ({:.3} ms CPU/request, {threads} threads), ",
                ticks as f64 / USER_HZ * 1000.0 / self.requests.max(1) as f64
            ),
            None => String::new(),
        };
        // What the machine did besides this test: other processes disturb the figures.
        let other = self.machine
            - self.client
            - self.postgres
            - self.server.map(|(cores, _, _)| cores).unwrap_or(0.0);
        println!(
            "{:<8} cpu cores busy: {server}postgres {:.2}, client {:.2}, other {:.2}; machine {:.2} of {}",
            "",
            self.postgres,
            self.client,
            other.max(0.0),
            self.machine,
            self.cpus
        );
    }
}

/// Runs `phase` timed: its stats and CPU split are printed under `name`.
pub async fn timed<T>(
    name: &str,
    server_pid: Option<u32>,
    requests: usize,
    phase: impl Future<Output = Phase<T>>,
) -> (Phase<T>, Stats) {
    let before = Usage::now(server_pid);
    let phase = phase.await;
    let after = Usage::now(server_pid);
    let stats = Stats::of(&phase);
    stats.print(name);
    after.since(&before, requests).print();
    (phase, stats)
}
