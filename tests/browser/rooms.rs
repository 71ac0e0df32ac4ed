//! The live-rooms walk in real Chromium: a moderator (the demo's Moodle
//! instructor) starts a session in the demo course's "Office hours" room and
//! shares a guest link; a guest, in a browser profile of their own, waits in
//! the lobby and is admitted without reloading; the moderator presents the
//! demo video and the guest's player follows its play, seek and pause; the
//! guest's chat message reaches the moderator as text; the Participants tab
//! lists members only; a second guest is denied and their page says so by
//! itself. axe-core (`GUESTLINK_AXE_JS`, the path of its `axe.min.js`)
//! checks the moderator's room page, the guest's lobby and the Participants
//! tab. Screenshots `room-*.png` land in `target/screenshots/`.

use super::*;

/// The phone-sized window of the small-screen shots.
pub(super) const PHONE: (u32, u32) = (390, 844);
/// The window every browser starts with (`--window-size`).
const DESKTOP: (u32, u32) = (1280, 900);
/// How long a guest's player may take to follow the presenter's.
const FOLLOW_TIMEOUT: Duration = Duration::from_secs(10);

const GUEST: &str = "Grace Guest";
const GUEST_EMAIL: &str = "grace@example.org";
const DENIED_GUEST: &str = "Dana Denied";
const DENIED_EMAIL: &str = "dana@example.org";
const VIDEO_TITLE: &str = "Welcome to Biology 101";
const CHAT_TEXT: &str = "Hello from the guest: <b>not bold</b> & fine";

pub(super) fn js(value: &str) -> String {
    serde_json::json!(value).to_string()
}

pub(super) async fn run(browser: &WebDriver, script: &str) -> Result<serde_json::Value, String> {
    browser
        .execute(script, vec![])
        .await
        .map_err(|e| format!("running {script:?}: {e}"))
}

/// Waits until `css` matches an element that is rendered (not hidden by
/// itself or an ancestor).
pub(super) async fn wait_visible(browser: &WebDriver, what: &str, css: &str) -> Result<(), String> {
    wait_until(
        browser,
        what,
        &format!(
            "const el = document.querySelector({}); return !!el && el.getClientRects().length > 0;",
            js(css)
        ),
    )
    .await
    .map(|_| ())
}

/// A shot at phone size, the window put back afterwards; the page must
/// fit the phone's width (no sideways scrolling).
pub(super) async fn phone_shot(
    browser: &WebDriver,
    shots: &Path,
    name: &str,
) -> Result<(), String> {
    browser
        .set_window_size(PHONE.0, PHONE.1)
        .await
        .map_err(|e| format!("resizing the window to {PHONE:?}: {e}"))?;
    // Let the layout settle before the picture.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let widths = run(
        browser,
        "return [window.innerWidth, document.documentElement.scrollWidth];",
    )
    .await;
    let taken = shot(browser, shots, name).await;
    browser
        .set_window_size(DESKTOP.0, DESKTOP.1)
        .await
        .map_err(|e| format!("resizing the window back to {DESKTOP:?}: {e}"))?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let widths = widths?;
    println!("{name}: [viewport width, page width] = {widths}");
    if widths[0].as_f64() != Some(f64::from(PHONE.0)) {
        return Err(format!(
            "{name}: the window did not take the phone's size: [viewport, page] = {widths}"
        ));
    }
    if widths[1].as_f64() > widths[0].as_f64() {
        return Err(format!(
            "{name}: the page is wider than the phone's viewport: [viewport, page] = {widths}"
        ));
    }
    taken
}

/// One axe-core violation, as the check reports it.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Violation {
    id: String,
    impact: Option<String>,
    nodes: usize,
    help: String,
    targets: Vec<String>,
}

