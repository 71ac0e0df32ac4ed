//! A real Janus Gateway (Debian's `janus`) for a test: its own
//! configuration folder, the VideoRoom plugin and the HTTP transport only,
//! on loopback ports of its own; stopped when dropped. No media flows in
//! these tests (that needs a network namespace): they use the HTTP API.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use guestlink::config::{Janus, JanusSecret, JanusServer};

use crate::helpers::free_port;

/// The VideoRoom plugin's admin key the test's Janus is configured with.
pub const ADMIN_KEY: &str = "test-videoroom-admin-key";

pub struct JanusProcess {
    child: Child,
    pub api: String,
    dir: tempfile::TempDir,
}

impl JanusProcess {
    /// Starts Janus on a free port and waits until its HTTP API answers.
    pub async fn start() -> JanusProcess {
        JanusProcess::start_on(free_port()).await
    }

    /// The same on `port`.
    pub async fn start_on(port: u16) -> JanusProcess {
        JanusProcess::start_for(port, None, None).await
    }

    /// Starts Janus on `port` with its sample event handler reporting to
    /// `events` (the tool's /media-server/events), signed in with the
    /// admin key.
    #[allow(dead_code)] // the API tests'
    pub async fn start_reporting_to(port: u16, events: &str) -> JanusProcess {
        JanusProcess::start_for(port, None, Some(events)).await
    }

    /// Starts Janus on a free port for pages of `origin` to call (its
    /// HTTP API answers their cross-origin requests), reporting to the
    /// tool at `origin` (its /media-server/events).
    #[allow(dead_code)] // the browser checks' (the API tests use no browser)
    pub async fn start_for_pages_of(origin: &str) -> JanusProcess {
        let events = format!("{origin}/media-server/events");
        JanusProcess::start_for(free_port(), Some(origin), Some(&events)).await
    }

    async fn start_for(port: u16, origin: Option<&str>, events: Option<&str>) -> JanusProcess {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path();
        std::fs::write(
            conf.join("janus.jcfg"),
            format!(
                r#"general: {{
  configs_folder = "{folder}"
  debug_level = 3
  session_timeout = 60
}}
nat: {{
  ice_enforce_list = "127.0.0."
  ignore_mdns = true
  full_trickle = false
}}
media: {{
  rtp_port_range = "20000-20100"
}}
plugins: {{
  disable = "libjanus_audiobridge.so,libjanus_echotest.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so,libjanus_duktape.so,libjanus_lua.so"
}}
transports: {{
  disable = "libjanus_websockets.so,libjanus_pfunix.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_rabbitmq.so"
}}
loggers: {{
  disable = "libjanus_jsonlog.so"
}}
events: {{
  broadcast = {broadcast}
  disable = "libjanus_gelfevh.so,libjanus_mqttevh.so,libjanus_nanomsgevh.so,libjanus_rabbitmqevh.so,libjanus_wsevh.so"
}}
"#,
                folder = conf.display(),
                broadcast = events.is_some()
            ),
        )
        .unwrap();
        std::fs::write(
            conf.join("janus.transport.http.jcfg"),
            format!(
                r#"general: {{
  base_path = "/janus"
  http = true
  port = {port}
  ip = "127.0.0.1"
  https = false
  acl = "127."
}}
admin: {{
  admin_http = false
}}
{cors}"#,
                cors = origin
                    .map(|o| format!("cors: {{\n  allow_origin = \"{o}\"\n}}\n"))
                    .unwrap_or_default()
            ),
        )
        .unwrap();
        std::fs::write(
            conf.join("janus.plugin.videoroom.jcfg"),
            format!("general: {{\n  admin_key = \"{ADMIN_KEY}\"\n}}\n"),
        )
        .unwrap();
        if let Some(backend) = events {
            std::fs::write(
                conf.join("janus.eventhandler.sampleevh.jcfg"),
                format!(
                    r#"general: {{
  enabled = true
  events = "plugins"
  grouping = true
  json = "compact"
  backend = "{backend}"
  backend_user = "janus"
  backend_pwd = "{ADMIN_KEY}"
}}
"#
                ),
            )
            .unwrap();
        }
        let api = format!("http://127.0.0.1:{port}/janus");
        let child = spawn(conf, &api).await;
        JanusProcess { child, api, dir }
    }

    /// Janus's process id.
    #[allow(dead_code)] // the benchmark's
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops Janus and starts it again on the same port: its rooms are gone.
    pub async fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.dir.path(), &self.api).await;
    }

    /// The tool's settings for this one server (browsers would reach it
    /// through the tool's proxy at /janus).
    pub fn settings(&self, admin_key: &str) -> Janus {
        janus_at(&self.api, admin_key)
    }

    /// A client of the test's own, with the admin key.
    pub fn client(&self) -> guestlink::janus::Client {
        guestlink::janus::Client::new(Duration::from_secs(5), Some(ADMIN_KEY.into()))
    }
}

