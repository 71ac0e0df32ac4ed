//! Load test of guest entries through guest links against a running
//! `guestlink demo` (start it with `GUESTLINK_GUEST_RATE_LIMIT=0`: the load
//! comes from one address).
//!
//! For each `--links` count (default `1,1000`: one hot link, then 1,000 links
//! on 334 rooms) it measures N guests (`-n`, default 5000; guest `i` uses link
//! `i mod links`) in these phases:
//!
//! 0. `prepare`, not timed: a demo launch of the instructor (its session is the
//!    Bearer of the JSON API), then `ceil(links / 3)` rooms
//!    (`POST /api/media`), guest access switched on for each
//!    (`PUT /api/media/{id}/guest-access`) and up to 3 links without a click
//!    limit on each (`POST /api/media/{id}/guest-links`).
//! 1. `entry`: each guest fetches the entry page (`GET /g/{token}`), timed and
//!    reported on its own. It must answer 200 with the form's hidden `csrf`
//!    field and the `guestlink_guest_csrf` cookie.
//! 2. `admit`: each guest posts the form (`POST /g/{token}` with name, email,
//!    the csrf field and cookie), timed: the headline rate. It must answer 303
//!    to `/g/{token}/view` with a `guestlink_guest` cookie.
//! 3. `view`: each admitted guest loads the view (`GET /g/{token}/view` with
//!    that cookie), timed. It must answer 200 with the guest view.
//!
//! After each count the links' clicks (read through the API) must equal the
//! admissions the guests were answered, warm-up included.
//!
//! Then the click-limit check (`--check-limit L`, default 100; 0 skips it):
//! one link limited to L clicks, `--check-guests` guests (default 3 × L)
//! fetch the form and then post it all at once. Exactly L must be admitted,
//! every other one must get the `exhausted` page (410), the link must count L
//! clicks and list L visits, and a new guest's GET must answer `exhausted`.
//! It also reports whether the admitted guests' views still open.
//!
//! Each timed phase keeps `--concurrency` requests in flight on as many
//! keep-alive connections and prints requests, errors, seconds, rate (answered
//! requests per second) and p50/p99 latency (from sending the request to the
//! last byte of the response). With `--rate R` the timed phases are an open
//! load instead: a request is due every 1/R seconds whatever the earlier ones
//! do, at most `--concurrency` in flight, and latency counts from when the
//! request was due (`--rate 1000,2500` gives each `--links` count its own) (so a target such as "1,000 admissions/s with p99 under
//! 50 ms" is measured at that rate rather than at saturation, where closed
//! loop latency is just concurrency / throughput). With `--server-pid` it also prints how much CPU
//! the server, PostgreSQL, this client and the whole machine used. A warm-up
//! round (`--warmup`, default one guest per connection: entry, admission and
//! view) comes before each count's timed phases and is not counted.
//!
//! The run fails (exit status 1) if a request does not answer as it should,
//! a click count is off, or the click-limit check fails; a bad argument or an
//! unusable server is exit status 2.
//!
//! ```text
//! GUESTLINK_GUEST_RATE_LIMIT=0 cargo run --release -- demo &
//! cargo run --release --example load_guest -- --url http://127.0.0.1:8080 \
//!     --data-dir guestlink-data -n 5000 --links 1,1000 --concurrency 64
//! ```
//!
//! `scripts/load-guest.sh` builds, starts the server on each backend and runs
//! this example against it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

use guestlink::domain::platform::Lms;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};
use serde_json::{Value, json};

#[path = "support/mod.rs"]
mod support;

use support::{FORM, Job, Phase, all_or_first_error, report_errors, run_phase, summary};

const USAGE: &str = "usage: load_guest --url http://127.0.0.1:PORT --data-dir DIR [--lms moodle] [-n 5000] \
[--links 1,1000] [--concurrency 64] [--rate R[,R...]] [--warmup N] [--check-limit 100] [--check-guests N] [--server-pid PID] \
[--client-id ID --deployment-id ID]";

/// The most links an item may hold.
const LINKS_PER_ITEM: usize = 3;