/// axe-core's script, from the file `GUESTLINK_AXE_JS` names.
pub(super) fn axe_script() -> String {
    let axe_path = std::env::var_os("GUESTLINK_AXE_JS")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "GUESTLINK_AXE_JS is not set: point it at axe-core's axe.min.js \
                 (npm pack axe-core@4.14.1 && tar xzf axe-core-4.14.1.tgz gives package/axe.min.js; .ci/run does this)"
            )
        });
    std::fs::read_to_string(&axe_path).unwrap_or_else(|e| {
        panic!(
            "GUESTLINK_AXE_JS={} cannot be read: {e}",
            Path::new(&axe_path).display()
        )
    })
}

/// Runs axe-core (`axe_js`, the file's text) on the page `browser` shows and
/// returns its violations.
pub(super) async fn axe(
    browser: &WebDriver,
    axe_js: &str,
    page: &str,
) -> Result<Vec<Violation>, String> {
    let loaded = run(
        browser,
        "return typeof window.axe === 'object' && typeof window.axe.run === 'function';",
    )
    .await?;
    if loaded != serde_json::json!(true) {
        browser
            .execute(&format!("{axe_js}\n; return true;"), vec![])
            .await
            .map_err(|e| format!("injecting axe-core into {page}: {e}"))?;
    }
    run(
        browser,
        "window.__axe = null; window.__axeError = null; \
         axe.run(document).then(function (r) { window.__axe = r; }, function (e) { window.__axeError = String(e); }); \
         return true;",
    )
    .await?;
    let found = wait_until(
        browser,
        &format!("axe-core finishing on {page}"),
        "if (window.__axeError) return 'error: ' + window.__axeError; \
         return window.__axe ? JSON.stringify(window.__axe.violations.map(function (v) { \
           return { id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help, \
                    targets: v.nodes.slice(0, 5).map(function (n) { return n.target.join(' '); }) }; })) : null;",
    )
    .await?;
    let counts = run(
        browser,
        "return [window.__axe.passes.length, window.__axe.incomplete.map(function (v) { return v.id + ' (' + v.nodes.length + ')'; })];",
    )
    .await?;
    println!(
        "axe on {page}: {} rules passed; needs review: {}",
        counts[0], counts[1]
    );
    let found = found.as_str().unwrap_or_default();
    if let Some(error) = found.strip_prefix("error: ") {
        return Err(format!("axe-core failed on {page}: {error}"));
    }
    serde_json::from_str(found).map_err(|e| format!("axe-core's answer on {page}: {e}: {found}"))
}

/// Prints `page`'s violations and adds the serious and critical ones to
/// `failures`.
pub(super) fn judge(page: &str, violations: &[Violation], failures: &mut Vec<String>) {
    if violations.is_empty() {
        println!("axe on {page}: no violations");
    }
    for v in violations {
        let impact = v.impact.as_deref().unwrap_or("unknown");
        let line = format!(
            "axe on {page}: [{impact}] {} ({} node(s)): {} at {}",
            v.id,
            v.nodes,
            v.help,
            v.targets.join(" | ")
        );
        println!("{line}");
        if matches!(impact, "serious" | "critical") {
            failures.push(line);
        }
    }
}

/// The media element's `[paused, currentTime, error]` on the stage.
async fn stage_player(browser: &WebDriver) -> Result<(bool, f64), String> {
    let state = run(
        browser,
        "const v = document.querySelector('video[data-stage-player]'); \
         return v ? [v.paused, v.currentTime, v.error ? v.error.code : 0] : null;",
    )
    .await?;
    if state.is_null() {
        return Err("the stage has no video".into());
    }
    if state[2] != serde_json::json!(0) {
        return Err(format!("the stage video failed: MediaError {}", state[2]));
    }
    Ok((
        state[0].as_bool().unwrap_or(false),
        state[1].as_f64().unwrap_or(-1.0),
    ))
}

