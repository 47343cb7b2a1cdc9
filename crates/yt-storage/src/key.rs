//! Storage keys: flat, plain file names.

use std::fmt;

/// The longest key we ever produce, with room to spare.
const MAX_KEY_LEN: usize = 128;

/// A key that could address something outside the exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidKey;

impl fmt::Display for InvalidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a storage key is a plain file name of A-Z, a-z, 0-9, '.', '-' and '_'")
    }
}

impl std::error::Error for InvalidKey {}

/// Accepts only a plain file name: no separators, no leading dot, nothing but
/// `[A-Za-z0-9._-]`, at most 128 bytes.
pub fn validate_key(key: &str) -> Result<&str, InvalidKey> {
    let plain = !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && !key.starts_with('.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if plain { Ok(key) } else { Err(InvalidKey) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_everything_else_is_refused() {
        assert!(validate_key("yt-export-ab_cd-ef.zip").is_ok());
        for bad in [
            "",
            ".",
            "..",
            "../x.zip",
            "a/b.zip",
            "a\\b.zip",
            "/etc/passwd",
            ".hidden",
            "a\0b",
        ] {
            assert_eq!(validate_key(bad), Err(InvalidKey), "{bad:?}");
        }
        assert_eq!(validate_key(&"a".repeat(129)), Err(InvalidKey));
    }
}
