//! Storage: diesel over PostgreSQL or SQLite from one code path.
//!
//! Every query is written once and compiled for both backends by
//! [`with_conn!`] and [`write_tx!`]. SQLite gets a pool of readers and a single
//! writer that commits writes in groups ([`sqlite_writer`]); PostgreSQL one
//! pool. Diesel blocks, so async callers go through [`Db::read`] /
//! [`Db::write`]: PostgreSQL's work runs on tokio's blocking threads, SQLite's
//! reads in place and its writes on the writer's thread.

pub mod admin;
pub mod error;
pub mod file_grants;
pub mod guest_links;
pub mod invites;
pub mod keys;
pub mod launch_attempts;
pub mod launches;
pub mod login_states;
pub mod media;
pub mod platforms;
pub mod prepared;
pub mod registration_tokens;
pub mod rooms;
pub mod schema;
pub mod sealed;
pub mod secrets;
pub mod sessions;
pub mod sqlite_writer;
mod timestamp;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, PooledConnection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use error::{StoreError, StoreResult};

use crate::config::{DatabaseUrl, Settings};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

type PgPool = r2d2::Pool<PgManager>;
type SqlitePool = r2d2::Pool<ConnectionManager<SqliteConnection>>;

/// A checked-out connection to whichever backend is configured.
pub enum Conn {
    Pg(r2d2::PooledConnection<PgManager>),
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
}

impl Conn {
    /// Makes the pool drop this connection when it is returned.
    fn mark_broken(&mut self) {
        if let Conn::Pg(pooled) = self {
            pooled.broken = true;
        }
    }
}

/// A PostgreSQL connection the pool can be told is broken. diesel's own
/// check only sees a broken transaction, so a connection whose socket died
/// (database restarted, network cut) would otherwise stay in the pool and
/// fail every request after the database is back.
pub struct PgConn {
    pub conn: PgConnection,
    broken: bool,
}

pub struct PgManager {
    url: String,
}

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConn, Self::Error> {
        use diesel::Connection;
        PgConnection::establish(&self.url)
            .map(|conn| PgConn {
                conn,
                broken: false,
            })
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, pooled: &mut PgConn) -> Result<(), Self::Error> {
        pooled
            .conn
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut PgConn) -> bool {
        pooled.broken || diesel::r2d2::R2D2Connection::is_broken(&mut pooled.conn)
    }
}

/// Runs `$body` with `$c` bound to the concrete diesel connection. The body is
/// compiled once per backend, so one query text serves both.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::store::Conn::Pg(pooled) => {
                let $c: &mut diesel::PgConnection = &mut pooled.conn;
                $body
            }
            $crate::store::Conn::Sqlite(pooled) => {
                let $c: &mut diesel::SqliteConnection = &mut *pooled;
                $body
            }
        }
    };
}

/// The first row `$query` finds (or None), locked until the surrounding
/// transaction ends on PostgreSQL (`FOR UPDATE`); SQLite has no such clause
/// and needs none, its one writer serializing every write.
#[macro_export]
macro_rules! first_locked {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::store::Conn::Pg(pooled) => diesel::OptionalExtension::optional(
                diesel::RunQueryDsl::first(diesel::QueryDsl::for_update($query), &mut pooled.conn),
            ),
            $crate::store::Conn::Sqlite(pooled) => {
                let c: &mut diesel::SqliteConnection = &mut *pooled;
                diesel::OptionalExtension::optional(diesel::RunQueryDsl::first($query, c))
            }
        }
    };
}

/// Like [`with_conn!`], inside a write transaction. SQLite takes its write
/// lock at BEGIN (IMMEDIATE), which avoids the lock-upgrade `SQLITE_BUSY`
/// a deferred transaction hits when two writers race.
#[macro_export]
macro_rules! write_tx {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::store::Conn::Pg(pooled) => {
                let conn: &mut diesel::PgConnection = &mut pooled.conn;
                diesel::Connection::transaction(conn, |$c| $body)
            }
            $crate::store::Conn::Sqlite(pooled) => {
                let conn: &mut diesel::SqliteConnection = &mut *pooled;
                $crate::store::sqlite_write_transaction(conn, |$c| $body)
            }
        }
    };
}