/// A guest opens the link, gives name and email, and lands in the lobby.
pub(super) async fn guest_enters(
    guest: &WebDriver,
    url: &str,
    name: &str,
    email: &str,
) -> Result<(), String> {
    guest.goto(url).await.map_err(|e| e.to_string())?;
    let name_field = guest
        .wait_for(
            r#"main[data-page="guest-entry"] #guest-name"#,
            COURSE_PAGE_TIMEOUT,
        )
        .await
        .map_err(|e| format!("the guest entry page did not open: {e}"))?;
    guest
        .send_keys(&name_field, name)
        .await
        .map_err(|e| e.to_string())?;
    let email_field = guest
        .find("#guest-email")
        .await
        .map_err(|e| e.to_string())?;
    guest
        .send_keys(&email_field, email)
        .await
        .map_err(|e| e.to_string())?;
    click(guest, "#guest-entry-form button[type=submit]").await?;
    guest
        .wait_for(
            r#"main[data-page="guest-room"][data-lobby-status="waiting"]"#,
            COURSE_PAGE_TIMEOUT,
        )
        .await
        .map_err(|e| format!("{name} did not reach the room's lobby, waiting: {e}"))?;
    let at = guest.current_url().await.map_err(|e| e.to_string())?;
    if at != format!("{url}/view") {
        return Err(format!("{name} waits at {at}, not {url}/view"));
    }
    Ok(())
}

/// The moderator's lobby list shows `name` waiting; the entry's text.
pub(super) async fn lobby_shows(
    moderator: &WebDriver,
    name: &str,
    count: usize,
) -> Result<String, String> {
    let found = wait_until(
        moderator,
        &format!("the moderator's lobby showing {name} ({count} waiting)"),
        &format!(
            "const panel = document.querySelector('[data-lobby-panel]'); \
             const heading = document.getElementById('lobby-heading'); \
             const entries = Array.from(document.querySelectorAll('[data-lobby-list] li')); \
             const entry = entries.find(function (li) {{ return li.querySelector('strong').textContent === {name}; }}); \
             return !panel.hidden && heading.textContent.trim() === {heading} && entry ? entry.innerText : false;",
            name = js(name),
            heading = js(&format!("Waiting to join ({count})")),
        ),
    )
    .await?;
    Ok(found.as_str().unwrap_or_default().to_string())
}

/// The moderator presses Admit for `name`, whose page then shows them in
/// without a reload.
pub(super) async fn admit(
    moderator: &WebDriver,
    guest: &WebDriver,
    name: &str,
) -> Result<(), String> {
    click(
        moderator,
        &format!(
            "[data-lobby-list] li button[aria-label={}]",
            js(&format!("Admit {name}"))
        ),
    )
    .await?;
    guest
        .wait_for(
            r#"main[data-page="guest-room"][data-lobby-status="admitted"]"#,
            COURSE_PAGE_TIMEOUT,
        )
        .await
        .map_err(|e| format!("{name} was not admitted: {e}"))?;
    Ok(())
}

