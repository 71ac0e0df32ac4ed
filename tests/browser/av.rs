//! Audio and video in a live room, in real Chromium with a fake camera and
//! microphone against a real Janus (Debian's), with media flowing: the
//! moderator (the demo's Moodle instructor) starts a session in "Office
//! hours" and turns on camera and microphone; a guest enters through a guest
//! link, is admitted, and receives the moderator's video and audio (their
//! decoded frames and audio bytes rising); a moderator's Remove stops the
//! guest's media (and Janus no longer holds their participant); the guest
//! comes back and is admitted again; ending the session stops both and the
//! media room goes; in a second session the guest's page publishes a camera
//! by itself (a modified page) and the tool puts it out, bars it, and the
//! moderator's page ends up showing no camera of theirs.
//!
//! Janus never gathers ICE candidates on a loopback interface, and media
//! must never leave this machine, so the check re-runs itself inside a
//! private network namespace (`unshare --net`, as root): `lo` up, a veth
//! pair that leads nowhere with `127.0.0.2/32` on one end (IPv6 off on both,
//! so not even link-local chatter), Janus told to offer only `127.0.0.`
//! addresses. Everything (the tool on SQLite, Janus, chromedriver, both
//! browsers, this check) runs inside; at the end the veth pair must have
//! carried no packet at all.

use super::janus_helpers::{ADMIN_KEY, JanusProcess};
use super::rooms::{
    axe, axe_verdict, guest_enters, js, judge, lobby_shows, make_guest_link, open_demo_item,
    phone_shot, run, wait_visible,
};
use super::*;

/// Set in the environment of the copy of this check that runs inside the
/// namespace.
const INSIDE: &str = "GUESTLINK_TEST_INSIDE_NETNS";
/// The veth pair's ends; the first carries 127.0.0.2.
const VETH: [&str; 2] = ["glveth0", "glveth1"];

const GUEST: &str = "Vera Viewer";
const GUEST_EMAIL: &str = "vera@example.org";
/// How long media may take to start or stop.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(25);

#[tokio::test]
#[cfg_attr(
    not(all(guestlink_browser_tests, guestlink_janus_tests)),
    ignore = "set GUESTLINK_BROWSER_TESTS=1 and GUESTLINK_JANUS_TESTS=1 to run it (needs chromium, chromedriver, janus, iproute2 and root)"
)]
async fn a_guest_sees_and_hears_the_moderator_until_removed_and_cannot_publish() {
    if std::env::var_os(INSIDE).is_none() {
        run_inside_a_private_network(
            "av::a_guest_sees_and_hears_the_moderator_until_removed_and_cannot_publish",
        );
        return;
    }
    let (server, mut janus) = demo_with_a_media_server().await;
    let moderator = start_browser().await;
    let guest = start_browser().await;

    let shots = screenshot_dir();
    let axe_js = super::rooms::axe_script();
    let mut result = walk([&moderator, &guest], &server, &mut janus, &shots, &axe_js).await;
    if let Err(problem) = &mut result {
        for (who, page) in [("moderator", &moderator), ("guest", &guest)] {
            let last = run(page, "return window.guestlinkAv ? window.guestlinkAv.stats().then(function (s) { return [window.guestlinkAv.lastProblem(), s, Array.from(document.querySelectorAll('[data-av-grid] .av-tile')).map(function (t) { return t.getAttribute('data-feed'); })]; }) : 'no media on the page';").await;
            problem.push_str(&format!(
                "\nthe {who}'s page's last media problem: {last:?}"
            ));
        }
    }
    let counted = extra_interface_packets();
    conclude(
        result,
        [("av-moderator", moderator), ("av-guest", guest)],
        &server,
        &shots,
    )
    .await;
    assert_eq!(
        counted,
        Ok(0),
        "the namespace's veth pair carried packets: media left loopback"
    );
}

