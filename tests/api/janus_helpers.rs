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
    _dir: tempfile::TempDir,
}

impl JanusProcess {
    /// Starts Janus and waits until its HTTP API answers.
    pub async fn start() -> JanusProcess {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
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
  broadcast = false
}}
"#,
                folder = conf.display()
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
"#
            ),
        )
        .unwrap();
        std::fs::write(
            conf.join("janus.plugin.videoroom.jcfg"),
            format!("general: {{\n  admin_key = \"{ADMIN_KEY}\"\n}}\n"),
        )
        .unwrap();
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
        let api = format!("http://127.0.0.1:{port}/janus");
        let client = guestlink::janus::Client::new(Duration::from_secs(2), None);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while client.ping(&api).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "janus answered on {api} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        JanusProcess {
            child,
            api,
            _dir: dir,
        }
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