/// Launches from the demo's Moodle as its instructor and opens the course's
/// first item of `kind` (a room waits for its live panel).
pub(super) async fn open_demo_item(
    browser: &WebDriver,
    server: &DemoServer,
    kind: &str,
) -> Result<(), String> {
    browser
        .goto(&format!("{}/demo", server.base))
        .await
        .map_err(|e| e.to_string())?;
    click(browser, r#"button[data-demo-launch="moodle-instructor"]"#).await?;
    open_library_item(browser, kind).await
}

/// From a course page, the first item of `kind` in the library.
pub(super) async fn open_library_item(browser: &WebDriver, kind: &str) -> Result<(), String> {
    click(browser, &format!(r#"li[data-kind="{kind}"] a"#)).await?;
    let page = match kind {
        "room" => r#"main[data-page="media"][data-kind="room"] [data-room]"#.to_string(),
        other => format!(r#"main[data-page="media"][data-kind="{other}"]"#),
    };
    browser
        .wait_for(&page, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the {kind}'s media page did not open: {e}"))?;
    Ok(())
}

/// On an item's page: turns guest access on in Manage guest access, makes
/// a link named `link_name`, closes the dialog; the link's URL.
pub(super) async fn make_guest_link(
    moderator: &WebDriver,
    link_name: &str,
) -> Result<String, String> {
    click(moderator, "#media-menu-button").await?;
    click(
        moderator,
        r#"#media-menu [role="menuitem"][data-action="guest-access"]"#,
    )
    .await?;
    moderator
        .wait_for("#guest-access-dialog[open]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("Manage guest access did not open: {e}"))?;
    click(moderator, "#ga-switch").await?;
    wait_until(
        moderator,
        "the guest-access switch turning on",
        "return document.getElementById('ga-switch').getAttribute('aria-checked') === 'true' && !document.getElementById('ga-create').disabled;",
    )
    .await?;
    click(moderator, "#ga-create").await?;
    let name = moderator
        .wait_for("#create-link-dialog[open] #cl-name", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("Create new link did not open its dialog: {e}"))?;
    moderator
        .send_keys(&name, link_name)
        .await
        .map_err(|e| e.to_string())?;
    click(moderator, r#"#create-link-form button[type="submit"]"#).await?;
    let url = wait_until(
        moderator,
        "the new link's row",
        "const row = document.querySelector('#ga-links tbody tr'); return !document.getElementById('create-link-dialog').open && row ? row.getAttribute('data-link-url') : false;",
    )
    .await?;
    let url = url
        .as_str()
        .filter(|u| u.contains("/g/"))
        .ok_or_else(|| format!("the row's data-link-url is {url}"))?
        .to_string();
    click(moderator, "#guest-access-dialog [data-close]").await?;
    wait_until(
        moderator,
        "Manage guest access closing",
        "return !document.getElementById('guest-access-dialog').open;",
    )
    .await?;
    Ok(url)
}

/// The walk's verdict on what axe-core found.
pub(super) fn axe_verdict(failures: &[String]) -> Result<(), String> {
    if failures.is_empty() {
        return Ok(());
    }
    Err(format!(
        "axe-core found {} serious or critical violation(s):\n{}",
        failures.len(),
        failures.join("\n")
    ))
}

/// The live-room walk; `axe_js` is axe-core's script.
async fn walk_a_live_room_with_guests(
    moderator: &WebDriver,
    guest: &WebDriver,
    denied: &WebDriver,
    server: &DemoServer,
    shots: &Path,
    axe_js: &str,
) -> Result<(), String> {
    let mut axe_failures = Vec::new();

    // 1. The moderator opens the room's page and makes a guest link.
    open_demo_item(moderator, server, "room").await?;
    let title = text_of(moderator, "h1[data-field=title]").await?;
    if title != "Office hours" {
        return Err(format!("the room's page is titled {title:?}"));
    }
    wait_until(
        moderator,
        "the room panel saying no session is running",
        "const p = document.querySelector('[data-room]'); return p.getAttribute('data-session') === 'none' && !document.querySelector('[data-room-action=start]').hidden;",
    )
    .await?;
    let moderator_name = text_of(moderator, "[data-field=user-name]").await?;
    shot(moderator, shots, "room-1-moderator-before-start").await?;

    let url = make_guest_link(moderator, "Office hours guests").await?;

    // 2. Start session.
    click(moderator, "[data-room-action=start]").await?;
    moderator
        .wait_for("[data-room][data-session=running]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the session did not start: {e}"))?;
    wait_visible(
        moderator,
        "the moderator inside the session (stage and chat)",
        "[data-room] [data-room-inside]",
    )
    .await?;
    let status = text_of(moderator, "[data-session-status]").await?;
    if !status.contains(&moderator_name) {
        return Err(format!(
            "the session status says {status:?}, not who started it ({moderator_name:?})"
        ));
    }
    shot(moderator, shots, "room-2-session-started").await?;

    // 3. The guest enters and waits.
    guest_enters(guest, &url, GUEST, GUEST_EMAIL).await?;
    let place = wait_until(
        guest,
        "the guest's place in line",
        "const p = document.querySelector('[data-lobby-place]'); return p && !p.hidden ? p.textContent.replace(/\\s+/g, ' ').trim() : false;",
    )
    .await?;
    if place != serde_json::json!("Your place in line: 1") {
        return Err(format!("the guest's lobby says {place}"));
    }
    // The stage and chat stay hidden while waiting.
    let inside = run(
        guest,
        "return document.querySelector('[data-room-inside]').hidden && document.querySelector('[data-chat]').hidden;",
    )
    .await?;
    if inside != serde_json::json!(true) {
        return Err("a waiting guest can see the stage or the chat".into());
    }
    shot(guest, shots, "room-3-guest-waiting").await?;
    phone_shot(guest, shots, "room-3-guest-waiting-phone").await?;

    // 4. The moderator's page shows them waiting, without a reload.
    let entry = lobby_shows(moderator, GUEST, 1).await?;
    if !entry.contains(GUEST_EMAIL) || !entry.contains("Office hours guests") {
        return Err(format!(
            "the lobby entry reads {entry:?}; expected the email and the link's name"
        ));
    }
    moderator
        .execute(
            "document.querySelector('[data-lobby-panel]').scrollIntoView({block: 'center'}); return true;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    shot(moderator, shots, "room-4-moderator-lobby").await?;
    judge(
        "the moderator's room page (lobby with a guest)",
        &axe(moderator, axe_js, "the moderator's room page").await?,
        &mut axe_failures,
    );
    judge(
        "the guest's lobby (waiting)",
        &axe(guest, axe_js, "the guest's lobby").await?,
        &mut axe_failures,
    );
    // 5. The guest is let in, without a reload.
    admit(moderator, guest, GUEST).await?;
    wait_visible(
        guest,
        "the guest's stage",
        "[data-room-inside] [data-stage]",
    )
    .await?;
    wait_visible(guest, "the guest's chat", "[data-chat] #chat-text").await?;
    let lobby_gone = run(
        guest,
        "return document.querySelector('[data-lobby]').hidden;",
    )
    .await?;
    if lobby_gone != serde_json::json!(true) {
        return Err("an admitted guest still sees the lobby notice".into());
    }
    wait_until(
        moderator,
        "the moderator's lobby emptying",
        "return document.getElementById('lobby-heading').textContent.trim() === 'Waiting to join (0)' && document.querySelectorAll('[data-lobby-list] li').length === 0;",
    )
    .await?;
    shot(guest, shots, "room-5-guest-admitted").await?;

    // 6. The moderator presents the video; the guest's player follows.
    let chosen = run(
        moderator,
        &format!(
            "const s = document.getElementById('present-item'); \
             const o = Array.from(s.options).find(function (o) {{ return o.textContent.startsWith({}); }}); \
             if (!o) return Array.from(s.options).map(function (o) {{ return o.textContent; }}).join(' | '); \
             s.value = o.value; s.dispatchEvent(new Event('change', {{bubbles: true}})); return true;",
            js(VIDEO_TITLE)
        ),
    )
    .await?;
    if chosen != serde_json::json!(true) {
        return Err(format!(
            "the present list has no {VIDEO_TITLE:?}; it offers {chosen}"
        ));
    }
    click(moderator, "[data-present-form] button[type=submit]").await?;
    moderator
        .wait_for("[data-room] video[data-stage-player]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the moderator's stage shows no video: {e}"))?;
    guest
        .wait_for("[data-stage] video[data-stage-player]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the guest's stage shows no video: {e}"))?;
    let caption = text_of(guest, "[data-stage-caption]").await?;
    if !caption.contains(VIDEO_TITLE) {
        return Err(format!("the guest's stage caption reads {caption:?}"));
    }
    run(
        moderator,
        "const v = document.querySelector('video[data-stage-player]'); v.muted = true; v.play(); return true;",
    )
    .await?;
    let played = wait_until(
        moderator,
        "the moderator's stage video passing 1 s",
        "const v = document.querySelector('video[data-stage-player]'); return v.error ? 'error ' + v.error.code : v.currentTime > 1;",
    )
    .await?;
    if played.is_string() {
        return Err(format!("the moderator's stage video failed: {played}"));
    }
    // The guest's player starts too (Chromium runs with
    // --autoplay-policy=no-user-gesture-required, so unmuted is allowed).
    let guest_playing = wait_until(
        guest,
        "the guest's stage video playing along",
        "const v = document.querySelector('video[data-stage-player]'); \
         const button = document.querySelector('[data-stage-follow]'); \
         if (v.error) return 'error ' + v.error.code; \
         if (!button.hidden) return 'play-along button'; \
         return !v.paused && v.currentTime > 0.5;",
    )
    .await?;
    if guest_playing.is_string() {
        return Err(format!(
            "the guest's video did not play along: {guest_playing}"
        ));
    }
    run(
        moderator,
        "const v = document.querySelector('video[data-stage-player]'); v.currentTime = 3; v.pause(); return true;",
    )
    .await?;
    let deadline = Instant::now() + FOLLOW_TIMEOUT;
    let (mod_paused, mod_time, guest_paused, guest_time) = loop {
        let (mod_paused, mod_time) = stage_player(moderator).await?;
        let (guest_paused, guest_time) = stage_player(guest).await?;
        let followed = mod_paused && guest_paused && (guest_time - mod_time).abs() <= 1.0;
        if followed || Instant::now() >= deadline {
            break (mod_paused, mod_time, guest_paused, guest_time);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!(
        "after seek and pause: moderator paused={mod_paused} at {mod_time:.2}s, guest paused={guest_paused} at {guest_time:.2}s"
    );
    if !(mod_paused && guest_paused && (guest_time - mod_time).abs() <= 1.0) {
        return Err(format!(
            "the guest's player did not follow within {}s: moderator paused={mod_paused} at {mod_time:.2}s, guest paused={guest_paused} at {guest_time:.2}s",
            FOLLOW_TIMEOUT.as_secs()
        ));
    }
    if (mod_time - 3.0).abs() > 0.5 {
        return Err(format!(
            "the moderator's video is at {mod_time:.2}s after seeking to 3 s"
        ));
    }
    moderator
        .execute(
            "document.querySelector('[data-room] [data-stage]').scrollIntoView({block: 'start'}); return true;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    shot(moderator, shots, "room-6-presenting-moderator").await?;
    shot(guest, shots, "room-6-presenting-guest").await?;

    // 7. The guest's chat message reaches the moderator, as text.
    let box_ = guest.find("#chat-text").await.map_err(|e| e.to_string())?;
    guest
        .send_keys(&box_, CHAT_TEXT)
        .await
        .map_err(|e| e.to_string())?;
    click(guest, "[data-chat-form] button[type=submit]").await?;
    let message = wait_until(
        moderator,
        "the guest's message in the moderator's chat",
        &format!(
            "const li = Array.from(document.querySelectorAll('[data-chat-log] li')).find(function (li) {{ \
               const t = li.querySelector('.chat-text'); return t && t.textContent === {}; }}); \
             return li ? [li.querySelector('.chat-author').textContent, \
                          !!li.querySelector('.guest-mark') && li.querySelector('.guest-mark').textContent, \
                          document.querySelectorAll('[data-chat-log] b').length] : false;",
            js(CHAT_TEXT)
        ),
    )
    .await?;
    if message != serde_json::json!([GUEST, "Guest", 0]) {
        return Err(format!(
            "the moderator's chat shows [author, guest mark, <b> elements] = {message}"
        ));
    }
    let cleared = run(guest, "return document.getElementById('chat-text').value;").await?;
    if cleared != serde_json::json!("") {
        return Err(format!("the guest's message box still holds {cleared}"));
    }
    moderator
        .execute(
            "document.querySelector('main[data-page=media] [data-chat]').scrollIntoView({block: 'center'}); return true;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    shot(moderator, shots, "room-7-chat").await?;

    // 8. Participants: members only; the menu's invitations.
    click(moderator, "#tab-participants").await?;
    wait_visible(
        moderator,
        "the Participants panel",
        "#panel-participants [data-participants]",
    )
    .await?;
    let heading = text_of(moderator, "#participants-heading").await?;
    if heading != "All participants (1)" {
        return Err(format!("the Participants tab says {heading:?}"));
    }
    let listed = text_of(moderator, "[data-participants]").await?;
    println!("the participants list reads {listed:?}");
    if !listed.contains(&moderator_name) || listed.contains(GUEST) {
        return Err(format!(
            "the participants list reads {listed:?}: it should name {moderator_name:?} and not the guest"
        ));
    }
    click(moderator, "#participants-menu-button").await?;
    wait_visible(moderator, "the participants menu", "#participants-menu").await?;
    let invite_users = run(
        moderator,
        "const i = document.querySelector('#participants-menu [data-action=invite-users]'); return [i.getAttribute('aria-disabled'), i.getAttribute('data-opens'), i.textContent.trim()];",
    )
    .await?;
    if invite_users != serde_json::json!([null, "invite-users-dialog", "Invite users"]) {
        return Err(format!(
            "Invite users is [aria-disabled, data-opens, text] = {invite_users}"
        ));
    }
    moderator
        .execute(
            "document.getElementById('tab-participants').scrollIntoView({block: 'start'}); return true;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    shot(moderator, shots, "room-8-participants").await?;
    phone_shot(moderator, shots, "room-8-participants-phone").await?;
    click(moderator, "#participants-menu [data-action=invite-guests]").await?;
    moderator
        .wait_for("#guest-access-dialog[open]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("Invite guests did not open Manage guest access: {e}"))?;
    click(moderator, "#guest-access-dialog [data-close]").await?;
    wait_until(
        moderator,
        "Manage guest access closing",
        "return !document.getElementById('guest-access-dialog').open;",
    )
    .await?;
    judge(
        "the moderator's Participants tab",
        &axe(moderator, axe_js, "the Participants tab").await?,
        &mut axe_failures,
    );

    // 9. A second guest is denied; their page says so by itself.
    guest_enters(denied, &url, DENIED_GUEST, DENIED_EMAIL).await?;
    lobby_shows(moderator, DENIED_GUEST, 1).await?;
    click(
        moderator,
        &format!(
            "[data-lobby-list] li button[aria-label={}]",
            js(&format!("Deny {DENIED_GUEST}"))
        ),
    )
    .await?;
    denied
        .wait_for("main[data-unavailable-reason=denied]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the denied guest's page did not turn into the denied page: {e}"))?;
    shot(denied, shots, "room-9-guest-denied").await?;
    // The admitted guest is still in.
    let still_in = run(
        guest,
        "return document.querySelector('main').getAttribute('data-lobby-status');",
    )
    .await?;
    if still_in != serde_json::json!("admitted") {
        return Err(format!(
            "denying the second guest left the first one {still_in}"
        ));
    }

    axe_verdict(&axe_failures)
}

#[tokio::test]
#[cfg_attr(
    not(guestlink_browser_tests),
    ignore = "set GUESTLINK_BROWSER_TESTS=1 to run it (needs chromium and chromedriver)"
)]
async fn a_moderator_runs_a_live_room_and_admits_a_guest() {
    let axe_js = axe_script();
    let server = DemoServer::start().await;
    let moderator = start_browser().await;
    // The guests' browsers have fresh profiles of their own: they share
    // nothing with the moderator or each other.
    let guest = start_browser().await;
    let denied = start_browser().await;
    let shots = screenshot_dir();
    let result =
        walk_a_live_room_with_guests(&moderator, &guest, &denied, &server, &shots, &axe_js).await;
    conclude(
        result,
        [
            ("room-moderator", moderator),
            ("room-guest", guest),
            ("room-denied-guest", denied),
        ],
        &server,
        &shots,
    )
    .await;
}