/// A Janus for the demo's pages (reporting to the tool) and `guestlink
/// demo` using it; browsers call Janus directly (no proxy in the test).
async fn demo_with_a_media_server() -> (DemoServer, JanusProcess) {
    let port = free_port();
    let janus = JanusProcess::start_for_pages_of(&format!("http://127.0.0.1:{port}")).await;
    let server = DemoServer::start_at(
        "127.0.0.1",
        port,
        &[
            ("GUESTLINK_JANUS_URL", janus.api.as_str()),
            ("GUESTLINK_JANUS_PUBLIC_URL", janus.api.as_str()),
            ("GUESTLINK_JANUS_ADMIN_SECRET", ADMIN_KEY),
        ],
    )
    .await;
    (server, janus)
}

/// Runs `test` (this binary's check of that name) again inside a new
/// network namespace set up as the module's comment says; fails if it does.
fn run_inside_a_private_network(test: &str) {
    let [a, b] = VETH;
    let setup = format!(
        "set -e; ip link set lo up; ip link add {a} type veth peer name {b}; \
         echo 1 > /proc/sys/net/ipv6/conf/{a}/disable_ipv6; \
         echo 1 > /proc/sys/net/ipv6/conf/{b}/disable_ipv6; \
         ip addr add 127.0.0.2/32 dev {a}; ip link set {a} up; ip link set {b} up; \
         exec \"$0\" --exact {test} --nocapture --include-ignored --test-threads=1"
    );
    let status = Command::new("unshare")
        .args(["--net", "--", "sh", "-c", &setup])
        .arg(std::env::current_exe().expect("the test binary's path"))
        .env(INSIDE, "1")
        .status()
        .expect("unshare (util-linux) runs; the media check needs root");
    assert!(
        status.success(),
        "the media check inside its network namespace failed ({status}); its output is above"
    );
}

/// Packets the veth pair sent or received, from the namespace's
/// /proc/net/dev (rx packets are the 2nd column, tx the 10th).
fn extra_interface_packets() -> Result<u64, String> {
    let dev = std::fs::read_to_string("/proc/net/dev").map_err(|e| e.to_string())?;
    let mut total = 0;
    for name in VETH {
        let line = dev
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name}:")))
            .ok_or_else(|| format!("{name} is not in /proc/net/dev:\n{dev}"))?;
        let numbers: Vec<u64> = line
            .split(':')
            .nth(1)
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        total += numbers.get(1).copied().unwrap_or(u64::MAX)
            + numbers.get(9).copied().unwrap_or(u64::MAX);
    }
    println!("packets on the veth pair: {total}");
    Ok(total)
}

/// What a page receives, summed over its feeds (`window.guestlinkAv.stats`).
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Received {
    feeds: u64,
    frames_decoded: u64,
    audio_bytes: u64,
}

async fn received(browser: &WebDriver) -> Result<Option<Received>, String> {
    let value = run(
        browser,
        "return window.guestlinkAv ? window.guestlinkAv.stats() : null;",
    )
    .await?;
    if value.is_null() {
        return Ok(None);
    }
    serde_json::from_value(value.clone())
        .map(Some)
        .map_err(|e| format!("stats {value}: {e}"))
}

