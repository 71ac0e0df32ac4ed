//! The container files an operator starts from: the tool is published on
//! loopback only by default, the database has no default password, and the
//! secret key comes from a file the operator makes. (No Docker engine runs
//! where the tests do, so `docker compose config` cannot check them; the
//! text is checked instead.)

const COMPOSE: &str = include_str!("../../docker-compose.yml");
const DOCKERFILE: &str = include_str!("../../Dockerfile");

fn lines_with(text: &str, needle: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && l.contains(needle))
        .map(str::to_string)
        .collect()
}

#[test]
fn compose_publishes_on_loopback_by_default() {
    let published = lines_with(COMPOSE, ":8080:8080");
    assert_eq!(published.len(), 1, "one published port: {published:?}");
    assert!(
        published[0].contains("${GUESTLINK_PUBLISH:-127.0.0.1}:8080:8080"),
        "loopback unless the operator says otherwise: {}",
        published[0]
    );
}

#[test]
fn compose_has_no_default_database_password() {
    let uses = lines_with(COMPOSE, "POSTGRES_PASSWORD");
    assert!(uses.len() >= 2, "{uses:?}");
    for line in &uses {
        assert!(
            line.contains("${POSTGRES_PASSWORD:?"),
            "required, with no default: {line}"
        );
        assert!(!line.contains(":-"), "no fallback value: {line}");
    }
}

#[test]
fn compose_gives_the_tool_its_secret_key_from_a_file() {
    assert_eq!(
        lines_with(COMPOSE, "GUESTLINK_SECRET_KEY_FILE:"),
        ["GUESTLINK_SECRET_KEY_FILE: /run/secrets/guestlink_secret_key"]
    );
    assert!(COMPOSE.contains("file: ${GUESTLINK_SECRET_KEY_PATH:-./guestlink-secret.key}"));
    assert!(
        lines_with(COMPOSE, "GUESTLINK_SECRET_KEY:").is_empty(),
        "never the key itself in the file"
    );
}

#[test]
fn the_image_keeps_its_data_directory_private() {
    assert!(DOCKERFILE.contains("chmod 700 /var/lib/guestlink"));
    assert!(DOCKERFILE.contains("USER guestlink"));
}
