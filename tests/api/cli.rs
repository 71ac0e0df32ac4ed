//! The command line: platform add/list/remove, migrate, keys rotate, and the
//! one-line refusals for bad configuration and a database that is down.

use std::process::{Command, Output};

use crate::helpers::{Backend, TestDb};
use guestlink_test_macros::{both_backends, one_backend};

fn guestlink(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guestlink"));
    command
        .args(args)
        .env_clear()
        .env("GUESTLINK_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url_string())
        .env("GUESTLINK_DATA_DIR", db.dir.path());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the guestlink binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_string()
}

const MOODLE: &[&str] = &[
    "platform",
    "add",
    "--name",
    "Example Moodle",
    "--lms",
    "moodle",
    "--issuer",
    "https://lms.example.edu/moodle",
    "--client-id",
    "k3JpQ8sLm2Xv7Ta",
    "--auth-url",
    "https://lms.example.edu/moodle/mod/lti/auth.php",
    "--jwks-url",
    "https://lms.example.edu/moodle/mod/lti/certs.php",
    "--token-url",
    "https://lms.example.edu/moodle/mod/lti/token.php",
    "--deployment-id",
    "4",
];

#[both_backends]
async fn platform_add_list_remove(backend: Backend) {
    let db = TestDb::new(&backend);
    let added = guestlink(&db, MOODLE, &[]);
    assert!(added.status.success(), "add failed: {}", stderr(&added));
    let id = stdout(&added);
    assert!(
        id.parse::<i64>().is_ok(),
        "add prints the new id, got {id:?}"
    );

    let again = guestlink(&db, MOODLE, &[]);
    assert!(
        !again.status.success(),
        "the same issuer and client id twice is refused"
    );
    assert_eq!(
        stderr(&again).lines().count(),
        1,
        "one line: {}",
        stderr(&again)
    );
    assert_eq!(
        stderr(&again),
        "guestlink: a platform with issuer https://lms.example.edu/moodle and client id k3JpQ8sLm2Xv7Ta is already registered",
        "the conflict in the tool's words, not the database's"
    );
    assert_eq!(again.status.code(), Some(1));

    // Canvas: one issuer, several client ids, several deployments.
    let canvas = |client: &str| {
        vec![
            "platform",
            "add",
            "--name",
            "Canvas",
            "--lms",
            "canvas",
            "--issuer",
            "https://canvas.instructure.com",
            "--client-id",
            client,
            "--auth-url",
            "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "--jwks-url",
            "https://sso.canvaslms.com/api/lti/security/jwks",
            "--deployment-id",
            "1:abc",
            "--deployment-id",
            "2:def",
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()
    };
    for client in ["10000000000001", "10000000000002"] {
        let args = canvas(client);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert!(guestlink(&db, &refs, &[]).status.success());
    }

    let list = stdout(&guestlink(&db, &["platform", "list"], &[]));
    assert_eq!(list.lines().count(), 3, "{list}");
    assert!(
        list.contains("issuer=https://lms.example.edu/moodle")
            && list.contains("deployments=1:abc,2:def"),
        "{list}"
    );

    // A deployment created after registration is added without losing anything.
    let set = guestlink(
        &db,
        &[
            "platform",
            "set",
            &id,
            "--add-deployment",
            "7",
            "--add-deployment",
            "4",
        ],
        &[],
    );
    assert!(set.status.success(), "{:?}: {}", set.status, stderr(&set));
    assert_eq!(
        stdout(&set),
        format!("platform {id}: 1 deployment(s) added")
    );
    let list = stdout(&guestlink(&db, &["platform", "list"], &[]));
    assert!(
        list.lines()
            .any(|l| l.starts_with(&format!("{id}\t")) && l.contains("\tdeployments=4,7\t")),
        "{list}"
    );
    assert!(
        !guestlink(
            &db,
            &["platform", "set", "999999", "--add-deployment", "1"],
            &[]
        )
        .status
        .success()
    );

    let removed = guestlink(&db, &["platform", "remove", &id], &[]);
    assert!(
        removed.status.success(),
        "{:?}: {}",
        removed.status,
        stderr(&removed)
    );
    assert_eq!(
        stdout(&guestlink(&db, &["platform", "list"], &[]))
            .lines()
            .count(),
        2
    );
    let missing = guestlink(&db, &["platform", "remove", "999999"], &[]);
    assert!(!missing.status.success());
}

#[one_backend]
async fn platform_add_refuses_bad_values_naming_the_field(backend: Backend) {
    let db = TestDb::new(&backend);
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("--lms", vec!["--lms", "blackboard"]),
        (
            "--auth-url",
            vec!["--auth-url", "http://lms.example.edu/auth"],
        ),
        ("--jwks-url", vec!["--jwks-url", "not a url"]),
        ("--issuer", vec!["--issuer", "  "]),
    ];
    for (field, replacement) in cases {
        let mut args: Vec<&str> = MOODLE.to_vec();
        let at = args.iter().position(|a| *a == replacement[0]).unwrap();
        args[at + 1] = replacement[1];
        let output = guestlink(&db, &args, &[]);
        assert!(!output.status.success(), "{field}");
        let message = stderr(&output);
        assert!(message.contains(field), "{field}: {message}");
        assert_eq!(message.lines().count(), 1, "{field}: {message}");
    }
    assert_eq!(
        stdout(&guestlink(&db, &["platform", "list"], &[])),
        "no platforms registered"
    );
}

#[both_backends]
async fn migrate_and_keys_rotate_work(backend: Backend) {
    let db = TestDb::new(&backend);
    let migrate = guestlink(&db, &["migrate"], &[]);
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let rotate = guestlink(&db, &["keys", "rotate"], &[]);
    assert!(rotate.status.success(), "{}", stderr(&rotate));
    assert!(stdout(&rotate).starts_with("new current key"));
    assert!(
        stdout(&rotate).ends_with("stays published for 14 days)"),
        "{}",
        stdout(&rotate)
    );
}

#[test]
fn bad_configuration_stops_with_one_line_naming_the_setting() {
    let db = TestDb::new(&Backend::Sqlite);
    let cases = [
        ("GUESTLINK_BIND", "not-an-address"),
        ("GUESTLINK_PUBLIC_URL", "ftp://media.example.edu"),
        ("DATABASE_URL", "mysql://localhost/guestlink"),
        ("GUESTLINK_TRUSTED_PROXIES", "10.0.0.0/40"),
        ("GUESTLINK_GUEST_RATE_LIMIT", "lots"),
        ("GUESTLINK_SESSION_IDLE_MINUTES", "0"),
    ];
    for (name, value) in cases {
        let output = guestlink(&db, &["serve"], &[(name, value)]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{name}={value}: {}",
            stderr(&output)
        );
        let message = stderr(&output);
        assert_eq!(message.lines().count(), 1, "{name}: {message}");
        assert!(message.contains(name), "{name}: {message}");
    }
}

#[test]
fn a_config_file_is_read_and_the_environment_wins() {
    let db = TestDb::new(&Backend::Sqlite);
    let file = db.dir.path().join("guestlink.toml");
    std::fs::write(&file, "bind = \"nonsense\"\n").unwrap();
    let output = guestlink(
        &db,
        &["serve"],
        &[("GUESTLINK_CONFIG", file.to_str().unwrap())],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("GUESTLINK_BIND"),
        "{}",
        stderr(&output)
    );

    std::fs::write(&file, "unknown_setting = 1\n").unwrap();
    let output = guestlink(
        &db,
        &["migrate"],
        &[("GUESTLINK_CONFIG", file.to_str().unwrap())],
    );
    assert!(
        stderr(&output).contains("GUESTLINK_CONFIG") && stderr(&output).contains("unknown_setting")
    );

    std::fs::write(&file, "bind = \"nonsense\"\n").unwrap();
    let output = guestlink(
        &db,
        &["migrate"],
        &[
            ("GUESTLINK_CONFIG", file.to_str().unwrap()),
            ("GUESTLINK_BIND", "127.0.0.1:0"),
        ],
    );
    assert!(
        output.status.success(),
        "the environment overrides the file: {}",
        stderr(&output)
    );
}

#[test]
fn a_database_that_is_down_at_start_is_one_clear_line() {
    let db = TestDb::new(&Backend::Sqlite);
    let port = crate::helpers::free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/guestlink");
    let started = std::time::Instant::now();
    let output = guestlink(
        &db,
        &["serve"],
        &[
            ("DATABASE_URL", &url),
            ("GUESTLINK_DB_TIMEOUT_SECONDS", "2"),
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.starts_with("guestlink: database:"), "{message}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
