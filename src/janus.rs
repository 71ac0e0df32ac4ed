//! Janus Gateway's HTTP API, as the tool uses it for the rooms' audio and
//! video: the VideoRoom plugin's rooms (private, one per live session, with
//! a secret), their list of allowed tokens, their participants, and kicking
//! one out. Protocol only: who gets a room or a token is `service::media`'s
//! business. See Janus's documentation of the REST API and of the VideoRoom
//! plugin (janus.conf.meetecho.com/docs/rest.html, .../videoroom.html).
//!
//! Every call opens a Janus session, attaches the plugin, sends one
//! request and destroys the session again: the tool keeps no long-lived
//! state on a media server, so a restart of either side loses nothing.

use serde::Deserialize;
use serde_json::{Value, json};

const PLUGIN: &str = "janus.plugin.videoroom";

/// VideoRoom's error codes the tool acts on.
const NO_SUCH_ROOM: i64 = 426;
const ROOM_EXISTS: i64 = 427;

/// Why a call to a media server did not work.
#[derive(Debug, thiserror::Error)]
pub enum JanusError {
    #[error("the media server could not be reached: {0}")]
    Unreachable(String),
    #[error("the media server answered something unexpected: {0}")]
    Protocol(String),
    /// A refusal of the server or of the VideoRoom plugin, with its code.
    #[error("the media server refused ({code}): {reason}")]
    Refused { code: i64, reason: String },
}

/// A VideoRoom room as the tool makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomSpec {
    /// The room's number: below 2^53, so browsers' JSON keeps it exact.
    pub room: u64,
    pub secret: String,
    /// The most people publishing at once.
    pub publishers: u32,
}

/// One participant of a room, as `listparticipants` gives it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Participant {
    pub id: u64,
    #[serde(default)]
    pub display: Option<String>,
    #[serde(default)]
    pub publisher: bool,
}

/// Talks to media servers; cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    admin_key: Option<String>,
}

impl Client {
    /// A client whose calls each take at most `timeout`; `admin_key` is the
    /// VideoRoom plugin's, which creating rooms needs when it is set there.
    pub fn new(timeout: std::time::Duration, admin_key: Option<String>) -> Client {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap_or_default();
        Client { http, admin_key }
    }

    /// Whether the server at `api` answers (its `/info`).
    pub async fn ping(&self, api: &str) -> Result<(), JanusError> {
        let value = json_of(self.http.get(format!("{api}/info"))).await?;
        match value["janus"].as_str() {
            Some("server_info") => Ok(()),
            _ => Err(JanusError::Protocol(format!("/info answered {value}"))),
        }
    }

