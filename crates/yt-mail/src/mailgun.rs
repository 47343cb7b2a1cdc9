//! The Mailgun transport: one HTTP POST per message to Mailgun's sending API.
//!
//! Mailgun builds the MIME message itself from form fields, so this module sends the parts
//! (`from`, `to`, `subject`, `text`, `html`) and our Message-ID as the custom header
//! `h:Message-Id`; the Message-ID then names the job in Mailgun's logs as it does with SMTP.
//! Whether a failure is worth another try is decided here from the HTTP status; the
//! worker does the retrying.

use std::{fmt, str::FromStr, time::Duration};

use reqwest::{Client, StatusCode, Url, redirect};
use serde::Deserialize;

use crate::MailError;

/// How long one send may take, connection included. Mailgun queues the message and
/// answers at once, so a slower answer means trouble on the way; the worker tries again.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// Longest part of an error answer kept in [`MailError::Mailgun`], in characters.
const MAX_ERROR_CHARS: usize = 200;

/// A Mailgun private API key (or domain sending key). `Debug` and `Display` are not
/// implemented to show it: the key only leaves this type as the HTTP basic-auth password.
#[derive(Clone, PartialEq, Eq)]
pub struct MailgunApiKey(String);

impl MailgunApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// Whether the key is empty or blank, as an unset-but-present variable gives.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for MailgunApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MailgunApiKey(***)")
    }
}

impl FromStr for MailgunApiKey {
    type Err = std::convert::Infallible;

    fn from_str(key: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(key.trim()))
    }
}

/// The message parts Mailgun assembles into MIME.
pub(crate) struct MailgunMessage<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub message_id: &'a str,
}

/// A client for one sending domain.
pub(crate) struct Mailgun {
    client: Client,
    endpoint: Url,
    api_key: MailgunApiKey,
}

/// Mailgun's answer to an accepted message: `{"id": "<...>", "message": "Queued. Thank you."}`.
#[derive(Deserialize)]
struct Accepted {
    id: Option<String>,
}

/// Mailgun's answer to a refused message, when it is JSON.
#[derive(Deserialize)]
struct Refused {
    message: String,
}

impl Mailgun {
    /// A client for `domain` at `base_url` (`https://api.mailgun.net`, or
    /// `https://api.eu.mailgun.net` for domains in the EU region).
    pub fn new(api_key: MailgunApiKey, domain: &str, base_url: &str) -> Result<Self, MailError> {
        let domain = domain.trim();
        if domain.is_empty() || domain.contains(['/', '?', '#', ' ']) {
            return Err(MailError::MailgunDomain(domain.to_owned()));
        }
        let endpoint = messages_endpoint(base_url, domain)?;

        // No redirects: the key must go to the configured host only, and a redirected
        // POST would arrive as a GET.
        let client = Client::builder()
            .timeout(SEND_TIMEOUT)
            .redirect(redirect::Policy::none())
            .user_agent(concat!("yt-mail/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(MailError::MailgunClient)?;
        Ok(Self {
            client,
            endpoint,
            api_key,
        })
    }

    /// Posts one message; returns the id Mailgun gave it, when its answer names one.
    pub async fn send(&self, message: &MailgunMessage<'_>) -> Result<Option<String>, MailError> {
        let form = [
            ("from", message.from),
            ("to", message.to),
            ("subject", message.subject),
            ("text", message.text),
            ("html", message.html),
            ("h:Message-Id", message.message_id),
        ];
        let response = self
            .client
            .post(self.endpoint.clone())
            .basic_auth("api", Some(&self.api_key.0))
            .form(&form)
            .send()
            .await
            .map_err(MailError::MailgunRequest)?;

        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(MailError::Mailgun {
                status: status.as_u16(),
                message: error_message(status, &body),
            });
        }

        // The message is accepted at this point: an unreadable answer must not turn
        // into an error, or the worker would send the message twice.
        match response.json::<Accepted>().await {
            Ok(accepted) => Ok(accepted.id),
            Err(e) => {
                tracing::warn!(error = %e, "Mailgun accepted the message with an unreadable answer");
                Ok(None)
            }
        }
    }
}

/// `{base_url}/v3/{domain}/messages`, keeping any path prefix of the base URL.
fn messages_endpoint(base_url: &str, domain: &str) -> Result<Url, MailError> {
    let bad = |reason: &str| MailError::MailgunUrl {
        url: base_url.to_owned(),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(base_url.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad(
            "the scheme must be https (or http for a local stand-in)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials belong in YT_MAILGUN_API_KEY, not in the URL",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a query or fragment has no place in the base URL"));
    }

    url.path_segments_mut()
        .map_err(|()| bad("the URL cannot have a path"))?
        .pop_if_empty()
        .extend(["v3", domain, "messages"]);
    Ok(url)
}

/// The reason Mailgun gives (`{"message": "..."}`), or the start of the answer's text.
fn error_message(status: StatusCode, body: &str) -> String {
    let message = match serde_json::from_str::<Refused>(body) {
        Ok(refused) => refused.message,
        Err(_) => body.trim().to_owned(),
    };
    if message.is_empty() {
        return status
            .canonical_reason()
            .unwrap_or("no reason given")
            .to_owned();
    }
    message.chars().take(MAX_ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::{MailgunApiKey, error_message, messages_endpoint};

    #[test]
    fn endpoint_keeps_the_base_path_and_adds_the_domain() {
        let url = messages_endpoint("https://api.eu.mailgun.net/", "mg.example.com").unwrap();
        assert_eq!(
            url.as_str(),
            "https://api.eu.mailgun.net/v3/mg.example.com/messages"
        );

        let url = messages_endpoint("http://127.0.0.1:9/proxy", "mg.example.com").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/proxy/v3/mg.example.com/messages"
        );
    }

    #[test]
    fn endpoint_refuses_urls_that_cannot_be_mailgun() {
        for base in [
            "api.mailgun.net",
            "ftp://api.mailgun.net",
            "https://api:key@api.mailgun.net",
            "https://api.mailgun.net?x=1",
        ] {
            assert!(messages_endpoint(base, "mg.example.com").is_err(), "{base}");
        }
    }

    #[test]
    fn error_message_prefers_mailgun_reason_and_is_bounded() {
        let json = r#"{"message": "'to' parameter is not a valid address"}"#;
        assert_eq!(
            error_message(StatusCode::BAD_REQUEST, json),
            "'to' parameter is not a valid address"
        );
        assert_eq!(
            error_message(StatusCode::UNAUTHORIZED, "Forbidden\n"),
            "Forbidden"
        );
        assert_eq!(error_message(StatusCode::BAD_GATEWAY, ""), "Bad Gateway");
        assert_eq!(
            error_message(StatusCode::BAD_GATEWAY, &"x".repeat(999)).len(),
            200
        );
    }

    #[test]
    fn key_debug_hides_the_key() {
        let key: MailgunApiKey = "key-0123456789abcdef".parse().unwrap();
        assert_eq!(format!("{key:?}"), "MailgunApiKey(***)");
    }
}
