//! The export archive: a ZIP written front to back, never held whole in memory.
//!
//! [`ArchiveBuilder`] is plain synchronous code over any [`std::io::Write`]: the worker runs
//! it on a blocking thread and forwards its output to storage through a bounded channel,
//! and tests run it into a `Vec`. Entries are compressed as they are written and the ZIP
//! uses data descriptors, so the output never needs to seek. Each entry's size and SHA-256,
//! and the archive's, are collected in a [`Manifest`] as a by-product.

mod builder;
mod hashing;

pub use builder::{ArchiveBuilder, ArchiveError, ArchiveOptions, EntryManifest, Manifest};
