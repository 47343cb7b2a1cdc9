//! The export store: upload, publish, download, list and delete archives.
//!
//! An archive is written under `staging/{key}` and only reaches `{key}`, the name a
//! download link can address, through [`ExportStorage::publish`], once its size and
//! checksum are verified. A crashed or failed upload therefore leaves at most a staging
//! object, which cleanup removes.

use std::{path::PathBuf, time::Duration};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt, TryStreamExt};
use opendal::{ErrorKind, Operator};
use sha2::{Digest, Sha256};

use crate::{BackendConfig, InvalidKey, sas::BlobSigner, validate_key};

/// Where uploads are written before they are published; the same on every backend.
pub const STAGING_PREFIX: &str = "staging/";

/// Multipart uploads send parts of this size by default; S3 needs at least 5 MiB.
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;

/// Local disk has no parts: the upload reaches the file in pieces of this size, so a
/// staging file grows as the archive is written.
const LOCAL_WRITE_CHUNK: usize = 1024 * 1024;

/// The smallest part S3 accepts (but for the last).
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

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

    #[error("the stored archive does not match what was written: {0}")]
    Mismatch(String),

    #[error("storage: {0}")]
    Backend(#[source] opendal::Error),
}

impl StorageError {
    /// Whether trying again later can help: a backend that fails (an outage, a network
    /// error, a full disk) may recover; a bad key or configuration will not.
    pub fn is_transient(&self) -> bool {
        match self {
            // Storage that is away or refusing may come back; the job retries with back-off
            // and gives up after its last attempt.
            Self::Backend(_) => true,
            // A transfer went wrong; writing the archive again can succeed.
            Self::Mismatch(_) => true,
            _ => false,
        }
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
    part_size: usize,
    /// Signs Azure download URLs; opendal's own signing there needs a SAS token.
    blob_signer: Option<BlobSigner>,
}

impl ExportStorage {
    /// Builds the operator; local storage creates its folder. Does no network I/O: call
    /// [`ExportStorage::check`] to know the backend answers.
    pub fn open(config: &BackendConfig) -> Result<Self, StorageError> {
        let (operator, local_root) = crate::backend::operator(config)?;
        let part_size = if local_root.is_some() {
            LOCAL_WRITE_CHUNK
        } else {
            DEFAULT_PART_SIZE
        };
        let blob_signer = match config {
            BackendConfig::Azblob(azblob) => BlobSigner::for_config(azblob)?,
            _ => None,
        };
        Ok(Self {
            operator,
            backend: config.name(),
            local_root,
            part_size,
            blob_signer,
        })
    }

    /// Sends multipart uploads in parts of `bytes` (at least 5 MiB, S3's minimum).
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_size = bytes.max(MIN_PART_SIZE);
        self
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

    /// Starts writing an archive for `key` under its staging name. Nothing is
    /// published until [`ExportStorage::publish`].
    pub async fn upload(&self, key: &str) -> Result<Upload, StorageError> {
        let key = validate_key(key)?;
        let path = staging_path(key);
        let mut writer = self.operator.writer_with(&path).chunk(self.part_size);
        if self
            .operator
            .info()
            .full_capability()
            .write_with_content_type
        {
            writer = writer.content_type("application/zip");
        }
        let writer = writer.await?;
        Ok(Upload {
            writer,
            key: key.to_owned(),
            bytes: 0,
            sha256: Sha256::new(),
        })
    }

    /// Size and last change of a stored archive.
    pub async fn stat(&self, key: &str) -> Result<StoredObject, StorageError> {
        let key = validate_key(key)?;
        let meta = self.operator.stat(key).await?;
        Ok(stored_object(key, &meta))
    }

    /// Opens an archive for download: a signed URL where the backend can mint one and
    /// `presign_for` is set, the bytes otherwise.
    pub async fn download(
        &self,
        key: &str,
        presign_for: Option<Duration>,
    ) -> Result<Download, StorageError> {
        self.download_as(key, presign_for, "attachment").await
    }

