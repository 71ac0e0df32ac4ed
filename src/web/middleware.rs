//! Cross-cutting request handling: the client's address (trusting
//! `X-Forwarded-For` only from configured proxies), security headers, and
//! one log line per request with secrets redacted.

use std::net::IpAddr;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};

use crate::config::IpNet;
use crate::service::Tool;

/// The address of the person making the request.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

/// The client's address as `request_context` worked it out (None only when
/// the connection had no peer address).
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<IpAddr> {
    req.extensions().get::<ClientAddr>().map(|c| c.0)
}

/// The client address: the peer, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not one. Behind a
/// university's proxy every guest would otherwise look like one client.
pub fn client_addr(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let Some(chain) = forwarded_for else {
        return Some(peer);
    };
    let mut nearest = peer;
    for hop in chain.rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        nearest = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(nearest)
}

/// The request path as it may be logged: guest-link tokens are cut out, and
/// the query string (which can carry a session token) is never included.
pub fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/g/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, tail)) => format!("/g/<token>/{tail}"),
            None => "/g/<token>".to_string(),
        },
        None => path.to_string(),
    }
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let trusted = req
        .app_data::<web::Data<Tool>>()
        .map(|tool| tool.settings.trusted_proxies.clone())
        .unwrap_or_default();
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let client = client_addr(
        req.peer_addr().map(|a| a.ip()),
        forwarded.as_deref(),
        &trusted,
    );
    if let Some(ip) = client {
        req.extensions_mut().insert(ClientAddr(ip));
    }
    let method = req.method().clone();
    let path = loggable_path(req.path());

    let mut response = next.call(req).await?;

    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // No inline scripts anywhere: every script is a file under /static.
    // Framing stays open because LMSs embed the tool in iframes.
    // A route may set a stricter policy of its own (the admin console forbids framing).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; media-src 'self' blob: https:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self' https: http:",
            ),
        );
    }
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let client = client.map(|ip| ip.to_string()).unwrap_or_default();
    if status >= 500 {
        tracing::warn!(%method, path, status, elapsed_ms, client, "request");
    } else {
        tracing::debug!(%method, path, status, elapsed_ms, client, "request");
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| IpNet::parse(s).unwrap()).collect()
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let ip = client_addr(
            Some("203.0.113.9".parse().unwrap()),
            Some("1.2.3.4"),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn trusted_proxies_pass_on_the_nearest_untrusted_address() {
        let ip = client_addr(
            Some("10.0.0.2".parse().unwrap()),
            Some("6.6.6.6, 198.51.100.7, 10.0.0.3"),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(ip, Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn guest_tokens_never_reach_the_log() {
        assert_eq!(loggable_path("/g/SECRET"), "/g/<token>");
        assert_eq!(loggable_path("/g/SECRET/view"), "/g/<token>/view");
        assert_eq!(loggable_path("/lti/launch"), "/lti/launch");
    }
}
