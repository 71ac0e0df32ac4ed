//! Secrets at rest: the tool's private keys, its URL key and guest-link
//! tokens are sealed under the operator's key; rows an older guestlink left
//! in the clear are sealed at start; changing the key keeps every link and
//! key working; `serve` refuses to start without the key; the data
//! directory is the tool user's alone.

use std::process::{Command, Output};

use guestlink::crypto::{SEALED_PREFIX, SecretKey};

use crate::guest_helpers::{Browser, Shared, admitted};
use crate::helpers::{
    Backend, TEST_SECRET_KEY, TOOL_KEY, TestDb, column_values, execute, free_port, test_sealer,
};
use guestlink_test_macros::both_backends;

/// Another instance of the app on the course's database with `key`; Err
/// when it refuses to start.
async fn instance_with_key(shared: &Shared, key: &str) -> Result<String, String> {
    let mut settings = shared.app().settings.clone();
    settings.server.bind = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    settings.secret_key = Some(SecretKey::parse(key).unwrap());
    let app = guestlink::startup::Application::build_with_db(
        shared.app().db.clone(),
        settings,
        shared.app().clock.clone(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    Ok(address)
}

/// The entry page of a link on the tool at `address`.
async fn entry_status(shared: &Shared, address: &str, token: &str) -> u16 {
    Browser::new()
        .get_url(&shared.app().http, &format!("{address}/g/{token}"))
        .await
        .status
}

fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[both_backends]
async fn keys_and_link_tokens_are_not_stored_in_the_clear(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    for value in column_values(&shared.app().db, "tool_keys", "private_key") {
        assert!(value.starts_with(SEALED_PREFIX), "a sealed private key");
        // The fixture key's PKCS#8 body shares no long run with what is stored.
        assert!(!value.contains(&pem_body(TOOL_KEY)[40..80]));
    }
    for value in column_values(&shared.app().db, "tool_secrets", "value") {
        assert!(value.starts_with(SEALED_PREFIX), "a sealed tool secret");
    }
    let stored: Vec<String> = ["token_hash", "token_sealed"]
        .iter()
        .flat_map(|c| column_values(&shared.app().db, "guest_links", c))
        .collect();
    assert_eq!(stored.len(), 2);
    assert!(
        stored.iter().all(|v| !v.contains(&link.token)),
        "the link's token is nowhere in the clear: {stored:?}"
    );
    // The owner still copies the link, and it still works.
    assert_eq!(shared.listed_link(&link).await["url"], link.url.as_str());
    admitted(shared.app(), &link.token).await;
}

/// An older guestlink kept these in the clear: the next start seals them,
/// and the link already sent keeps working.
#[both_backends]
async fn plain_rows_from_an_older_guestlink_are_sealed_at_start(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let sealer = test_sealer();
    let private =
        guestlink::store::keys::current(&mut shared.app().db.get_read().unwrap(), &sealer)
            .unwrap()
            .unwrap();
    execute(
        &shared.app().db,
        &format!(
            "UPDATE tool_keys SET private_key = '{}'; \
             UPDATE guest_links SET token_hash = '{}', token_sealed = NULL; \
             DELETE FROM tool_secrets;",
            private.private_pkcs8_b64, link.token
        ),
    );
    let address = instance_with_key(&shared, TEST_SECRET_KEY)
        .await
        .expect("it starts");
    assert!(
        column_values(&shared.app().db, "tool_keys", "private_key")
            .iter()
            .all(|v| v.starts_with(SEALED_PREFIX))
    );
    assert!(
        column_values(&shared.app().db, "guest_links", "token_hash")
            .iter()
            .all(|v| *v != link.token)
    );
    assert_eq!(
        entry_status(&shared, &address, &link.token).await,
        200,
        "the link works"
    );
    assert_eq!(shared.listed_link(&link).await["url"], link.url.as_str());
}

#[both_backends]
async fn changing_the_secret_key_keeps_links_and_keys_and_needs_the_old_key(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let kid_before = shared.app().published_kids().await;
    let (_, new_key) = SecretKey::generate();
    let key_file = shared.app().settings.data_dir.join("new.key");
    std::fs::write(&key_file, &new_key).unwrap();

    let wrong = cli(
        &shared,
        "c29tZSBvdGhlciBrZXkgdGhhdCBpcyBsb25nIGVub3VnaCE=",
        &key_file,
    );
    assert_eq!(wrong.status.code(), Some(2), "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains("GUESTLINK_SECRET_KEY"),
        "{}",
        stderr(&wrong)
    );

    let changed = cli(&shared, TEST_SECRET_KEY, &key_file);
    assert!(changed.status.success(), "{}", stderr(&changed));
    assert!(String::from_utf8_lossy(&changed.stdout).contains("1 guest link"));

    assert!(
        instance_with_key(&shared, TEST_SECRET_KEY)
            .await
            .unwrap_err()
            .contains("GUESTLINK_SECRET_KEY"),
        "the old key no longer starts the tool"
    );
    let address = instance_with_key(&shared, &new_key)
        .await
        .expect("the new key does");
    assert_eq!(
        entry_status(&shared, &address, &link.token).await,
        200,
        "the link works"
    );
    let kids = shared
        .app()
        .http
        .get(format!("{address}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(kids, kid_before, "the same tool key, still published");
}

fn cli(shared: &Shared, key: &str, new_key_file: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guestlink"))
        .args(["secret-key", "change", new_key_file.to_str().unwrap()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GUESTLINK_SECRET_KEY", key)
        .env("DATABASE_URL", shared.course.database_url())
        .env("GUESTLINK_DATA_DIR", &shared.app().settings.data_dir)
        .output()
        .expect("the guestlink binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_string()
}

#[test]
fn serve_refuses_to_start_without_a_secret_key() {
    let db = TestDb::new(&Backend::Sqlite);
    let output = Command::new(env!("CARGO_BIN_EXE_guestlink"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url_string())
        .env("GUESTLINK_DATA_DIR", db.dir.path())
        .env("GUESTLINK_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("GUESTLINK_SECRET_KEY"), "{message}");
}

/// The demo makes its key in its data directory, and the directory and
/// everything in it, even a file an operator's umask left readable, are
/// the tool user's alone.
#[test]
fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stray = data.join("notes.txt");
    std::fs::write(&stray, "left by someone").unwrap();
    std::fs::set_permissions(&stray, std::fs::Permissions::from_mode(0o644)).unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_guestlink"))
        .arg("demo")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GUESTLINK_DATA_DIR", &data)
        .env("GUESTLINK_BIND", format!("127.0.0.1:{port}"))
        .env("GUESTLINK_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready = (0..300).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready, "the demo started");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data directory");
    let mut files = vec![];
    let mut dirs = vec![data.clone()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                assert_eq!(mode(&path), 0o700, "{}", path.display());
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for expected in ["secret.key", "guestlink.sqlite3", "notes.txt"] {
        assert!(
            files.iter().any(|f| f.ends_with(expected)),
            "{expected} in {files:?}"
        );
    }
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}
