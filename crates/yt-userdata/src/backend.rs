//! The two database engines and the few SQL fragments in which they differ.
//!
//! Everything else is written once: both engines take `$1..$n` placeholders, `RETURNING`
//! and the same DDL shapes. What differs is time. SQLite keeps timestamps as fixed-width
//! RFC 3339 UTC text (so text order is time order), PostgreSQL as `TIMESTAMPTZ`; the
//! `Any` driver carries neither engine's native time type, so PostgreSQL converts to and
//! from the same text at the edge of each statement.

use std::{borrow::Cow, fmt};

use serde::Serialize;

/// Which engine a [`Database`](crate::Database) talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A single file (or memory), for development and small installs.
    Sqlite,
    /// A PostgreSQL server, for production.
    Postgres,
}

impl Backend {
    /// The engine named by a URL's scheme, if we support it.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }

    /// The name used in logs and URLs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// A timestamp column read as RFC 3339 UTC text with microseconds.
    pub(crate) fn read_time(self, column: &str) -> String {
        match self {
            Self::Sqlite => column.to_owned(),
            Self::Postgres => {
                format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
            }
        }
    }

    /// An aggregate of the rows' `values` into one JSON array of arrays, as text.
    ///
    /// Neither engine promises to aggregate in the order of a sorted subquery, so callers
    /// sort what they parse. PostgreSQL writes a `TIMESTAMPTZ` in JSON as RFC 3339 with
    /// its offset, which parses like SQLite's stored text.
    pub(crate) fn json_rows(self, values: &str) -> String {
        match self {
            Self::Sqlite => format!("json_group_array(json_array({values}))"),
            Self::Postgres => format!("json_agg(json_build_array({values}))::text"),
        }
    }

    /// Placeholder `$n` for a timestamp bound as RFC 3339 text.
    pub(crate) fn write_time(self, n: usize) -> String {
        match self {
            Self::Sqlite => format!("${n}"),
            Self::Postgres => format!("${n}::timestamptz"),
        }
    }

    /// Placeholder number `n` in a statement with thousands of parameters.
    ///
    /// SQLite gets an anonymous `?`, bound by position: it resolves named parameters such
    /// as `$7` by a linear scan, which makes binding a large statement quadratic.
    pub(crate) fn bulk_placeholder(self, n: usize) -> Cow<'static, str> {
        match self {
            Self::Sqlite => Cow::Borrowed("?"),
            Self::Postgres => Cow::Owned(format!("${n}")),
        }
    }

    /// [`Backend::bulk_placeholder`] for a timestamp bound as RFC 3339 text.
    pub(crate) fn bulk_time_placeholder(self, n: usize) -> Cow<'static, str> {
        match self {
            Self::Sqlite => Cow::Borrowed("?"),
            Self::Postgres => Cow::Owned(format!("${n}::timestamptz")),
        }
    }

    /// The most parameters one statement may carry.
    pub(crate) fn max_parameters(self) -> usize {
        match self {
            Self::Sqlite => 32_766,
            Self::Postgres => 65_535,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
