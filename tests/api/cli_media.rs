//! The command line for media: the platform modules (`platform set
//! --module`, shown by `platform list`, read by `guest_access_offered`) and
//! `platform remove`, which refuses while the platform holds media unless
//! `--force`.

use std::path::Path;
use std::process::{Command, Output};

use guestlink::demo::claims::Role;

use crate::helpers::{Backend, TestDb, count_rows};
use crate::media_helpers::{Course, PNG, WEBM};
use guestlink_test_macros::both_backends;

fn guestlink(database_url: &str, data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guestlink"))
        .args(args)
        .env_clear()
        .env("GUESTLINK_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("GUESTLINK_DATA_DIR", data_dir)
        .output()
        .expect("the guestlink binary runs")
}

/// The command line against a running test app's database and data directory.
fn cli(course: &Course, args: &[&str]) -> Output {
    guestlink(&course.database_url(), &course.app.settings.data_dir, args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_string()
}

fn succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {:?}: {}",
        output.status,
        stderr(output)
    );
}

/// The `platform list` line of the platform with this issuer.
fn list_line(list: &str, issuer: &str) -> Option<String> {
    list.lines()
        .find(|l| l.contains(&format!("\tissuer={issuer}\t")))
        .map(str::to_string)
}

/// The id of the course's platform, as `platform list` shows it.
fn platform_id(course: &Course) -> String {
    let list = stdout(&cli(course, &["platform", "list"]));
    let line = list_line(&list, &course.reg.issuer).unwrap_or_else(|| panic!("listed: {list}"));
    line.split('\t').next().unwrap().to_string()
}

fn assert_modules(line: &str, invite: &str, page: &str) {
    assert!(
        line.contains(&format!("invitetomedia={invite}"))
            && line.contains(&format!("mediapage={page}")),
        "expected invitetomedia={invite} mediapage={page}: {line}"
    );
}

const ISSUER: &str = "https://lms.example.edu/moodle";

/// A database with one Moodle platform added by the command line; its id.
fn database_with_a_platform(db: &TestDb) -> String {
    let added = guestlink(
        &db.url_string(),
        db.dir.path(),
        &[
            "platform",
            "add",
            "--name",
            "Example Moodle",
            "--lms",
            "moodle",
            "--issuer",
            ISSUER,
            "--client-id",
            "k3JpQ8sLm2Xv7Ta",
            "--auth-url",
            "https://lms.example.edu/moodle/mod/lti/auth.php",
            "--jwks-url",
            "https://lms.example.edu/moodle/mod/lti/certs.php",
            "--deployment-id",
            "4",
        ],
    );
    succeeded(&added, "platform add");
    stdout(&added)
}

fn listed_modules_line(db: &TestDb) -> String {
    let list = stdout(&guestlink(
        &db.url_string(),
        db.dir.path(),
        &["platform", "list"],
    ));
    list_line(&list, ISSUER).unwrap_or_else(|| panic!("listed: {list}"))
}

#[both_backends]
async fn platform_set_switches_modules_and_list_shows_them(backend: Backend) {
    let db = TestDb::new(&backend);
    let id = database_with_a_platform(&db);
    let set = |modules: &[&str]| {
        let mut args = vec!["platform", "set", id.as_str()];
        for module in modules {
            args.extend(["--module", *module]);
        }
        guestlink(&db.url_string(), db.dir.path(), &args)
    };
    assert_modules(&listed_modules_line(&db), "on", "on");

    succeeded(&set(&["invitetomedia=off"]), "invitetomedia=off");
    assert_modules(&listed_modules_line(&db), "off", "on");

    succeeded(
        &set(&["mediapage=off", "invitetomedia=on"]),
        "mediapage=off invitetomedia=on",
    );
    assert_modules(&listed_modules_line(&db), "on", "off");

    succeeded(&set(&["mediapage=on"]), "mediapage=on");
    assert_modules(&listed_modules_line(&db), "on", "on");
}

#[both_backends]
async fn platform_set_refuses_unknown_modules_and_values(backend: Backend) {
    let db = TestDb::new(&backend);
    let id = database_with_a_platform(&db);
    for module in [
        "theming=on",
        "invitetomedia=maybe",
        "invitetomedia",
        "mediapage=",
    ] {
        let output = guestlink(
            &db.url_string(),
            db.dir.path(),
            &["platform", "set", &id, "--module", module],
        );
        assert_eq!(
            output.status.code(),
            Some(2),
            "{module}: {}",
            stderr(&output)
        );
        assert_eq!(
            stderr(&output).lines().count(),
            1,
            "{module}: one line: {}",
            stderr(&output)
        );
    }
    assert_modules(&listed_modules_line(&db), "on", "on");
}

