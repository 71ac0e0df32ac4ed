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
//!    as a launched user's browser loads it after a launch (the same-origin
//!    `POST /media/{id}` of the session token, as the tool's links and
//!    reloads send it; sessions taken in turn), timed. Each must answer 200
//!    with the media page, which issues the page's file URL (a grant).
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

use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

use guestlink::demo::claims::Role;
use guestlink::domain::platform::Lms;

#[path = "support/mod.rs"]
mod support;

use support::{
    Job, Login, Platform, Stats, all_or_first_error, report_errors, run_phase, sign_all, summary,
};

const USAGE: &str = "usage: load_launch --url http://127.0.0.1:PORT --data-dir DIR [--lms moodle] [-n 5000] \
[--concurrency 64] [--warmup N] [--users N] [--pages N] [--server-pid PID] [--client-id ID --deployment-id ID]";

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
    for flag in support::flags(USAGE) {
        let (name, value) = flag?;
        let number = |v: &str| support::number(&name, v);
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
    let lms = support::demo_lms(&lms)?;
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
    support::exit_code(
        "load_launch",
        USAGE,
        "FAILED: some logins or launches did not answer as they should (see above)",
        parse_args().map(|args| support::block_on(run(args))),
    )
}

struct Ctx {
    client: reqwest::Client,
    platform: Platform,
    users: Option<usize>,
}

async fn run(args: Args) -> Result<bool, String> {
    let client = support::http_client(args.concurrency)?;
    let platform = support::demo_platform(
        &client,
        &args.url,
        &args.data_dir,
        args.lms,
        (args.client_id.as_deref(), args.deployment_id.as_deref()),
    )
    .await?;
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

    support::print_heading();
    let mut ok = true;

    // Phase 1: login initiations, timed.
    let (logins, login_stats) = support::timed(
        "login",
        args.server_pid,
        n,
        run_phase(n, concurrency, login_job(&ctx)),
    )
    .await;
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
    support::reconnect(&ctx.client, &ctx.platform.health_url, concurrency).await;

    // Phase 3: launches, timed.
    let count = launchable.len();
    let (launches, launch_stats) = support::timed(
        "launch",
        args.server_pid,
        count,
        run_phase(
            count,
            concurrency,
            launch_job(&ctx, Rc::new(launchable), Rc::new(id_tokens)),
        ),
    )
    .await;
    ok &= report_errors("launch", &launches.errors);
    if count < n {
        eprintln!("launch: only {count} of {n} launches could be attempted");
        ok = false;
    }

    // Phase 4: the demo video's media page, rendered for launched users
    // (their sessions taken in turn), timed.
    let sessions: Vec<String> = launches.outputs.into_iter().flatten().take(64).collect();
    let mut page_stats: Option<Stats> = None;
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
        let (pages, stats) = support::timed(
            "page",
            args.server_pid,
            args.pages,
            run_phase(args.pages, concurrency, page_job(&ctx, url, sessions)),
        )
        .await;
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

fn role_of(index: usize) -> Role {
    if index.is_multiple_of(2) {
        Role::Instructor
    } else {
        Role::Student
    }
}

fn login_job(ctx: &Rc<Ctx>) -> impl Fn(usize) -> Job<Login> + 'static {
    let ctx = ctx.clone();
    move |index| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let sub = ctx
                .users
                .map(|users| format!("load-user-{}", index % users));
            support::login(&ctx.client, &ctx.platform, role_of(index), sub).await
        })
    }
}

fn launch_job(
    ctx: &Rc<Ctx>,
    logins: Rc<Vec<Login>>,
    tokens: Rc<Vec<String>>,
) -> impl Fn(usize) -> Job<String> + 'static {
    let ctx = ctx.clone();
    move |index| {
        let (ctx, logins, tokens) = (ctx.clone(), logins.clone(), tokens.clone());
        Box::pin(async move {
            support::launch(&ctx.client, &ctx.platform, &logins[index], &tokens[index]).await
        })
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
            // What the tool's links do in a browser: a same-origin POST of
            // the session the page holds (sessions never travel in URLs).
            let response = ctx
                .client
                .post(url.as_str())
                .header("sec-fetch-site", "same-origin")
                .header(reqwest::header::CONTENT_TYPE, support::FORM)
                .body(format!("session={token}"))
                .send()
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .map_err(|e| format!("response cut off: {e}"))?;
            if status.as_u16() != 200 || !support::contains(&body, "data-page=\"media\"") {
                return Err(format!("answered {status}: {}", summary(&body)));
            }
            Ok(())
        })
    }
}
