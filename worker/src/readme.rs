//! The README.txt that opens every archive.

use std::fmt::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use yt_archive::EntryManifest;
use yt_userdata::User;

/// What each file holds, for the user reading the archive.
fn describe(name: &str) -> &'static str {
    match name {
        "profile.json" => "your account: email, display name, avatar, when it was created",
        "subscriptions.json" => "the YouTube channels you follow here, with when you added them",
        "watched_videos.json" => "every video you marked as watched, with when you watched it",
        _ => "",
    }
}

/// Renders README.txt from the entries already written.
pub fn render(
    user: &User,
    generated_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    entries: &[EntryManifest],
) -> String {
    let stamp = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut text = String::new();

    let _ = writeln!(text, "YouTube Feed Aggregator - export of your data");
    let _ = writeln!(text, "==============================================");
    let _ = writeln!(text);
    let _ = writeln!(text, "Account:       {}", user.email);
    let _ = writeln!(text, "Generated at:  {}", stamp(generated_at));
    let _ = writeln!(
        text,
        "Download until {} (the archive is deleted afterwards)",
        stamp(expires_at)
    );
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "This archive holds everything the service stores about you:"
    );
    let _ = writeln!(text);
    for entry in entries {
        let _ = writeln!(text, "  {}", entry.name);
        let _ = writeln!(text, "      {}", describe(&entry.name));
        match entry.items {
            Some(items) => {
                let _ = writeln!(text, "      {items} entries, {} bytes", entry.bytes);
            }
            None => {
                let _ = writeln!(text, "      {} bytes", entry.bytes);
            }
        }
        let _ = writeln!(text, "      SHA-256 {}", entry.sha256);
    }
    let _ = writeln!(text);
    let _ = writeln!(text, "About the files:");
    let _ = writeln!(
        text,
        "- All files are UTF-8. The .json files are standard JSON; lists"
    );
    let _ = writeln!(text, "  hold one entry per line.");
    let _ = writeln!(
        text,
        "- Times are ISO 8601 in UTC (for example 2024-05-01T12:00:00Z)."
    );
    let _ = writeln!(
        text,
        "- Your password is stored only as a one-way hash and is not included."
    );
    let _ = writeln!(
        text,
        "- Channel and video ids are YouTube's: a channel is at"
    );
    let _ = writeln!(
        text,
        "  https://www.youtube.com/channel/<channel_id>, a video at"
    );
    let _ = writeln!(text, "  https://www.youtube.com/watch?v=<video_id>.");
    text
}
