//! Outgoing email (invitations): over SMTP through lettre when
//! `GUESTLINK_SMTP_URL` is set; into an in-memory outbox under `guestlink
//! demo`, whose page shows it; nowhere otherwise. Sending happens after the
//! request that asked for it has been answered, so a slow or refusing
//! server never holds a page up.

use std::sync::Mutex;
use std::time::Duration as StdDuration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Mode, Settings};

/// A message to one person, in plain text and HTML.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to_name: String,
    pub to_email: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What the demo's outbox keeps of a message.
#[derive(Clone, Debug)]
pub struct Caught {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub at: crate::domain::time::Timestamp,
}

/// The demo's outbox keeps this many messages, the newest.
const OUTBOX_SIZE: usize = 50;

pub enum Mailer {
    /// No mail is sent: the owner copies the link.
    Off,
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// The demo catches what it would send.
    Outbox(Mutex<Vec<Caught>>),
}

/// Why a message was not sent (its details are logged without addresses).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SendError(String);

impl Mailer {
    /// The mailer the settings ask for. A URL lettre cannot use was refused
    /// at start, so this only fails on a mistake of ours.
    pub fn from_settings(settings: &Settings) -> Mailer {
        let invites = &settings.invites;
        match (&invites.smtp, settings.mode) {
            (Some(url), _) => {
                let from = invites.mail_from.parse::<Mailbox>();
                match (
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str()),
                    from,
                ) {
                    (Ok(builder), Ok(from)) => Mailer::Smtp {
                        transport: builder
                            .timeout(Some(StdDuration::from_secs(
                                invites.smtp_timeout.whole_seconds().max(1) as u64,
                            )))
                            .build(),
                        from,
                    },
                    _ => {
                        tracing::error!(url = ?url, "GUESTLINK_SMTP_URL cannot be used: no invitation email will be sent");
                        Mailer::Off
                    }
                }
            }
            (None, Mode::Demo) => Mailer::Outbox(Mutex::default()),
            (None, Mode::Serve) => Mailer::Off,
        }
    }

    /// Whether invitations can be sent by email.
    pub fn configured(&self) -> bool {
        !matches!(self, Mailer::Off)
    }

    pub async fn send(
        &self,
        mail: Mail,
        now: crate::domain::time::Timestamp,
        timeout: StdDuration,
    ) -> Result<(), SendError> {
        match self {
            Mailer::Off => Err(SendError("email is not configured".into())),
            Mailer::Outbox(outbox) => {
                let mut kept = outbox.lock().unwrap_or_else(|e| e.into_inner());
                kept.push(Caught {
                    to: format!("{} <{}>", mail.to_name, mail.to_email),
                    subject: mail.subject,
                    text: mail.text,
                    at: now,
                });
                let extra = kept.len().saturating_sub(OUTBOX_SIZE);
                kept.drain(..extra);
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let to = Mailbox::new(
                    Some(mail.to_name.clone()),
                    mail.to_email
                        .parse()
                        .map_err(|_| SendError("the address is not one SMTP accepts".into()))?,
                );
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject)
                    .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
                    .map_err(|e| SendError(format!("the message could not be built: {e}")))?;
                // lettre's own timeout covers each command; this one the
                // whole conversation, so a server that trickles cannot hold
                // a task for ever.
                match tokio::time::timeout(timeout, transport.send(message)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(SendError(smtp_problem(&e))),
                    Err(_) => Err(SendError("the mail server did not answer in time".into())),
                }
            }
        }
    }

    /// The demo outbox's messages, the newest first.
    pub fn caught(&self) -> Vec<Caught> {
        match self {
            Mailer::Outbox(outbox) => {
                let kept = outbox.lock().unwrap_or_else(|e| e.into_inner());
                kept.iter().rev().cloned().collect()
            }
            _ => Vec::new(),
        }
    }
}

/// An SMTP error in words, without the addresses a server may echo.
fn smtp_problem(e: &lettre::transport::smtp::Error) -> String {
    if e.is_permanent() {
        "the mail server refused the message".into()
    } else if e.is_transient() {
        "the mail server could not take the message now".into()
    } else if e.is_timeout() {
        "the mail server did not answer in time".into()
    } else {
        "the mail server could not be reached".into()
    }
}
