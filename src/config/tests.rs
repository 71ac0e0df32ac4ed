//! Unit tests of `crate::config`, kept beside it.

use super::*;

fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let env = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::load(&Sources::new(env)?, Mode::Serve)
}

#[test]
fn defaults_use_an_sqlite_file_in_the_data_dir() {
    let s = settings(&[("GUESTLINK_DATA_DIR", "/tmp/x")]).unwrap();
    assert_eq!(
        s.database.url,
        DatabaseUrl::Sqlite(PathBuf::from("/tmp/x/guestlink.sqlite3"))
    );
    assert_eq!(s.server.public_url.as_str(), "http://127.0.0.1:8080");
}

#[test]
fn times_are_read_in_the_unit_their_name_gives() {
    let s = settings(&[
        (GUESTLINK_SESSION_IDLE_MINUTES, "90"),
        (GUESTLINK_GUEST_SESSION_HOURS, "2"),
        (GUESTLINK_KEY_GRACE_DAYS, "3"),
        (GUESTLINK_MEDIA_URL_SECONDS, "45"),
        (GUESTLINK_UPLOAD_MAX_MB, "5"),
    ])
    .unwrap();
    assert_eq!(s.sessions.idle, Duration::minutes(90));
    assert_eq!(s.guests.session, Duration::hours(2));
    assert_eq!(s.lti.key_grace, Duration::days(3));
    assert_eq!(s.media.url_start_window, Duration::seconds(45));
    assert_eq!(s.media.upload_max_bytes, 5 * 1024 * 1024);
    let defaults = settings(&[]).unwrap();
    assert_eq!(defaults.sessions.max, Duration::hours(12));
    assert_eq!(defaults.guests.retention, Duration::days(180));
}