struct Args {
    url: String,
    data_dir: PathBuf,
    lms: Lms,
    n: usize,
    links: Vec<usize>,
    concurrency: usize,
    /// Requests per second the timed phases are paced at, one for every
    /// `links` count (None: as fast as `concurrency` connections go).
    rates: Vec<Option<f64>>,
    warmup: Option<usize>,
    check_limit: usize,
    check_guests: Option<usize>,
    server_pid: Option<u32>,
    client_id: Option<String>,
    deployment_id: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut data_dir = None;
    let mut lms = "moodle".to_string();
    let mut n = 5000usize;
    let mut links = vec![1, 1000];
    let mut concurrency = 64usize;
    let mut rates = Vec::new();
    let mut warmup = None;
    let mut check_limit = 100usize;
    let mut check_guests = None;
    let mut server_pid = None;
    let mut client_id = None;
    let mut deployment_id = None;
    for flag in support::flags(USAGE) {
        let (name, value) = flag?;
        let number = |v: &str| support::number(&name, v);
        match name.as_str() {
            "--url" => url = Some(value.trim_end_matches('/').to_string()),
            "--data-dir" => data_dir = Some(PathBuf::from(value)),
            "--lms" => lms = value,
            "-n" | "--n" | "--guests" => n = number(&value)?,
            "--links" => {
                links = value
                    .split(',')
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| number(v.trim()))
                    .collect::<Result<_, _>>()?;
            }
            "-c" | "--concurrency" => concurrency = number(&value)?,
            "--rate" => {
                rates = value
                    .split(',')
                    .map(|v| number(v.trim()).map(|r| Some(r as f64).filter(|r| *r > 0.0)))
                    .collect::<Result<_, _>>()?;
            }
            "--warmup" => warmup = Some(number(&value)?),
            "--check-limit" => check_limit = number(&value)?,
            "--check-guests" => check_guests = Some(number(&value)?),
            "--server-pid" => server_pid = Some(number(&value)? as u32),
            "--client-id" => client_id = Some(value),
            "--deployment-id" => deployment_id = Some(value),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    let lms = support::demo_lms(&lms)?;
    if n == 0 || concurrency == 0 {
        return Err("-n and --concurrency must be at least 1".into());
    }
    if links.contains(&0) {
        return Err("--links: every count must be at least 1".into());
    }
    let rates = match rates.len() {
        0 => vec![None; links.len()],
        1 => vec![rates[0]; links.len()],
        count if count == links.len() => rates,
        _ => return Err("--rate: one rate, or one for each --links count".into()),
    };
    if check_guests.is_some_and(|guests| guests <= check_limit) {
        return Err("--check-guests must be more than --check-limit".into());
    }
    if check_limit > 1_000_000 {
        return Err("--check-limit: a link allows at most 1,000,000 clicks".into());
    }
    Ok(Args {
        url: url.ok_or("--url is required")?,
        data_dir: data_dir.ok_or("--data-dir is required")?,
        lms,
        n,
        links,
        concurrency,
        rates,
        warmup,
        check_limit,
        check_guests,
        server_pid,
        client_id,
        deployment_id,
    })
}

fn main() -> ExitCode {
    support::exit_code(
        "load_guest",
        USAGE,
        "FAILED: some guest entries did not answer as they should, or a click count is off (see above)",
        parse_args().map(|args| support::block_on(run(args))),
    )
}

struct Ctx {
    client: reqwest::Client,
    /// Where the tool listens, without a trailing slash.
    base: String,
    /// The launched instructor's session, Bearer of the JSON API.
    session: String,
    health_url: String,
}

/// A guest link made for the load.
struct Link {
    media_id: String,
    id: String,
    /// `/g/{token}`, on `--url` (the link's own URL names the public URL).
    entry_url: String,
    view_url: String,
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
    let session = support::instructor_session(&client, &platform).await?;
    let ctx = Rc::new(Ctx {
        client,
        base: args.url.clone(),
        session,
        health_url: platform.health_url.clone(),
    });
    println!(
        "load_guest: {} guests per run on {} link{} at {} {} (instructor launched from the {} demo platform)",
        args.n,
        args.links
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" and "),
        if args.links == [1] { "" } else { "s" },
        args.url,
        match args.rates.iter().flatten().next() {
            Some(_) => format!(
                "paced at {} requests/s, at most {} in flight",
                args.rates
                    .iter()
                    .map(|r| r.map_or("unpaced".into(), |r| format!("{r:.0}")))
                    .collect::<Vec<_>>()
                    .join(" and "),
                args.concurrency
            ),
            None => format!("at concurrency {}", args.concurrency),
        },
        platform.lms
    );