#[both_backends]
async fn guest_access_is_offered_only_while_both_modules_are_on(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let id = platform_id(&course);
    for (modules, offered) in [
        (vec![], true),
        (vec!["invitetomedia=off"], false),
        (vec!["invitetomedia=on", "mediapage=off"], false),
        (vec!["invitetomedia=off"], false),
        (vec!["invitetomedia=on", "mediapage=on"], true),
    ] {
        if !modules.is_empty() {
            let mut args = vec!["platform", "set", id.as_str()];
            for module in &modules {
                args.extend(["--module", *module]);
            }
            succeeded(&cli(&course, &args), &format!("{modules:?}"));
        }
        // A fresh Tool, so nothing cached from an earlier step answers.
        let tool = crate::helpers::tool(&course.app.db, &course.app.settings, &course.app.clock);
        let session = guestlink::service::sessions::find(&tool, &token)
            .await
            .unwrap()
            .expect("the launch's session");
        let answer = guestlink::service::media::guest_access_offered(&tool, &session)
            .await
            .unwrap();
        assert_eq!(answer, offered, "after {modules:?}");
    }
}

/// A course whose instructor added three items, two of them uploaded.
async fn course_with_three_items(backend: Backend) -> (Course, String, Vec<String>) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let (video, _) = course.upload_sample(&token, &WEBM, 2_000).await;
    let (image, _) = course.upload_sample(&token, &PNG, 500).await;
    let linked = course.create_video(&token, "Linked").await;
    (course, token, vec![video, image, linked])
}

fn live_media_rows(course: &Course) -> i64 {
    count_rows(&course.app.db, "media_items WHERE deleted_at IS NULL")
}

#[both_backends]
async fn platform_remove_refuses_while_the_platform_holds_media(backend: Backend) {
    let (course, token, items) = course_with_three_items(backend).await;
    let id = platform_id(&course);
    let refused = cli(&course, &["platform", "remove", &id]);
    assert!(!refused.status.success(), "refused while it holds media");
    let message = stderr(&refused);
    assert_eq!(message.lines().count(), 1, "one line: {message}");
    assert!(
        message.contains('3') && message.contains("--force"),
        "names the 3 items and --force: {message}"
    );

    let list = stdout(&cli(&course, &["platform", "list"]));
    assert!(
        list_line(&list, &course.reg.issuer).is_some(),
        "still registered"
    );
    assert_eq!(live_media_rows(&course), 3);
    assert_eq!(course.stored_files().len(), 2, "files kept");
    for item in &items {
        course
            .get_json(&format!("/api/media/{item}"), Some(&token))
            .await
            .expect(200, None, "still served");
    }
}

#[both_backends]
async fn platform_remove_with_force_removes_the_platform_and_its_media(backend: Backend) {
    let (course, _, _) = course_with_three_items(backend).await;
    let id = platform_id(&course);
    let forced = cli(&course, &["platform", "remove", &id, "--force"]);
    succeeded(&forced, "remove --force");
    let list = stdout(&cli(&course, &["platform", "list"]));
    assert!(
        list_line(&list, &course.reg.issuer).is_none(),
        "removed: {list}"
    );
    assert_eq!(live_media_rows(&course), 0, "no live media of it remains");
    assert!(
        course.stored_files().is_empty(),
        "its files are deleted: {:?}",
        course.stored_files()
    );
}

/// `platform set --deployments register_on_first_launch`: a valid launch
/// from a deployment the platform has not listed gets in, and the id is
/// recorded and listed. Without it (strict, the default) it is refused.
#[both_backends]
async fn a_platform_may_register_deployments_on_their_first_launch(backend: Backend) {
    let course = Course::start(backend).await;
    let id = platform_id(&course);
    let listed = |course: &Course| {
        list_line(
            &stdout(&cli(course, &["platform", "list"])),
            &course.reg.issuer,
        )
        .unwrap()
    };
    assert!(
        listed(&course).contains("\tpolicy=strict\t"),
        "{}",
        listed(&course)
    );
    let set = cli(
        &course,
        &[
            "platform",
            "set",
            &id,
            "--deployments",
            "register_on_first_launch",
        ],
    );
    succeeded(&set, "set the deployment policy");
    assert!(stdout(&set).contains("deployments=register_on_first_launch"));

    let from_new_deployment = |claims: &mut serde_json::Value| {
        claims[guestlink::lti::claims::DEPLOYMENT_ID] = serde_json::json!("328:b27ef04b4");
    };
    let page = course
        .launch_with_claims(Role::Instructor, from_new_deployment)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.attr("main", "data-page").as_deref(), Some("course"));
    let line = listed(&course);
    assert!(
        line.contains("\tpolicy=register_on_first_launch\t"),
        "{line}"
    );
    assert!(line.contains("328:b27ef04b4"), "{line}");
    assert_eq!(count_rows(&course.app.db, "deployments"), 2);
    // Known now: a second launch from it needs nothing new.
    let again = course
        .launch_with_claims(Role::Student, from_new_deployment)
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(count_rows(&course.app.db, "deployments"), 2);
}