#[test]
fn every_named_setting_is_known_to_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("guestlink.toml");
    let lines: Vec<String> = names::ALL
        .iter()
        .filter(|n| !n.starts_with("GUESTLINK_SECRET_KEY"))
        .map(|n| {
            format!(
                "{} = \"x\"",
                n.trim_start_matches("GUESTLINK_").to_ascii_lowercase()
            )
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let env = [("GUESTLINK_CONFIG".to_string(), file.display().to_string())];
    let read = Sources::new(env.into_iter().collect()).expect("every name is a known key");
    assert_eq!(read.get(GUESTLINK_LOG).as_deref(), Some("x"));
    std::fs::write(&file, "sesion_idle_minutes = 5").unwrap();
    let env = [("GUESTLINK_CONFIG".to_string(), file.display().to_string())];
    assert!(
        Sources::new(env.into_iter().collect()).is_err(),
        "a misspelt key is refused"
    );
}

#[test]
fn each_bad_value_names_its_setting() {
    let cases = [
        ("GUESTLINK_BIND", "nonsense"),
        ("DATABASE_URL", "mysql://x"),
        ("GUESTLINK_PUBLIC_URL", "ftp://x"),
        ("GUESTLINK_PUBLIC_URL", "https://x/?a=b"),
        ("GUESTLINK_TRUSTED_PROXIES", "10.0.0.0/99"),
        ("GUESTLINK_GUEST_RATE_LIMIT", "-1"),
        ("GUESTLINK_SESSION_IDLE_MINUTES", "abc"),
        ("GUESTLINK_LOG", "loud"),
        ("GUESTLINK_OUTBOUND_ALLOWED_HOSTS", "lms.example.edu:99999"),
        ("GUESTLINK_LOGIN_RATE_LIMIT", "lots"),
        ("GUESTLINK_SESSION_MAX_HOURS", "0"),
        ("GUESTLINK_SECRET_KEY", "c2hvcnQ="),
        ("GUESTLINK_SECRET_KEY_FILE", "/nonexistent/guestlink.key"),
    ];
    for (name, value) in cases {
        let err = settings(&[(name, value)]).expect_err(name);
        assert_eq!(err.setting, name, "{name}={value}");
    }
}

#[test]
fn database_url_debug_hides_the_password() {
    let url = DatabaseUrl::parse("postgres://app:s3cret@db/guestlink").unwrap();
    assert!(!format!("{url:?}").contains("s3cret"));
}

#[test]
fn trusted_proxy_networks_match_addresses() {
    let net = IpNet::parse("10.1.0.0/16").unwrap();
    assert!(net.contains("10.1.200.3".parse().unwrap()));
    assert!(!net.contains("10.2.0.1".parse().unwrap()));
    assert!(
        IpNet::parse("::1")
            .unwrap()
            .contains("::1".parse().unwrap())
    );
}

#[test]
fn public_url_containment_is_by_origin_not_prefix() {
    let url = PublicUrl::parse("https://media.example.edu/").unwrap();
    assert_eq!(url.as_str(), "https://media.example.edu");
    assert!(url.contains("https://media.example.edu/lti/launch"));
    assert!(!url.contains("https://media.example.edu.evil.com/lti/launch"));
    assert!(PublicUrl::parse("https://media.example.edu/tool").is_err());
}

/// Asserts that `name` takes `min` and `max` and refuses, naming itself,
/// the numbers just outside.
fn takes_exactly(name: &str, min: i64, max: i64) {
    for ok in [min, max] {
        assert!(settings(&[(name, &ok.to_string())]).is_ok(), "{name}={ok}");
    }
    for refused in [min - 1, max + 1] {
        let err = settings(&[(name, &refused.to_string())]).expect_err(name);
        assert_eq!(err.setting, name, "{name}={refused}");
    }
}

#[test]
fn session_lifetimes_take_their_range_and_nothing_outside() {
    takes_exactly(GUESTLINK_SESSION_IDLE_MINUTES, 1, 7 * 24 * 60);
    takes_exactly(GUESTLINK_SESSION_MAX_HOURS, 1, 24 * 30);
}

#[test]
fn lti_timings_and_limits_take_their_range_and_nothing_outside() {
    takes_exactly(GUESTLINK_LOGIN_STATE_SECONDS, 10, 3600);
    takes_exactly(GUESTLINK_JWT_LEEWAY_SECONDS, 0, 300);
    takes_exactly(GUESTLINK_JWKS_REFETCH_SECONDS, 0, 3600);
    takes_exactly(GUESTLINK_JWKS_TIMEOUT_SECONDS, 1, 60);
    takes_exactly(GUESTLINK_KEY_GRACE_DAYS, 0, 365);
    takes_exactly(GUESTLINK_LOGIN_RATE_LIMIT, 0, 1_000_000);
    takes_exactly(GUESTLINK_REGISTRATION_TIMEOUT_SECONDS, 1, 120);
}

#[test]
fn guest_settings_take_their_range_and_nothing_outside() {
    takes_exactly(GUESTLINK_GUEST_RATE_LIMIT, 0, 1_000_000);
    takes_exactly(GUESTLINK_GUEST_SESSION_HOURS, 1, 24 * 30);
    takes_exactly(GUESTLINK_GUEST_RETENTION_DAYS, 1, 10 * 365);
    takes_exactly(GUESTLINK_LOBBY_WAIT_MINUTES, 1, 24 * 60);
    takes_exactly(GUESTLINK_CHAT_RATE_LIMIT, 0, 10_000);
}

#[test]
fn media_limits_take_their_range_and_nothing_outside() {
    takes_exactly(GUESTLINK_UPLOAD_MAX_MB, 1, 1024 * 1024);
    takes_exactly(GUESTLINK_COURSE_QUOTA_MB, 0, 1024 * 1024 * 1024);
    takes_exactly(GUESTLINK_UPLOAD_IDLE_SECONDS, 1, 3600);
    takes_exactly(GUESTLINK_MEDIA_URL_SECONDS, 30, 4 * 3600);
}

#[test]
fn database_server_and_admin_numbers_take_their_range_and_nothing_outside() {
    takes_exactly(GUESTLINK_DB_POOL_SIZE, 1, 200);
    takes_exactly(GUESTLINK_DB_TIMEOUT_SECONDS, 1, 60);
    takes_exactly(GUESTLINK_WORKERS, 1, 256);
    takes_exactly(GUESTLINK_DIAGNOSTICS_DAYS, 1, 365);
}

#[test]
fn a_refused_number_says_the_range_and_what_came() {
    let err = settings(&[(GUESTLINK_DB_POOL_SIZE, "lots")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "GUESTLINK_DB_POOL_SIZE: expected a whole number from 1 to 200, got 'lots'"
    );
}

#[test]
fn numbers_may_come_with_spaces_around_them() {
    let s = settings(&[(GUESTLINK_DB_POOL_SIZE, " 42 ")]).unwrap();
    assert_eq!(s.database.pool_size, 42);
}

#[test]
fn a_blank_environment_value_counts_as_unset() {
    let s = settings(&[(GUESTLINK_LOG, "  "), (GUESTLINK_SESSION_MAX_HOURS, "")]).unwrap();
    assert_eq!(s.log_level, "info");
    assert_eq!(s.sessions.max, Duration::hours(12));
}

#[test]
fn a_course_quota_of_zero_means_no_quota_and_megabytes_are_binary() {
    let s = settings(&[
        (GUESTLINK_COURSE_QUOTA_MB, "0"),
        (GUESTLINK_UPLOAD_MAX_MB, "2"),
    ])
    .unwrap();
    assert_eq!(s.media.course_quota_bytes, 0);
    assert_eq!(s.media.upload_max_bytes, 2 * 1024 * 1024);
}

#[test]
fn the_log_level_is_read_in_any_case() {
    assert_eq!(
        settings(&[(GUESTLINK_LOG, "DEBUG")]).unwrap().log_level,
        "debug"
    );
    assert_eq!(
        settings(&[(GUESTLINK_LOG, "off")]).unwrap().log_level,
        "off"
    );
}

#[test]
fn an_admin_token_needs_32_characters_and_a_blank_one_is_none() {
    assert!(
        settings(&[(GUESTLINK_ADMIN_TOKEN, "   ")])
            .unwrap()
            .admin
            .token
            .is_none()
    );
    let err = settings(&[(GUESTLINK_ADMIN_TOKEN, &"t".repeat(31))]).unwrap_err();
    assert_eq!(err.setting, GUESTLINK_ADMIN_TOKEN);
    let token = format!("  {}  ", "t".repeat(32));
    let s = settings(&[(GUESTLINK_ADMIN_TOKEN, &token)]).unwrap();
    let admin = s.admin.token.unwrap();
    assert!(admin.matches(&"t".repeat(32)), "read trimmed");
    assert!(!admin.matches(&token));
}

#[test]
fn the_secret_key_comes_from_the_environment_or_a_file_but_not_both() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key");
    let (_, text) = SecretKey::generate();
    std::fs::write(&file, format!("{text}\n")).unwrap();
    let path = file.display().to_string();
    assert!(
        settings(&[(GUESTLINK_SECRET_KEY_FILE, &path)])
            .unwrap()
            .secret_key
            .is_some()
    );
    let both = settings(&[
        (GUESTLINK_SECRET_KEY, &text),
        (GUESTLINK_SECRET_KEY_FILE, &path),
    ])
    .unwrap_err();
    assert_eq!(both.setting, GUESTLINK_SECRET_KEY);
    assert!(both.problem.contains("not both"), "{}", both.problem);
}

#[test]
fn a_command_that_needs_the_secret_key_names_the_setting_when_it_is_missing() {
    let s = settings(&[]).unwrap();
    assert_eq!(
        s.require_secret_key().unwrap_err().setting,
        GUESTLINK_SECRET_KEY
    );
    let (_, text) = SecretKey::generate();
    assert!(
        settings(&[(GUESTLINK_SECRET_KEY, &text)])
            .unwrap()
            .require_secret_key()
            .is_ok()
    );
}

#[test]
fn the_default_public_url_is_where_the_tool_listens() {
    for (bind, public) in [
        ("0.0.0.0:7000", "http://127.0.0.1:7000"),
        ("192.0.2.5:80", "http://192.0.2.5:80"),
        ("[::1]:9000", "http://[::1]:9000"),
        ("[::]:9000", "http://127.0.0.1:9000"),
    ] {
        let s = settings(&[(GUESTLINK_BIND, bind)]).unwrap();
        assert_eq!(s.server.public_url.as_str(), public, "{bind}");
    }
}

#[test]
fn serve_listens_everywhere_and_the_demo_on_loopback_by_default() {
    let serve = settings(&[]).unwrap();
    assert_eq!(serve.server.bind.to_string(), "0.0.0.0:8080");
    let demo = Settings::load(&Sources::new(Default::default()).unwrap(), Mode::Demo).unwrap();
    assert_eq!(demo.server.bind.to_string(), "127.0.0.1:8080");
}

#[test]
fn the_demo_may_fetch_from_its_own_address() {
    let demo = Settings::load(&Sources::new(Default::default()).unwrap(), Mode::Demo).unwrap();
    let own = url::Url::parse("http://127.0.0.1:8080/.well-known/jwks.json").unwrap();
    assert!(crate::outbound::listed(
        &demo.lti.outbound_allowed_hosts,
        &own
    ));
    let serve = settings(&[]).unwrap();
    assert!(!crate::outbound::listed(
        &serve.lti.outbound_allowed_hosts,
        &own
    ));
}

#[test]
fn lists_are_split_at_commas_and_whitespace() {
    let s = settings(&[
        (
            GUESTLINK_TRUSTED_PROXIES,
            "10.0.0.0/8, 192.0.2.1\n2001:db8::/32",
        ),
        (
            GUESTLINK_REGISTRATION_ALLOWED_HOSTS,
            "moodle.example.edu,,canvas.example.edu:8443",
        ),
    ])
    .unwrap();
    assert_eq!(s.server.trusted_proxies.len(), 3);
    assert_eq!(s.lti.registration_allowed_hosts.len(), 2);
    assert_eq!(
        s.lti.registration_allowed_hosts[1].to_string(),
        "canvas.example.edu:8443"
    );
}

#[test]
fn invitation_email_is_configured_by_an_smtp_url_whose_password_is_never_printed() {
    let none = settings(&[]).unwrap();
    assert!(none.invites.smtp.is_none());
    assert_eq!(none.invites.days, 7);
    assert_eq!(none.invites.mail_from, "guestlink <noreply@localhost>");
    let s = settings(&[
        (GUESTLINK_SMTP_URL, "smtps://media:hunter2@mail.example.edu"),
        (GUESTLINK_MAIL_FROM, "Course media <media@example.edu>"),
        (GUESTLINK_INVITE_DAYS, "14"),
    ])
    .unwrap();
    assert_eq!(s.invites.days, 14);
    let printed = format!("{:?}", s.invites);
    assert!(!printed.contains("hunter2"), "{printed}");
    for (name, value) in [
        (GUESTLINK_SMTP_URL, "mail.example.edu"),
        (GUESTLINK_SMTP_URL, "https://mail.example.edu"),
        (GUESTLINK_SMTP_URL, "smtp://"),
        (GUESTLINK_MAIL_FROM, "not an address"),
        (GUESTLINK_INVITE_DAYS, "0"),
        (GUESTLINK_INVITE_DAYS, "366"),
    ] {
        let err = settings(&[(name, value)]).unwrap_err();
        assert_eq!(err.setting, name, "{value}");
    }
}

/// A folder laid out like Debian's /usr/share/javascript, with the two
/// browser libraries audio and video need.
fn browser_libraries() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (folder, file, text) in [
        ("janus-gateway", "janus.min.js", "/* janus */"),
        ("webrtc-adapter", "adapter.min.js", "/* adapter */"),
    ] {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        std::fs::write(dir.path().join(folder).join(file), text).unwrap();
    }
    dir
}

