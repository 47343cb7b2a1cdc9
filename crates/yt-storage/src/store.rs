//! The export store: upload, download, list and delete archives.

use std::{path::PathBuf, time::Duration};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt, TryStreamExt};
use opendal::{ErrorKind, Operator, services};

use crate::{BackendConfig, InvalidKey, validate_key};

/// Multipart and resumable uploads send parts of this size; S3 needs at least 5 MiB.
const UPLOAD_CHUNK: usize = 8 * 1024 * 1024;

/// Downloads read the archive in pieces of this size.
const DOWNLOAD_CHUNK: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no export is stored under that key")]
    NotFound,

    #[error(transparent)]
    InvalidKey(#[from] InvalidKey),

    #[error("storage is misconfigured: {0}")]
    Config(String),

    #[error("storage: {0}")]
    Backend(#[source] opendal::Error),
}

impl StorageError {
    /// Whether trying again later can help: a backend that fails (an outage, a network
    /// error, a full disk) may recover; a bad key or configuration will not.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Backend(_))
    }
}

impl From<opendal::Error> for StorageError {
    fn from(e: opendal::Error) -> Self {
        match e.kind() {
            ErrorKind::NotFound => Self::NotFound,
            ErrorKind::ConfigInvalid => Self::Config(e.to_string()),
            _ => Self::Backend(e),
        }
    }
}

/// A stored archive, as listed.
#[derive(Clone, Debug)]
pub struct StoredObject {
    pub key: String,
    pub bytes: u64,
    pub last_modified: Option<DateTime<Utc>>,
}

/// How a download reaches the user.
pub enum Download {
    /// The bytes, streamed through us.
    Stream {
        bytes: u64,
        body: Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + Unpin>,
    },
    /// A short-lived signed URL the user's browser fetches directly.
    Redirect { url: String },
}

/// The configured backend.
#[derive(Clone, Debug)]
pub struct ExportStorage {
    operator: Operator,
    backend: &'static str,
    local_root: Option<PathBuf>,
}

impl ExportStorage {
    /// Builds the operator; local storage creates its folder. Does no network I/O: call
    /// [`ExportStorage::check`] to know the backend answers.
    pub fn open(config: &BackendConfig) -> Result<Self, StorageError> {
        let (operator, local_root) = match config {
            BackendConfig::Local { root } => {
                std::fs::create_dir_all(root).map_err(|e| {
                    StorageError::Config(format!("cannot create {}: {e}", root.display()))
                })?;
                let root = root.canonicalize().map_err(|e| {
                    StorageError::Config(format!("cannot resolve {}: {e}", root.display()))
                })?;
                // Uploads land in a staging folder and are renamed into place when complete,
                // so a half-written archive is never reachable under its key.
                let staging = root.join(".staging");
                let builder = services::Fs::default()
                    .root(&root.to_string_lossy())
                    .atomic_write_dir(&staging.to_string_lossy());
                (Operator::new(builder)?.finish(), Some(root))
            }
            BackendConfig::Gcs(gcs) => {
                let mut builder = services::Gcs::default().bucket(&gcs.bucket);
                if let Some(path) = &gcs.credentials_file {
                    builder = builder.credential_path(&path.to_string_lossy());
                }
                if let Some(endpoint) = &gcs.endpoint {
                    builder = builder.endpoint(endpoint);
                }
                (Operator::new(builder)?.finish(), None)
            }
        };
        Ok(Self {
            operator,
            backend: config.name(),
            local_root,
        })
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The export folder, for local storage.
    pub fn local_root(&self) -> Option<&std::path::Path> {
        self.local_root.as_deref()
    }

    /// Whether the backend answers (lists the root).
    pub async fn check(&self) -> Result<(), StorageError> {
        Ok(self.operator.check().await?)
    }

    /// Starts writing an archive under `key`.
    pub async fn upload(&self, key: &str) -> Result<Upload, StorageError> {
        let key = validate_key(key)?;
        let writer = self.operator.writer_with(key).chunk(UPLOAD_CHUNK).await?;
        Ok(Upload {
            writer,
            key: key.to_owned(),
            bytes: 0,
        })
    }

    /// Size and last change of a stored archive.
    pub async fn stat(&self, key: &str) -> Result<StoredObject, StorageError> {
        let key = validate_key(key)?;
        let meta = self.operator.stat(key).await?;
        Ok(StoredObject {
            key: key.to_owned(),
            bytes: meta.content_length(),
            last_modified: meta
                .last_modified()
                .map(|t| DateTime::from(std::time::SystemTime::from(t))),
        })
    }

    /// Opens an archive for download: a signed URL where the backend can mint one and
    /// `presign_for` is set, the bytes otherwise.
    pub async fn download(
        &self,
        key: &str,
        presign_for: Option<Duration>,
    ) -> Result<Download, StorageError> {
        let key = validate_key(key)?;
        let meta = self.operator.stat(key).await?;

        if let Some(ttl) = presign_for
            && self.operator.info().full_capability().presign_read
        {
            let signed = self.operator.presign_read(key, ttl).await?;
            return Ok(Download::Redirect {
                url: signed.uri().to_string(),
            });
        }

        let bytes = meta.content_length();
        let reader = self.operator.reader_with(key).chunk(DOWNLOAD_CHUNK).await?;
        let body = reader
            .into_bytes_stream(..)
            .await?
            .map_err(std::io::Error::other);
        Ok(Download::Stream {
            bytes,
            body: Box::new(body.boxed()),
        })
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let key = validate_key(key)?;
        Ok(self.operator.delete(key).await?)
    }

    /// Every archive in the store, with its size and age. Entries that could not be our
    /// keys (folders, stray names) are skipped.
    pub async fn list(&self) -> Result<Vec<StoredObject>, StorageError> {
        let mut objects = Vec::new();
        let mut lister = self.operator.lister_with("").await?;
        while let Some(entry) = lister.try_next().await? {
            let key = entry.path();
            if validate_key(key).is_err() {
                continue;
            }
            objects.push(self.stat(key).await?);
        }
        Ok(objects)
    }
}

/// An archive being written. Dropping it without [`Upload::finish`] leaves no complete
/// object behind only if [`Upload::abort`] is called; callers do so on every error path.
pub struct Upload {
    writer: opendal::Writer,
    key: String,
    bytes: u64,
}

impl Upload {
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        self.bytes += chunk.len() as u64;
        Ok(self.writer.write(chunk).await?)
    }

    /// Completes the upload and returns the stored size.
    pub async fn finish(mut self) -> Result<u64, StorageError> {
        self.writer.close().await?;
        Ok(self.bytes)
    }

    /// Abandons the upload and removes what was written.
    pub async fn abort(mut self, storage: &ExportStorage) {
        if let Err(error) = self.writer.abort().await {
            tracing::warn!(storage.key = %self.key, %error, "aborting an upload failed");
        }
        match storage.delete(&self.key).await {
            Ok(()) | Err(StorageError::NotFound) => {}
            Err(error) => {
                tracing::warn!(storage.key = %self.key, %error, "removing a partial upload failed")
            }
        }
    }
}