/// Waits until `browser` decodes video and receives audio, then checks that
/// both keep rising over two seconds.
async fn receives(browser: &WebDriver, who: &str) -> Result<Received, String> {
    let deadline = Instant::now() + MEDIA_TIMEOUT;
    let first = loop {
        let now = received(browser).await?;
        if let Some(r) = now.filter(|r| r.frames_decoded > 0 && r.audio_bytes > 0) {
            break r;
        }
        if Instant::now() >= deadline {
            return Err(format!("{who} received no video and audio: {now:?}"));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = received(browser)
        .await?
        .ok_or_else(|| format!("{who}'s page lost its media"))?;
    println!("{who} received {first:?}, then {later:?} two seconds later");
    if later.frames_decoded <= first.frames_decoded || later.audio_bytes <= first.audio_bytes {
        return Err(format!(
            "{who}'s video or audio stopped rising: {first:?} then {later:?}"
        ));
    }
    Ok(later)
}

/// Waits until `browser` receives nothing any more (no feed, or a feed
/// whose decoded frames stand still over two seconds).
async fn stops_receiving(browser: &WebDriver, who: &str) -> Result<(), String> {
    let deadline = Instant::now() + MEDIA_TIMEOUT;
    loop {
        let before = received(browser).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = received(browser).await?;
        let stopped = match (before, after) {
            (_, None) => true,
            (_, Some(a)) if a.feeds == 0 => true,
            (Some(b), Some(a)) => a.frames_decoded == b.frames_decoded,
            (None, Some(_)) => false,
        };
        if stopped {
            println!("{who} stopped receiving: {after:?}");
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("{who} still receives: {before:?} then {after:?}"));
        }
    }
}

/// The session's media room number, from the room's JSON (the moderator's
/// page calls the API with its session).
async fn media_room(moderator: &WebDriver) -> Result<u64, String> {
    let room = run(
        moderator,
        "const id = document.querySelector('main[data-media-id]').getAttribute('data-media-id'); \
         return window.guestlink.api('GET', '/api/media/' + id + '/room').then(function (r) { return r.body.av; });",
    )
    .await?;
    room["room"]
        .as_u64()
        .ok_or_else(|| format!("the room's av reads {room}"))
}

/// The participants Janus holds in the media room: (id, publishing).
async fn janus_participants(janus: &JanusProcess, room: u64) -> Result<Vec<(u64, bool)>, String> {
    let list = janus
        .client()
        .participants(&janus.api, room)
        .await
        .map_err(|e| format!("listparticipants: {e}"))?;
    Ok(list.into_iter().map(|p| (p.id, p.publisher)).collect())
}

async fn admit(moderator: &WebDriver, guest: &WebDriver) -> Result<(), String> {
    lobby_shows(moderator, GUEST, 1).await?;
    super::rooms::admit(moderator, guest, GUEST).await
}

/// Starts a session and the moderator's camera and microphone.
async fn start_and_publish(moderator: &WebDriver) -> Result<(), String> {
    click(moderator, "[data-room-action=start]").await?;
    moderator
        .wait_for("[data-room][data-session=running]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the session did not start: {e}"))?;
    wait_visible(moderator, "Start camera and microphone", "[data-av-start]").await?;
    click(moderator, "[data-av-start]").await?;
    wait_until(
        moderator,
        "the moderator publishing, with their own camera's tile",
        "const v = document.querySelector('[data-av-grid] [data-feed=self] video'); \
         return window.guestlinkAv.publishing() && !!v && v.readyState >= 2 && v.videoWidth > 0;",
    )
    .await?;
    Ok(())
}

