//! Outgoing mail: Mailgun, SMTP, or an outbox folder, in that order of precedence.
//!
//! The first transport that is configured wins, so production sets one variable and
//! development sets none: a Mailgun API key means Mailgun, else an SMTP URL means SMTP,
//! else messages land in the outbox folder as `.eml` files.

use std::path::PathBuf;

use clap::Args;
use yt_mail::{MailError, Mailer, MailgunApiKey};

use crate::ConfigError;

#[derive(Args, Clone, Debug)]
pub struct MailArgs {
    /// Mailgun private API key or domain sending key. Set: mail goes through Mailgun's
    /// HTTP API, and YT_MAILGUN_DOMAIN is required. Prefer the variable to the flag,
    /// which other users can see in the process list.
    #[arg(
        long = "mailgun-api-key",
        env = "YT_MAILGUN_API_KEY",
        hide_env_values = true
    )]
    pub mailgun_api_key: Option<MailgunApiKey>,

    /// Mailgun sending domain, e.g. `mg.example.com`.
    #[arg(long = "mailgun-domain", env = "YT_MAILGUN_DOMAIN")]
    pub mailgun_domain: Option<String>,

    /// Mailgun API base URL; `https://api.eu.mailgun.net` for a domain in the EU region.
    #[arg(
        long = "mailgun-base-url",
        env = "YT_MAILGUN_BASE_URL",
        default_value = "https://api.mailgun.net"
    )]
    pub mailgun_base_url: String,

    /// SMTP server for outgoing mail, e.g. `smtp://127.0.0.1:2525` or
    /// `smtps://user:password@mail.example.com`. Used when no Mailgun key is set;
    /// neither set: mail goes to the outbox folder.
    #[arg(long = "smtp-url", env = "YT_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of every message.
    #[arg(
        long = "mail-from",
        env = "YT_MAIL_FROM",
        default_value = "YouTube Feed Aggregator <no-reply@localhost>"
    )]
    pub mail_from: String,

    /// Folder that receives messages as .eml files when neither Mailgun nor SMTP is set.
    #[arg(
        long = "mail-outbox",
        env = "YT_MAIL_OUTBOX",
        default_value = "./outbox"
    )]
    pub outbox: PathBuf,
}

impl MailArgs {
    /// The mailer for the first configured transport: Mailgun, SMTP, then the outbox.
    pub fn mailer(&self) -> Result<Mailer, ConfigError> {
        let api_key = self.mailgun_api_key.as_ref().filter(|key| !key.is_blank());
        let smtp_url = self
            .smtp_url
            .as_deref()
            .filter(|url| !url.trim().is_empty());

        let mailer = match (api_key, smtp_url) {
            (Some(api_key), _) => {
                let domain = self
                    .mailgun_domain
                    .as_deref()
                    .filter(|domain| !domain.trim().is_empty())
                    .ok_or(ConfigError {
                        variable: "YT_MAILGUN_DOMAIN",
                        reason: "required when YT_MAILGUN_API_KEY is set".into(),
                    })?;
                Mailer::mailgun(
                    api_key.clone(),
                    domain,
                    &self.mailgun_base_url,
                    &self.mail_from,
                )
            }
            (None, Some(url)) => Mailer::smtp(url, &self.mail_from),
            (None, None) => Mailer::outbox(&self.outbox, &self.mail_from),
        };

        mailer.map_err(|e| ConfigError {
            variable: variable_to_fix(&e),
            reason: e.to_string(),
        })
    }
}