    /// [`ExportStorage::download`], with the `Content-Disposition` a signed URL makes the
    /// store answer with (where the backend can override it), so the browser saves the
    /// archive under the same name whichever way it arrives.
    pub async fn download_as(
        &self,
        key: &str,
        presign_for: Option<Duration>,
        content_disposition: &str,
    ) -> Result<Download, StorageError> {
        let key = validate_key(key)?;
        let meta = self.operator.stat(key).await?;

        if let (Some(ttl), Some(signer)) = (presign_for, &self.blob_signer) {
            return Ok(Download::Redirect {
                url: signer.read_url(key, ttl, content_disposition),
            });
        }
        let capability = self.operator.info().full_capability();
        if let Some(ttl) = presign_for
            && capability.presign_read
        {
            let mut presign = self.operator.presign_read_with(key, ttl);
            if capability.read_with_override_content_disposition {
                presign = presign.override_content_disposition(content_disposition);
            }
            if capability.read_with_override_content_type {
                presign = presign.override_content_type("application/zip");
            }
            let signed = presign.await?;
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

    /// Deletes a published archive; deleting one that is gone succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let key = validate_key(key)?;
        Ok(self.operator.delete(key).await?)
    }

    /// Deletes the staging object of `key`, if any.
    pub async fn delete_staged(&self, key: &str) -> Result<(), StorageError> {
        let key = validate_key(key)?;
        Ok(self.operator.delete(&staging_path(key)).await?)
    }

    /// Every published archive, with its size and age. Entries that could not be our
    /// keys (folders such as `staging/`, stray names) are skipped.
    pub async fn list(&self) -> Result<Vec<StoredObject>, StorageError> {
        self.list_under("").await
    }

    /// Every staging object: uploads in progress, and leftovers of crashed ones. Keys are
    /// the archive keys they were meant for, as [`ExportStorage::delete_staged`] takes.
    pub async fn list_staged(&self) -> Result<Vec<StoredObject>, StorageError> {
        self.list_under(STAGING_PREFIX).await
    }

    async fn list_under(&self, prefix: &str) -> Result<Vec<StoredObject>, StorageError> {
        let mut objects = Vec::new();
        let mut lister = match self.operator.lister_with(prefix).await {
            Ok(lister) => lister,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(objects),
            Err(e) => return Err(e.into()),
        };
        while let Some(entry) = lister.try_next().await? {
            let Some(key) = entry.path().strip_prefix(prefix) else {
                continue;
            };
            if validate_key(key).is_err() {
                continue;
            }
            match self.operator.stat(entry.path()).await {
                Ok(meta) => objects.push(stored_object(key, &meta)),
                // Deleted between listing and stat (another worker's cleanup or publish).
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(objects)
    }

    /// Makes a finished upload the published archive under its key: checks that the
    /// staged object has the size written and that what was written has the checksum
    /// the archive builder computed (`expected_sha256`), then moves it into place (a
    /// rename where the backend has one, else a server-side copy and a delete).
    ///
    /// Publishing the same key again replaces the archive: a job run twice leaves one.
    pub async fn publish(
        &self,
        staged: &Staged,
        expected_sha256: &str,
    ) -> Result<StoredObject, StorageError> {
        let key = validate_key(&staged.key)?;
        let staging = staging_path(key);

        let stored = self.operator.stat(&staging).await?.content_length();
        if stored != staged.bytes {
            return Err(StorageError::Mismatch(format!(
                "staged {stored} bytes, wrote {}",
                staged.bytes
            )));
        }
        if !staged.sha256.eq_ignore_ascii_case(expected_sha256) {
            return Err(StorageError::Mismatch(format!(
                "wrote sha256 {}, the archive has {expected_sha256}",
                staged.sha256
            )));
        }

        let capability = self.operator.info().full_capability();
        if capability.rename {
            self.operator.rename(&staging, key).await?;
        } else {
            self.operator.copy(&staging, key).await?;
            if let Err(error) = self.operator.delete(&staging).await {
                // Published all the same; cleanup removes the staging copy later.
                tracing::warn!(storage.key = %key, %error, "could not delete a staging object");
            }
        }

        let published = self.stat(key).await?;
        if published.bytes != staged.bytes {
            let _ = self.operator.delete(key).await;
            return Err(StorageError::Mismatch(format!(
                "published {} bytes, wrote {}",
                published.bytes, staged.bytes
            )));
        }
        tracing::info!(
            storage.key = %key,
            archive.bytes = staged.bytes,
            storage.backend = self.backend,
            "archive published"
        );
        Ok(published)
    }
}

/// The staging name of an archive key.
pub fn staging_path(key: &str) -> String {
    format!("{STAGING_PREFIX}{key}")
}

fn stored_object(key: &str, meta: &opendal::Metadata) -> StoredObject {
    StoredObject {
        key: key.to_owned(),
        bytes: meta.content_length(),
        last_modified: meta
            .last_modified()
            .map(|t| DateTime::from(std::time::SystemTime::from(t))),
    }
}

/// An archive being written to its staging name. Dropping it without
/// [`Upload::finish`] or [`Upload::abort`] may leave a staging object (never a published
/// one); cleanup removes those.
pub struct Upload {
    writer: opendal::Writer,
    key: String,
    bytes: u64,
    sha256: Sha256,
}

/// A finished upload, waiting for [`ExportStorage::publish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staged {
    pub key: String,
    /// What the uploader sent, counted and hashed on the way.
    pub bytes: u64,
    pub sha256: String,
}

impl Upload {
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        self.bytes += chunk.len() as u64;
        self.sha256.update(&chunk);
        Ok(self.writer.write(chunk).await?)
    }

    /// Completes the upload (the last part, or the multipart commit).
    pub async fn finish(mut self) -> Result<Staged, StorageError> {
        self.writer.close().await?;
        Ok(Staged {
            key: self.key,
            bytes: self.bytes,
            sha256: hex::encode(self.sha256.finalize()),
        })
    }

    /// Abandons the upload and removes what was written.
    pub async fn abort(mut self, storage: &ExportStorage) {
        if let Err(error) = self.writer.abort().await {
            tracing::warn!(storage.key = %self.key, %error, "aborting an upload failed");
        }
        match storage.delete_staged(&self.key).await {
            Ok(()) | Err(StorageError::NotFound) => {}
            Err(error) => {
                tracing::warn!(storage.key = %self.key, %error, "removing a partial upload failed")
            }
        }
    }
}