    let mut ok = true;
    for (round, &links) in args.links.iter().enumerate() {
        ok &= measure(&ctx, &args, round, links, args.rates[round]).await?;
    }
    if args.check_limit > 0 {
        let guests = args.check_guests.unwrap_or(args.check_limit * 3);
        ok &= click_limit_check(&ctx, &args, args.check_limit, guests).await?;
    }
    Ok(ok)
}

/// One measured run: N guests over `links` links.
async fn measure(
    ctx: &Rc<Ctx>,
    args: &Args,
    round: usize,
    links: usize,
    rate: Option<f64>,
) -> Result<bool, String> {
    let (n, concurrency) = (args.n, args.concurrency);
    let items = links.div_ceil(LINKS_PER_ITEM);
    println!();
    println!(
        "--- {n} guests on {links} link{} ({items} room{}){} ---",
        if links == 1 { "" } else { "s" },
        if items == 1 { "" } else { "s" },
        rate.map_or(String::new(), |r| format!(", paced at {r:.0}/s"))
    );
    let started = Instant::now();
    let made = prepare(ctx, &format!("load {round}"), links, None, concurrency).await?;
    println!(
        "prepare: {items} room{} with {links} link{} in {:.2} s (not timed)",
        if items == 1 { "" } else { "s" },
        if links == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    );
    let made = Rc::new(made);

    let warmup = args.warmup.unwrap_or(concurrency);
    if warmup > 0 {
        let guests = Rc::new((0..warmup).map(|g| g % links).collect::<Vec<_>>());
        let entries = run_phase(warmup, concurrency, entry_job(ctx, &made, &guests)).await;
        let entries = Rc::new(all_or_first_error("warm-up entry", entries)?);
        let admitted = run_phase(
            warmup,
            concurrency,
            admit_job(ctx, &made, &guests, &entries, 0),
        )
        .await;
        let admitted = Rc::new(all_or_first_error("warm-up admission", admitted)?);
        let viewed = run_phase(
            warmup,
            concurrency,
            view_job(ctx, &made, &guests, &admitted),
        )
        .await;
        all_or_first_error("warm-up view", viewed)?;
        println!("warm-up: {warmup} guests entered (not counted)");
    }

    support::print_heading();
    let mut ok = true;
    let guests = Rc::new((0..n).map(|g| g % links).collect::<Vec<_>>());

    // Phase 1: the entry pages, timed on their own.
    let (entries, entry_stats) = support::timed(
        "entry",
        args.server_pid,
        n,
        load(args, rate, n, entry_job(ctx, &made, &guests)),
    )
    .await;
    ok &= report_errors("entry", &entries.errors);
    let (guests, entries) = survivors(&guests, entries);

    // Phase 2: the admitting POSTs, timed: the headline rate.
    let count = guests.len();
    let (admissions, admit_stats) = support::timed(
        "admit",
        args.server_pid,
        count,
        load(
            args,
            rate,
            count,
            admit_job(ctx, &made, &guests, &entries, warmup),
        ),
    )
    .await;
    ok &= report_errors("admit", &admissions.errors);
    let admitted_count = admissions.outputs.iter().flatten().count();
    let (guests, cookies) = survivors(&guests, admissions);

    // Phase 3: the view of each admitted guest, timed.
    let count = guests.len();
    let (views, view_stats) = support::timed(
        "view",
        args.server_pid,
        count,
        load(args, rate, count, view_job(ctx, &made, &guests, &cookies)),
    )
    .await;
    ok &= report_errors("view", &views.errors);

    // Every admission the guests were answered is one click, and no more.
    let clicks = clicks_of(ctx, &made).await?;
    let expected = warmup + admitted_count;
    let clicks_total: i64 = clicks.iter().sum();
    if clicks_total == expected as i64 {
        println!(
            "clicks: {clicks_total} counted on {links} link{}, as many as admissions answered (warm-up included)",
            if links == 1 { "" } else { "s" }
        );
    } else {
        eprintln!(
            "clicks: {clicks_total} counted on {links} link{}, but {expected} admissions were answered (warm-up included)",
            if links == 1 { "" } else { "s" }
        );
        ok = false;
    }

    println!(
        "RESULT links={links} guests={n} paced_per_s={:.0} entries_per_s={:.1} entry_p50_ms={:.2} entry_p99_ms={:.2} admissions_per_s={:.1} admit_p50_ms={:.2} admit_p99_ms={:.2} views_per_s={:.1} view_p50_ms={:.2} view_p99_ms={:.2} clicks={clicks_total} errors={}",
        rate.unwrap_or(0.0),
        entry_stats.rate,
        entry_stats.p50_ms,
        entry_stats.p99_ms,
        admit_stats.rate,
        admit_stats.p50_ms,
        admit_stats.p99_ms,
        view_stats.rate,
        view_stats.p50_ms,
        view_stats.p99_ms,
        entry_stats.errors + admit_stats.errors + view_stats.errors
    );
    Ok(ok)
}