    /// Creates the private room `spec` (an existing one with its number is
    /// taken as made: a repair may create it twice). Only tokens on its
    /// allowed list may join it, and subscribing needs a joined
    /// participant's private id.
    pub async fn create_room(&self, api: &str, spec: &RoomSpec) -> Result<(), JanusError> {
        let mut body = json!({
            "request": "create",
            "room": spec.room,
            "secret": spec.secret,
            "description": "guestlink live session",
            "is_private": true,
            "publishers": spec.publishers,
            "require_pvtid": true,
            "allowed": [],
            "videocodec": "vp8",
            "audiocodec": "opus",
            "notify_joining": true,
        });
        if let Some(key) = &self.admin_key {
            body["admin_key"] = json!(key);
        }
        match self.request(api, body).await {
            Ok(_) => Ok(()),
            Err(JanusError::Refused { code, .. }) if code == ROOM_EXISTS => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Whether the room exists on the server (after a restart it does not).
    pub async fn room_exists(&self, api: &str, room: u64) -> Result<bool, JanusError> {
        let data = self
            .request(api, json!({"request": "exists", "room": room}))
            .await?;
        data["exists"]
            .as_bool()
            .ok_or_else(|| JanusError::Protocol(format!("exists answered {data}")))
    }

    /// Destroys the room; one already gone counts as destroyed.
    pub async fn destroy_room(&self, api: &str, room: u64, secret: &str) -> Result<(), JanusError> {
        let body = json!({"request": "destroy", "room": room, "secret": secret});
        match self.request(api, body).await {
            Ok(_) => Ok(()),
            Err(JanusError::Refused { code, .. }) if code == NO_SUCH_ROOM => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Adds tokens to the room's allowed list, or removes them.
    pub async fn allow(
        &self,
        api: &str,
        room: u64,
        secret: &str,
        add: bool,
        tokens: &[String],
    ) -> Result<(), JanusError> {
        if tokens.is_empty() {
            return Ok(());
        }
        let body = json!({
            "request": "allowed",
            "room": room,
            "secret": secret,
            "action": if add { "add" } else { "remove" },
            "allowed": tokens,
        });
        self.request(api, body).await.map(|_| ())
    }

    /// The room's participants.
    pub async fn participants(&self, api: &str, room: u64) -> Result<Vec<Participant>, JanusError> {
        let data = self
            .request(api, json!({"request": "listparticipants", "room": room}))
            .await?;
        serde_json::from_value(data["participants"].clone())
            .map_err(|e| JanusError::Protocol(format!("listparticipants: {e}")))
    }

    /// Removes a participant from the room.
    pub async fn kick(
        &self,
        api: &str,
        room: u64,
        secret: &str,
        id: u64,
    ) -> Result<(), JanusError> {
        let body = json!({"request": "kick", "room": room, "secret": secret, "id": id});
        self.request(api, body).await.map(|_| ())
    }

    /// One VideoRoom request in a Janus session of its own: the plugin's
    /// answer (`plugindata.data`), or its refusal.
    async fn request(&self, api: &str, body: Value) -> Result<Value, JanusError> {
        let session = self
            .post(api, json!({"janus": "create"}))
            .await?
            .pointer("/data/id")
            .and_then(Value::as_u64)
            .ok_or_else(|| JanusError::Protocol("create gave no session id".into()))?;
        let at = format!("{api}/{session}");
        let result = async {
            let handle = self
                .post(&at, json!({"janus": "attach", "plugin": PLUGIN}))
                .await?
                .pointer("/data/id")
                .and_then(Value::as_u64)
                .ok_or_else(|| JanusError::Protocol("attach gave no handle id".into()))?;
            let answer = self
                .post(
                    &format!("{at}/{handle}"),
                    json!({"janus": "message", "body": body}),
                )
                .await?;
            plugin_data(answer)
        }
        .await;
        // The session goes whatever happened (it would time out anyway).
        let _ = self.post(&at, json!({"janus": "destroy"})).await;
        result
    }

    /// Posts one Janus message with a fresh transaction id; Janus's own
    /// errors are refusals.
    async fn post(&self, url: &str, mut message: Value) -> Result<Value, JanusError> {
        message["transaction"] = json!(crate::crypto::random_token(12));
        let value = json_of(self.http.post(url).json(&message)).await?;
        if value["janus"] == "error" {
            return Err(JanusError::Refused {
                code: value
                    .pointer("/error/code")
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
                reason: value
                    .pointer("/error/reason")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            });
        }
        Ok(value)
    }
}

/// Sends `request` and reads its JSON answer.
async fn json_of(request: reqwest::RequestBuilder) -> Result<Value, JanusError> {
    let answer = request
        .send()
        .await
        .map_err(|e| JanusError::Unreachable(without_url(&e)))?;
    answer
        .json()
        .await
        .map_err(|e| JanusError::Protocol(without_url(&e)))
}

/// The plugin's answer in a Janus reply, or the plugin's refusal.
fn plugin_data(answer: Value) -> Result<Value, JanusError> {
    let data = answer
        .pointer("/plugindata/data")
        .cloned()
        .ok_or_else(|| JanusError::Protocol(format!("no plugin data in {answer}")))?;
    if let Some(code) = data["error_code"].as_i64() {
        return Err(JanusError::Refused {
            code,
            reason: data["error"].as_str().unwrap_or_default().to_string(),
        });
    }
    Ok(data)
}

/// A transport error in words, without its URL (logs have no need of it).
fn without_url(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection refused or unreachable".into()
    } else if e.is_decode() {
        "the answer is not JSON".into()
    } else {
        "the request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_refusal_keeps_its_code_and_reason() {
        let answer = json!({
            "janus": "success",
            "plugindata": {"plugin": PLUGIN, "data": {"videoroom": "event", "error_code": 433, "error": "Unauthorized (wrong secret)"}}
        });
        match plugin_data(answer) {
            Err(JanusError::Refused { code, reason }) => {
                assert_eq!(code, 433);
                assert!(reason.contains("wrong secret"));
            }
            other => panic!("{other:?}"),
        }
        let ok = json!({"janus": "success", "plugindata": {"plugin": PLUGIN, "data": {"videoroom": "success", "exists": true}}});
        assert_eq!(plugin_data(ok).unwrap()["exists"], true);
        assert!(matches!(
            plugin_data(json!({"janus": "ack"})),
            Err(JanusError::Protocol(_))
        ));
    }
}
