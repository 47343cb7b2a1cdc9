//! Writing entries into the streaming ZIP.

use std::{error::Error as StdError, io::Write};

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::{
    CompressionMethod, ZipWriter,
    write::{SimpleFileOptions, StreamWriter},
};

use crate::hashing::HashingWriter;

/// Entries with more items than this get ZIP64 headers: at a few hundred bytes an item
/// they could pass the 4 GiB limit of plain ZIP, and a streamed entry must decide before
/// its first byte.
const ZIP64_ITEM_THRESHOLD: u64 = 2_000_000;

/// Serialized items are gathered into a buffer of about this size before they reach the
/// compressor, which is much faster than many small writes.
const WRITE_BUFFER: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("writing the archive: {0}")]
    Io(#[from] std::io::Error),

    #[error("building the zip: {0}")]
    Zip(#[from] zip::result::ZipError),

    #[error("serializing {entry}: {source}")]
    Json {
        entry: String,
        source: serde_json::Error,
    },

    #[error("reading the data for {entry}: {source}")]
    Source {
        entry: String,
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// How entries are compressed and stamped.
#[derive(Clone, Copy, Debug)]
pub struct ArchiveOptions {
    /// Deflate level, 1 (fastest) to 9 (smallest).
    pub compression_level: u8,
    /// The modification time stamped on every entry.
    pub modified: DateTime<Utc>,
}

/// One entry as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryManifest {
    pub name: String,
    /// Array items, for JSON arrays.
    pub items: Option<u64>,
    /// Uncompressed size.
    pub bytes: u64,
    pub sha256: String,
}

/// The finished archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Manifest {
    pub entries: Vec<EntryManifest>,
    pub archive_bytes: u64,
    pub archive_sha256: String,
}

/// Builds one ZIP front to back.
pub struct ArchiveBuilder<W: Write> {
    zip: ZipWriter<StreamWriter<HashingWriter<W>>>,
    options: ArchiveOptions,
    entries: Vec<EntryManifest>,
}

impl<W: Write> ArchiveBuilder<W> {
    pub fn new(out: W, options: ArchiveOptions) -> Self {
        Self {
            zip: ZipWriter::new_stream(HashingWriter::new(out)),
            options,
            entries: Vec::new(),
        }
    }

    /// The entries written so far.
    pub fn entries(&self) -> &[EntryManifest] {
        &self.entries
    }

    /// Adds a pretty-printed JSON document.
    pub fn add_json<T: Serialize>(&mut self, name: &str, value: &T) -> Result<(), ArchiveError> {
        let mut body = serde_json::to_vec_pretty(value).map_err(|source| ArchiveError::Json {
            entry: name.to_owned(),
            source,
        })?;
        body.push(b'\n');
        self.add_bytes(name, &body, None)
    }

    /// Adds a text file.
    pub fn add_text(&mut self, name: &str, text: &str) -> Result<(), ArchiveError> {
        self.add_bytes(name, text.as_bytes(), None)
    }

    /// Adds a JSON array written batch by batch, one item a line, calling `progress`
    /// with the running item count after each batch. `expected_items` only decides
    /// whether the entry needs ZIP64 headers.
    ///
    /// Memory use is one batch plus the write buffer, whatever the number of items.
    pub fn add_json_array<T, I, E>(
        &mut self,
        name: &str,
        expected_items: u64,
        batches: I,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, ArchiveError>
    where
        T: Serialize,
        I: IntoIterator<Item = Result<Vec<T>, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let large = expected_items > ZIP64_ITEM_THRESHOLD;
        self.zip.start_file(name, self.file_options(large))?;

        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        let mut items = 0u64;
        let mut buffer = Vec::with_capacity(WRITE_BUFFER + 4096);
        buffer.push(b'[');

        for batch in batches {
            let batch = batch.map_err(|e| ArchiveError::Source {
                entry: name.to_owned(),
                source: e.into(),
            })?;
            for item in &batch {
                buffer.extend_from_slice(if items == 0 { b"\n  " } else { b",\n  " });
                serde_json::to_writer(&mut buffer, item).map_err(|source| ArchiveError::Json {
                    entry: name.to_owned(),
                    source,
                })?;
                items += 1;

                if buffer.len() >= WRITE_BUFFER {
                    self.write_chunk(&buffer, &mut hasher, &mut bytes)?;
                    buffer.clear();
                }
            }
            progress(items);
        }

        buffer.extend_from_slice(if items == 0 { b"]\n" } else { b"\n]\n" });
        self.write_chunk(&buffer, &mut hasher, &mut bytes)?;

        self.entries.push(EntryManifest {
            name: name.to_owned(),
            items: Some(items),
            bytes,
            sha256: hex::encode(hasher.finalize()),
        });
        Ok(items)
    }

    /// Writes the central directory and returns the output with the manifest.
    pub fn finish(self) -> Result<(W, Manifest), ArchiveError> {
        let mut out = self.zip.finish()?.into_inner();
        out.flush()?;
        let (out, archive_bytes, archive_sha256) = out.finish();
        let manifest = Manifest {
            entries: self.entries,
            archive_bytes,
            archive_sha256,
        };
        Ok((out, manifest))
    }

    fn add_bytes(
        &mut self,
        name: &str,
        body: &[u8],
        items: Option<u64>,
    ) -> Result<(), ArchiveError> {
        self.zip.start_file(name, self.file_options(false))?;
        self.zip.write_all(body)?;
        self.entries.push(EntryManifest {
            name: name.to_owned(),
            items,
            bytes: body.len() as u64,
            sha256: hex::encode(Sha256::digest(body)),
        });
        Ok(())
    }

    fn write_chunk(
        &mut self,
        chunk: &[u8],
        hasher: &mut Sha256,
        bytes: &mut u64,
    ) -> Result<(), ArchiveError> {
        self.zip.write_all(chunk)?;
        hasher.update(chunk);
        *bytes += chunk.len() as u64;
        Ok(())
    }

    fn file_options(&self, large: bool) -> SimpleFileOptions {
        SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(i64::from(self.options.compression_level.clamp(1, 9))))
            .last_modified_time(zip_time(self.options.modified))
            .unix_permissions(0o644)
            .large_file(large)
    }
}

/// ZIP stores local time without a zone and cannot go before 1980; exports say UTC.
fn zip_time(at: DateTime<Utc>) -> zip::DateTime {
    zip::DateTime::from_date_and_time(
        at.year().clamp(1980, 2107) as u16,
        at.month() as u8,
        at.day() as u8,
        at.hour() as u8,
        at.minute() as u8,
        at.second().min(59) as u8,
    )
    .unwrap_or_default()
}
