//! Tells the tests which checks can run in this build, so that one that
//! cannot is reported as ignored rather than passed: the PostgreSQL half of
//! the integration tests needs `TEST_DATABASE_URL`, the browser checks
//! `GUESTLINK_BROWSER_TESTS=1` (and chromium with chromedriver), the media
//! server's `GUESTLINK_JANUS_TESTS=1` (and Debian's janus). It also
//! makes a new migration rebuild the crate that embeds them.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(guestlink_pg_tests)");
    println!("cargo::rustc-check-cfg=cfg(guestlink_browser_tests)");
    println!("cargo::rustc-check-cfg=cfg(guestlink_janus_tests)");
    println!("cargo::rerun-if-env-changed=GUESTLINK_JANUS_TESTS");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=GUESTLINK_BROWSER_TESTS");
    println!("cargo::rerun-if-changed=build.rs");
    // diesel embeds the migrations; a new one must rebuild the crate.
    println!("cargo::rerun-if-changed=migrations");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=guestlink_pg_tests");
    }
    if std::env::var("GUESTLINK_BROWSER_TESTS").as_deref() == Ok("1") {
        println!("cargo::rustc-cfg=guestlink_browser_tests");
    }
    if std::env::var("GUESTLINK_JANUS_TESTS").as_deref() == Ok("1") {
        println!("cargo::rustc-cfg=guestlink_janus_tests");
    }
}
