//! Where finished exports live.
//!
//! One [`ExportStorage`] wraps an opendal operator for the configured backend: a folder on
//! local disk by default (one machine, served by us or by nginx), Google Cloud Storage for
//! several machines. Keys are flat file names derived from job records, never from request
//! input, and are checked again here so no key can escape the export folder.

mod config;
mod key;
mod store;

pub use config::{BackendConfig, GcsConfig};
pub use key::{InvalidKey, validate_key};
pub use store::{Download, ExportStorage, StorageError, StoredObject, Upload};
