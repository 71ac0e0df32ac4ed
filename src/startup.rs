//! Building and running the server: `Application::build` binds the listener
//! (port 0 works, for tests), `run_until_stopped` serves.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};

use crate::clock::Clock;
use crate::config::Settings;
use crate::demo::DemoLms;
use crate::service::failure::Fault;
use crate::service::secrets::SecretsError;
use crate::service::{OpenError, Tool, housekeeping, keys};
use crate::store::Db;
use crate::web as routes;

/// Makes the data directory private to the tool's user: the directory (and
/// its subdirectories) 0700, its files 0600, whatever an older guestlink or
/// an operator's umask left. Only the directory itself must exist and be
/// made private; an entry the tool may not change (another user's, on a
/// shared volume) is reported in the log rather than stopping the start.
pub fn prepare_data_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let private = |path: &std::path::Path, mode: u32| {
        let loose = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0);
        if loose
            && let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot make a data directory entry private");
        }
    };
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            tracing::warn!(path = %dir.display(), "cannot read a data directory entry");
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => {
                    private(&entry.path(), 0o700);
                    pending.push(entry.path());
                }
                Ok(kind) if kind.is_file() => private(&entry.path(), 0o600),
                _ => {}
            }
        }
    }
    Ok(())
}

pub struct Application {
    port: u16,
    server: Server,
    pub tool: Tool,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Database(String),
    #[error("configuration: {0}")]
    Config(String),
}

impl From<OpenError> for StartError {
    fn from(err: OpenError) -> Self {
        match err {
            OpenError::Config(e) => StartError::Config(e.to_string()),
            OpenError::Secrets(e @ SecretsError::WrongKey) => StartError::Config(e.to_string()),
            OpenError::Secrets(SecretsError::Fault(f)) => f.into(),
        }
    }
}

impl From<Fault> for StartError {
    fn from(fault: Fault) -> Self {
        StartError::Database(fault.to_string())
    }
}

/// When a response's write buffer is flushed (actix's default is 32 KiB).
pub const WRITE_BUFFER_FLUSH: usize = 4 * 1024;

impl Application {
    /// Connects to the database (applying migrations), opens the tool on it
    /// and binds the listener.
    pub async fn build(settings: Settings, clock: Clock) -> Result<Application, StartError> {
        let db = Db::connect(&settings).map_err(|e| StartError::Database(e.to_string()))?;
        Self::build_with_db(db, settings, clock).await
    }

    /// Opens the tool on `db` and binds the listener.
    pub async fn build_with_db(
        db: Db,
        settings: Settings,
        clock: Clock,
    ) -> Result<Application, StartError> {
        let tool = Tool::open(db, settings, clock).await?;
        Self::start(tool, None).await
    }

    /// Makes sure the tool has a signing key, and binds the listener; the
    /// demo LMS is mounted beside the tool when given.
    pub async fn start(tool: Tool, demo: Option<DemoLms>) -> Result<Application, StartError> {
        keys::ensure_current(&tool).await?;
        let settings = tool.settings.clone();
        let listener =
            TcpListener::bind(settings.server.bind).map_err(|source| StartError::Bind {
                addr: settings.server.bind.to_string(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                addr: settings.server.bind.to_string(),
                source,
            })?
            .port();
        let workers = settings.server.workers;
        let blocking_threads = (settings.database.pool_size as usize)
            .div_ceil(workers)
            .max(4);
        let data = actix_web::web::Data::new(tool.clone());
        let demo = demo.map(actix_web::web::Data::new);
        let server = HttpServer::new(move || {
            let mut app = App::new()
                .wrap(from_fn(routes::middleware::request_context))
                .app_data(data.clone())
                .configure(routes::routes);
            if let Some(demo) = &demo {
                app = app.app_data(demo.clone()).configure(crate::demo::routes);
            }
            app.default_service(actix_web::web::to(|| async {
                Err::<actix_web::HttpResponse, _>(routes::error::PageError::not_found())
            }))
        })
        .workers(workers)
        // Flush a response's buffer once it holds this much: a room's event
        // stream hands over pieces smaller than the buffer's first 8 KiB, so
        // each open stream keeps only that (see web::room_events).
        .h1_write_buffer_size(WRITE_BUFFER_FLUSH)
        // Blocking (database) work per worker is capped near the pool size: more
        // threads only queue on the pool, and r2d2 serves waiters unfairly.
        .worker_max_blocking_threads(blocking_threads)
        .listen(listener)
        .map_err(|source| StartError::Bind {
            addr: "listener".into(),
            source,
        })?
        .shutdown_timeout(10)
        .run();
        Ok(Application { port, server, tool })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is told to stop, purging expired login state
    /// and sessions in the background.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let purge = actix_web::rt::spawn(purge_periodically(self.tool.clone()));
        // A media server that does not answer is a warning, not a reason
        // to stay down.
        let tool = self.tool.clone();
        actix_web::rt::spawn(async move { crate::service::av::check_servers(&tool).await });
        let enforce = actix_web::rt::spawn(hold_media_rooms_to_the_rules(self.tool.clone()));
        let result = self.server.await;
        purge.abort();
        enforce.abort();
        result
    }
}

/// Every few seconds, withdraws the media passes of people who left and
/// puts out anyone in a media room without a valid pass (see
/// `service::av::enforce_all`).
async fn hold_media_rooms_to_the_rules(tool: Tool) {
    if !crate::service::av::configured(&tool) {
        return;
    }
    let mut tick = tokio::time::interval(crate::service::av::ENFORCE_EVERY);
    // A slow round is followed by the next after the usual pause, not by
    // the missed ones at once.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        crate::service::av::enforce_all(&tool).await;
    }
}

async fn purge_periodically(tool: Tool) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    for round in 0u64.. {
        tick.tick().await;
        housekeeping::purge_short_lived(&tool).await;
        if round % 5 == 0 {
            housekeeping::purge_long_lived(&tool).await;
        }
    }
}

/// Caps glibc's malloc at two arenas (one per core here) before any thread
/// starts. By default each thread that allocates may get an arena of its
/// own (up to eight per core), each keeping the memory freed in it: with
/// the database's blocking threads that was most of the server's resident
/// memory under load, for no measurable speed.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; called before
    // other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Gives back to the operating system the heap that start-up used and freed
/// (migrations, key generation, the demo's preparation).
pub fn release_startup_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}
