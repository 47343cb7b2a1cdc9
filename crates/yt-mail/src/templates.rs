//! The messages we send, in plain text and HTML.

use chrono::{DateTime, Utc};
use html_escape::{encode_double_quoted_attribute, encode_text};

/// The "your export is ready" message's variable parts.
pub struct ExportReady<'a> {
    pub display_name: Option<&'a str>,
    pub download_url: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// Subject, plain text and HTML of the "ready" message.
pub fn export_ready(ready: &ExportReady<'_>) -> (String, String, String) {
    let greeting = match ready.display_name {
        Some(name) if !name.trim().is_empty() => format!("Hello {},", name.trim()),
        _ => "Hello,".to_owned(),
    };
    let expires = ready.expires_at.format("%Y-%m-%d %H:%M UTC").to_string();

    let subject = "Your YouTube Feed Aggregator data export is ready".to_owned();

    let text = format!(
        "{greeting}\n\n\
         the export of your data is ready. Download it here (you will be asked to sign in):\n\n\
         {url}\n\n\
         The link works until {expires}; after that the archive is deleted and you can \
         request a new export from your account page.\n\n\
         If you did not ask for this export, sign in and change your password.\n",
        url = ready.download_url,
    );

    let html = format!(
        "<!doctype html>\n<html><body style=\"font-family: sans-serif\">\n\
         <p>{greeting}</p>\n\
         <p>the export of your data is ready.</p>\n\
         <p><a href=\"{href}\">Download your data</a></p>\n\
         <p>The link works until {expires}; after that the archive is deleted and you can \
         request a new export from your account page.</p>\n\
         <p>If you did not ask for this export, sign in and change your password.</p>\n\
         </body></html>\n",
        greeting = encode_text(&greeting),
        href = encode_double_quoted_attribute(ready.download_url),
    );

    (subject, text, html)
}

/// The "your export failed" message's variable parts.
pub struct ExportFailed<'a> {
    pub display_name: Option<&'a str>,
    /// What went wrong, in the words the account page uses.
    pub reason: &'a str,
    /// The account page, where a new export can be requested.
    pub account_url: &'a str,
}

/// Subject, plain text and HTML of the "failed" message.
pub fn export_failed(failed: &ExportFailed<'_>) -> (String, String, String) {
    let greeting = match failed.display_name {
        Some(name) if !name.trim().is_empty() => format!("Hello {},", name.trim()),
        _ => "Hello,".to_owned(),
    };

    let subject = "Your YouTube Feed Aggregator data export could not be completed".to_owned();

    let text = format!(
        "{greeting}\n\n\
         we could not complete the export of your data.\n\n\
         {reason}\n\n\
         You can request a new export from your account page:\n\n\
         {url}\n",
        reason = failed.reason,
        url = failed.account_url,
    );

    let html = format!(
        "<!doctype html>\n<html><body style=\"font-family: sans-serif\">\n\
         <p>{greeting}</p>\n\
         <p>we could not complete the export of your data.</p>\n\
         <p>{reason}</p>\n\
         <p><a href=\"{href}\">Request a new export</a></p>\n\
         </body></html>\n",
        greeting = encode_text(&greeting),
        reason = encode_text(failed.reason),
        href = encode_double_quoted_attribute(failed.account_url),
    );

    (subject, text, html)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn names_are_escaped_in_html_and_the_link_appears_in_both_bodies() {
        let ready = ExportReady {
            display_name: Some("<b>Eve</b> & \"co\""),
            download_url: "http://localhost:8000/api/account/export/download/yt-export-x.zip",
            expires_at: Utc.with_ymd_and_hms(2026, 12, 4, 9, 5, 0).unwrap(),
        };

        let (subject, text, html) = export_ready(&ready);

        assert!(subject.contains("ready"));
        assert!(text.contains(ready.download_url));
        assert!(text.contains("2026-12-04 09:05 UTC"));
        assert!(html.contains("href=\"http://localhost:8000/api/account/export/download/"));
        assert!(html.contains("&lt;b&gt;Eve&lt;/b&gt; &amp;"));
        assert!(!html.contains("<b>Eve"));
    }

    #[test]
    fn the_failure_message_gives_the_reason_and_the_way_back() {
        let failed = ExportFailed {
            display_name: None,
            reason: "Your account <no longer> exists.",
            account_url: "http://localhost:8000/account",
        };

        let (subject, text, html) = export_failed(&failed);

        assert!(subject.contains("could not be completed"));
        assert!(text.contains("Your account <no longer> exists."));
        assert!(text.contains("http://localhost:8000/account"));
        assert!(html.contains("&lt;no longer&gt;"));
    }
}
