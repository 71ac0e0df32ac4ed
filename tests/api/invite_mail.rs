//! Invitation email over a real SMTP conversation: a small SMTP listener
//! inside the test takes the message (headers, both bodies, the link that
//! works), refuses it, or holds the connection without a word; the
//! invitation is kept and usable whatever the mail server does, and the
//! request never waits for it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::guest_helpers::{Browser, ITEM_TITLE, Shared};
use crate::helpers::Backend;
use crate::invite_helpers::{
    INVITEE_EMAIL, INVITEE_NAME, Invite, invites_path, listed_one, page_path, resend,
};
use guestlink::config::SmtpUrl;
use guestlink_test_macros::both_backends;

const FROM: &str = "Course media <media@tool.example.edu>";

/// What the listener does with a message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Accept,
    /// Refuses the recipient (550).
    Refuse,
    /// Takes the connection and never says a word.
    Hang,
}

/// One message as the listener received it.
#[derive(Clone, Debug)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

struct SmtpListener {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    connections: Arc<Mutex<usize>>,
}

impl SmtpListener {
    async fn start(behaviour: Behaviour) -> SmtpListener {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (kept, counted) = (received.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                *counted.lock().unwrap() += 1;
                let kept = kept.clone();
                tokio::spawn(async move {
                    if behaviour == Behaviour::Hang {
                        // Hold the socket open, silent, for longer than the tool waits.
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        drop(socket);
                        return;
                    }
                    let _ = converse(socket, behaviour, kept).await;
                });
            }
        });
        SmtpListener {
            port,
            received,
            connections,
        }
    }

    fn url(&self) -> SmtpUrl {
        SmtpUrl::parse(&format!("smtp://127.0.0.1:{}", self.port)).unwrap()
    }

    fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

/// The server's side of RFC 5321, as much as a client sending one message
/// needs.
async fn converse(
    socket: tokio::net::TcpStream,
    behaviour: Behaviour,
    kept: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 test.example.org ESMTP\r\n").await?;
    let mut message = Received {
        mail_from: String::new(),
        rcpt_to: Vec::new(),
        data: String::new(),
    };
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let verb = verb.split(':').next().unwrap_or_default().to_string();
        match verb.as_str() {
            "EHLO" | "HELO" => write.write_all(b"250 test.example.org\r\n").await?,
            "MAIL" => {
                message.mail_from = command.clone();
                write.write_all(b"250 OK\r\n").await?;
            }
            "RCPT" if behaviour == Behaviour::Refuse => {
                write.write_all(b"550 5.1.1 No such user here\r\n").await?;
            }
            "RCPT" => {
                message.rcpt_to.push(command.clone());
                write.write_all(b"250 OK\r\n").await?;
            }
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    // Dot-stuffing (RFC 5321, 4.5.2).
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                message.data = data;
                kept.lock().unwrap().push(message.clone());
                write.write_all(b"250 OK: queued\r\n").await?;
            }
            "RSET" | "NOOP" => write.write_all(b"250 OK\r\n").await?,
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"502 Command not implemented\r\n").await?,
        }
    }
}

/// A message's parts: (headers, body decoded), the message's own first.
fn parts(data: &str) -> Vec<(String, String)> {
    let (head, body) = data.split_once("\r\n\r\n").unwrap_or((data, ""));
    let mut found = vec![(head.to_string(), body.to_string())];
    let boundary = head
        .split(|c| c == ';' || c == '\n')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim().trim_matches('"').to_string());
    if let Some(boundary) = boundary {
        for piece in body.split(&format!("--{boundary}")).skip(1) {
            if piece.starts_with("--") {
                break;
            }
            let piece = piece.trim_start_matches("\r\n");
            let (h, b) = piece.split_once("\r\n\r\n").unwrap_or((piece, ""));
            found.push((h.to_string(), decode(h, b)));
        }
    }
    found
}

