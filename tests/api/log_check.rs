//! What the tests give the check that no secret reaches a log line.
//!
//! With `GUESTLINK_TEST_TRACE_LOG` set, the tool under test logs at trace
//! level (its own events; libraries from warnings up, as in production) to
//! that file, and with `GUESTLINK_TEST_SECRETS` set, the helpers append every
//! secret they see (session and guest tokens, link tokens, file grants, login
//! state and nonce, id_tokens, the secret key, emails) to that file as
//! `secret VALUE`. `scripts/check-log-secrets.sh` then greps the log for
//! each, after making sure it finds a planted `canary VALUE` (so a broken
//! check cannot pass by seeing nothing). `.ci/run` does this on every run.

use std::io::Write;
use std::sync::{Mutex, Once};

use guestlink::demo::claims::Role;
use guestlink::domain::platform::Lms;

use crate::helpers::{Backend, Page, spawn_app};

static CAPTURE: Once = Once::new();

/// Sends the tool's log to `GUESTLINK_TEST_TRACE_LOG`, once per test run.
pub fn capture_log() {
    CAPTURE.call_once(|| {
        if let Some(path) = std::env::var_os("GUESTLINK_TEST_TRACE_LOG") {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("the trace log file opens");
            guestlink::telemetry::init_with("trace", Mutex::new(file), false);
        }
    });
}

fn append(line: &str) {
    if let Some(path) = std::env::var_os("GUESTLINK_TEST_SECRETS")
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = file.write_all(format!("{line}\n").as_bytes());
    }
}

/// Records a secret the test saw, which must never appear in the log.
/// Short values (an empty field, a one-letter name) could appear by chance
/// and say nothing.
pub fn record_secret(value: &str) {
    let value = value.trim();
    if value.len() >= 8 && !value.contains('\n') {
        append(&format!("secret {value}"));
    }
}

/// Records a value the tool is known to log, which the check must find.
pub fn record_canary(value: &str) {
    append(&format!("canary {value}"));
}

/// The `grant=` values of a page's file URLs.
pub fn record_grants(body: &str) {
    for (_, rest) in body
        .match_indices("grant=")
        .map(|(i, _)| body.split_at(i + 6))
    {
        let grant: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        record_secret(&grant);
    }
}

/// Plants the canary: the tool logs the issuer of a refused login at info
/// level, so a login from a made-up issuer puts a known value in the log.
#[guestlink_test_macros::both_backends]
async fn the_log_check_has_a_canary_to_find(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Moodle);
    let canary = format!(
        "https://canary-{}.example.edu",
        guestlink::crypto::random_token(9)
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    let mut form = app.login_form(&reg);
    form[0].1 = canary.clone();
    let page = Page::from(app.post_login(&form).await).await;
    assert_eq!(page.error_code().as_deref(), Some("unknown_issuer"));
    record_canary(&canary);
    // A launch too, so the log has the launch path's events in it.
    assert_eq!(app.launch_as(&reg, Role::Instructor).await.status, 200);
}
