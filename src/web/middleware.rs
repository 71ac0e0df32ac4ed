//! Cross-cutting request handling: the client's address (trusting
//! `X-Forwarded-For` only from configured proxies), security headers, and
//! one log line per request with secrets redacted.

use std::net::IpAddr;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError, web};

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
///
/// Every `X-Forwarded-For` header line counts, in order (a proxy may add its
/// own line after the one the client sent), and hops may carry a port
/// (`203.0.113.7:5678`, `[2001:db8::1]:443`). The walk goes from the nearest
/// hop outwards and stops at the first address no trusted proxy vouches for:
/// what lies beyond it was written by the client.
pub fn client_addr<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|line| line.split(','))
        .collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = forwarded_hop(hop) else {
            break;
        };
        nearest = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(nearest)
}

/// One hop of `X-Forwarded-For`: an address, with or without a port, IPv6
/// with or without brackets. None for anything else ("unknown", garbage).
pub fn forwarded_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    hop.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|v6| v6.parse::<std::net::Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

/// Whether the query string names a `session` parameter: a session token is
/// never taken from a URL, and asking for it there is refused outright.
pub fn has_session_parameter(query: &str) -> bool {
    !query.is_empty() && url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "session")
}

/// The request path as it may be logged: guest-link and invitation tokens
/// are cut out, and the query string (which can carry a session token) is
/// never included.
pub fn loggable_path(path: &str) -> String {
    for prefix in ["/g/", "/i/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            return match rest.split_once('/') {
                Some((_, tail)) => format!("{prefix}<token>/{tail}"),
                None => format!("{prefix}<token>"),
            };
        }
    }
    path.to_string()
}

const FRAMED_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; media-src 'self' blob: https:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self' https: http:";
const NEVER_FRAMED_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; media-src 'self' blob: https:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const SAME_ORIGIN_FRAMED_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; media-src 'self' blob: https:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

/// Who may frame a response.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// The pages LMSs embed.
    Anyone,
    /// A guest's (and an invitee's) pages, opened in a tab of their own: a
    /// page of another site framing them could only be a trap.
    Nobody,
    /// Their files: the guest's own page shows a PDF in a frame.
    SameOrigin,
}

