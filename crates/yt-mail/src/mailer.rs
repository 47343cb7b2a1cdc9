//! The transports: SMTP, or an outbox folder.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
};

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
}

impl MailError {
    /// Whether sending again later can help (a 4xx reply, a dropped connection).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Smtp(e) => !e.is_permanent(),
            Self::Outbox(_) => true,
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
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
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
    // The SMTP URL may hold a password: show only which transport this is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match &self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Outbox { .. } => "outbox",
        };
        f.debug_struct("Mailer")
            .field("transport", &transport)
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

        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(text, html))?;

        let outbox_file = match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
                None
            }
            Transport::Outbox { transport, dir } => {
                let id = transport.send(message).await?;
                Some(dir.join(format!("{id}.eml")))
            }
        };
        Ok(SentMail {
            message_id,
            outbox_file,
        })
    }
}

fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.parse().map_err(|source| MailError::Address {
        which: "from",
        source,
    })
}