/// A SQLite write transaction: `BEGIN IMMEDIATE`, or a savepoint when the
/// writer runs this inside its group's transaction
/// ([`sqlite_writer::in_group`]).
pub fn sqlite_write_transaction<T, E>(
    conn: &mut SqliteConnection,
    work: impl FnOnce(&mut SqliteConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::Connection;
    if sqlite_writer::in_group() {
        conn.transaction(work)
    } else {
        conn.immediate_transaction(work)
    }
}

/// Runs `work` in one write transaction, committed when it returns Ok and
/// rolled back otherwise, so that store functions written over `&mut Conn`
/// can be joined into one atomic step: all of it or none. Outside SQLite's
/// writer group it takes SQLite's write lock at `BEGIN IMMEDIATE`; inside
/// one (a transaction already) it is a savepoint. Inside it, call only
/// functions that open no transaction of their own ([`with_conn!`] ones).
pub fn write_transaction<T>(
    conn: &mut Conn,
    work: impl FnOnce(&mut Conn) -> StoreResult<T>,
) -> StoreResult<T> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        Conn::Pg(pooled) => AnsiTransactionManager::begin_transaction(&mut pooled.conn)?,
        Conn::Sqlite(pooled) if sqlite_writer::in_group() => {
            AnsiTransactionManager::begin_transaction(&mut **pooled)?
        }
        Conn::Sqlite(pooled) => {
            AnsiTransactionManager::begin_transaction_sql(&mut **pooled, "BEGIN IMMEDIATE")?
        }
    }
    let result = work(conn);
    let ended = match (&result, &mut *conn) {
        (Ok(_), Conn::Pg(pooled)) => AnsiTransactionManager::commit_transaction(&mut pooled.conn),
        (Ok(_), Conn::Sqlite(pooled)) => AnsiTransactionManager::commit_transaction(&mut **pooled),
        (Err(_), Conn::Pg(pooled)) => {
            AnsiTransactionManager::rollback_transaction(&mut pooled.conn)
        }
        (Err(_), Conn::Sqlite(pooled)) => {
            AnsiTransactionManager::rollback_transaction(&mut **pooled)
        }
    };
    match (result, ended) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(e)) => Err(e.into()),
        // The work's own error says more than a failed rollback.
        (Err(e), _) => Err(e),
    }
}

/// Makes writers that count rows before they insert take turns, so that a
/// cap checked by counting holds under concurrency: on PostgreSQL an
/// advisory lock held until the transaction ends; SQLite's write
/// transaction (BEGIN IMMEDIATE) holds its only write lock already.
pub trait TakeTurns {
    fn take_turns(&mut self, lock: i64) -> diesel::QueryResult<()>;
}

impl TakeTurns for PgConnection {
    fn take_turns(&mut self, lock: i64) -> diesel::QueryResult<()> {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(lock)
            .execute(self)
            .map(|_| ())
    }
}

impl TakeTurns for SqliteConnection {
    fn take_turns(&mut self, _: i64) -> diesel::QueryResult<()> {
        Ok(())
    }
}

#[derive(Clone)]
pub enum Db {
    Pg(PgPool),
    Sqlite {
        read: SqlitePool,
        /// The one write connection: the writer's, and one-off work's.
        write: SqlitePool,
        writer: std::sync::Arc<sqlite_writer::Writer>,
    },
}

#[derive(Debug)]
struct SqliteSetup;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqliteSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // foreign_keys is off by default in SQLite; busy_timeout makes a reader
        // wait for the writer instead of failing; NORMAL is durable under WAL.
        // The writer checkpoints the log every 1,000 pages (SQLite's default):
        // a checkpoint by another thread let the log grow without bound under
        // load, since the writer never found it fully copied to restart it.
        conn.batch_execute(
            "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Who holds the pools: the server keeps one connection warm and tops the
/// pool up in the background; a one-shot command must not, because its
/// process exits while r2d2's worker threads may still be opening a
/// connection (libpq's TLS teardown at exit then crashes those threads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolUse {
    Server,
    Command,
}

impl Db {
    /// Opens the server's pools and applies pending migrations.
    pub fn connect(settings: &Settings) -> StoreResult<Db> {
        Self::connect_for(settings, PoolUse::Server)
    }

