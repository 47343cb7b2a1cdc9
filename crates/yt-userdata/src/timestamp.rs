//! Timestamps as the database stores them: RFC 3339 UTC text with exactly six fractional
//! digits, e.g. `2024-05-01T12:00:00.000000Z`.
//!
//! Both engines keep microseconds, so values are truncated to microseconds before they are
//! written; a timestamp read back then equals the one written.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// The current time at the precision the database keeps.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The stored text of a timestamp.
pub(crate) fn encode(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses stored text; `column` names the value in the error.
pub(crate) fn decode(text: &str, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: e.into(),
        })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn text_is_fixed_width_utc_with_microseconds() {
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        assert_eq!(encode(at), "2024-05-01T12:00:00.000000Z");
        assert_eq!(decode("2024-05-01T12:00:00.000000Z", "t").unwrap(), at);
    }

    #[test]
    fn now_survives_a_round_trip() {
        let at = now();
        assert_eq!(decode(&encode(at), "t").unwrap(), at);
    }
}
