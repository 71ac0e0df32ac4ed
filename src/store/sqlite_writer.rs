//! SQLite's one writer, committing writes in groups.
//!
//! SQLite lets one connection write at a time. Writes are therefore handed
//! to one thread that owns the write connection for as long as it has work:
//! it takes every write waiting (up to [`MOST_PER_GROUP`]), runs each in its
//! own savepoint inside one `BEGIN IMMEDIATE` transaction and commits them
//! together. Each write still succeeds or fails on its own (a failed one
//! rolls back to its savepoint), and no caller hears back before the commit
//! that holds its write. Committing a group costs one lock and one append
//! to the log instead of one per write, and no request waits on a pool for
//! the only connection.
//!
//! Durability is as before: `synchronous = NORMAL` under WAL, where a
//! commit survives a crash of the process and is lost only with the
//! operating system's last moments (SQLite's documented trade-off).

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use diesel::SqliteConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::ConnectionManager;

use super::{Conn, StoreError, StoreResult};

type SqlitePool = r2d2::Pool<ConnectionManager<SqliteConnection>>;

/// Writes committed together at most.
const MOST_PER_GROUP: usize = 64;

/// Tells the caller how its write ended, once the group's commit is known.
type Reply = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// One write: run on the writer's connection, it says how it ended and how
/// to reply.
type Job = Box<dyn FnOnce(&mut Conn) -> Ran + Send>;

struct Ran {
    ended: Ended,
    reply: Reply,
}

#[derive(PartialEq)]
enum Ended {
    Ok,
    Failed,
    /// A bug: the transactions it opened may still be open.
    Panicked,
}

thread_local! {
    static IN_GROUP: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is running a write inside a group's transaction: a
/// transaction a write opens itself must then be a savepoint.
pub fn in_group() -> bool {
    IN_GROUP.with(Cell::get)
}

pub struct Writer {
    /// None once dropping has begun.
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Dropping the writer stops its thread and waits for it, so that the
/// database's connections are closed when the last handle to it is gone (a
/// test copying the file, or a command ending, finds no connection open).
impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

impl Writer {
    /// Starts the writer thread on `pool` (the pool of the one write
    /// connection, which one-off work outside the writer also checks out).
    /// The thread ends when the writer is dropped.
    pub fn start(pool: SqlitePool) -> StoreResult<Writer> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(&pool, &queue))
            .map_err(|e| {
                StoreError::Other(anyhow::anyhow!("cannot start the SQLite writer: {e}"))
            })?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `work` in the next group; its result once that group committed.
    pub async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> StoreResult<T> + Send + 'static,
    {
        let (done, answer) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |conn| {
            let outcome = span.in_scope(|| catch_unwind(AssertUnwindSafe(|| work(conn))));
            let ended = match &outcome {
                Ok(Ok(_)) => Ended::Ok,
                Ok(Err(_)) => Ended::Failed,
                Err(_) => Ended::Panicked,
            };
            let reply: Reply = Box::new(move |commit_failed| {
                let outcome = match (outcome, commit_failed) {
                    (Ok(Ok(_)), Some(e)) => Ok(Err(StoreError::Unavailable(format!(
                        "the write was not committed: {e}"
                    )))),
                    (outcome, _) => outcome,
                };
                let _ = done.send(outcome);
            });
            Ran { ended, reply }
        });
        let stopped = || StoreError::Unavailable("the SQLite writer has stopped".into());
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        match answer.await {
            Ok(Ok(result)) => result,
            // Re-raise a panic from the store rather than hiding it as an error.
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // The group could not start (its reason is in the log).
            Err(_) => Err(StoreError::Unavailable(
                "the database could not start a write".into(),
            )),
        }
    }
}

fn run(pool: &SqlitePool, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MOST_PER_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(pool, group);
    }
}

/// Runs a group's writes in one transaction and replies to each. A group
/// that cannot start drops its writes unrun, which their callers hear as
/// the database being unavailable.
fn commit_group(pool: &SqlitePool, group: Vec<Job>) {
    let mut conn = match pool.get() {
        Ok(pooled) => Conn::Sqlite(pooled),
        Err(e) => {
            tracing::error!(error = %e, "the SQLite write connection is unavailable");
            return;
        }
    };
    if let Err(e) = with_sqlite(&mut conn, |c| {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
    }) {
        tracing::error!(error = %e, "a SQLite write transaction could not start");
        return;
    }
    IN_GROUP.with(|g| g.set(true));
    let mut replies = Vec::with_capacity(group.len());
    for job in group {
        if let Err(e) = with_sqlite(&mut conn, AnsiTransactionManager::begin_transaction) {
            tracing::error!(error = %e, "a SQLite savepoint could not start");
            continue;
        }
        let Ran { ended, reply } = job(&mut conn);
        if ended == Ended::Panicked {
            // Which of its transactions are still open is unknown: the whole
            // group is abandoned. The connection, left inside a transaction,
            // is dropped by the pool, which rolls it back; the writes after
            // this one were not run and hear that the database was unavailable.
            IN_GROUP.with(|g| g.set(false));
            let abandoned = StoreError::Unavailable("a write beside this one failed".into());
            replies.into_iter().for_each(|r: Reply| r(Some(&abandoned)));
            reply(None);
            return;
        }
        let closed = with_sqlite(&mut conn, |c| {
            if ended == Ended::Ok {
                AnsiTransactionManager::commit_transaction(c)
            } else {
                AnsiTransactionManager::rollback_transaction(c)
            }
        });
        match closed {
            Ok(()) => replies.push(reply),
            Err(e) => reply(Some(&StoreError::from(e))),
        }
    }
    IN_GROUP.with(|g| g.set(false));
    match with_sqlite(&mut conn, AnsiTransactionManager::commit_transaction) {
        Ok(()) => replies.into_iter().for_each(|reply| reply(None)),
        Err(e) => {
            let _ = with_sqlite(&mut conn, AnsiTransactionManager::rollback_transaction);
            let failed = StoreError::from(e);
            tracing::error!(error = %failed, "a group of SQLite writes could not commit");
            replies.into_iter().for_each(|reply| reply(Some(&failed)));
        }
    }
}

fn with_sqlite<T>(
    conn: &mut Conn,
    step: impl FnOnce(&mut SqliteConnection) -> diesel::QueryResult<T>,
) -> diesel::QueryResult<T> {
    match conn {
        Conn::Sqlite(pooled) => step(pooled),
        Conn::Pg(_) => unreachable!("the SQLite writer holds a SQLite connection"),
    }
}
