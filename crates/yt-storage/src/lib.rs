//! Where finished exports live.
//!
//! One [`ExportStorage`] wraps an opendal operator for the configured backend: a folder on
//! local disk by default (one machine, served by us or by nginx), or a bucket on Google
//! Cloud Storage, Amazon S3 (or any S3-compatible store) or Azure Blob Storage for several
//! machines. Uploads stream in parts to a staging name and are published once verified.
//! Keys are flat file names derived from job records, never from request input, and are
//! checked again here so no key can escape the export folder.

mod backend;
mod config;
mod key;
mod sas;
mod store;

pub use config::{AzblobConfig, BackendConfig, GcsConfig, S3Config};
pub use key::{InvalidKey, validate_key};
pub use store::{
    DEFAULT_PART_SIZE, Download, ExportStorage, STAGING_PREFIX, Staged, StorageError, StoredObject,
    Upload, staging_path,
};
