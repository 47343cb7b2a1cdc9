//! Job ids and the archive file names derived from them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Length of a job id: 16 random bytes in unpadded URL-safe base64.
const ID_LEN: usize = 22;

const FILENAME_PREFIX: &str = "yt-export-";
const FILENAME_SUFFIX: &str = ".zip";

/// An export job's id: 22 characters of `[A-Za-z0-9_-]`, 128 random bits.
///
/// Ids are unguessable, but they are not secrets: every use of one is checked against the
/// signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JobId(String);

/// A string that cannot be a job id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidJobId;

impl fmt::Display for InvalidJobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a job id is {ID_LEN} characters of A-Z, a-z, 0-9, '-' and '_'"
        )
    }
}

impl std::error::Error for InvalidJobId {}

impl JobId {
    /// A fresh random id.
    #[cfg(feature = "store")]
    pub fn generate() -> Self {
        use base64::Engine;

        let bytes: [u8; 16] = rand::random();
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Checks the shape of an id that came from outside (a URL, a form, Redis).
    pub fn parse(raw: &str) -> Result<Self, InvalidJobId> {
        let well_formed = raw.len() == ID_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidJobId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for JobId {
    type Error = InvalidJobId;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<JobId> for String {
    fn from(id: JobId) -> Self {
        id.0
    }
}

/// The file name a job's archive is published and downloaded under.
pub fn archive_filename(id: &JobId) -> String {
    format!("{FILENAME_PREFIX}{id}{FILENAME_SUFFIX}")
}

/// The job a download file name refers to; anything but [`archive_filename`]'s shape is
/// refused, so a name can never point outside the exports.
pub fn job_id_from_filename(name: &str) -> Result<JobId, InvalidJobId> {
    let id = name
        .strip_prefix(FILENAME_PREFIX)
        .and_then(|rest| rest.strip_suffix(FILENAME_SUFFIX))
        .ok_or(InvalidJobId)?;
    JobId::parse(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_differ() {
        let a = JobId::generate();
        let b = JobId::generate();

        assert_ne!(a, b);
        assert_eq!(JobId::parse(a.as_str()), Ok(a.clone()));
        assert_eq!(job_id_from_filename(&archive_filename(&a)), Ok(a));
    }

    #[test]
    fn ids_with_dash_and_underscore_round_trip_through_filenames() {
        let id = JobId::parse("-_-_abcdefghijklmnopqr").unwrap();

        assert_eq!(
            archive_filename(&id),
            "yt-export--_-_abcdefghijklmnopqr.zip"
        );
        assert_eq!(job_id_from_filename(&archive_filename(&id)), Ok(id));
    }

    #[test]
    fn malformed_ids_and_names_are_refused() {
        for bad in [
            "",
            "short",
            "abcdefghijklmnopqrstuv/",
            "abcdefghijklmnopqrst.v",
            "../../etc/passwd",
        ] {
            assert_eq!(JobId::parse(bad), Err(InvalidJobId), "{bad:?}");
        }
        for bad in [
            "",
            "yt-export-.zip",
            "yt-export-abcdefghijklmnopqrstuv",
            "abcdefghijklmnopqrstuv.zip",
            "yt-export-../abcdefghijklmnopqrs.zip",
            "yt-export-abcdefghijklmnopqrstuv.zip/..",
        ] {
            assert_eq!(job_id_from_filename(bad), Err(InvalidJobId), "{bad:?}");
        }
    }
}
