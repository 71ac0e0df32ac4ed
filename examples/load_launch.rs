//! Load test of LTI 1.3 launches against a running `guestlink demo`.
//!
//! A launch is measured in three phases, so that the test platform's RSA
//! signing never competes with the tool for CPU:
//!
//! 1. `login`: N login initiations (`POST /lti/login`), timed. Each must answer
//!    302 with `state` and `nonce` in its Location and a state cookie.
//! 2. `sign`: N id_tokens for the nonces the tool issued, signed RS256 with the
//!    demo platform's key from `DATA_DIR/demo-keys/LMS.key` (not timed).
//! 3. `launch`: N launches (`POST /lti/launch`) with their state and state
//!    cookie, timed. Each must answer 200 with a session cookie.
//!
//! 4. `page`: `--pages` views (default 4 × N) of the demo video's media page
//!    (`GET /media/{id}` with a launched session as Bearer, sessions taken in
//!    turn), timed. Each must answer 200 with the media page.
//!
//! Each timed phase keeps `--concurrency` requests in flight on as many
//! keep-alive connections and prints requests, errors, seconds, rate (answered
//! requests per second) and p50/p99 latency (from sending the request to the
//! last byte of the response). With `--server-pid` it also prints how much CPU
//! the server, PostgreSQL, this client and the whole machine used.
//! A warm-up round (`--warmup`, default one per connection) primes the
//! connections and the tool's JWKS cache first and is not counted.
//!
//! Launches alternate between the demo's instructor and student, so every
//! launch updates one of two user rows and the one course row. `--users N`
//! puts one of N made-up users in each token's `sub` instead (a class of N
//! students launching into one course).
//!
//! Tokens are signed before the first launch is sent, and Moodle's live only
//! 60 seconds (plus the tool's 30 seconds of leeway): for runs much longer
//! than `-n 30000`, use `--lms canvas`, whose tokens live an hour.
//!
//! The run fails (exit status 1) if any login or launch does not answer as it
//! should; a bad argument or an unusable server is exit status 2.
//!
//! ```text
//! cargo run --release --example load_launch -- --url http://127.0.0.1:8080 \
//!     --data-dir guestlink-data --lms moodle -n 5000 --concurrency 64
//! ```
//!
//! `scripts/load-launch.sh` builds, starts the server on each backend and runs
//! this example against it.

use std::cell::Cell;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use guestlink::demo::claims::{self, LaunchClaims, Role};
use guestlink::domain::platform::Lms;
use guestlink::lti::keys::ToolKey;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};

const USAGE: &str = "usage: load_launch --url http://127.0.0.1:PORT --data-dir DIR [--lms moodle] [-n 5000] \
[--concurrency 64] [--warmup N] [--users N] [--pages N] [--server-pid PID] [--client-id ID --deployment-id ID]";

const FORM: &str = "application/x-www-form-urlencoded";

/// Clock ticks per second in /proc (USER_HZ, 100 on every mainstream Linux).
const USER_HZ: f64 = 100.0;

struct Args {
    url: String,
    data_dir: PathBuf,
    lms: Lms,
    n: usize,
    concurrency: usize,
    warmup: Option<usize>,
    users: Option<usize>,
    server_pid: Option<u32>,
    client_id: Option<String>,
    deployment_id: Option<String>,
    /// Media page views after the launches (0: none).
    pages: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut data_dir = None;
    let mut lms = "moodle".to_string();
    let mut n = 5000usize;
    let mut concurrency = 64usize;
    let mut warmup = None;
    let mut users = None;
    let mut server_pid = None;
    let mut client_id = None;
    let mut deployment_id = None;
    let mut pages = None;
    let mut raw = std::env::args().skip(1);
    while let Some(arg) = raw.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = match inline {
            Some(value) => value,
            None => raw.next().ok_or_else(|| format!("{name} needs a value"))?,
        };
        let number = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{name}: '{v}' is not a whole number"))
        };
        match name.as_str() {
            "--url" => url = Some(value.trim_end_matches('/').to_string()),
            "--data-dir" => data_dir = Some(PathBuf::from(value)),
            "--lms" => lms = value,
            "-n" | "--n" | "--requests" => n = number(&value)?,
            "-c" | "--concurrency" => concurrency = number(&value)?,
            "--warmup" => warmup = Some(number(&value)?),
            "--users" => users = Some(number(&value)?).filter(|u| *u > 0),
            "--server-pid" => server_pid = Some(number(&value)? as u32),
            "--client-id" => client_id = Some(value),
            "--deployment-id" => deployment_id = Some(value),
            "--pages" => pages = Some(number(&value)?),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    let lms: Lms = lms.parse().map_err(|e: String| format!("--lms: {e}"))?;
    if lms == Lms::Generic {
        return Err("--lms: the demo has moodle, canvas, sakai and brightspace".into());
    }
    if n == 0 || concurrency == 0 {
        return Err("-n and --concurrency must be at least 1".into());
    }
    Ok(Args {
        url: url.ok_or("--url is required")?,
        data_dir: data_dir.ok_or("--data-dir is required")?,
        lms,
        n,
        concurrency,
        warmup,
        users,
        server_pid,
        client_id,
        deployment_id,
        pages: pages.unwrap_or(n * 4),
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("load_launch: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    match local.block_on(&runtime, run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!(
                "load_launch: FAILED: some logins or launches did not answer as they should (see above)"
            );
            ExitCode::from(1)
        }
        Err(problem) => {
            eprintln!("load_launch: {problem}");
            ExitCode::from(2)
        }
    }
}

