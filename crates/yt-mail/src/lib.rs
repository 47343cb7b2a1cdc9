//! Emails to users.
//!
//! A [`Mailer`] sends through Mailgun's HTTP API (`YT_MAILGUN_API_KEY`), through SMTP
//! (`YT_SMTP_URL`, e.g. `smtp://127.0.0.1:2525` or `smtps://user:pass@mail.example.com`)
//! or, when neither is configured, writes each message as an `.eml` file into an outbox
//! folder so development needs no mail server. Templates are compiled in; every message
//! carries a Message-ID that names the job it is about.

mod mailer;
mod mailgun;
mod templates;

pub use mailer::{MailError, Mailer, SentMail};
pub use mailgun::MailgunApiKey;
pub use templates::{ExportFailed, ExportReady, export_failed, export_ready};

/// The recipient as logs may show it: first letter and domain (`d***@example.com`).
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first = local.chars().next().map(String::from).unwrap_or_default();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// `text` with every occurrence of `address` (in any letter case) masked: for errors
/// that echo the recipient, such as an SMTP server's `550 <alice@example.com> unknown`.
pub fn mask_address_in(text: &str, address: &str) -> String {
    if address.is_empty() {
        return text.to_owned();
    }
    let haystack = text.to_ascii_lowercase();
    let needle = address.to_ascii_lowercase();
    let masked = mask_address(address);
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (start, _) in haystack.match_indices(&needle) {
        out.push_str(&text[rest..start]);
        out.push_str(&masked);
        rest = start + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::{mask_address, mask_address_in};

    #[test]
    fn masks_keep_only_first_letter_and_domain() {
        assert_eq!(mask_address("demo@example.com"), "d***@example.com");
        assert_eq!(mask_address("not-an-address"), "***");
    }

    #[test]
    fn an_echoed_recipient_is_masked_in_any_case() {
        let reply = "550 5.1.1 <Demo@Example.com>: unknown user demo@example.com";
        assert_eq!(
            mask_address_in(reply, "demo@example.com"),
            "550 5.1.1 <d***@example.com>: unknown user d***@example.com"
        );
        assert_eq!(
            mask_address_in("421 try later", "demo@example.com"),
            "421 try later"
        );
    }
}
