//! Building and running the server: `Application::build` binds the listener
//! (port 0 works, for tests), `run_until_stopped` serves.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::MacKey;
use crate::demo::DemoLms;
use crate::service::{Tool, keys};
use crate::store::{Db, login_states, secrets, sessions};
use crate::web as routes;

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
}

impl Application {
    /// Connects to the database (applying migrations), makes sure a tool key
    /// exists, and binds the listener.
    pub fn build(
        settings: Settings,
        clock: Clock,
        demo: Option<DemoLms>,
    ) -> Result<Application, StartError> {
        let db = Db::connect(&settings).map_err(|e| StartError::Database(e.to_string()))?;
        Self::build_with_db(db, settings, clock, demo)
    }

    pub fn build_with_db(
        db: Db,
        settings: Settings,
        clock: Clock,
        demo: Option<DemoLms>,
    ) -> Result<Application, StartError> {
        let mut conn = db
            .get_write()
            .map_err(|e| StartError::Database(e.to_string()))?;
        keys::ensure_current(&mut conn, clock.unix())
            .map_err(|e| StartError::Database(e.to_string()))?;
        let url_secret = secrets::get_or_create(
            &mut conn,
            "media_url_key",
            || crate::crypto::random_token(32),
            clock.unix(),
        )
        .map_err(|e| StartError::Database(e.to_string()))?;
        drop(conn);

        let listener = TcpListener::bind(settings.bind).map_err(|source| StartError::Bind {
            addr: settings.bind.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                addr: settings.bind.to_string(),
                source,
            })?
            .port();
        let workers = settings.workers;
        let blocking_threads = (settings.db_pool_size as usize).div_ceil(workers).max(4);
        let tool = Tool::new(db, settings, clock, MacKey::new(url_secret.as_bytes()));
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
        let result = self.server.await;
        purge.abort();
        result
    }
}

async fn purge_periodically(tool: Tool) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        let now = tool.clock.unix();
        let result = tool
            .db
            .write(move |conn| {
                Ok((
                    login_states::purge_expired(conn, now)?,
                    sessions::purge_expired(conn, now)?,
                ))
            })
            .await;
        match result {
            Ok((states, sessions)) if states + sessions > 0 => {
                tracing::info!(states, sessions, "purged expired login states and sessions")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "purge of expired records failed"),
        }
        match crate::service::guest_links::purge(&tool).await {
            Ok(0) => {}
            Ok(records) => tracing::info!(records, "purged guest records past their retention"),
            Err(err) => tracing::warn!(error = %err, "purge of guest records failed"),
        }
        let kept_since = now - tool.settings.diagnostics_days * 86_400;
        let result = tool
            .db
            .write(move |conn| {
                Ok(crate::store::launch_attempts::purge(conn, kept_since)?
                    + crate::store::admin::purge(conn, now)?
                    + crate::store::registration_tokens::purge(conn, now - 86_400)?)
            })
            .await;
        match result {
            Ok(0) => {}
            Ok(records) => tracing::info!(
                records,
                "purged old launch diagnostics, admin sessions and registration tokens"
            ),
            Err(err) => tracing::warn!(error = %err, "purge of admin records failed"),
        }
        let removed = crate::service::media::remove_abandoned_uploads(&tool).await;
        if removed > 0 {
            tracing::info!(files = removed, "removed abandoned partial uploads");
        }
    }
}