/// The demo platform the load comes from, and where the tool listens.
struct Platform {
    lms: Lms,
    issuer: String,
    client_id: String,
    deployment_id: String,
    key: ToolKey,
    login_url: String,
    launch_url: String,
    health_url: String,
}

/// What a login initiation handed back for the launch.
struct Login {
    role: Role,
    /// With `--users`: the `sub` this launch's id_token names instead of the demo user's.
    sub: Option<String>,
    state: String,
    nonce: String,
    /// `guestlink_state_<state>=<binding>`, as the browser would send it back.
    cookie: String,
}

struct Ctx {
    client: reqwest::Client,
    platform: Platform,
    users: Option<usize>,
}

async fn run(args: Args) -> Result<bool, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.concurrency)
        .pool_idle_timeout(None)
        .tcp_nodelay(true)
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let platform = platform(&client, &args).await?;
    let ctx = Rc::new(Ctx {
        client,
        platform,
        users: args.users,
    });
    let (n, concurrency) = (args.n, args.concurrency);
    println!(
        "load_launch: {n} launches from the {} demo platform to {} at concurrency {concurrency}",
        ctx.platform.lms, args.url
    );

    let warmup = args.warmup.unwrap_or(concurrency);
    if warmup > 0 {
        let logins = run_phase(warmup, concurrency, login_job(&ctx)).await;
        let logins = all_or_first_error("warm-up login", logins)?;
        let tokens = sign_all(&ctx.platform, &logins).0;
        let tokens = tokens.into_iter().collect::<Result<Vec<_>, _>>()?;
        let launches = run_phase(
            warmup,
            concurrency,
            launch_job(&ctx, Rc::new(logins), Rc::new(tokens)),
        )
        .await;
        all_or_first_error("warm-up launch", launches)?;
        println!("warm-up: {warmup} logins and launches (not counted)");
    }

    println!(
        "{:<8} {:>8} {:>7} {:>8} {:>9} {:>8} {:>8}",
        "phase", "requests", "errors", "seconds", "rate/s", "p50 ms", "p99 ms"
    );
    let mut ok = true;

    // Phase 1: login initiations, timed.
    let before = Usage::now(args.server_pid);
    let logins = run_phase(n, concurrency, login_job(&ctx)).await;
    let after = Usage::now(args.server_pid);
    let login_stats = Stats::of(&logins);
    login_stats.print("login");
    after.since(&before, n).print();
    ok &= report_errors("login", &logins.errors);

    // Phase 2: the platform signs an id_token for each nonce, not timed.
    let issued: Vec<Login> = logins.outputs.into_iter().flatten().collect();
    let started = Instant::now();
    let (tokens, threads) = sign_all(&ctx.platform, &issued);
    let signing = started.elapsed();
    let mut launchable = Vec::new();
    let mut id_tokens = Vec::new();
    let mut sign_errors = Vec::new();
    for (index, (login, token)) in issued.into_iter().zip(tokens).enumerate() {
        match token {
            Ok(token) => {
                launchable.push(login);
                id_tokens.push(token);
            }
            Err(problem) => sign_errors.push((index, problem)),
        }
    }
    println!(
        "{:<8} {:>8} {:>7} {:>8.3} {:>9.1} {:>8} {:>8}   (not timed; {threads} signing thread{})",
        "sign",
        launchable.len() + sign_errors.len(),
        sign_errors.len(),
        signing.as_secs_f64(),
        launchable.len() as f64 / signing.as_secs_f64(),
        "-",
        "-",
        if threads == 1 { "" } else { "s" }
    );
    ok &= report_errors("sign", &sign_errors);

    // The server closes idle keep-alive connections while we sign: open them
    // again outside the timed phase.
    reconnect(&ctx, concurrency).await;

    // Phase 3: launches, timed.
    let count = launchable.len();
    let before = Usage::now(args.server_pid);
    let launches = run_phase(
        count,
        concurrency,
        launch_job(&ctx, Rc::new(launchable), Rc::new(id_tokens)),
    )
    .await;
    let after = Usage::now(args.server_pid);
    let launch_stats = Stats::of(&launches);
    launch_stats.print("launch");
    after.since(&before, count).print();
    ok &= report_errors("launch", &launches.errors);
    if count < n {
        eprintln!("launch: only {count} of {n} launches could be attempted");
        ok = false;
    }

    // Phase 4: the demo video's media page, rendered for launched users
    // (their sessions taken in turn), timed.
    let sessions: Vec<String> = launches.outputs.into_iter().flatten().take(64).collect();
    let mut page_stats = None;
    if args.pages > 0 && !sessions.is_empty() {
        let video = demo_video(&ctx, &args.url, &sessions[0]).await?;
        let url = Rc::new(format!("{}/media/{video}", args.url));
        let sessions = Rc::new(sessions);
        run_phase(
            concurrency,
            concurrency,
            page_job(&ctx, url.clone(), sessions.clone()),
        )
        .await;
        let before = Usage::now(args.server_pid);
        let pages = run_phase(args.pages, concurrency, page_job(&ctx, url, sessions)).await;
        let after = Usage::now(args.server_pid);
        let stats = Stats::of(&pages);
        stats.print("page");
        after.since(&before, args.pages).print();
        ok &= report_errors("page", &pages.errors);
        page_stats = Some(stats);
    }

    let (pages_per_s, page_p50, page_p99, page_errors) =
        page_stats.as_ref().map_or((0.0, 0.0, 0.0, 0), |p| {
            (p.rate, p.p50_ms, p.p99_ms, p.errors)
        });
    println!(
        "RESULT logins_per_s={:.1} login_p50_ms={:.2} login_p99_ms={:.2} launches_per_s={:.1} launch_p50_ms={:.2} launch_p99_ms={:.2} media_pages_per_s={:.1} page_p50_ms={:.2} page_p99_ms={:.2} errors={}",
        login_stats.rate,
        login_stats.p50_ms,
        login_stats.p99_ms,
        launch_stats.rate,
        launch_stats.p50_ms,
        launch_stats.p99_ms,
        pages_per_s,
        page_p50,
        page_p99,
        login_stats.errors + sign_errors.len() + launch_stats.errors + page_errors
    );
    Ok(ok)
}