    /// Opens pools for `usage` and applies pending migrations.
    pub fn connect_for(settings: &Settings, usage: PoolUse) -> StoreResult<Db> {
        let timeout = settings.database.timeout.unsigned_abs();
        let min_idle = match usage {
            PoolUse::Server => Some(1),
            PoolUse::Command => Some(0),
        };
        // The pools' upkeep (opening connections in the background) is rare:
        // one thread serves them all.
        let upkeep = std::sync::Arc::new(
            scheduled_thread_pool::ScheduledThreadPool::builder()
                .num_threads(1)
                .thread_name_pattern("db-pool-upkeep")
                .build(),
        );
        let db = match &settings.database.url {
            DatabaseUrl::Postgres(url) => {
                let pool = r2d2::Pool::builder()
                    .thread_pool(upkeep)
                    .max_size(settings.database.pool_size)
                    .min_idle(min_idle)
                    .connection_timeout(timeout)
                    // A checkout costs no extra round trip; a connection that
                    // broke is dropped by diesel's `is_broken` instead.
                    .test_on_check_out(false)
                    .error_handler(Box::new(r2d2::NopErrorHandler))
                    .build(PgManager { url: url.clone() })
                    .map_err(|e| {
                        StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}"))
                    })?;
                Db::Pg(pool)
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let url = path.to_string_lossy().to_string();
                let build = |size: u32| {
                    r2d2::Pool::builder()
                        .thread_pool(upkeep.clone())
                        .max_size(size)
                        .min_idle(min_idle)
                        .connection_timeout(timeout)
                        .test_on_check_out(false)
                        .connection_customizer(Box::new(SqliteSetup))
                        .build(ConnectionManager::<SqliteConnection>::new(url.clone()))
                        .map_err(|e| {
                            StoreError::Unavailable(format!("cannot open SQLite file {url}: {e}"))
                        })
                };
                let write = build(1)?;
                write
                    .get()?
                    .batch_execute("PRAGMA journal_mode = WAL;")
                    .map_err(StoreError::from)?;
                let read = build(settings.database.pool_size.max(2))?;
                let writer = std::sync::Arc::new(sqlite_writer::Writer::start(write.clone())?);
                Db::Sqlite {
                    read,
                    write,
                    writer,
                }
            }
        };
        db.migrate()?;
        Ok(db)
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> StoreResult<usize> {
        let mut conn = self.get_write()?;
        let applied = match &mut conn {
            Conn::Pg(pooled) => {
                let c = &mut pooled.conn;
                // Several instances may start at once: one migrates, the others wait.
                c.batch_execute("SELECT pg_advisory_lock(727274)")?;
                let result = c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len());
                c.batch_execute("SELECT pg_advisory_unlock(727274)")?;
                result
            }
            Conn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        };
        applied.map_err(|e| StoreError::Other(anyhow::anyhow!("migration failed: {e}")))
    }

    /// Whether the database answers (for health checks).
    pub async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| {
            with_conn!(conn, c => diesel::connection::SimpleConnection::batch_execute(c, "SELECT 1"))?;
            Ok(())
        })
        .await
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Pg(_) => "postgres",
            Db::Sqlite { .. } => "sqlite",
        }
    }

    pub fn get_read(&self) -> StoreResult<Conn> {
        Ok(match self {
            Db::Pg(pool) => Conn::Pg(pool.get()?),
            Db::Sqlite { read, .. } => Conn::Sqlite(read.get()?),
        })
    }

    pub fn get_write(&self) -> StoreResult<Conn> {
        Ok(match self {
            Db::Pg(pool) => Conn::Pg(pool.get()?),
            Db::Sqlite { write, .. } => Conn::Sqlite(write.get()?),
        })
    }

    /// Runs read-only store work. On PostgreSQL it goes to a blocking
    /// thread (a round trip would hold up the worker's other requests). On
    /// SQLite it runs right here: a read in the same process takes a few
    /// microseconds and never waits for the writer (WAL), which is less than
    /// handing it to another thread and back costs; the readers' pool is
    /// larger than the workers, so a checkout finds a connection at once.
    pub async fn read<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> StoreResult<T> + Send + 'static,
    {
        match self {
            Db::Sqlite { read, .. } => work(&mut Conn::Sqlite(read.get()?)),
            Db::Pg(_) => {
                let db = self.clone();
                run_blocking(move || with_broken_marked(db.get_read()?, work)).await
            }
        }
    }

    /// Runs store work that writes, off the async executor: on PostgreSQL
    /// on a blocking thread, on SQLite in the writer's next group
    /// ([`sqlite_writer`]). The work must not open a connection of its own.
    pub async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> StoreResult<T> + Send + 'static,
    {
        match self {
            Db::Sqlite { writer, .. } => writer.write(work).await,
            Db::Pg(_) => {
                let db = self.clone();
                run_blocking(move || with_broken_marked(db.get_write()?, work)).await
            }
        }
    }
}

/// Runs `work`; a connection that failed because the database went away is
/// not put back into the pool.
fn with_broken_marked<T>(
    mut conn: Conn,
    work: impl FnOnce(&mut Conn) -> StoreResult<T>,
) -> StoreResult<T> {
    let result = work(&mut conn);
    if matches!(result, Err(StoreError::Unavailable(_))) {
        conn.mark_broken();
    }
    result
}

async fn run_blocking<T, F>(work: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    let span = tracing::Span::current();
    match tokio::task::spawn_blocking(move || span.in_scope(work)).await {
        Ok(result) => result,
        // Re-raise a panic from the store rather than hiding it as an error.
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => Err(StoreError::Other(anyhow::anyhow!(
            "blocking task cancelled: {join}"
        ))),
    }
}
