//! One opendal operator per backend, built from its settings.
//!
//! Building does no network I/O; [`crate::ExportStorage::check`] is what finds out whether
//! the backend answers.

use std::path::PathBuf;

use opendal::{Operator, services};

use crate::{
    AzblobConfig, BackendConfig, GcsConfig, S3Config, StorageError, store::STAGING_PREFIX,
};

/// The operator for `config`, and the export folder for local storage.
pub(crate) fn operator(
    config: &BackendConfig,
) -> Result<(Operator, Option<PathBuf>), StorageError> {
    match config {
        BackendConfig::Local { root } => local(root).map(|(op, root)| (op, Some(root))),
        BackendConfig::Gcs(gcs) => Ok((self::gcs(gcs)?, None)),
        BackendConfig::S3(s3) => Ok((self::s3(s3)?, None)),
        BackendConfig::Azblob(az) => Ok((azblob(az)?, None)),
    }
}

/// A folder. Uploads go to its `staging/` subfolder like on every other backend, and are
/// renamed into place once verified.
fn local(root: &std::path::Path) -> Result<(Operator, PathBuf), StorageError> {
    let staging = root.join(STAGING_PREFIX);
    std::fs::create_dir_all(&staging)
        .map_err(|e| StorageError::Config(format!("cannot create {}: {e}", staging.display())))?;
    let root = root
        .canonicalize()
        .map_err(|e| StorageError::Config(format!("cannot resolve {}: {e}", root.display())))?;

    let builder = services::Fs::default().root(&root.to_string_lossy());
    Ok((Operator::new(builder)?.finish(), root))
}

fn gcs(config: &GcsConfig) -> Result<Operator, StorageError> {
    let mut builder = services::Gcs::default().bucket(&config.bucket);
    if let Some(path) = &config.credentials_file {
        builder = builder.credential_path(&path.to_string_lossy());
    }
    if let Some(endpoint) = &config.endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let Some(token) = &config.token {
        builder = builder.token(token.clone());
    }
    Ok(Operator::new(builder)?.finish())
}

fn s3(config: &S3Config) -> Result<Operator, StorageError> {
    // Every part carries its CRC32C, which S3 checks on arrival: a part damaged on the way
    // is refused, not stored.
    let mut builder = services::S3::default()
        .bucket(&config.bucket)
        .region(&config.region)
        .checksum_algorithm("crc32c");
    if let Some(endpoint) = &config.endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
        // Static keys: no need to ask an instance metadata service that may not exist.
        builder = builder
            .access_key_id(id)
            .secret_access_key(secret)
            .disable_ec2_metadata();
        if let Some(token) = &config.session_token {
            builder = builder.session_token(token);
        }
    }
    Ok(Operator::new(builder)?.finish())
}

fn azblob(config: &AzblobConfig) -> Result<Operator, StorageError> {
    let mut builder = services::Azblob::default()
        .container(&config.container)
        .account_name(&config.account_name)
        .endpoint(&config.endpoint());
    if let Some(key) = &config.account_key {
        builder = builder.account_key(key);
    }
    Ok(Operator::new(builder)?.finish())
}
