//! Turning the configured database URL into one the driver opens.
//!
//! For SQLite that means creating the file's folder and asking for the file to be created
//! (`mode=rwc`), so that a fresh checkout runs with `sqlite://data/yt.db` and nothing else.
//! PostgreSQL URLs pass through untouched.

use std::path::Path;

use crate::{Backend, DbError};

/// A URL the driver can open, with what we learned from it.
pub(crate) struct Target {
    pub backend: Backend,
    pub url: String,
    /// An in-memory SQLite database lives only while a connection is open.
    pub in_memory: bool,
}

/// Checks `url` and prepares the ground for it (the SQLite file's parent folders).
pub(crate) fn prepare(url: &str) -> Result<Target, DbError> {
    let Some(backend) = Backend::from_url(url) else {
        return Err(DbError::InvalidUrl(
            "expected a sqlite:// or postgres:// URL".to_owned(),
        ));
    };

    match backend {
        Backend::Postgres => Ok(Target {
            backend,
            url: url.to_owned(),
            in_memory: false,
        }),
        Backend::Sqlite => prepare_sqlite(url),
    }
}

fn prepare_sqlite(url: &str) -> Result<Target, DbError> {
    let rest = &url["sqlite:".len()..];
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(DbError::InvalidUrl(
            "a sqlite URL needs a file path".to_owned(),
        ));
    }

    if path == ":memory:" {
        let url = query.map_or_else(
            || "sqlite::memory:".to_owned(),
            |q| format!("sqlite::memory:?{q}"),
        );
        return Ok(Target {
            backend: Backend::Sqlite,
            url,
            in_memory: true,
        });
    }
    if query.is_some_and(|q| q.split('&').any(|p| p == "mode=memory")) {
        return Ok(Target {
            backend: Backend::Sqlite,
            url: url.to_owned(),
            in_memory: true,
        });
    }

    let file = percent_decode(path)?;
    if let Some(folder) = Path::new(&file)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(|e| DbError::Unavailable(e.into()))?;
    }
    let url = match query {
        Some(query) if query.split('&').any(|p| p.starts_with("mode=")) => url.to_owned(),
        Some(query) => format!("sqlite://{path}?{query}&mode=rwc"),
        None => format!("sqlite://{path}?mode=rwc"),
    };
    Ok(Target {
        backend: Backend::Sqlite,
        url,
        in_memory: false,
    })
}

/// Decodes `%XX` escapes the way the SQLite driver does, so we create the same folder it
/// will open.
fn percent_decode(path: &str) -> Result<String, DbError> {
    let invalid = || DbError::InvalidUrl("the sqlite file path is not valid UTF-8".to_owned());
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| path.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_ask_for_the_file_to_be_created() {
        let target = prepare("sqlite::memory:").unwrap();
        assert!(target.in_memory);
        assert_eq!(target.url, "sqlite::memory:");
        assert!(prepare("sqlite://:memory:").unwrap().in_memory);

        let dir = std::env::temp_dir().join(format!("yt-userdata-url-{}", std::process::id()));
        let file = dir.join("a%20b").join("x.db");
        let target = prepare(&format!("sqlite://{}", file.display())).unwrap();
        assert_eq!(target.url, format!("sqlite://{}?mode=rwc", file.display()));
        assert!(dir.join("a b").is_dir());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn other_schemes_are_refused_without_echoing_the_url() {
        for url in ["mysql://root:secret@host/db", "secret", "", "sqlite://"] {
            match prepare(url) {
                Err(DbError::InvalidUrl(reason)) => assert!(!reason.contains("secret")),
                _ => panic!("{url} was accepted"),
            }
        }
    }

    #[test]
    fn an_explicit_mode_is_kept() {
        let target = prepare("sqlite://x.db?mode=ro").unwrap();
        assert_eq!(target.url, "sqlite://x.db?mode=ro");
        assert_eq!(
            prepare("postgresql://h/db").unwrap().backend,
            Backend::Postgres
        );
    }
}