/// Finds the demo platform's client and deployment ids on the demo page (or
/// takes them from the arguments) and loads its signing key.
async fn platform(client: &reqwest::Client, args: &Args) -> Result<Platform, String> {
    let base = &args.url;
    let lms = args.lms;
    let issuer = format!("{base}/demo/{lms}");
    let (client_id, deployment_id) = match (&args.client_id, &args.deployment_id) {
        (Some(c), Some(d)) => (c.clone(), d.clone()),
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
    let path = args.data_dir.join("demo-keys").join(format!("{lms}.key"));
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

/// The value of the hidden input `name` in a piece of the demo page.
fn input_value(html: &str, name: &str) -> Option<String> {
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

fn role_of(index: usize) -> Role {
    if index.is_multiple_of(2) {
        Role::Instructor
    } else {
        Role::Student
    }
}

/// One request of a phase, run on this thread.
type Job<T> = Pin<Box<dyn Future<Output = Result<T, String>>>>;

fn login_job(ctx: &Rc<Ctx>) -> impl Fn(usize) -> Job<Login> + 'static {
    let ctx = ctx.clone();
    move |index| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let sub = ctx
                .users
                .map(|users| format!("load-user-{}", index % users));
            login(&ctx, role_of(index), sub).await
        })
    }
}

async fn login(ctx: &Ctx, role: Role, sub: Option<String>) -> Result<Login, String> {
    let p = &ctx.platform;
    let form = serde_urlencoded::to_string([
        ("iss", p.issuer.as_str()),
        ("login_hint", role.as_str()),
        ("target_link_uri", p.launch_url.as_str()),
        ("client_id", p.client_id.as_str()),
        ("lti_deployment_id", p.deployment_id.as_str()),
    ])
    .expect("a form");
    let response = ctx
        .client
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
fn set_cookie(headers: &reqwest::header::HeaderMap, prefix: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(prefix))
        .map(|c| c.split(';').next().unwrap_or_default().trim().to_string())
}