#[test]
fn the_browser_library_is_read_at_start_from_the_named_folder() {
    let libraries = browser_libraries();
    let folder = libraries.path().to_str().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    let with_servers = |scripts: &str| {
        settings(&[
            (GUESTLINK_JANUS_URL, "http://10.0.0.5:8088/janus"),
            (
                GUESTLINK_JANUS_PUBLIC_URL,
                "https://media.example.edu/janus",
            ),
            (GUESTLINK_JANUS_SCRIPTS, scripts),
        ])
    };
    let s = with_servers(folder).unwrap();
    let scripts = s.janus.scripts.as_ref().expect("read at start");
    assert_eq!(scripts.janus_js, "/* janus */");
    assert_eq!(scripts.adapter_js, "/* adapter */");
    assert!(!format!("{:?}", s.janus).contains("/* janus */"));
    // Pages may call that media server (it is not behind the tool's proxy).
    assert_eq!(s.janus.browser_origins(), "https://media.example.edu");
    // A folder without them stops the start, naming the setting.
    let err = with_servers(empty).unwrap_err();
    assert_eq!(err.setting, GUESTLINK_JANUS_SCRIPTS);
    assert!(err.to_string().contains("libjs-janus-gateway"), "{err}");
    // Without media servers nothing is read.
    let none = settings(&[(GUESTLINK_JANUS_SCRIPTS, empty)]).unwrap();
    assert!(none.janus.scripts.is_none());
    assert_eq!(none.janus.browser_origins(), "");
}

