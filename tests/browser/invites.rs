//! Invite links in real Chromium: the owner (the demo's Moodle instructor)
//! opens Invite users from all three entry points (the three dots below
//! the player, Share's chooser, and a live session's Participants tab),
//! invites a Speaker to the demo course's room with "Send link via email"
//! (the demo's outbox catches it); the invitee, in a browser profile of
//! their own, opens the link, types a wrong address and then the right one,
//! and is in the session without a lobby; the owner's Participants tab
//! lists them with an "Invited" mark while an admitted guest is not listed.
//! axe-core checks the dialog, the invitation page and both room pages.
//! Screenshots `invite-*.png` land in `target/screenshots/`.

use super::rooms::{
    axe, axe_verdict, guest_enters, js, judge, lobby_shows, open_demo_item, open_library_item,
    phone_shot, run, wait_visible,
};
use super::*;

const INVITEE: &str = "Sam Speaker";
const INVITEE_EMAIL: &str = "sam.speaker@partner.example.org";
const GUEST: &str = "Gale Guest";
const GUEST_EMAIL: &str = "gale@example.org";

/// Opens the Invite users dialog through `menu_button` and its entry, and
/// waits for its roles to load; `roles` options are expected.
async fn open_invite_dialog(
    owner: &WebDriver,
    menu_button: &str,
    entry: &str,
    roles: usize,
) -> Result<(), String> {
    click(owner, menu_button).await?;
    click(owner, entry).await?;
    owner
        .wait_for("#invite-users-dialog[open]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("Invite users did not open from {menu_button}: {e}"))?;
    wait_until(
        owner,
        &format!("the dialog's {roles} role(s)"),
        &format!("return document.querySelectorAll('#iu-role option').length === {roles};"),
    )
    .await?;
    Ok(())
}

async fn close_invite_dialog(owner: &WebDriver) -> Result<(), String> {
    click(owner, "#invite-users-dialog .dialog-head [data-close]").await?;
    wait_until(
        owner,
        "Invite users closing",
        "return !document.getElementById('invite-users-dialog').open;",
    )
    .await
    .map(|_| ())
}

/// At phone size the open dialog does not scroll sideways; the elements
/// that stick out are named if it does.
async fn dialog_fits_a_phone(owner: &WebDriver) -> Result<(), String> {
    owner
        .set_window_size(super::rooms::PHONE.0, super::rooms::PHONE.1)
        .await
        .map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let wide = run(
        owner,
        "const d = document.getElementById('invite-users-dialog'); \
         const pad = parseFloat(getComputedStyle(d).paddingRight); \
         const edge = d.getBoundingClientRect().left + d.clientWidth - pad; \
         const out = Array.from(d.querySelectorAll('*')).filter(function (el) { return el.getClientRects().length && el.getBoundingClientRect().right > edge + 1 && !el.closest('.table-wrap'); }) \
           .map(function (el) { return el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right); }); \
         return [d.scrollWidth, d.clientWidth, out];",
    )
    .await;
    owner
        .set_window_size(1280, 900)
        .await
        .map_err(|e| e.to_string())?;
    let wide = wide?;
    if wide[0].as_f64() > wide[1].as_f64() {
        return Err(format!(
            "the Invite users dialog scrolls sideways on a phone: [scrollWidth, clientWidth, sticking out] = {wide}"
        ));
    }
    Ok(())
}

async fn type_into(browser: &WebDriver, css: &str, text: &str) -> Result<(), String> {
    run(
        browser,
        &format!(
            "document.querySelector({}).value = ''; return true;",
            js(css)
        ),
    )
    .await?;
    let field = browser.find(css).await.map_err(|e| e.to_string())?;
    browser
        .send_keys(&field, text)
        .await
        .map_err(|e| format!("typing into {css}: {e}"))
}

async fn walk_the_invite_steps(
    owner: &WebDriver,
    invitee: &WebDriver,
    guest: &WebDriver,
    server: &DemoServer,
    shots: &Path,
    axe_js: &str,
) -> Result<(), String> {
    let mut axe_failures = Vec::new();

    // 1. A video's page: Invite users from the three dots below the player.
    open_demo_item(owner, server, "video").await?;
    open_invite_dialog(
        owner,
        "#media-menu-button",
        r#"#media-menu [role="menuitem"][data-action="invite-users"]"#,
        1,
    )
    .await?;
    let role = run(owner, "return document.getElementById('iu-role').value;").await?;
    if role != serde_json::json!("viewer") {
        return Err(format!("a video offers the role {role}, not viewer"));
    }
    shot(owner, shots, "invite-1-three-dots-video").await?;
    close_invite_dialog(owner).await?;

    // 2. Share is a small chooser: Invite users, Manage guest access.
    click(owner, "#share-button").await?;
    let entries = wait_until(
        owner,
        "Share's chooser",
        "const m = document.getElementById('share-menu'); return !m.hidden ? Array.from(m.querySelectorAll('[role=menuitem]')).map(function (b) { return b.textContent.trim(); }) : false;",
    )
    .await?;
    if entries != serde_json::json!(["Invite users", "Manage guest access"]) {
        return Err(format!("Share offers {entries}"));
    }
    shot(owner, shots, "invite-2-share-chooser").await?;
    click(
        owner,
        r#"#share-menu [role="menuitem"][data-action="invite-users"]"#,
    )
    .await?;
    owner
        .wait_for("#invite-users-dialog[open]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("Invite users did not open from Share: {e}"))?;
    close_invite_dialog(owner).await?;

    // 3. The room: start a session, make a guest link (through the page's
    // own API, as its dialog would).
    click(owner, "a[data-library-link]").await?;
    open_library_item(owner, "room").await?;
    wait_visible(owner, "Start session", "[data-room-action=start]").await?;
    click(owner, "[data-room-action=start]").await?;
    owner
        .wait_for("[data-room][data-session=running]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the session did not start: {e}"))?;
    let owner_name = text_of(owner, "[data-field=user-name]").await?;
    run(
        owner,
        "const id = document.querySelector('main').getAttribute('data-media-id'); \
         window.__guestUrl = null; \
         guestlink.api('PUT', '/api/media/' + id + '/guest-access', {enabled: true}) \
           .then(function () { return guestlink.api('POST', '/api/media/' + id + '/guest-links', {name: 'Drop-in'}); }) \
           .then(function (r) { window.__guestUrl = r.body.url; }); \
         return true;",
    )
    .await?;
    let guest_url = wait_until(
        owner,
        "the guest link",
        "return window.__guestUrl || false;",
    )
    .await?;
    let guest_url = guest_url.as_str().unwrap_or_default().to_string();

    // 4. Invite users from the Participants tab's three dots: a Speaker,
    // by email.
    click(owner, "#tab-participants").await?;
    open_invite_dialog(
        owner,
        "#participants-menu-button",
        r#"#participants-menu [role="menuitem"][data-action="invite-users"]"#,
        3,
    )
    .await?;
    wait_visible(owner, "Send link via email (mail is set up)", "#iu-send").await?;
    type_into(owner, "#iu-email", INVITEE_EMAIL).await?;
    type_into(owner, "#iu-name", INVITEE).await?;
    run(
        owner,
        "const s = document.getElementById('iu-role'); s.value = 'speaker'; s.dispatchEvent(new Event('change')); return true;",
    )
    .await?;
    let help = text_of(owner, "#iu-role-help").await?;
    if !help.contains("presents") {
        return Err(format!("the Speaker role is explained as {help:?}"));
    }
    click(owner, r#"#invite-form button[type="submit"]"#).await?;
    let link = wait_until(
        owner,
        "the invite link shown once",
        "const r = document.getElementById('iu-result'); const v = document.getElementById('iu-link').value; return !r.hidden && v ? v : false;",
    )
    .await?;
    let link = link
        .as_str()
        .filter(|l| l.contains("/i/"))
        .ok_or_else(|| format!("the link field holds {link}"))?
        .to_string();
    wait_until(
        owner,
        "the invitation listed, pending, its email sent",
        &format!(
            "const row = Array.from(document.querySelectorAll('#iu-list tbody tr')).find(function (tr) {{ return tr.textContent.indexOf({}) >= 0; }}); \
             return !!row && row.getAttribute('data-status') === 'pending' && !!row.querySelector('[data-email-status=sent]');",
            js(INVITEE_EMAIL)
        ),
    )
    .await?;
    shot(owner, shots, "invite-3-speaker-invited").await?;
    judge(
        "the Invite users dialog",
        &axe(owner, axe_js, "the Invite users dialog").await?,
        &mut axe_failures,
    );
    dialog_fits_a_phone(owner).await?;
    phone_shot(owner, shots, "invite-3-speaker-invited-phone").await?;
    close_invite_dialog(owner).await?;

    // 5. The demo's outbox has the email with the link.
    invitee
        .goto(&format!("{}/demo/outbox", server.base))
        .await
        .map_err(|e| e.to_string())?;
    let mail = text_of(invitee, "[data-outbox-message]").await?;
    for expected in [link.as_str(), "Speaker", &owner_name, INVITEE_EMAIL] {
        if !mail.contains(expected) {
            return Err(format!("the outbox's message lacks {expected:?}: {mail}"));
        }
    }
    shot(invitee, shots, "invite-4-demo-outbox").await?;

    // 6. The invitee, in their own browser, opens the link.
    invitee.goto(&link).await.map_err(|e| e.to_string())?;
    invitee
        .wait_for(r#"main[data-page="invitation"]"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the invitation page did not open: {e}"))?;
    let page = text_of(invitee, "main").await?;
    for expected in ["Office hours", "Speaker", owner_name.as_str()] {
        if !page.contains(expected) {
            return Err(format!("the invitation page lacks {expected:?}: {page}"));
        }
    }
    shot(invitee, shots, "invite-5-invitation").await?;
    phone_shot(invitee, shots, "invite-5-invitation-phone").await?;
    judge(
        "the invitation page",
        &axe(invitee, axe_js, "the invitation page").await?,
        &mut axe_failures,
    );
    type_into(invitee, "#invitee-email", "someone.else@example.org").await?;
    click(invitee, "#invitation-form button[type=submit]").await?;
    wait_visible(invitee, "the wrong address's error", "#invitee-email-error").await?;
    shot(invitee, shots, "invite-6-wrong-address").await?;
    type_into(invitee, "#invitee-email", INVITEE_EMAIL).await?;
    click(invitee, "#invitation-form button[type=submit]").await?;
    invitee
        .wait_for(r#"main[data-page="invitee-room"]"#, COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the invitee did not reach the room: {e}"))?;
    // No lobby: in the running session at once, as a Speaker.
    invitee
        .wait_for("[data-room][data-joined=true]", COURSE_PAGE_TIMEOUT)
        .await
        .map_err(|e| format!("the invitee did not join the session: {e}"))?;
    wait_visible(
        invitee,
        "the invitee's stage and chat",
        "[data-room] [data-room-inside]",
    )
    .await?;
    wait_visible(invitee, "the Speaker's Present form", "[data-present-form]").await?;
    shot(invitee, shots, "invite-7-invitee-in-room").await?;
    phone_shot(invitee, shots, "invite-7-invitee-in-room-phone").await?;
    judge(
        "the invitee's room page",
        &axe(invitee, axe_js, "the invitee's room page").await?,
        &mut axe_failures,
    );

    // 7. A guest comes in through the lobby.
    guest_enters(guest, &guest_url, GUEST, GUEST_EMAIL).await?;
    lobby_shows(owner, GUEST, 1).await?;
    super::rooms::admit(owner, guest, GUEST).await?;

    // 8. Participants: the owner and the invitee (marked), not the guest.
    let listed = wait_until(
        owner,
        "the participants: the owner and the invitee, and one guest in",
        "const items = Array.from(document.querySelectorAll('[data-participants] li')).map(function (li) { return li.textContent.replace(/\\s+/g, ' ').trim(); }); \
         const guests = document.querySelector('[data-guests-in]').textContent; \
         return items.length === 2 && guests === '1' ? items : false;",
    )
    .await?;
    let items: Vec<String> = serde_json::from_value(listed.clone()).map_err(|e| e.to_string())?;
    let invited: Vec<&String> = items.iter().filter(|i| i.contains(INVITEE)).collect();
    if invited.len() != 1 || !invited[0].contains("Invited") || !invited[0].contains("Speaker") {
        return Err(format!("the participants read {listed}"));
    }
    if items.iter().any(|i| i.contains(GUEST)) {
        return Err(format!("a guest is listed: {listed}"));
    }
    if !items
        .iter()
        .any(|i| i.contains(&owner_name) && !i.contains("Invited"))
    {
        return Err(format!("the owner is not listed unmarked: {listed}"));
    }
    owner
        .execute(
            "document.getElementById('panel-participants').scrollIntoView({block: 'center'}); return true;",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    shot(owner, shots, "invite-8-participants").await?;
    judge(
        "the owner's room page (Participants)",
        &axe(owner, axe_js, "the owner's room page").await?,
        &mut axe_failures,
    );

    axe_verdict(&axe_failures)
}

#[tokio::test]
#[cfg_attr(
    not(guestlink_browser_tests),
    ignore = "set GUESTLINK_BROWSER_TESTS=1 to run it (needs chromium and chromedriver)"
)]
async fn an_owner_invites_a_speaker_who_joins_the_room_from_another_browser() {
    let axe_js = super::rooms::axe_script();
    let server = DemoServer::start().await;
    let owner = start_browser().await;
    // The invitee's and the guest's browsers share nothing with the owner.
    let invitee = start_browser().await;
    let guest = start_browser().await;
    let shots = screenshot_dir();
    let result = walk_the_invite_steps(&owner, &invitee, &guest, &server, &shots, &axe_js).await;
    conclude(
        result,
        [
            ("invite-owner", owner),
            ("invite-invitee", invitee),
            ("invite-guest", guest),
        ],
        &server,
        &shots,
    )
    .await;
}