/// A part's body as written, whatever transfer encoding lettre chose.
fn decode(headers: &str, body: &str) -> String {
    let lower = headers.to_ascii_lowercase();
    if lower.contains("content-transfer-encoding: base64") {
        use base64::Engine;
        let joined: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(joined)
            .expect("base64 body");
        String::from_utf8(bytes).unwrap()
    } else if lower.contains("content-transfer-encoding: quoted-printable") {
        let soft = body.replace("=\r\n", "");
        let mut out = Vec::new();
        let bytes = soft.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).expect("a QP escape"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    } else {
        body.to_string()
    }
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn shared_with_mail(backend: Backend, listener: &SmtpListener) -> Shared {
    let url = listener.url();
    Shared::start_with(backend, move |s| {
        s.invites.smtp = Some(url);
        s.invites.mail_from = FROM.into();
        s.invites.smtp_timeout = guestlink::domain::time::Duration::seconds(2);
    })
    .await
}

/// Invites the test's invitee with "Send link via email".
async fn invite_by_email(shared: &Shared) -> Invite {
    crate::log_check::record_secret(INVITEE_EMAIL);
    let reply = shared
        .course
        .post_json(
            &invites_path(&shared.media),
            Some(&shared.owner),
            &json!({"email": INVITEE_EMAIL, "name": INVITEE_NAME, "send_email": true}),
        )
        .await;
    reply.expect(201, None, "invite by email");
    Invite::of(&reply)
}

/// Waits until the listed invitation's email status is `want`.
async fn email_status_becomes(shared: &Shared, id: &str, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let listed = listed_one(&shared.course, &shared.owner, &shared.media, id).await;
        if listed["email_status"] == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "email_status became {want}: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[both_backends]
async fn the_invitation_goes_out_by_smtp_with_both_bodies_and_a_working_link(backend: Backend) {
    let listener = SmtpListener::start(Behaviour::Accept).await;
    let shared = shared_with_mail(backend, &listener).await;
    let list = crate::invite_helpers::listed(&shared.course, &shared.owner, &shared.media).await;
    assert_eq!(list["mail"], true, "Send link via email is offered");
    let made = invite_by_email(&shared).await;
    email_status_becomes(&shared, &made.id, "sent").await;
    let messages = listener.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(
        message.mail_from.contains("<media@tool.example.edu>"),
        "{}",
        message.mail_from
    );
    assert_eq!(message.rcpt_to.len(), 1);
    assert!(
        message.rcpt_to[0].contains(INVITEE_EMAIL),
        "{:?}",
        message.rcpt_to
    );

    let pieces = parts(&message.data);
    let head = &pieces[0].0;
    assert!(
        header(head, "From")
            .unwrap()
            .contains("media@tool.example.edu"),
        "{head}"
    );
    let to = header(head, "To").unwrap();
    assert!(
        to.contains(INVITEE_EMAIL) && to.contains(INVITEE_NAME),
        "{to}"
    );
    let subject = header(head, "Subject").unwrap();
    assert!(subject.contains(ITEM_TITLE), "{subject}");
    assert!(
        header(head, "Content-Type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "{head}"
    );
    let url = made.json["url"].as_str().unwrap();
    let body_of = |kind: &str| {
        pieces
            .iter()
            .find(|(h, _)| header(h, "Content-Type").is_some_and(|t| t.starts_with(kind)))
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("a {kind} part in {}", message.data))
    };
    for (kind, body) in [
        ("text/plain", body_of("text/plain")),
        ("text/html", body_of("text/html")),
    ] {
        for expected in [url, ITEM_TITLE, "Viewer", INVITEE_EMAIL, "only"] {
            assert!(body.contains(expected), "{kind} has {expected:?}: {body}");
        }
        // Who invites, the course, and until when.
        assert!(body.contains("invited you"), "{kind}: {body}");
        assert!(body.contains("UTC"), "{kind}: {body}");
    }
    assert!(body_of("text/html").contains(&format!("href=\"{url}\"")));

    // The link in the email works.
    let mut invitee = Browser::new();
    let page = invitee.get(shared.app(), &page_path(&made.token)).await;
    assert_eq!(page.status, 200, "{}", page.body);

    // Resend sends a new message with the new link.
    let renewed = resend(&shared.course, &shared.owner, &shared.media, &made.id).await;
    renewed.expect(200, None, "resend");
    let new_url = renewed.json["url"].as_str().unwrap().to_string();
    crate::invite_helpers::token_of(&new_url);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while listener.messages().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "a second message");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let second = parts(&listener.messages()[1].data);
    assert!(second.iter().any(|(_, b)| b.contains(&new_url)));
}

#[both_backends]
async fn a_refusing_server_marks_the_email_failed_and_the_link_still_works(backend: Backend) {
    let listener = SmtpListener::start(Behaviour::Refuse).await;
    let shared = shared_with_mail(backend, &listener).await;
    let made = invite_by_email(&shared).await;
    email_status_becomes(&shared, &made.id, "failed").await;
    assert!(listener.messages().is_empty());
    let listed = listed_one(&shared.course, &shared.owner, &shared.media, &made.id).await;
    assert_eq!(listed["status"], "pending");
    let page = Browser::new()
        .get(shared.app(), &page_path(&made.token))
        .await;
    assert_eq!(page.status, 200, "the copied link works: {}", page.body);
}

#[both_backends]
async fn a_silent_server_never_holds_the_request_and_the_send_fails_in_time(backend: Backend) {
    let listener = SmtpListener::start(Behaviour::Hang).await;
    let shared = shared_with_mail(backend, &listener).await;
    let made = invite_by_email(&shared).await;
    // The answer came while the mail server still says nothing.
    assert_eq!(made.json["email_status"], "not_sent");
    assert!(made.json["url"].as_str().is_some());
    // Other requests go on meanwhile.
    let page = Browser::new()
        .get(shared.app(), &page_path(&made.token))
        .await;
    assert_eq!(page.status, 200);
    email_status_becomes(&shared, &made.id, "failed").await;
    assert_eq!(listener.connections(), 1);
    let listed = listed_one(&shared.course, &shared.owner, &shared.media, &made.id).await;
    assert_eq!(listed["status"], "pending");
}
