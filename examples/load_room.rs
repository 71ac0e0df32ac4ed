//! Fan-out benchmark of a live room against a running `guestlink demo`
//! (start it with `GUESTLINK_GUEST_RATE_LIMIT=0 GUESTLINK_CHAT_RATE_LIMIT=0`:
//! the load comes from one address and one moderator).
//!
//! 0. Not timed: the instructor launches from the demo platform, makes a
//!    room with guest access on, one link, the lobby set to admit guests
//!    automatically, and starts a session.
//! 1. `--streams` event streams are opened (default 500): half are guests
//!    (each enters through the link in a browser of its own, is admitted
//!    and opens `/g/{token}/events` with their cookie), half are students,
//!    each launched from the demo platform as a person of their own, who
//!    join the session and open their member stream
//!    (`/media/{id}/events?ticket=`). The
//!    server's resident memory is read before and after (with
//!    `--server-pid`): the difference over the streams is the memory per
//!    stream.
//! 2. `--actions` times (default 60), the moderator posts a chat message and
//!    every stream waits for the event that carries it. For each action it
//!    records the time from sending the message to the last stream having
//!    it, and to each stream having it; it prints p50 and p99 of both.
//!
//! ```text
//! GUESTLINK_GUEST_RATE_LIMIT=0 GUESTLINK_CHAT_RATE_LIMIT=0 cargo run --release -- demo &
//! cargo run --release --example load_room -- --url http://127.0.0.1:8080 \
//!     --data-dir guestlink-data --streams 500 --actions 60
//! ```
//!
//! `scripts/room-bench.sh` builds, starts the server on each backend and runs
//! this example against it.

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use guestlink::demo::claims::Role;
use guestlink::domain::platform::Lms;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

#[path = "support/mod.rs"]
mod support;

const USAGE: &str = "usage: load_room --url http://127.0.0.1:PORT --data-dir DIR [--lms moodle] \
[--streams 500] [--actions 60] [--server-pid PID]";

struct Args {
    url: String,
    data_dir: PathBuf,
    lms: Lms,
    streams: usize,
    actions: usize,
    server_pid: Option<u32>,
}

