//! A database that goes away while serving: a TCP proxy of the test's own
//! sits between the server and PostgreSQL and is cut, then restored. The
//! shared PostgreSQL itself is never stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use guestlink::config::DatabaseUrl;
use guestlink::demo::claims::Role;
use guestlink::domain::platform::Lms;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{Backend, spawn_app_with};

/// Forwards TCP to PostgreSQL until cut; while cut, refuses new connections
/// and has closed every open one.
pub struct ChaosProxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
}

impl ChaosProxy {
    /// Runs on a thread of its own: the test thread blocks in places (the
    /// pool connecting at start) where a proxy on its runtime would stall.
    pub fn start(upstream: String) -> ChaosProxy {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let (generation, _) = watch::channel(0u64);
        let (accept_up, accept_generation) = (up.clone(), generation.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    let Ok((mut client, _)) = listener.accept().await else {
                        continue;
                    };
                    if !accept_up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let upstream = upstream.clone();
                    let mut cut = accept_generation.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut server) = TcpStream::connect(&upstream).await else {
                            return;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = cut.changed() => {}
                        }
                    });
                }
            });
        });
        ChaosProxy {
            port,
            up,
            generation,
        }
    }

    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Points a test's settings at the proxy on `port` (and makes waiting for a
/// connection short, so a cut answers promptly).
pub fn through_proxy(settings: &mut guestlink::config::Settings, port: u16) {
    let DatabaseUrl::Postgres(url) = &settings.database.url else {
        unreachable!("the proxy stands before PostgreSQL")
    };
    let direct = host_port(url);
    settings.database.url =
        DatabaseUrl::Postgres(url.replace(&direct, &format!("127.0.0.1:{port}")));
    settings.database.timeout = guestlink::domain::time::Duration::seconds(1);
}

pub fn host_port(url: &str) -> String {
    let after_scheme = &url[url.find("://").unwrap() + 3..];
    let authority = after_scheme.split('/').next().unwrap();
    let host = authority.rsplit('@').next().unwrap();
    if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    }
}

#[actix_web::test]
#[cfg_attr(
    not(guestlink_pg_tests),
    ignore = "PostgreSQL: TEST_DATABASE_URL was not set when the tests were built"
)]
async fn the_database_going_away_gives_503_and_service_resumes_after() {
    let backend = Backend::postgres().expect("TEST_DATABASE_URL is set");
    let Backend::Postgres(admin_url) = &backend else {
        unreachable!()
    };
    let proxy = ChaosProxy::start(host_port(admin_url));
    let proxy_port = proxy.port;
    let app = spawn_app_with(backend.clone(), move |settings| {
        through_proxy(settings, proxy_port)
    })
    .await;
    let reg = app.register(Lms::Moodle);
    let token = app
        .launch_as(&reg, Role::Instructor)
        .await
        .session_token()
        .unwrap();
    assert_eq!(app.get_page("/course", Some(&token)).await.status, 200);

    proxy.cut();
    for path in ["/course", "/healthz", "/.well-known/jwks.json"] {
        let started = Instant::now();
        let response = app
            .http
            .get(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            503,
            "{path} while the database is away"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{path}: 503 promptly, not a hang"
        );
    }
    let page = app.get_page("/course", Some(&token)).await;
    assert_eq!(page.error_code().as_deref(), Some("database_unavailable"));
    let login = app.post_login(&app.login_form(&reg)).await;
    assert_eq!(
        login.status().as_u16(),
        503,
        "login initiation while the database is away"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = app.get_page("/course", Some(&token)).await.status;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "service did not resume after the database came back (last {status})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        app.launch_as(&reg, Role::Student).await.status,
        200,
        "launches work again"
    );
}