async fn walk(
    [moderator, guest]: [&WebDriver; 2],
    server: &DemoServer,
    janus: &mut JanusProcess,
    shots: &Path,
    axe_js: &str,
) -> Result<(), String> {
    let mut axe_failures = Vec::new();

    // 1. The moderator starts a session and publishes.
    open_demo_item(moderator, server, "room").await?;
    let url = make_guest_link(moderator, "Office hours guests").await?;
    start_and_publish(moderator).await?;
    let mic = text_of(moderator, "[data-av-mic]").await?;
    if mic != "Mute microphone" {
        return Err(format!("the microphone button reads {mic:?}"));
    }

    // 2. The guest enters, is admitted, and sees and hears the moderator.
    guest_enters(guest, &url, GUEST, GUEST_EMAIL).await?;
    admit(moderator, guest).await?;
    receives(guest, "the guest").await?;
    let tile = text_of(guest, "[data-av-grid] .av-tile .av-name").await?;
    let moderator_name = text_of(moderator, "[data-field=user-name]").await?;
    if tile != moderator_name {
        return Err(format!(
            "the guest's tile is named {tile:?}, not {moderator_name:?}"
        ));
    }
    if run(
        guest,
        "return !!document.querySelector('[data-av-start]:not([hidden]), [data-av-mic]:not([hidden])');",
    )
    .await?
        == serde_json::json!(true)
    {
        return Err("the guest's page offers camera or microphone controls".into());
    }
    shot(moderator, shots, "av-1-moderator-publishing").await?;
    shot(guest, shots, "av-2-guest-watching").await?;
    phone_shot(guest, shots, "av-2-guest-watching-phone").await?;
    phone_shot(moderator, shots, "av-1-moderator-publishing-phone").await?;
    judge(
        "the moderator's room with video",
        &axe(moderator, axe_js, "the moderator's room with video").await?,
        &mut axe_failures,
    );
    judge(
        "the guest's room with video",
        &axe(guest, axe_js, "the guest's room with video").await?,
        &mut axe_failures,
    );

    // 3. The moderator's own toggles.
    click(moderator, "[data-av-mic]").await?;
    let mic = text_of(moderator, "[data-av-mic]").await?;
    click(moderator, "[data-av-camera]").await?;
    let camera = text_of(moderator, "[data-av-camera]").await?;
    let off = run(
        moderator,
        "return document.querySelector('[data-feed=self]').classList.contains('camera-off');",
    )
    .await?;
    if (mic.as_str(), camera.as_str(), &off)
        != (
            "Unmute microphone",
            "Start camera",
            &serde_json::json!(true),
        )
    {
        return Err(format!(
            "after muting, the buttons read {mic:?} and {camera:?}, camera off: {off}"
        ));
    }
    click(moderator, "[data-av-mic]").await?;
    click(moderator, "[data-av-camera]").await?;
    receives(guest, "the guest after the moderator's camera came back").await?;

    // 4. The media server restarts: the pages say they lost it, the tool
    // makes the room again, and both come back (the moderator's camera
    // by itself).
    janus.restart().await;
    let said = wait_until(
        moderator,
        "the moderator's page saying the media server went",
        "const s = document.querySelector('[data-av-status]'); return !s.hidden && /lost their connection|does not answer/.test(s.textContent) ? s.textContent : false;",
    )
    .await?;
    println!("the media server restarting: {said}");
    run(
        moderator,
        "document.querySelector('[data-av]').scrollIntoView(); return true;",
    )
    .await?;
    shot(moderator, shots, "av-5-media-server-lost").await?;
    wait_until(
        moderator,
        "the moderator publishing again after the media server's restart",
        "return window.guestlinkAv.publishing();",
    )
    .await?;
    receives(guest, "the guest after the media server's restart").await?;

    // 5. The moderator removes the guest: their media stops, and Janus no
    // longer holds their participant.
    let room = media_room(moderator).await?;
    let current = moderator.current_url().await.map_err(|e| e.to_string())?;
    let guest_participant = run(guest, "return window.guestlinkAv.participantId();").await?;
    let guest_participant = guest_participant
        .as_u64()
        .ok_or_else(|| format!("the guest's participant id is {guest_participant}"))?;
    if !janus_participants(janus, room)
        .await?
        .iter()
        .any(|(id, _)| *id == guest_participant)
    {
        return Err("Janus does not list the guest's participant".into());
    }
    click(moderator, "#tab-participants").await?;
    click(
        moderator,
        &format!(
            "[data-guest-list] button[aria-label={}]",
            js(&format!("Remove {GUEST} from the session"))
        ),
    )
    .await?;
    stops_receiving(guest, "the removed guest").await?;
    wait_until(
        guest,
        "the removed guest's page saying they are not in the session",
        "return document.body.innerText.indexOf('removed you') >= 0;",
    )
    .await?;
    let deadline = Instant::now() + MEDIA_TIMEOUT;
    while janus_participants(janus, room)
        .await?
        .iter()
        .any(|(id, _)| *id == guest_participant)
    {
        if Instant::now() >= deadline {
            return Err("Janus still holds the removed guest's participant".into());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // 6. They ask again and are admitted again: media again.
    guest_enters(guest, &url, GUEST, GUEST_EMAIL).await?;
    admit(moderator, guest).await?;
    receives(guest, "the guest, admitted again").await?;

    // 7. Ending the session stops both, and the media room goes.
    click(moderator, "[data-room-action=end]").await?;
    stops_receiving(guest, "the guest at the session's end").await?;
    wait_until(
        moderator,
        "the moderator's camera stopping at the session's end",
        "return !window.guestlinkAv.publishing() && !document.querySelector('[data-av-grid] [data-feed=self]');",
    )
    .await?;
    super::janus_helpers::room_gone(&janus.client(), &janus.api, room).await;

    // 8. A second session: the guest's page knocks again and is admitted.
    start_and_publish(moderator).await?;
    admit(moderator, guest).await?;
    receives(guest, "the guest in the second session").await?;
    let room = media_room(moderator).await?;

    // 9. The guest's page publishes a camera by itself, with a pass of its
    // own, as a modified page could: the tool puts it out and bars it.
    let attempt = run(
        guest,
        r#"const main = document.querySelector('main[data-page="guest-room"]');
           window.__rogue = { state: "asking" };
           return fetch(main.getAttribute("data-av-url"), { method: "POST", credentials: "same-origin",
               headers: { "Content-Type": "application/json", "X-CSRF-Token": main.getAttribute("data-csrf") } })
             .then(function (r) { return r.json(); })
             .then(function (pass) {
               window.__rogue.id = pass.participant_id;
               Janus.init({ debug: false, callback: function () {
                 var janus = new Janus({ server: pass.server, iceServers: [], error: function (e) { window.__rogue.state = "janus error " + e; },
                   success: function () {
                     janus.attach({ plugin: "janus.plugin.videoroom",
                       success: function (h) { window.__rogue.h = h;
                         h.send({ message: { request: "join", ptype: "publisher", room: pass.room, id: pass.participant_id, token: pass.token, display: "Not a publisher" } }); },
                       onmessage: function (msg, jsep) {
                         var h = window.__rogue.h;
                         if (msg.videoroom === "joined") {
                           window.__rogue.state = "joined";
                           h.createOffer({ tracks: [{ type: "audio", capture: true, recv: false }, { type: "video", capture: true, recv: false }],
                             success: function (offer) { h.send({ message: { request: "configure", audio: true, video: true }, jsep: offer }); window.__rogue.state = "publishing"; },
                             error: function (e) { window.__rogue.state = "offer failed " + e; } });
                         }
                         if (msg.configured === "ok") window.__rogue.configured = true;
                         if (msg.leaving === "ok" && msg.reason === "kicked") window.__rogue.state = "kicked";
                         if (jsep) h.handleRemoteJsep({ jsep: jsep });
                       } });
                   } });
               } });
               return pass.publish;
             });"#,
    )
    .await?;
    if attempt != serde_json::json!(false) {
        return Err(format!("the guest's pass allows publishing: {attempt}"));
    }
    let outcome = wait_until(
        guest,
        "the guest's own publisher being put out",
        "var r = window.__rogue; return r && (r.state === 'kicked' || /error|failed/.test(r.state)) ? [r.state, !!r.configured] : false;",
    )
    .await?;
    println!("the guest's publishing attempt: {outcome}");
    if outcome[0] != serde_json::json!("kicked") {
        return Err(format!(
            "the guest's publisher ended as {outcome}, not kicked"
        ));
    }
    let rogue = run(guest, "return window.__rogue.id;")
        .await?
        .as_u64()
        .unwrap_or(0);
    let deadline = Instant::now() + MEDIA_TIMEOUT;
    loop {
        let listed = janus_participants(janus, room).await?;
        let publishers: Vec<u64> = listed
            .iter()
            .filter(|(_, p)| *p)
            .map(|(id, _)| *id)
            .collect();
        if !listed.iter().any(|(id, _)| *id == rogue) && publishers.len() == 1 {
            break;
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "Janus still lists {listed:?} (the guest's was {rogue})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The moderator's page shows no camera of the guest's.
    wait_until(
        moderator,
        "the moderator's page without the guest's camera",
        "return window.guestlinkAv.stats().then(function (s) { return s.feeds === 0 && document.querySelectorAll('[data-av-grid] .av-tile').length === 1; });",
    )
    .await?;
    // And no new pass: the guest is barred from this session's media.
    let again = run(
        guest,
        r#"const main = document.querySelector('main[data-page="guest-room"]');
           return fetch(main.getAttribute("data-av-url"), { method: "POST", credentials: "same-origin",
               headers: { "Content-Type": "application/json", "X-CSRF-Token": main.getAttribute("data-csrf") } })
             .then(function (r) { return r.json().then(function (b) { return [r.status, b.error && b.error.code]; }); });"#,
    )
    .await?;
    if again != serde_json::json!([403, "av_barred"]) {
        return Err(format!("a new pass for the barred guest answered {again}"));
    }
    wait_until(
        guest,
        "the guest's page saying its audio and video stopped",
        "const s = document.querySelector('[data-av-status]'); return s.textContent.indexOf('Your audio and video stopped') === 0;",
    )
    .await?;
    shot(guest, shots, "av-3-guest-put-out").await?;
    // 10. A browser that refuses the camera and microphone (the page is
    // given the answer a browser gives when its settings block them; this
    // headless one allows its fake devices whatever its settings say): the
    // page says what to do.
    moderator.goto(&current).await.map_err(|e| e.to_string())?;
    wait_visible(moderator, "Start camera and microphone", "[data-av-start]").await?;
    run(
        moderator,
        "navigator.mediaDevices.getUserMedia = function () { return Promise.reject(new DOMException('Permission denied', 'NotAllowedError')); }; return true;",
    )
    .await?;
    click(moderator, "[data-av-start]").await?;
    let said = wait_until(
        moderator,
        "the message for a refused camera",
        "const s = document.querySelector('[data-av-status]'); return !s.hidden && s.textContent.indexOf('did not allow the camera') >= 0 ? s.textContent : false;",
    )
    .await?;
    println!("a refused camera: {said}");
    // And one without a camera.
    run(
        moderator,
        "navigator.mediaDevices.getUserMedia = function () { return Promise.reject(new DOMException('Requested device not found', 'NotFoundError')); }; return true;",
    )
    .await?;
    click(moderator, "[data-av-start]").await?;
    wait_until(
        moderator,
        "the message for a missing camera",
        "return document.querySelector('[data-av-status]').textContent.indexOf('No camera or microphone was found') === 0;",
    )
    .await?;
    shot(moderator, shots, "av-4-camera-refused").await?;
    axe_verdict(&axe_failures)
}

// ---- The benchmark (run by hand; README.md "Audio and video") -------------

/// CPU seconds (user and system) a process has used, and its resident
/// memory in MiB, from /proc.
fn usage(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command's closing parenthesis; utime and stime
    // are the 14th and 15th of the whole line.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|t| t.parse::<f64>().ok()).sum()
    });
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    // USER_HZ is 100 on Linux.
    (ticks / 100.0, rss_kib / 1024.0)
}

/// Janus's and the tool's CPU (% of one core) and memory (MiB) over
/// `window`, and the lowest frame rate any subscriber decoded meanwhile.
async fn measure(
    pids: (u32, u32),
    subscribers: &[WebDriver],
    window: Duration,
) -> Result<[f64; 5], String> {
    async fn frames(b: &WebDriver) -> Result<u64, String> {
        received(b).await.map(|r| r.map_or(0, |r| r.frames_decoded))
    }
    let mut before_frames = Vec::new();
    for s in subscribers {
        before_frames.push(frames(s).await?);
    }
    let (j0, _) = usage(pids.0);
    let (t0, _) = usage(pids.1);
    tokio::time::sleep(window).await;
    let (j1, janus_mib) = usage(pids.0);
    let (t1, tool_mib) = usage(pids.1);
    let mut lowest_fps = f64::INFINITY;
    for (s, before) in subscribers.iter().zip(before_frames) {
        let after = frames(s).await?;
        lowest_fps = lowest_fps.min((after - before) as f64 / window.as_secs_f64());
    }
    let secs = window.as_secs_f64();
    Ok([
        (j1 - j0) / secs * 100.0,
        janus_mib,
        (t1 - t0) / secs * 100.0,
        tool_mib,
        if subscribers.is_empty() {
            0.0
        } else {
            lowest_fps
        },
    ])
}

/// One session, one publisher (the moderator's fake camera at Chromium's
/// default 640x480), and subscribing guests added until
/// GUESTLINK_AV_BENCH_MAX (8) or until one decodes under 10 frames a
/// second: Janus's and the tool's CPU and memory at each count, and per
/// subscriber against none. Inside the private network namespace, like the
/// media check.
#[tokio::test]
#[ignore = "a benchmark, run by hand: cargo test --test browser av::benchmark -- --ignored --nocapture"]
async fn benchmark_one_publisher_and_many_subscribers() {
    if std::env::var_os(INSIDE).is_none() {
        run_inside_a_private_network("av::benchmark_one_publisher_and_many_subscribers");
        return;
    }
    let most: usize = std::env::var("GUESTLINK_AV_BENCH_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let window = Duration::from_secs(15);
    let (server, janus) = demo_with_a_media_server().await;
    let pids = (janus.pid(), server.process.pid());
    let moderator = start_browser().await;
    let setup = async {
        open_demo_item(&moderator, &server, "room").await?;
        let url = make_guest_link(&moderator, "Benchmark guests").await?;
        run(
            &moderator,
            "const id = document.querySelector('main[data-media-id]').getAttribute('data-media-id'); \
             return window.guestlink.api('PUT', '/api/media/' + id + '/room/lobby', { policy: 'admit_all' }).then(function (r) { return r.ok; });",
        )
        .await?;
        start_and_publish(&moderator).await?;
        Ok::<String, String>(url)
    };
    let url = setup
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log_tail()));
    let base = measure(pids, &[], window).await.unwrap();
    println!("subscribers | Janus CPU % | Janus MiB | tool CPU % | tool MiB | lowest fps");
    println!(
        "0 | {:.1} | {:.1} | {:.1} | {:.1} | -",
        base[0], base[1], base[2], base[3]
    );
    let mut subscribers: Vec<WebDriver> = Vec::new();
    let mut last = base;
    for n in 1..=most {
        let guest = match WebDriver::start().await {
            Ok(browser) => browser,
            Err(e) => {
                println!(
                    "browser {n} did not start ({e}): the machine holds {}",
                    n - 1
                );
                break;
            }
        };
        let joined = async {
            guest.goto(&url).await.map_err(|e| e.to_string())?;
            let name = guest
                .wait_for("#guest-name", COURSE_PAGE_TIMEOUT)
                .await
                .map_err(|e| e.to_string())?;
            guest
                .send_keys(&name, &format!("Guest {n}"))
                .await
                .map_err(|e| e.to_string())?;
            let email = guest
                .find("#guest-email")
                .await
                .map_err(|e| e.to_string())?;
            guest
                .send_keys(&email, &format!("guest{n}@example.org"))
                .await
                .map_err(|e| e.to_string())?;
            click(&guest, "#guest-entry-form button[type=submit]").await?;
            receives(&guest, &format!("guest {n}")).await.map(|_| ())
        };
        if let Err(e) = joined.await {
            let state = run(
                &guest,
                "const m = document.querySelector('main'); const s = document.querySelector('[data-av-status]'); \
                 return [m && m.getAttribute('data-lobby-status'), s && s.textContent, window.guestlinkAv && window.guestlinkAv.lastProblem(), window.guestlinkAv && window.guestlinkAv.participantId()];",
            )
            .await;
            let publisher = run(
                &moderator,
                "return [window.guestlinkAv.publishing(), window.guestlinkAv.lastProblem(), window.guestlinkAv.participantId()];",
            )
            .await;
            let room = media_room(&moderator).await;
            let listed = match room {
                Ok(room) => janus_participants(&janus, room).await,
                Err(e) => Err(e),
            };
            println!(
                "guest {n} did not receive ({e}; page: {state:?}; the moderator: {publisher:?}; Janus lists {listed:?}): the machine holds {}",
                n - 1
            );
            let _ = guest.quit().await;
            break;
        }
        subscribers.push(guest);
        if n.is_power_of_two() || n == most {
            last = measure(pids, &subscribers, window).await.unwrap();
            println!(
                "{n} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1}",
                last[0], last[1], last[2], last[3], last[4]
            );
            if last[4] < 10.0 {
                println!("under 10 frames a second: the machine holds fewer than {n}");
                break;
            }
        }
    }
    let n = subscribers.len().max(1) as f64;
    println!(
        "per subscriber (against none, {} subscribers): Janus {:.2} % CPU, {:.2} MiB; tool {:.2} % CPU, {:.2} MiB",
        subscribers.len(),
        (last[0] - base[0]) / n,
        (last[1] - base[1]) / n,
        (last[2] - base[2]) / n,
        (last[3] - base[3]) / n,
    );
    for s in subscribers {
        let _ = s.quit().await;
    }
    let _ = moderator.quit().await;
    assert_eq!(extra_interface_packets(), Ok(0), "media left loopback");
}
