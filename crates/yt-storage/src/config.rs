//! Which backend to use, and its settings. `Debug` never prints a secret.

use std::{fmt, path::PathBuf};

/// The storage backend and its settings.
#[derive(Clone, PartialEq, Eq)]
pub enum BackendConfig {
    /// A folder on this machine (`YT_EXPORT_LOCAL_PATH`).
    Local { root: PathBuf },
    /// A Google Cloud Storage bucket.
    Gcs(GcsConfig),
    /// An Amazon S3 bucket, or any S3-compatible store.
    S3(S3Config),
    /// An Azure Blob Storage container.
    Azblob(AzblobConfig),
}

#[derive(Clone, PartialEq, Eq)]
pub struct GcsConfig {
    pub bucket: String,
    /// Path of a service-account JSON key; without it, the machine's default credentials.
    /// Signed URLs need a key.
    pub credentials_file: Option<PathBuf>,
    /// Another endpoint than Google's, for emulators.
    pub endpoint: Option<String>,
    /// A fixed OAuth2 access token instead of one exchanged for the key (emulators, or a
    /// token minted by another tool). The key still signs URLs.
    pub token: Option<String>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// Another endpoint than AWS's (MinIO, emulators); requests use path-style URLs.
    pub endpoint: Option<String>,
    /// Static credentials; without them, the usual AWS chain (environment, profile files,
    /// web identity, instance metadata).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct AzblobConfig {
    pub container: String,
    pub account_name: String,
    /// The shared key; signed URLs (SAS) need it.
    pub account_key: Option<String>,
    /// Without it, `https://{account_name}.blob.core.windows.net`.
    pub endpoint: Option<String>,
}

impl AzblobConfig {
    pub fn endpoint(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("https://{}.blob.core.windows.net", self.account_name))
    }
}

impl BackendConfig {
    /// The backend's name as `YT_EXPORT_STORAGE_BACKEND` spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Local { .. } => "local",
            Self::Gcs(_) => "gcs",
            Self::S3(_) => "s3",
            Self::Azblob(_) => "azblob",
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
                .field("token", &gcs.token.is_some())
                .finish(),
            Self::S3(s3) => f
                .debug_struct("S3")
                .field("bucket", &s3.bucket)
                .field("region", &s3.region)
                .field("endpoint", &s3.endpoint)
                .field("static_credentials", &s3.access_key_id.is_some())
                .finish(),
            Self::Azblob(az) => f
                .debug_struct("Azblob")
                .field("container", &az.container)
                .field("account_name", &az.account_name)
                .field("account_key", &az.account_key.is_some())
                .field("endpoint", &az.endpoint)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let s3 = BackendConfig::S3(S3Config {
            bucket: "b".into(),
            region: "us-east-1".into(),
            endpoint: None,
            access_key_id: Some("AKIDSECRET".into()),
            secret_access_key: Some("very-secret".into()),
            session_token: Some("session-secret".into()),
        });
        let az = BackendConfig::Azblob(AzblobConfig {
            container: "c".into(),
            account_name: "acct".into(),
            account_key: Some("key-secret".into()),
            endpoint: None,
        });
        let printed = format!("{s3:?} {az:?}");
        for secret in ["AKIDSECRET", "very-secret", "session-secret", "key-secret"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
