//! Tells the tests which checks can run in this build, so that one that
//! cannot is reported as ignored rather than passed: the PostgreSQL half of
//! the integration tests needs `TEST_DATABASE_URL`, the browser checks
//! `GUESTLINK_BROWSER_TESTS=1` (and chromium with chromedriver).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(guestlink_pg_tests)");
    println!("cargo::rustc-check-cfg=cfg(guestlink_browser_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=GUESTLINK_BROWSER_TESTS");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=guestlink_pg_tests");
    }
    if std::env::var("GUESTLINK_BROWSER_TESTS").as_deref() == Ok("1") {
        println!("cargo::rustc-cfg=guestlink_browser_tests");
    }
}