/// The variable behind a mailer that cannot be built.
fn variable_to_fix(error: &MailError) -> &'static str {
    match error {
        MailError::Address { .. } => "YT_MAIL_FROM",
        MailError::OutboxFolder { .. } => "YT_MAIL_OUTBOX",
        MailError::MailgunDomain(_) => "YT_MAILGUN_DOMAIN",
        MailError::MailgunUrl { .. } | MailError::MailgunClient(_) => "YT_MAILGUN_BASE_URL",
        _ => "YT_SMTP_URL",
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};
    use yt_mail::MailgunApiKey;

    use super::MailArgs;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        mail: MailArgs,
    }

    /// Settings as a fresh deployment has them: defaults, nothing configured.
    fn args(outbox: &tempfile::TempDir) -> MailArgs {
        MailArgs {
            mailgun_api_key: None,
            mailgun_domain: None,
            mailgun_base_url: "https://api.mailgun.net".into(),
            smtp_url: None,
            mail_from: "Exports <no-reply@example.com>".into(),
            outbox: outbox.path().join("outbox"),
        }
    }

    fn with_mailgun(mut args: MailArgs) -> MailArgs {
        args.mailgun_api_key = Some(MailgunApiKey::new("key-secret-123"));
        args.mailgun_domain = Some("mg.example.com".into());
        args
    }

    #[test]
    fn mailgun_wins_over_smtp_and_smtp_over_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let outbox_only = args(&dir);
        assert_eq!(outbox_only.mailer().unwrap().transport_name(), "outbox");

        let mut smtp = args(&dir);
        smtp.smtp_url = Some("smtp://127.0.0.1:2525".into());
        assert_eq!(smtp.mailer().unwrap().transport_name(), "smtp");

        let both = with_mailgun(smtp);
        assert_eq!(both.mailer().unwrap().transport_name(), "mailgun");
    }

    #[test]
    fn blank_key_counts_as_unset() {
        let dir = tempfile::tempdir().unwrap();
        let mut blank = with_mailgun(args(&dir));
        blank.mailgun_api_key = Some(MailgunApiKey::new("  "));
        assert_eq!(blank.mailer().unwrap().transport_name(), "outbox");
    }

    #[test]
    fn mailgun_key_without_domain_names_the_domain_variable() {
        let dir = tempfile::tempdir().unwrap();
        for domain in [None, Some(String::new())] {
            let mut no_domain = with_mailgun(args(&dir));
            no_domain.mailgun_domain = domain;
            let error = no_domain.mailer().unwrap_err();
            assert_eq!(error.variable, "YT_MAILGUN_DOMAIN");
        }
    }

    #[test]
    fn bad_base_url_names_the_base_url_variable() {
        let dir = tempfile::tempdir().unwrap();
        for url in [
            "api.eu.mailgun.net",
            "ftp://api.mailgun.net",
            "https://api@x",
        ] {
            let mut bad = with_mailgun(args(&dir));
            bad.mailgun_base_url = url.into();
            let error = bad.mailer().unwrap_err();
            assert_eq!(error.variable, "YT_MAILGUN_BASE_URL", "{url}");
            assert!(!error.reason.contains("key-secret-123"), "{}", error.reason);
        }
    }

    #[test]
    fn debug_of_the_settings_hides_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let args = with_mailgun(args(&dir));
        assert!(!format!("{args:?}").contains("key-secret-123"));
    }

    #[test]
    fn help_lists_the_variables_with_the_us_default_and_hides_the_key() {
        let command = Cli::command();
        let arg = |id: &str| {
            command
                .get_arguments()
                .find(|arg| arg.get_id() == id)
                .unwrap_or_else(|| panic!("no argument {id}"))
                .clone()
        };

        let key = arg("mailgun_api_key");
        assert_eq!(key.get_env().unwrap(), "YT_MAILGUN_API_KEY");
        assert!(key.is_hide_env_values_set());
        assert_eq!(
            arg("mailgun_domain").get_env().unwrap(),
            "YT_MAILGUN_DOMAIN"
        );

        let base = arg("mailgun_base_url");
        assert_eq!(base.get_env().unwrap(), "YT_MAILGUN_BASE_URL");
        assert_eq!(base.get_default_values(), ["https://api.mailgun.net"]);
    }
}