#[both_backends]
async fn a_strict_platform_refuses_unlisted_deployments(backend: Backend) {
    let course = Course::start(backend).await;
    let id = platform_id(&course);
    succeeded(
        &cli(
            &course,
            &["platform", "set", &id, "--deployments", "strict"],
        ),
        "set strict",
    );
    let page = course
        .launch_with_claims(Role::Instructor, |claims| {
            claims[guestlink::lti::claims::DEPLOYMENT_ID] = serde_json::json!("328:unlisted");
        })
        .await;
    assert_eq!(page.error_code().as_deref(), Some("unknown_deployment"));
    assert_eq!(count_rows(&course.app.db, "deployments"), 1);
    let bad = cli(
        &course,
        &["platform", "set", &id, "--deployments", "sometimes"],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert_eq!(stderr(&bad).lines().count(), 1);
}

/// `platform list` without the ids, which differ between installations.
fn list_without_ids(db: &TestDb) -> Vec<String> {
    stdout(&guestlink(
        &db.url_string(),
        db.dir.path(),
        &["platform", "list"],
    ))
    .lines()
    .map(|l| l.split_once('\t').map_or(l, |(_, rest)| rest).to_string())
    .collect()
}

/// `platform export` on one installation and `platform import` on another
/// give the same registrations: deployments, policy and modules included.
#[both_backends]
async fn platforms_move_between_installations_by_export_and_import(backend: Backend) {
    let from = TestDb::new(&backend);
    let id = database_with_a_platform(&from);
    let run = |db: &TestDb, args: &[&str]| guestlink(&db.url_string(), db.dir.path(), args);
    succeeded(
        &run(
            &from,
            &[
                "platform",
                "set",
                &id,
                "--module",
                "mediapage=off",
                "--deployments",
                "register_on_first_launch",
                "--add-deployment",
                "7",
            ],
        ),
        "set",
    );
    let exported = run(&from, &["platform", "export"]);
    succeeded(&exported, "export");
    let file = from.dir.path().join("platforms.json");
    std::fs::write(&file, &exported.stdout).unwrap();

    let to = TestDb::new(&backend);
    let imported = run(&to, &["platform", "import", file.to_str().unwrap()]);
    succeeded(&imported, "import");
    assert!(
        stdout(&imported).starts_with("imported 1 platform"),
        "{}",
        stdout(&imported)
    );
    let listed = list_without_ids(&to);
    assert_eq!(listed, list_without_ids(&from));
    assert!(listed[0].contains("deployments=4,7"), "{listed:?}");
    assert!(
        listed[0].contains("policy=register_on_first_launch"),
        "{listed:?}"
    );
    assert!(listed[0].contains("mediapage=off"), "{listed:?}");

    let again = run(&to, &["platform", "import", file.to_str().unwrap()]);
    succeeded(&again, "import again");
    assert!(
        stdout(&again).contains("1 already registered"),
        "{}",
        stdout(&again)
    );
    assert_eq!(count_rows(&to_db(&to), "platforms"), 1);
}

fn to_db(db: &TestDb) -> guestlink::store::Db {
    let settings = crate::helpers::test_settings(db, crate::helpers::free_port());
    guestlink::store::Db::connect_for(&settings, guestlink::store::PoolUse::Command).unwrap()
}

/// A file with one bad entry imports nothing and says where the problem is.
#[both_backends]
async fn a_bad_export_file_imports_nothing(backend: Backend) {
    let from = TestDb::new(&backend);
    database_with_a_platform(&from);
    let run = |db: &TestDb, args: &[&str]| guestlink(&db.url_string(), db.dir.path(), args);
    let exported = String::from_utf8(run(&from, &["platform", "export"]).stdout).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&exported).unwrap();
    let mut second = json["platforms"][0].clone();
    second["client_id"] = serde_json::json!("another");
    second["jwks_url"] = serde_json::json!("http://lms.example.edu/keys");
    json["platforms"].as_array_mut().unwrap().push(second);
    let file = from.dir.path().join("bad.json");
    std::fs::write(&file, json.to_string()).unwrap();

    let to = TestDb::new(&backend);
    let refused = run(&to, &["platform", "import", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("platforms[1].jwks_url"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(stderr(&refused).lines().count(), 1);
    assert_eq!(count_rows(&to_db(&to), "platforms"), 0);

    std::fs::write(&file, "not json").unwrap();
    let garbage = run(&to, &["platform", "import", file.to_str().unwrap()]);
    assert_eq!(garbage.status.code(), Some(2));
}