#[test]
fn media_servers_come_with_their_public_addresses_and_a_hidden_secret() {
    assert!(settings(&[]).unwrap().janus.servers.is_empty());
    let libraries = browser_libraries();
    let folder = libraries.path().to_str().unwrap().to_string();
    let s = settings(&[
        (GUESTLINK_JANUS_SCRIPTS, folder.as_str()),
        (
            GUESTLINK_JANUS_URL,
            "http://10.0.0.5:8088/janus/, http://10.0.0.6:8088/janus",
        ),
        (
            GUESTLINK_JANUS_PUBLIC_URL,
            "/janus-a https://media.example.edu/janus-b",
        ),
        (GUESTLINK_JANUS_ADMIN_SECRET, "s3cret-key"),
    ])
    .unwrap();
    assert_eq!(
        s.janus.servers,
        [
            JanusServer {
                api: "http://10.0.0.5:8088/janus".into(),
                public: "/janus-a".into()
            },
            JanusServer {
                api: "http://10.0.0.6:8088/janus".into(),
                public: "https://media.example.edu/janus-b".into()
            },
        ]
    );
    assert_eq!(
        s.janus.admin_secret.as_ref().unwrap().as_str(),
        "s3cret-key"
    );
    assert!(!format!("{:?}", s.janus).contains("s3cret-key"));
    assert_eq!(s.janus.timeout, Duration::seconds(5));
    for (pairs, setting) in [
        (
            vec![(GUESTLINK_JANUS_URL, "ftp://x/janus")],
            GUESTLINK_JANUS_URL,
        ),
        (
            vec![(GUESTLINK_JANUS_URL, "http://x/janus")],
            GUESTLINK_JANUS_PUBLIC_URL,
        ),
        (
            vec![(GUESTLINK_JANUS_PUBLIC_URL, "/janus")],
            GUESTLINK_JANUS_PUBLIC_URL,
        ),
        (
            vec![
                (GUESTLINK_JANUS_URL, "http://x/janus"),
                (GUESTLINK_JANUS_PUBLIC_URL, "//evil.example/janus"),
            ],
            GUESTLINK_JANUS_PUBLIC_URL,
        ),
        (
            vec![
                (GUESTLINK_JANUS_URL, "http://x/janus"),
                (GUESTLINK_JANUS_PUBLIC_URL, "/janus"),
                (GUESTLINK_JANUS_TIMEOUT_SECONDS, "0"),
            ],
            GUESTLINK_JANUS_TIMEOUT_SECONDS,
        ),
    ] {
        let err = settings(&pairs).unwrap_err();
        assert_eq!(err.setting, setting, "{pairs:?}");
    }
}