/// A timed phase: `--concurrency` requests in flight, or paced at `--rate`.
async fn load<T: 'static>(
    args: &Args,
    rate: Option<f64>,
    n: usize,
    job: impl Fn(usize) -> Job<T> + 'static,
) -> Phase<T> {
    match rate {
        Some(rate) => support::run_paced(n, rate, args.concurrency, job).await,
        None => run_phase(n, args.concurrency, job).await,
    }
}

/// The guests whose request of a phase went through, with its outputs, for
/// the next phase.
fn survivors<T>(guests: &[usize], phase: Phase<T>) -> (Rc<Vec<usize>>, Rc<Vec<T>>) {
    let (guests, outputs): (Vec<usize>, Vec<T>) = guests
        .iter()
        .zip(phase.outputs)
        .filter_map(|(&link, output)| output.map(|output| (link, output)))
        .unzip();
    (Rc::new(guests), Rc::new(outputs))
}

// ---- Preparing rooms and links through the JSON API ---------------------------

/// A JSON API call as the instructor; the answer must have status `expect`.
async fn api(
    ctx: &Ctx,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    expect: u16,
) -> Result<Value, String> {
    let mut request = ctx
        .client
        .request(method.clone(), format!("{}{path}", ctx.base))
        .bearer_auth(&ctx.session);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    if status.as_u16() != expect {
        let flat: String = text.chars().take(300).collect();
        return Err(format!(
            "{method} {path} answered {status}, not {expect}: {flat}"
        ));
    }
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|e| format!("{method} {path} answered no JSON: {e}"))
}

/// `links` links on `ceil(links / 3)` new rooms with guest access on, each
/// with `click_limit` (none: unlimited).
async fn prepare(
    ctx: &Rc<Ctx>,
    title: &str,
    links: usize,
    click_limit: Option<usize>,
    concurrency: usize,
) -> Result<Vec<Link>, String> {
    let items = links.div_ceil(LINKS_PER_ITEM);
    let title = Rc::new(title.to_string());
    let job = {
        let ctx = ctx.clone();
        move |item: usize| {
            let (ctx, title) = (ctx.clone(), title.clone());
            let count = (links - item * LINKS_PER_ITEM).min(LINKS_PER_ITEM);
            Box::pin(async move {
                let created = api(
                    &ctx,
                    reqwest::Method::POST,
                    "/api/media",
                    Some(json!({"title": format!("{title} room {item}"), "kind": "room"})),
                    201,
                )
                .await?;
                let media_id = created["id"]
                    .as_str()
                    .ok_or_else(|| format!("POST /api/media answered no id: {created}"))?
                    .to_string();
                let access = format!("/api/media/{media_id}/guest-access");
                api(
                    &ctx,
                    reqwest::Method::PUT,
                    &access,
                    Some(json!({"enabled": true})),
                    200,
                )
                .await?;
                let mut made = Vec::new();
                for slot in 0..count {
                    let link = api(
                        &ctx,
                        reqwest::Method::POST,
                        &format!("/api/media/{media_id}/guest-links"),
                        Some(json!({
                            "name": format!("{title} link {}", item * LINKS_PER_ITEM + slot),
                            "click_limit": click_limit,
                            "duration_days": null,
                        })),
                        201,
                    )
                    .await?;
                    let url = link["url"].as_str().unwrap_or_default();
                    let token = url
                        .rsplit_once("/g/")
                        .map(|(_, token)| token)
                        .filter(|token| !token.is_empty() && !token.contains('/'))
                        .ok_or_else(|| {
                            format!("a new link's url is not {{base}}/g/TOKEN: {link}")
                        })?;
                    let id = link["id"]
                        .as_str()
                        .ok_or_else(|| format!("a new link has no id: {link}"))?;
                    made.push(Link {
                        media_id: media_id.clone(),
                        id: id.to_string(),
                        entry_url: format!("{}/g/{token}", ctx.base),
                        view_url: format!("{}/g/{token}/view", ctx.base),
                    });
                }
                Ok(made)
            }) as Job<Vec<Link>>
        }
    };
    let made = run_phase(items, concurrency.min(16), job).await;
    let made = all_or_first_error("prepare", made)?;
    Ok(made.into_iter().flatten().collect())
}

