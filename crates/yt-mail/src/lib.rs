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

#[cfg(test)]
mod tests {
    use super::mask_address;

    #[test]
    fn masks_keep_only_first_letter_and_domain() {
        assert_eq!(mask_address("demo@example.com"), "d***@example.com");
        assert_eq!(mask_address("not-an-address"), "***");
    }
}
