//! The transports: SMTP, Mailgun's HTTP API, or an outbox folder.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
};

use crate::mailgun::{Mailgun, MailgunApiKey, MailgunMessage};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("bad email address {which}: {source}")]
    Address {
        which: &'static str,
        source: lettre::address::AddressError,
    },

    #[error("bad SMTP URL: {0}")]
    SmtpUrl(#[source] lettre::transport::smtp::Error),

    #[error("building the message: {0}")]
    Build(#[from] lettre::error::Error),

    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),

    #[error("writing to the outbox: {0}")]
    Outbox(#[from] lettre::transport::file::Error),

    #[error("creating the outbox folder {path}: {source}")]
    OutboxFolder {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("bad Mailgun base URL {url}: {reason}")]
    MailgunUrl { url: String, reason: String },

    #[error("bad Mailgun domain {0:?}")]
    MailgunDomain(String),

    #[error("setting up the HTTP client for Mailgun: {0}")]
    MailgunClient(#[source] reqwest::Error),

    /// No answer from Mailgun: connection refused or dropped, or no reply in time.
    #[error("reaching Mailgun: {0}")]
    MailgunRequest(#[source] reqwest::Error),

    /// Mailgun answered with an error status.
    #[error("Mailgun answered {status}: {message}")]
    Mailgun { status: u16, message: String },
}

impl MailError {
    /// Whether sending again later can help: an SMTP 4xx reply, a dropped connection,
    /// Mailgun's rate limit (429) or a Mailgun 5xx. Other Mailgun 4xx answers (a bad key,
    /// a refused address) will not change on their own.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Smtp(e) => !e.is_permanent(),
            Self::Outbox(_) => true,
            Self::MailgunRequest(e) => !e.is_builder(),
            Self::Mailgun { status, .. } => *status == 429 || (500..600).contains(status),
            _ => false,
        }
    }
}

/// What was sent.
#[derive(Clone, Debug)]
pub struct SentMail {
    pub message_id: String,
    /// For the outbox: the `.eml` file written.
    pub outbox_file: Option<PathBuf>,
    /// For Mailgun: the id it gave the message, the key to its logs and events.
    pub provider_id: Option<String>,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Mailgun(Mailgun),
    Outbox {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

/// Sends messages from one sender address.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl fmt::Debug for Mailer {
    // The SMTP URL may hold a password and Mailgun needs a key: show only which
    // transport this is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("transport", &self.transport_name())
            .field("from", &self.from)
            .finish()
    }
}

impl Mailer {
    /// Sends through the SMTP server at `url` (`smtp://`, `smtps://`, with optional
    /// credentials and `?tls=required`).
    pub fn smtp(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(MailError::SmtpUrl)?
            .build();
        Ok(Self {
            transport: Transport::Smtp(transport),
            from: parse_from(from)?,
        })
    }

    /// Sends through Mailgun's HTTP API for the sending `domain`. `base_url` is
    /// `https://api.mailgun.net`, or `https://api.eu.mailgun.net` for a domain in the EU
    /// region.
    pub fn mailgun(
        api_key: MailgunApiKey,
        domain: &str,
        base_url: &str,
        from: &str,
    ) -> Result<Self, MailError> {
        Ok(Self {
            transport: Transport::Mailgun(Mailgun::new(api_key, domain, base_url)?),
            from: parse_from(from)?,
        })
    }

    /// Writes messages as `.eml` files into `dir`, creating it if needed.
    pub fn outbox(dir: &Path, from: &str) -> Result<Self, MailError> {
        std::fs::create_dir_all(dir).map_err(|source| MailError::OutboxFolder {
            path: dir.to_owned(),
            source,
        })?;
        let transport = AsyncFileTransport::<Tokio1Executor>::new(dir);
        Ok(Self {
            transport: Transport::Outbox {
                transport,
                dir: dir.to_owned(),
            },
            from: parse_from(from)?,
        })
    }

    pub fn transport_name(&self) -> &'static str {
        match self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Mailgun(_) => "mailgun",
            Transport::Outbox { .. } => "outbox",
        }
    }

    /// Sends one message with plain text and HTML bodies. `reference` (a job id) goes
    /// into the Message-ID so a message can be traced back to its job.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: String,
        html: String,
        reference: &str,
    ) -> Result<SentMail, MailError> {
        let to: Mailbox = to.parse().map_err(|source| MailError::Address {
            which: "to",
            source,
        })?;
        let domain = self.from.email.domain().to_owned();
        let nonce: u64 = rand::random();
        let message_id = format!("<export.{reference}.{nonce:016x}@{domain}>");

        let (outbox_file, provider_id) = match &self.transport {
            Transport::Smtp(smtp) => {
                let message = self.message(to, subject, text, html, &message_id)?;
                smtp.send(message).await?;
                (None, None)
            }
            Transport::Mailgun(mailgun) => {
                let message = MailgunMessage {
                    from: &self.from.to_string(),
                    to: &to.to_string(),
                    subject,
                    text: &text,
                    html: &html,
                    message_id: &message_id,
                };
                (None, mailgun.send(&message).await?)
            }
            Transport::Outbox { transport, dir } => {
                let message = self.message(to, subject, text, html, &message_id)?;
                let id = transport.send(message).await?;
                (Some(dir.join(format!("{id}.eml"))), None)
            }
        };
        Ok(SentMail {
            message_id,
            outbox_file,
            provider_id,
        })
    }

    /// The MIME message for the transports that take one whole.
    fn message(
        &self,
        to: Mailbox,
        subject: &str,
        text: String,
        html: String,
        message_id: &str,
    ) -> Result<Message, MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id.to_owned()))
            .multipart(MultiPart::alternative_plain_html(text, html))?;
        Ok(message)
    }
}

fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.parse().map_err(|source| MailError::Address {
        which: "from",
        source,
    })
}