/// Each link's click count as the owner's API lists it, in the order of `links`.
async fn clicks_of(ctx: &Rc<Ctx>, links: &Rc<Vec<Link>>) -> Result<Vec<i64>, String> {
    let mut items: Vec<&str> = links.iter().map(|l| l.media_id.as_str()).collect();
    items.dedup();
    let mut counted = std::collections::HashMap::new();
    for item in items {
        let access = api(
            ctx,
            reqwest::Method::GET,
            &format!("/api/media/{item}/guest-access"),
            None,
            200,
        )
        .await?;
        for link in access["links"].as_array().into_iter().flatten() {
            if let (Some(id), Some(clicks)) = (link["id"].as_str(), link["clicks"].as_i64()) {
                counted.insert(id.to_string(), clicks);
            }
        }
    }
    links
        .iter()
        .map(|link| {
            counted
                .get(&link.id)
                .copied()
                .ok_or_else(|| format!("link {} is not listed by its item", link.id))
        })
        .collect()
}

// ---- The guest's requests -----------------------------------------------------

/// What a guest's GET of the entry page handed back for the POST.
struct Entry {
    /// `guestlink_guest_csrf=...`, as the browser would send it back.
    cookie: String,
    csrf: String,
}

/// GET /g/{token}: must answer 200 with the form.
async fn get_entry(ctx: &Ctx, link: &Link) -> Result<Entry, String> {
    let response = ctx
        .client
        .get(&link.entry_url)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let cookie = support::set_cookie(response.headers(), "guestlink_guest_csrf=");
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("response cut off: {e}"))?;
    if status.as_u16() != 200 || !support::contains(&body, "data-page=\"guest-entry\"") {
        return Err(format!("answered {status}: {}", summary(&body)));
    }
    let csrf = support::input_value(&String::from_utf8_lossy(&body), "csrf")
        .ok_or("the entry page has no csrf field")?;
    let cookie = cookie.ok_or("the entry page set no guestlink_guest_csrf cookie")?;
    Ok(Entry { cookie, csrf })
}

/// How a guest's POST was answered.
enum Entered {
    /// 303 to the view; the `guestlink_guest=...` cookie.
    Admitted(String),
    /// The unavailable page: its status and reason.
    Refused { status: u16, reason: String },
}

/// POST /g/{token} with the form and its csrf cookie.
async fn post_entry(
    ctx: &Ctx,
    link: &Link,
    entry: &Entry,
    guest: usize,
) -> Result<Entered, String> {
    let form = serde_urlencoded::to_string([
        ("name", format!("Load Guest {guest}").as_str()),
        ("email", format!("guest{guest}@load.example.org").as_str()),
        ("csrf", entry.csrf.as_str()),
    ])
    .expect("a form");
    let response = ctx
        .client
        .post(&link.entry_url)
        .header(CONTENT_TYPE, FORM)
        .header(COOKIE, entry.cookie.as_str())
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
    let cookie = support::set_cookie(response.headers(), "guestlink_guest=");
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("response cut off: {e}"))?;
    if status.as_u16() == 303 {
        let location = location.ok_or("303 without a Location")?;
        if !link.view_url.ends_with(&location) {
            return Err(format!("303 to {location}, not to the view"));
        }
        let cookie = cookie.ok_or("303 without a guestlink_guest cookie")?;
        return Ok(Entered::Admitted(cookie));
    }
    match unavailable_reason(&body) {
        Some(reason) => Ok(Entered::Refused {
            status: status.as_u16(),
            reason,
        }),
        None => Err(format!("answered {status}: {}", summary(&body))),
    }
}