fn framing(path: &str) -> Framing {
    if !(path.starts_with("/g/") || path.starts_with("/i/")) {
        Framing::Anyone
    } else if path.ends_with("/file") {
        Framing::SameOrigin
    } else {
        Framing::Nobody
    }
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let tool = req.app_data::<web::Data<Tool>>().cloned();
    let trusted = tool
        .as_ref()
        .map(|tool| tool.settings.server.trusted_proxies.clone())
        .unwrap_or_default();
    let client = client_addr(
        req.peer_addr().map(|a| a.ip()),
        req.headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok()),
        &trusted,
    );
    if let Some(ip) = client {
        req.extensions_mut().insert(ClientAddr(ip));
    }
    let method = req.method().clone();
    let path = loggable_path(req.path());
    let framing = framing(req.path());

    let mut response = if has_session_parameter(req.query_string()) {
        let refusal = if req.path().starts_with("/api/") {
            super::error::ApiError::session_in_url().error_response()
        } else {
            super::error::PageError::session_in_url().error_response()
        };
        req.into_response(refusal).map_into_right_body()
    } else {
        next.call(req).await?.map_into_left_body()
    };

    let headers = response.headers_mut();
    // Pages never tell the next site where the browser came from: some
    // addresses (a guest link) are secrets.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // No inline scripts anywhere: every script is a file under /static.
    // Framing stays open for the pages LMSs embed in iframes, and is closed
    // for guests' pages, which are opened in a tab of their own.
    // A route may set a stricter policy of its own (the admin console forbids framing).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = match framing {
            Framing::Anyone => FRAMED_POLICY,
            Framing::Nobody => {
                headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
                NEVER_FRAMED_POLICY
            }
            Framing::SameOrigin => {
                headers.insert(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("SAMEORIGIN"),
                );
                SAME_ORIGIN_FRAMED_POLICY
            }
        };
        // Rooms' pages call the media servers browsers reach directly.
        let media = tool.as_ref().map_or("", |t| &t.media_origins);
        let value = if media.is_empty() {
            HeaderValue::from_static(policy)
        } else {
            HeaderValue::from_str(&format!("{policy}; connect-src 'self' {media}"))
                .unwrap_or_else(|_| HeaderValue::from_static(policy))
        };
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
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

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let got = client_addr(ip("203.0.113.9"), ["1.2.3.4"], &nets(&["10.0.0.0/8"]));
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn trusted_proxies_pass_on_the_nearest_untrusted_address() {
        let got = client_addr(
            ip("10.0.0.2"),
            ["6.6.6.6, 198.51.100.7, 10.0.0.3"],
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(got, ip("198.51.100.7"));
    }

    #[test]
    fn every_forwarded_for_line_counts_in_order() {
        // The client sent its own line; the proxy added the real address in a second.
        let got = client_addr(
            ip("10.0.0.2"),
            ["6.6.6.6", "198.51.100.7"],
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(got, ip("198.51.100.7"));
    }

    #[test]
    fn hops_with_ports_and_brackets_are_read() {
        let trusted = nets(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        let got = client_addr(ip("10.0.0.2"), ["198.51.100.7:4711, 10.0.0.9:80"], &trusted);
        assert_eq!(got, ip("198.51.100.7"));
        let got = client_addr(
            ip("10.0.0.2"),
            ["[2001:db8:1::5]:443, [2001:db8:ffff::1]"],
            &trusted,
        );
        assert_eq!(got, ip("2001:db8:1::5"));
        assert_eq!(forwarded_hop("unknown"), None);
        assert_eq!(forwarded_hop("[::1"), None);
    }

    #[test]
    fn a_session_parameter_is_found_however_it_is_written() {
        assert!(has_session_parameter("session=abc"));
        assert!(has_session_parameter("a=1&session="));
        assert!(has_session_parameter("se%73sion=x"));
        assert!(!has_session_parameter("sessions=1&x=session"));
        assert!(!has_session_parameter(""));
    }

    #[test]
    fn guest_tokens_never_reach_the_log() {
        assert_eq!(loggable_path("/g/SECRET"), "/g/<token>");
        assert_eq!(loggable_path("/g/SECRET/view"), "/g/<token>/view");
        assert_eq!(loggable_path("/i/SECRET"), "/i/<token>");
        assert_eq!(loggable_path("/i/SECRET/room/chat"), "/i/<token>/room/chat");
        assert_eq!(loggable_path("/lti/launch"), "/lti/launch");
    }

    proptest::proptest! {
        /// Whatever the lines say, the client is the peer or one of their hops.
        #[test]
        fn any_forwarded_for_gives_the_peer_or_one_of_its_hops(
            lines in proptest::collection::vec(".{0,60}", 0..4),
            peer in proptest::arbitrary::any::<IpAddr>(),
        ) {
            let everyone = nets(&["0.0.0.0/0", "::/0"]);
            let got = client_addr(Some(peer), lines.iter().map(String::as_str), &everyone).unwrap();
            let hops: Vec<IpAddr> = lines
                .iter()
                .flat_map(|l| l.split(','))
                .filter_map(forwarded_hop)
                .collect();
            proptest::prop_assert!(got == peer || hops.contains(&got));
        }

        #[test]
        fn a_hop_with_or_without_a_port_reads_back(
            ip in proptest::arbitrary::any::<IpAddr>(),
            port in proptest::arbitrary::any::<u16>(),
        ) {
            proptest::prop_assert_eq!(forwarded_hop(&ip.to_string()), Some(ip));
            proptest::prop_assert_eq!(forwarded_hop(&format!(" {ip} ")), Some(ip));
            let with_port = match ip {
                IpAddr::V4(v4) => format!("{v4}:{port}"),
                IpAddr::V6(v6) => format!("[{v6}]:{port}"),
            };
            proptest::prop_assert_eq!(forwarded_hop(&with_port), Some(ip));
            if let IpAddr::V6(v6) = ip {
                proptest::prop_assert_eq!(forwarded_hop(&format!("[{v6}]")), Some(ip));
            }
        }
    }

    #[test]
    fn without_a_peer_address_there_is_no_client_address() {
        assert_eq!(
            client_addr(None, ["198.51.100.7"], &nets(&["0.0.0.0/0"])),
            None
        );
    }

    #[test]
    fn a_trusted_proxy_that_forwards_nothing_is_the_client() {
        let got = client_addr(ip("10.0.0.2"), std::iter::empty(), &nets(&["10.0.0.0/8"]));
        assert_eq!(got, ip("10.0.0.2"));
    }

    #[test]
    fn when_every_hop_is_trusted_the_farthest_one_is_the_client() {
        let got = client_addr(
            ip("10.0.0.2"),
            ["10.0.0.9, 10.0.0.3"],
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(got, ip("10.0.0.9"));
    }

    #[test]
    fn an_unreadable_hop_stops_the_walk_at_the_last_address_read() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = client_addr(ip("10.0.0.2"), ["198.51.100.7, unknown"], &trusted);
        assert_eq!(got, ip("10.0.0.2"), "what lies beyond is not believed");
        let got = client_addr(
            ip("10.0.0.2"),
            ["198.51.100.7, garbage, 10.0.0.3"],
            &trusted,
        );
        assert_eq!(got, ip("10.0.0.3"));
    }

    #[test]
    fn an_empty_hop_between_commas_is_unreadable() {
        assert_eq!(forwarded_hop(""), None);
        assert_eq!(forwarded_hop("  "), None);
        assert_eq!(forwarded_hop("198.51.100.7:"), None);
    }

    #[test]
    fn pages_an_lms_embeds_may_be_framed_by_anyone() {
        for path in [
            "/",
            "/lti/launch",
            "/media/abc",
            "/media/abc/file",
            "/admin",
            "/gx/1",
        ] {
            assert!(framing(path) == Framing::Anyone, "{path}");
        }
    }

    #[test]
    fn guest_and_invitee_pages_may_be_framed_by_nobody() {
        for path in ["/g/TOKEN", "/g/TOKEN/view", "/i/TOKEN", "/g/TOKEN/file/x"] {
            assert!(framing(path) == Framing::Nobody, "{path}");
        }
    }

    #[test]
    fn a_guests_file_may_be_framed_by_its_own_page() {
        for path in ["/g/TOKEN/file", "/i/TOKEN/file"] {
            assert!(framing(path) == Framing::SameOrigin, "{path}");
        }
    }

    #[test]
    fn only_guest_paths_have_a_token_cut_out_of_the_log() {
        assert_eq!(loggable_path("/g/"), "/g/<token>");
        assert_eq!(loggable_path("/g/T/file/x"), "/g/<token>/file/x");
        assert_eq!(loggable_path("/gallery/T"), "/gallery/T");
        assert_eq!(loggable_path("/media/g/T"), "/media/g/T");
    }

    #[test]
    fn a_session_parameter_is_only_the_exact_key() {
        assert!(!has_session_parameter("session_id=1"));
        assert!(!has_session_parameter("x=session%3D1"));
        assert!(has_session_parameter("x=1&&session"));
    }
}
