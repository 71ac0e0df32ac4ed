//! Writes through `Db::write`: on SQLite they are committed in groups by one
//! writer thread, on PostgreSQL each on its own. Either way a write succeeds
//! or fails on its own, and its caller hears back only once it is committed.

use diesel::RunQueryDsl;
use guestlink::store::{Db, StoreError, StoreResult};
use guestlink_test_macros::both_backends;

use crate::helpers::{Backend, count_rows, spawn_app};

fn execute(conn: &mut guestlink::store::Conn, sql: &str) -> StoreResult<usize> {
    Ok(guestlink::with_conn!(conn, c => diesel::sql_query(sql).execute(c)?))
}

/// Writes `n` into the probe table in a transaction; `outcome` then decides
/// how the write ends.
async fn insert(db: &Db, n: i64, outcome: fn(i64) -> StoreResult<()>) -> StoreResult<()> {
    db.write(move |conn| {
        guestlink::store::write_transaction(conn, |conn| {
            execute(conn, &format!("INSERT INTO writer_probe (n) VALUES ({n})"))?;
            outcome(n)
        })
    })
    .await
}

#[both_backends]
async fn many_writes_at_once_each_commit_or_fail_on_their_own(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db
        .write(|conn| execute(conn, "CREATE TABLE writer_probe (n BIGINT PRIMARY KEY)"))
        .await
        .unwrap();
    // Every fifth write fails after its insert; write 3 is written twice, so
    // its second copy fails on the key.
    let fails = |n: i64| match n % 5 {
        0 => Err(StoreError::Conflict(format!("refused {n}"))),
        _ => Ok(()),
    };
    let mut writes = Vec::new();
    for n in 1..=60 {
        let db = app.db.clone();
        writes.push(tokio::spawn(
            async move { (n, insert(&db, n, fails).await) },
        ));
    }
    let db = app.db.clone();
    let twice = tokio::spawn(async move { insert(&db, 3, |_| Ok(())).await });
    let mut threes = Vec::new();
    for write in writes {
        let (n, result) = write.await.unwrap();
        match n {
            3 => threes.push(result),
            _ if n % 5 == 0 => {
                assert!(
                    matches!(result, Err(StoreError::Conflict(_))),
                    "{n}: {result:?}"
                )
            }
            _ => assert!(result.is_ok(), "{n}: {result:?}"),
        }
    }
    threes.push(twice.await.unwrap());
    assert_eq!(
        threes.iter().filter(|r| r.is_ok()).count(),
        1,
        "one of the two writes of 3 went in, the other met its key: {threes:?}"
    );
    assert_eq!(
        count_rows(&app.db, "writer_probe"),
        48,
        "the 48 writes that succeeded are in; the 12 refused left nothing"
    );
}

/// A write that panics is re-raised to its caller, what it wrote is rolled
/// back, and the writer keeps serving.
#[both_backends]
async fn a_write_that_panics_is_rolled_back_and_writing_goes_on(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db
        .write(|conn| execute(conn, "CREATE TABLE writer_probe (n BIGINT PRIMARY KEY)"))
        .await
        .unwrap();
    let db = app.db.clone();
    let panicked = tokio::spawn(async move {
        db.write(|conn| {
            guestlink::store::write_transaction(conn, |conn| -> StoreResult<()> {
                execute(conn, "INSERT INTO writer_probe (n) VALUES (1)")?;
                panic!("a bug in a write")
            })
        })
        .await
    });
    assert!(panicked.await.unwrap_err().is_panic());
    insert(&app.db, 2, |_| Ok(())).await.unwrap();
    assert_eq!(
        count_rows(&app.db, "writer_probe"),
        1,
        "2 only: the panicked 1 rolled back"
    );
}

/// Dropping the last handle to a SQLite database opened for a command closes
/// its connections, the writer's included: the file can then be taken out of
/// WAL mode (which needs it to itself), as the tests' template does. The
/// writer's thread, which used to outlive the drop, is joined; r2d2 may
/// finish opening a connection it had started just before the drop a moment
/// later, so the check allows two seconds.
#[tokio::test]
async fn dropping_a_sqlite_database_closes_its_connections() {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("closing.sqlite3");
    let env = [
        (
            "DATABASE_URL".to_string(),
            format!("sqlite://{}", file.display()),
        ),
        (
            "GUESTLINK_DATA_DIR".to_string(),
            dir.path().display().to_string(),
        ),
    ];
    let sources = guestlink::config::Sources::new(env.into_iter().collect()).unwrap();
    let settings =
        guestlink::config::Settings::load(&sources, guestlink::config::Mode::Serve).unwrap();
    for _ in 0..5 {
        let db = Db::connect_for(&settings, guestlink::store::PoolUse::Command).unwrap();
        db.write(|conn| execute(conn, "CREATE TABLE IF NOT EXISTS writer_probe (n BIGINT)"))
            .await
            .unwrap();
        drop(db);
        let mut alone = diesel::SqliteConnection::establish(&file.display().to_string()).unwrap();
        let mut left_open = None;
        for _ in 0..40 {
            match alone.batch_execute("PRAGMA journal_mode = DELETE; PRAGMA journal_mode = WAL;") {
                Ok(()) => {
                    left_open = None;
                    break;
                }
                Err(e) => left_open = Some(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            left_open.is_none(),
            "a connection of the dropped database stayed open: {left_open:?}"
        );
    }
}