/// GET /g/{token}/view with the guest cookie: Ok(None) for the guest view,
/// Ok(Some(reason)) for the unavailable page.
async fn get_view(ctx: &Ctx, link: &Link, cookie: &str) -> Result<Option<String>, String> {
    let response = ctx
        .client
        .get(&link.view_url)
        .header(COOKIE, cookie)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("response cut off: {e}"))?;
    if status.as_u16() == 200 && support::contains(&body, "data-page=\"guest-view\"") {
        return Ok(None);
    }
    match unavailable_reason(&body) {
        Some(reason) => Ok(Some(reason)),
        None => Err(format!("answered {status}: {}", summary(&body))),
    }
}

/// The reason an unavailable page gives (`data-unavailable-reason`).
fn unavailable_reason(body: &[u8]) -> Option<String> {
    const MARKER: &str = "data-unavailable-reason=\"";
    let text = String::from_utf8_lossy(body);
    let rest = &text[text.find(MARKER)? + MARKER.len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Guest `index` fetches the entry page of link `guests[index]`.
fn entry_job(
    ctx: &Rc<Ctx>,
    links: &Rc<Vec<Link>>,
    guests: &Rc<Vec<usize>>,
) -> impl Fn(usize) -> Job<Entry> + 'static {
    let (ctx, links, guests) = (ctx.clone(), links.clone(), guests.clone());
    move |index| {
        let (ctx, links, guests) = (ctx.clone(), links.clone(), guests.clone());
        Box::pin(async move { get_entry(&ctx, &links[guests[index]]).await })
    }
}

/// Guest `index` posts the form it fetched; anything but an admission is an
/// error. `first` numbers the guests' names and emails.
fn admit_job(
    ctx: &Rc<Ctx>,
    links: &Rc<Vec<Link>>,
    guests: &Rc<Vec<usize>>,
    entries: &Rc<Vec<Entry>>,
    first: usize,
) -> impl Fn(usize) -> Job<String> + 'static {
    let (ctx, links, guests, entries) =
        (ctx.clone(), links.clone(), guests.clone(), entries.clone());
    move |index| {
        let (ctx, links, guests, entries) =
            (ctx.clone(), links.clone(), guests.clone(), entries.clone());
        Box::pin(async move {
            match post_entry(&ctx, &links[guests[index]], &entries[index], first + index).await? {
                Entered::Admitted(cookie) => Ok(cookie),
                Entered::Refused { status, reason } => {
                    Err(format!("answered {status}: unavailable reason {reason}"))
                }
            }
        })
    }
}

/// Admitted guest `index` loads the view; it must be the guest view.
fn view_job(
    ctx: &Rc<Ctx>,
    links: &Rc<Vec<Link>>,
    guests: &Rc<Vec<usize>>,
    cookies: &Rc<Vec<String>>,
) -> impl Fn(usize) -> Job<()> + 'static {
    let (ctx, links, guests, cookies) =
        (ctx.clone(), links.clone(), guests.clone(), cookies.clone());
    move |index| {
        let (ctx, links, guests, cookies) =
            (ctx.clone(), links.clone(), guests.clone(), cookies.clone());
        Box::pin(async move {
            match get_view(&ctx, &links[guests[index]], &cookies[index]).await? {
                None => Ok(()),
                Some(reason) => Err(format!("the unavailable page, reason {reason}")),
            }
        })
    }
}

// ---- The click-limit check ------------------------------------------------------