fn parse_args() -> Result<Args, String> {
    let (mut url, mut data_dir, mut lms) = (None, None, "moodle".to_string());
    let (mut streams, mut actions, mut server_pid) = (500usize, 60usize, None);
    for flag in support::flags(USAGE) {
        let (name, value) = flag?;
        let number = |v: &str| support::number(&name, v);
        match name.as_str() {
            "--url" => url = Some(value.trim_end_matches('/').to_string()),
            "--data-dir" => data_dir = Some(PathBuf::from(value)),
            "--lms" => lms = value,
            "--streams" => streams = number(&value)?,
            "--actions" => actions = number(&value)?,
            "--server-pid" => server_pid = Some(number(&value)? as u32),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    if streams < 2 || actions == 0 {
        return Err("--streams must be at least 2 and --actions at least 1".into());
    }
    Ok(Args {
        url: url.ok_or("--url is required")?,
        data_dir: data_dir.ok_or("--data-dir is required")?,
        lms: support::demo_lms(&lms)?,
        streams,
        actions,
        server_pid,
    })
}

fn main() -> ExitCode {
    support::exit_code(
        "load_room",
        USAGE,
        "FAILED: a stream did not open or an event did not arrive (see above)",
        parse_args().map(|args| support::block_on(run(args))),
    )
}

/// The resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn api(
    client: &reqwest::Client,
    session: &str,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut request = client.request(method, &url).bearer_auth(session);
    if let Some(body) = body {
        request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!("{url} answered {status}: {text}"));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A guest who entered through the link and was admitted: their cookies.
async fn admitted_guest(
    client: &reqwest::Client,
    entry_url: &str,
    n: usize,
) -> Result<String, String> {
    let page = client
        .get(entry_url)
        .send()
        .await
        .map_err(|e| format!("entry page: {e}"))?;
    let csrf_cookie = support::set_cookie(page.headers(), "guestlink_guest_csrf=")
        .ok_or("the entry page set no CSRF cookie")?;
    let html = page.text().await.unwrap_or_default();
    let csrf = support::input_value(&html, "csrf").ok_or("the entry page has no csrf field")?;
    let form = serde_urlencoded::to_string([
        ("name", format!("Load guest {n}")),
        ("email", format!("guest{n}@load.example.org")),
        ("csrf", csrf),
    ])
    .map_err(|e| e.to_string())?;
    let admitted = client
        .post(entry_url)
        .header(CONTENT_TYPE, support::FORM)
        .header(COOKIE, &csrf_cookie)
        .body(form)
        .send()
        .await
        .map_err(|e| format!("entry: {e}"))?;
    let guest_cookie =
        support::set_cookie(admitted.headers(), "guestlink_guest=").ok_or_else(|| {
            format!(
                "the entry answered {} without a guest cookie",
                admitted.status()
            )
        })?;
    let cookies = format!("{csrf_cookie}; {guest_cookie}");
    let view = client
        .get(format!("{entry_url}/view"))
        .header(COOKIE, &cookies)
        .send()
        .await
        .map_err(|e| format!("view: {e}"))?;
    let body = view.text().await.unwrap_or_default();
    if !body.contains("data-lobby-status=\"admitted\"") {
        return Err("the guest was not admitted at once (is the lobby set to admit all?)".into());
    }
    Ok(cookies)
}

/// When each stream received each action's message: `seen[action][stream]`.
type Seen = Rc<RefCell<Vec<Vec<Option<Instant>>>>>;

/// Reads one stream until it ends, noting when each marked message arrives.
async fn follow(
    response: reqwest::Response,
    stream: usize,
    seen: Seen,
    opened: Rc<RefCell<usize>>,
) {
    let mut response = response;
    let mut buffer = String::new();
    let mut first = true;
    while let Ok(Some(chunk)) = response.chunk().await {
        let at = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            if first {
                first = false;
                *opened.borrow_mut() += 1;
            }
            let Ok(value) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            for message in value["chat"].as_array().into_iter().flatten() {
                let Some(action) = message["text"]
                    .as_str()
                    .and_then(|t| t.strip_prefix("mark-"))
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                if let Some(slot) = seen.borrow_mut().get_mut(action) {
                    slot[stream].get_or_insert(at);
                }
            }
        }
    }
}

/// `n` students, each launched as a person of their own, who join the
/// running session: their event streams' addresses.
async fn students_in(
    client: &reqwest::Client,
    platform: &support::Platform,
    room_api: &str,
    n: usize,
) -> Result<Vec<String>, String> {
    let mut logins = Vec::with_capacity(n);
    for i in 0..n {
        let sub = Some(format!("load-room-student-{i}"));
        logins.push(support::login(client, platform, Role::Student, sub).await?);
    }
    let (tokens, _) = support::sign_all(platform, &logins);
    let mut urls = Vec::with_capacity(n);
    for (login, token) in logins.iter().zip(tokens) {
        let session = support::launch(client, platform, login, &token?).await?;
        let joined = api(
            client,
            &session,
            reqwest::Method::POST,
            format!("{room_api}/join"),
            None,
        )
        .await?;
        let url = joined["events_url"].as_str().ok_or("no events_url")?;
        urls.push(url.to_string());
    }
    Ok(urls)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn run(args: Args) -> Result<bool, String> {
    let client = support::http_client(args.streams + 16)?;
    let platform =
        support::demo_platform(&client, &args.url, &args.data_dir, args.lms, (None, None)).await?;
    let session = support::instructor_session(&client, &platform).await?;
    let base = &args.url;
    let post = reqwest::Method::POST;
    let room = api(
        &client,
        &session,
        post.clone(),
        format!("{base}/api/media"),
        Some(json!({"title": "Load room", "kind": "room"})),
    )
    .await?;
    let id = room["id"].as_str().ok_or("no room id")?.to_string();
    let room_api = format!("{base}/api/media/{id}/room");
    api(
        &client,
        &session,
        reqwest::Method::PUT,
        format!("{base}/api/media/{id}/guest-access"),
        Some(json!({"enabled": true})),
    )
    .await?;
    let link = api(
        &client,
        &session,
        post.clone(),
        format!("{base}/api/media/{id}/guest-links"),
        Some(json!({"name": "Load"})),
    )
    .await?;
    let token = link["url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .ok_or("no link url")?
        .to_string();
    let entry_url = format!("{base}/g/{token}");
    api(
        &client,
        &session,
        reqwest::Method::PUT,
        format!("{room_api}/lobby"),
        Some(json!({"policy": "admit_all"})),
    )
    .await?;
    api(
        &client,
        &session,
        post.clone(),
        format!("{room_api}/start"),
        None,
    )
    .await?;
    let guests = args.streams / 2;
    let members = args.streams - guests;
    let member_urls = students_in(&client, &platform, &room_api, members).await?;
    let mut cookies = Vec::with_capacity(guests);
    for n in 0..guests {
        cookies.push(admitted_guest(&client, &entry_url, n).await?);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = args.server_pid.and_then(rss_kib);

    let seen: Seen = Rc::new(RefCell::new(vec![vec![None; args.streams]; args.actions]));
    let opened = Rc::new(RefCell::new(0usize));
    let started = Instant::now();
    for stream in 0..args.streams {
        let request = if stream < guests {
            client
                .get(format!("{entry_url}/events"))
                .header(COOKIE, &cookies[stream])
        } else {
            client.get(format!("{base}{}", member_urls[stream - guests]))
        };
        let response = request
            .timeout(Duration::from_secs(24 * 3600))
            .send()
            .await
            .map_err(|e| format!("stream {stream}: {e}"))?;
        if response.status() != 200 {
            return Err(format!("stream {stream} answered {}", response.status()));
        }
        tokio::task::spawn_local(follow(response, stream, seen.clone(), opened.clone()));
    }
    while *opened.borrow() < args.streams {
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "only {} of {} streams had their first event after 60 s",
                opened.borrow(),
                args.streams
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let the guests' first knocks and their events settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = args.server_pid.and_then(rss_kib);
    println!(
        "load_room: {} streams open ({guests} admitted guests, {members} students in the session) in {:.2} s",
        args.streams,
        started.elapsed().as_secs_f64()
    );

    let mut last = Vec::with_capacity(args.actions);
    let mut each = Vec::with_capacity(args.actions * args.streams);
    let mut ok = true;
    for action in 0..args.actions {
        let sent = Instant::now();
        api(
            &client,
            &session,
            post.clone(),
            format!("{room_api}/chat"),
            Some(json!({"text": format!("mark-{action}")})),
        )
        .await?;
        let deadline = sent + Duration::from_secs(10);
        loop {
            let all = seen.borrow()[action].iter().all(Option::is_some);
            if all || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let row = seen.borrow()[action].clone();
        let missing = row.iter().filter(|t| t.is_none()).count();
        if missing > 0 {
            eprintln!("action {action}: {missing} streams did not get it within 10 s");
            ok = false;
        }
        let times: Vec<f64> = row
            .iter()
            .flatten()
            .map(|t| t.saturating_duration_since(sent).as_secs_f64() * 1000.0)
            .collect();
        if let Some(max) = times.iter().cloned().reduce(f64::max) {
            last.push(max);
        }
        each.extend(times);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last.sort_by(f64::total_cmp);
    each.sort_by(f64::total_cmp);
    let per_stream = match (before, after) {
        (Some(b), Some(a)) => format!("{:.1}", (a as f64 - b as f64) / args.streams as f64),
        _ => "?".into(),
    };
    println!(
        "to the last stream: p50 {:.1} ms, p99 {:.1} ms; to each stream: p50 {:.1} ms, p99 {:.1} ms ({} actions)",
        percentile(&last, 50.0),
        percentile(&last, 99.0),
        percentile(&each, 50.0),
        percentile(&each, 99.0),
        args.actions
    );
    println!(
        "server RSS: {} KiB before the streams, {} KiB with them: {per_stream} KiB per stream",
        before.map_or("?".into(), |b| b.to_string()),
        after.map_or("?".into(), |a| a.to_string()),
    );
    println!(
        "RESULT streams={} actions={} last_p50_ms={:.1} last_p99_ms={:.1} each_p50_ms={:.1} each_p99_ms={:.1} rss_before_kib={} rss_after_kib={} kib_per_stream={per_stream}",
        args.streams,
        args.actions,
        percentile(&last, 50.0),
        percentile(&last, 99.0),
        percentile(&each, 50.0),
        percentile(&each, 99.0),
        before.unwrap_or(0),
        after.unwrap_or(0),
    );
    Ok(ok)
}
