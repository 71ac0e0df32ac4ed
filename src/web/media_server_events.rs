//! POST /media-server/events: what the media servers report, through Janus's
//! sample event handler (`libjanus_sampleevh`, deploy/janus/README.md). It
//! signs in with HTTP Basic, the password being the VideoRoom `admin_key`
//! the tool already shares with the servers (`GUESTLINK_JANUS_ADMIN_SECRET`);
//! without one the address does not exist. Of all Janus reports, the
//! VideoRoom plugin's `joined` (with the token used) and `published` are
//! held to the rules at once (`service::av::vet`); the rest is ignored.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use serde_json::Value;

use super::error::ApiError;
use crate::service::Tool;
use crate::service::av::{self, Reported};
use crate::service::failure::Kind;

/// The most a batch of reports may weigh.
pub const MOST_BYTES: usize = 1024 * 1024;

/// Whether the request carries HTTP Basic credentials whose password is
/// the media servers' shared secret (any user name).
fn signed_in(req: &HttpRequest, secret: &str) -> bool {
    let Some(encoded) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    text.split_once(':')
        .is_some_and(|(_, password)| crate::crypto::secrets_equal(password, secret))
}

/// The VideoRoom reports among `body` (one report, or an array of them).
fn reported(body: &Value) -> Vec<Reported> {
    let reports: Vec<&Value> = match body {
        Value::Array(list) => list.iter().collect(),
        one => vec![one],
    };
    reports
        .into_iter()
        .filter(|r| r["event"]["plugin"] == "janus.plugin.videoroom")
        .filter_map(|r| {
            let data = &r["event"]["data"];
            let room = data["room"].as_u64()?;
            let id = data["id"].as_u64()?;
            match data["event"].as_str()? {
                "joined" => Some(Reported::Joined {
                    room,
                    id,
                    token: data["token"].as_str().unwrap_or_default().to_string(),
                }),
                "published" => Some(Reported::Published { room, id }),
                _ => None,
            }
        })
        .collect()
}

pub async fn receive(
    tool: web::Data<Tool>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Some(secret) = tool.settings.janus.admin_secret.as_ref() else {
        return Err(ApiError::new(
            Kind::NotFound,
            "not_found",
            "There is nothing at this address.",
        ));
    };
    if !signed_in(&req, secret.as_str()) {
        return Ok(HttpResponse::Unauthorized()
            .insert_header(("WWW-Authenticate", "Basic realm=\"media servers\""))
            .finish());
    }
    let body: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            Kind::Malformed,
            "invalid_json",
            format!("The body is not JSON: {e}"),
        )
    })?;
    for report in reported(&body) {
        if let Err(e) = av::vet(&tool, report).await {
            tracing::warn!(error = %e, "a media server's report could not be acted on");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_videorooms_joins_and_publications_are_read() {
        let batch = serde_json::json!([
            {"type": 64, "event": {"plugin": "janus.plugin.videoroom",
                "data": {"event": "joined", "room": 7, "id": 42, "private_id": 1, "token": "t0k"}}},
            {"type": 64, "event": {"plugin": "janus.plugin.videoroom",
                "data": {"event": "published", "room": 7, "id": 42}}},
            {"type": 64, "event": {"plugin": "janus.plugin.videoroom",
                "data": {"event": "leaving", "room": 7, "id": 42}}},
            {"type": 64, "event": {"plugin": "janus.plugin.echotest",
                "data": {"event": "joined", "room": 7, "id": 42}}},
            {"type": 1, "event": {"name": "created"}},
            {"type": 64, "event": {"plugin": "janus.plugin.videoroom",
                "data": {"event": "joined", "room": "7", "id": 42}}}
        ]);
        assert_eq!(
            reported(&batch),
            [
                Reported::Joined {
                    room: 7,
                    id: 42,
                    token: "t0k".into()
                },
                Reported::Published { room: 7, id: 42 },
            ]
        );
        let one = serde_json::json!({"event": {"plugin": "janus.plugin.videoroom",
            "data": {"event": "joined", "room": 7, "id": 1}}});
        assert_eq!(
            reported(&one),
            [Reported::Joined {
                room: 7,
                id: 1,
                token: String::new()
            }]
        );
    }
}
