//! Which backend to use, and its settings.

use std::{fmt, path::PathBuf};

/// The storage backend and its settings.
#[derive(Clone, PartialEq, Eq)]
pub enum BackendConfig {
    /// A folder on this machine (`YT_EXPORT_LOCAL_PATH`).
    Local { root: PathBuf },
    /// A Google Cloud Storage bucket.
    Gcs(GcsConfig),
}

#[derive(Clone, PartialEq, Eq)]
pub struct GcsConfig {
    pub bucket: String,
    /// Path of a service-account JSON key; without it, the machine's default credentials.
    pub credentials_file: Option<PathBuf>,
    /// Another endpoint than Google's, for emulators.
    pub endpoint: Option<String>,
}

impl BackendConfig {
    /// The backend's name as `YT_EXPORT_STORAGE_BACKEND` spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Local { .. } => "local",
            Self::Gcs(_) => "gcs",
        }
    }
}

impl fmt::Debug for BackendConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local { root } => f.debug_struct("Local").field("root", root).finish(),
            // The credentials file is a path, not a secret, but say no more than needed.
            Self::Gcs(gcs) => f
                .debug_struct("Gcs")
                .field("bucket", &gcs.bucket)
                .field("credentials_file", &gcs.credentials_file.is_some())
                .field("endpoint", &gcs.endpoint)
                .finish(),
        }
    }
}