fn launch_job(
    ctx: &Rc<Ctx>,
    logins: Rc<Vec<Login>>,
    tokens: Rc<Vec<String>>,
) -> impl Fn(usize) -> Job<String> + 'static {
    let ctx = ctx.clone();
    move |index| {
        let (ctx, logins, tokens) = (ctx.clone(), logins.clone(), tokens.clone());
        Box::pin(async move { launch(&ctx, &logins[index], &tokens[index]).await })
    }
}

/// One launch; returns the session token it opened.
async fn launch(ctx: &Ctx, login: &Login, id_token: &str) -> Result<String, String> {
    let form =
        serde_urlencoded::to_string([("id_token", id_token), ("state", login.state.as_str())])
            .expect("a form");
    let response = ctx
        .client
        .post(&ctx.platform.launch_url)
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

/// The demo course's video, found through the API with a launched session.
async fn demo_video(ctx: &Ctx, base: &str, token: &str) -> Result<String, String> {
    let response = ctx
        .client
        .get(format!("{base}/api/media"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("GET /api/media failed: {e}"))?;
    let list: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("GET /api/media answered no JSON: {e}"))?;
    list["media"]
        .as_array()
        .and_then(|items| items.iter().find(|m| m["kind"] == "video"))
        .and_then(|m| m["id"].as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("the demo course has no video: {list}"))
}

fn page_job(
    ctx: &Rc<Ctx>,
    url: Rc<String>,
    tokens: Rc<Vec<String>>,
) -> impl Fn(usize) -> Job<()> + 'static {
    let ctx = ctx.clone();
    move |index| {
        let (ctx, url, tokens) = (ctx.clone(), url.clone(), tokens.clone());
        Box::pin(async move {
            let token = &tokens[index % tokens.len()];
            let response = ctx
                .client
                .get(url.as_str())
                .bearer_auth(token)
                .send()
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .map_err(|e| format!("response cut off: {e}"))?;
            if status.as_u16() != 200 || !body.windows(17).any(|w| w == b"data-page=\"media\"") {
                return Err(format!("answered {status}: {}", summary(&body)));
            }
            Ok(())
        })
    }
}

/// Signs one id_token per login, on as many threads as this process may use.
fn sign_all(platform: &Platform, logins: &[Login]) -> (Vec<Result<String, String>>, usize) {
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
                                now,
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

/// One cheap request per connection, so the timed phase starts on open ones.
async fn reconnect(ctx: &Rc<Ctx>, concurrency: usize) {
    let health = {
        let ctx = ctx.clone();
        move |_index: usize| {
            let ctx = ctx.clone();
            Box::pin(async move {
                let response = ctx
                    .client
                    .get(&ctx.platform.health_url)
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
struct Phase<T> {
    outputs: Vec<Option<T>>,
    latencies: Vec<Duration>,
    errors: Vec<(usize, String)>,
    elapsed: Duration,
}

/// Runs jobs `0..n` with `concurrency` of them in flight at any time.
async fn run_phase<T, F, Fut>(n: usize, concurrency: usize, job: F) -> Phase<T>
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

fn all_or_first_error<T>(what: &str, phase: Phase<T>) -> Result<Vec<T>, String> {
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
fn report_errors(phase: &str, errors: &[(usize, String)]) -> bool {
    for (index, problem) in errors.iter().take(5) {
        eprintln!("{phase} #{index}: {problem}");
    }
    if errors.len() > 5 {
        eprintln!("{phase}: ... and {} more errors", errors.len() - 5);
    }
    errors.is_empty()
}

/// An error page's code, or the start of the body.
fn summary(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Some(start) = text.find("data-error-code=\"") {
        let rest = &text[start + 17..];
        return format!("error code {}", &rest[..rest.find('"').unwrap_or(0)]);
    }
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(160).collect()
}

struct Stats {
    requests: usize,
    errors: usize,
    seconds: f64,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Stats {
    fn of<T>(phase: &Phase<T>) -> Stats {
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

    fn print(&self, phase: &str) {
        println!(
            "{:<8} {:>8} {:>7} {:>8.3} {:>9.1} {:>8.2} {:>8.2}",
            phase, self.requests, self.errors, self.seconds, self.rate, self.p50_ms, self.p99_ms
        );
    }
}

/// CPU counters from /proc at one moment (Linux; zeros elsewhere).
struct Usage {
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
    fn now(server_pid: Option<u32>) -> Usage {
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

    fn since(&self, before: &Usage, requests: usize) -> UsageDelta {
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

struct UsageDelta {
    client: f64,
    server: Option<(f64, u64, u64)>,
    postgres: f64,
    machine: f64,
    cpus: usize,
    requests: usize,
}

impl UsageDelta {
    fn print(&self) {
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