/// Runs Janus with the configuration in `conf` and waits until `api` answers.
async fn spawn(conf: &std::path::Path, api: &str) -> Child {
    let child = Command::new("janus")
        .arg("-F")
        .arg(conf)
        .arg("-C")
        .arg(conf.join("janus.jcfg"))
        .arg("-o")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("janus (Debian's package) runs; .ci/run installs it");
    let mut child = child;
    let client = guestlink::janus::Client::new(Duration::from_secs(2), None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while client.ping(api).await.is_err() {
        if tokio::time::Instant::now() >= deadline {
            // Not left running behind a failed test.
            let _ = child.kill();
            let _ = child.wait();
            panic!("janus did not answer on {api} within 20 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child
}

/// Waits until the room is gone from the server.
pub async fn room_gone(client: &guestlink::janus::Client, api: &str, room: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while client.room_exists(api, room).await.unwrap() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the media room {room} gone within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

impl Drop for JanusProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Settings naming one media server at `api`.
pub fn janus_at(api: &str, admin_key: &str) -> Janus {
    Janus {
        servers: vec![JanusServer {
            api: api.to_string(),
            public: "/janus".into(),
        }],
        admin_secret: Some(test_secret(admin_key)),
        timeout: guestlink::domain::time::Duration::seconds(3),
        scripts: None,
    }
}

fn test_secret(value: &str) -> JanusSecret {
    // Through the settings' own parser, as an operator would give it.
    let env = [
        (
            "GUESTLINK_JANUS_URL".to_string(),
            "http://127.0.0.1:1/janus".to_string(),
        ),
        (
            "GUESTLINK_JANUS_PUBLIC_URL".to_string(),
            "/janus".to_string(),
        ),
        (
            "GUESTLINK_JANUS_ADMIN_SECRET".to_string(),
            value.to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let sources = guestlink::config::Sources::new(env).unwrap();
    guestlink::config::Settings::load(&sources, guestlink::config::Mode::Serve)
        .unwrap()
        .janus
        .admin_secret
        .unwrap()
}

/// A browser's side of a media room, over Janus's HTTP API (no media): a
/// Janus session with the VideoRoom plugin attached, joined to a room.
pub struct Peer {
    http: reqwest::Client,
    at: String,
}

impl Peer {
    /// Joins `room` as participant `id` with `token`: the private id Janus
    /// gives, or Janus's error code.
    pub async fn join(api: &str, room: u64, id: u64, token: &str) -> Result<Peer, i64> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(40))
            .no_proxy()
            .build()
            .unwrap();
        let post = |url: String, body: serde_json::Value| {
            let http = http.clone();
            async move {
                let mut body = body;
                body["transaction"] = serde_json::json!(format!("t{}", rand_id()));
                http.post(url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json::<serde_json::Value>()
                    .await
                    .unwrap()
            }
        };
        let session =
            post(api.to_string(), serde_json::json!({"janus": "create"})).await["data"]["id"]
                .as_u64()
                .unwrap();
        let at = format!("{api}/{session}");
        let handle = post(
            at.clone(),
            serde_json::json!({"janus": "attach", "plugin": "janus.plugin.videoroom"}),
        )
        .await["data"]["id"]
            .as_u64()
            .unwrap();
        let body = serde_json::json!({
            "request": "join", "ptype": "publisher", "room": room, "id": id,
            "display": "test peer", "token": token,
        });
        let sent = post(
            format!("{at}/{handle}"),
            serde_json::json!({"janus": "message", "body": body}),
        )
        .await;
        assert_eq!(sent["janus"], "ack", "{sent}");
        // The join's answer comes as an event.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the join's answer within 10 s"
            );
            let event: serde_json::Value = http
                .get(format!("{at}?maxev=1&rid={}", rand_id()))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let event = if event.is_array() {
                event[0].clone()
            } else {
                event
            };
            let data = &event["plugindata"]["data"];
            if let Some(code) = data["error_code"].as_i64() {
                return Err(code);
            }
            if data["videoroom"] == "joined" {
                return Ok(Peer { http, at });
            }
        }
    }

    /// Leaves the Janus session.
    pub async fn close(self) {
        let _ = self
            .http
            .post(&self.at)
            .json(&serde_json::json!({"janus": "destroy", "transaction": "bye"}))
            .send()
            .await;
    }
}

fn rand_id() -> u64 {
    guestlink::crypto::random_u64()
}

/// Waits until the room's participants satisfy `check`.
pub async fn participants_until(
    client: &guestlink::janus::Client,
    api: &str,
    room: u64,
    what: &str,
    check: impl Fn(&[guestlink::janus::Participant]) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now = client.participants(api, room).await.unwrap();
        if check(&now) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within 20 s; participants {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