/// One link limited to `limit` clicks, `guests` guests at once: exactly
/// `limit` admitted, the others turned away as exhausted.
async fn click_limit_check(
    ctx: &Rc<Ctx>,
    args: &Args,
    limit: usize,
    guests: usize,
) -> Result<bool, String> {
    let concurrency = args.concurrency;
    println!();
    println!(
        "--- click-limit check: {guests} guests at once on one link limited to {limit} clicks ---"
    );
    let made = Rc::new(prepare(ctx, "load check", 1, Some(limit), concurrency).await?);
    let on_link = Rc::new(vec![0usize; guests]);
    let entries = run_phase(guests, concurrency, entry_job(ctx, &made, &on_link)).await;
    let entries = Rc::new(all_or_first_error("check entry", entries)?);

    // All the forms are posted with `concurrency` in flight.
    support::reconnect(&ctx.client, &ctx.health_url, concurrency).await;
    let post = {
        let (ctx, made, entries) = (ctx.clone(), made.clone(), entries.clone());
        move |index: usize| {
            let (ctx, made, entries) = (ctx.clone(), made.clone(), entries.clone());
            Box::pin(async move { post_entry(&ctx, &made[0], &entries[index], index).await })
                as Job<Entered>
        }
    };
    let posted = run_phase(guests, concurrency, post).await;
    let mut ok = report_errors("check", &posted.errors);
    let mut cookies = Vec::new();
    let (mut exhausted, mut other_refusals) = (0usize, Vec::new());
    for entered in posted.outputs.into_iter().flatten() {
        match entered {
            Entered::Admitted(cookie) => cookies.push(cookie),
            Entered::Refused {
                status: 410,
                reason,
            } if reason == "exhausted" => exhausted += 1,
            Entered::Refused { status, reason } => {
                other_refusals.push(format!("{status} {reason}"))
            }
        }
    }
    let admitted = cookies.len();
    if !other_refusals.is_empty() {
        eprintln!(
            "check: {} refusals were not 410 exhausted, e.g. {}",
            other_refusals.len(),
            other_refusals[0]
        );
        ok = false;
    }

    let clicks = clicks_of(ctx, &made).await?[0];
    let visits = api(
        ctx,
        reqwest::Method::GET,
        &format!(
            "/api/media/{}/guest-links/{}/visits",
            made[0].media_id, made[0].id
        ),
        None,
        200,
    )
    .await?["visits"]
        .as_array()
        .map_or(0, Vec::len);
    let (late, late_ok) = {
        let response = ctx
            .client
            .get(&made[0].entry_url)
            .send()
            .await
            .map_err(|e| format!("GET of the used-up link: {e}"))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("GET of the used-up link: {e}"))?;
        let reason = unavailable_reason(&body);
        let ok = status.as_u16() == 410 && reason.as_deref() == Some("exhausted");
        (format!("{status}, {}", summary(&body)), ok)
    };

    // The admitted guests' views: reported, not judged.
    let cookies = Rc::new(cookies);
    let look = {
        let (ctx, made, cookies) = (ctx.clone(), made.clone(), cookies.clone());
        move |index: usize| {
            let (ctx, made, cookies) = (ctx.clone(), made.clone(), cookies.clone());
            Box::pin(async move { get_view(&ctx, &made[0], &cookies[index]).await })
                as Job<Option<String>>
        }
    };
    let looked = run_phase(admitted, concurrency, look).await;
    let viewing = looked
        .outputs
        .iter()
        .flatten()
        .filter(|v| v.is_none())
        .count();
    let turned_away: Vec<&String> = looked.outputs.iter().flatten().flatten().collect();

    let exact = admitted == limit && exhausted + admitted == guests;
    let counted = clicks == limit as i64 && visits == limit;
    println!(
        "check: {admitted} admitted (limit {limit}), {exhausted} turned away as exhausted, {} other answers; \
clicks {clicks}, visits {visits}; a new guest's GET after: {late}",
        guests - admitted - exhausted
    );
    println!(
        "check: the admitted guests' views: {viewing} of {admitted} open the guest view{}",
        match turned_away.first() {
            Some(reason) => format!(
                ", {} show the unavailable page ({reason})",
                turned_away.len()
            ),
            None => String::new(),
        }
    );
    if !looked.errors.is_empty() {
        report_errors("check view", &looked.errors);
    }
    if !exact {
        eprintln!("check: FAILED: {admitted} admissions on a link limited to {limit} clicks");
    }
    if !counted {
        eprintln!(
            "check: FAILED: the link counts {clicks} clicks and {visits} visits, not {limit}"
        );
    }
    if !late_ok {
        eprintln!("check: FAILED: a new guest's GET of the used-up link: {late}");
    }
    ok &= exact && counted && late_ok;
    println!(
        "RESULT check_limit={limit} check_guests={guests} admitted={admitted} exhausted={exhausted} clicks={clicks} visits={visits} views_open={viewing} ok={}",
        ok
    );
    Ok(ok)
}
