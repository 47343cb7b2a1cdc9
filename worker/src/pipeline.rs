//! Writing one user's archive into storage, streaming end to end.
//!
//! Three stages run at once, joined by bounded channels:
//!
//! 1. a task pages through the database (subscriptions, then watch history);
//! 2. a blocking thread serializes the pages into the ZIP ([`yt_archive`]);
//! 3. a task uploads the ZIP's bytes to storage as they come.
//!
//! At most a couple of pages and a few upload chunks are in flight, so memory does not
//! grow with the number of rows. The upload goes to a staging name and is published under
//! the archive's key only once its size and SHA-256 match the archive built. When any
//! stage fails the others stop, the partial upload is removed, and the error of the stage
//! that failed first is reported.

use std::io::{self, Write};

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use yt_archive::{ArchiveBuilder, ArchiveError, ArchiveOptions, Manifest};
use yt_jobs::{Phase, Progress};
use yt_storage::{ExportStorage, StorageError, Upload};
use yt_userdata::{DataCounts, Database, DbError, Subscription, User, UserId, WatchedVideo};

use crate::readme;

/// Pages of rows waiting for the archive thread.
const PAGES_IN_FLIGHT: usize = 2;

/// Archive bytes are handed to the uploader in chunks of this size...
const UPLOAD_CHUNK: usize = 1024 * 1024;

/// ...and at most this many chunks wait for it.
const CHUNKS_IN_FLIGHT: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading user data: {0}")]
    Database(#[from] DbError),

    #[error("writing the archive: {0}")]
    Archive(#[from] ArchiveError),

    #[error("storing the archive: {0}")]
    Storage(#[from] StorageError),

    #[error("the archive thread stopped unexpectedly")]
    ArchiveThread,

    #[error("the job is no longer ours; the archive was not published")]
    NotOurs,
}

impl ExportError {
    /// Whether running the job again later can help.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database(e) => e.is_transient(),
            Self::Storage(e) => e.is_transient(),
            Self::Archive(ArchiveError::Io(_)) => true,
            Self::Archive(_) | Self::ArchiveThread | Self::NotOurs => false,
        }
    }
}

/// What goes into one archive besides the streamed rows.
pub struct ExportPlan<'a> {
    pub user: &'a User,
    pub counts: DataCounts,
    pub key: &'a str,
    pub generated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub compression_level: u8,
    pub batch_size: u32,
    pub page_pause: std::time::Duration,
}

/// The user's profile as `profile.json` holds it.
#[derive(Serialize)]
struct ProfileDocument<'a> {
    id: i64,
    email: &'a str,
    display_name: Option<&'a str>,
    avatar_url: Option<&'a str>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    subscription_count: u64,
    watched_video_count: u64,
    exported_at: DateTime<Utc>,
}

/// Writes the archive for `plan` into storage and publishes it under `plan.key`,
/// reporting progress as it goes. On error nothing is published under the key.
///
/// `still_ours` is asked right before publishing whether the job may still be ended by
/// this run (its lease holds); when it says no, the upload is removed and nothing is
/// published ([`ExportError::NotOurs`]), so a run that lost its job never overwrites the
/// archive of the run that took it over.
pub async fn export_to_storage(
    db: &Database,
    storage: &ExportStorage,
    plan: &ExportPlan<'_>,
    progress: &watch::Sender<Progress>,
    still_ours: impl AsyncFnOnce() -> bool,
) -> Result<Manifest, ExportError> {
    let upload = storage.upload(plan.key).await?;

    let (subs_tx, subs_rx) = mpsc::channel(PAGES_IN_FLIGHT);
    let (watched_tx, watched_rx) = mpsc::channel(PAGES_IN_FLIGHT);
    let (bytes_tx, bytes_rx) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);

    let paging = Paging {
        size: plan.batch_size,
        pause: plan.page_pause,
    };
    let feeder = feed_rows(db.clone(), plan.user.id, paging, subs_tx, watched_tx);
    let archive = spawn_archive(plan, subs_rx, watched_rx, bytes_tx, progress.clone());
    let uploader = upload_chunks(upload, bytes_rx);

    let (fed, archived, uploaded) = tokio::join!(feeder, archive, uploader);

    // The first stage to fail is the cause; the others only saw closed channels.
    let upload = match uploaded {
        Ok(upload) => upload,
        Err((error, upload)) => {
            upload.abort(storage).await;
            return Err(error);
        }
    };
    let outcome = fed.and_then(|()| archived.map_err(|_| ExportError::ArchiveThread)?);
    let manifest = match outcome {
        Ok(manifest) => manifest,
        Err(error) => {
            upload.abort(storage).await;
            return Err(error);
        }
    };

    // Publish: only a complete upload of exactly the archive built reaches the key.
    let staged = upload.finish().await?;
    let published = if staged.bytes != manifest.archive_bytes {
        Err(ExportError::Storage(StorageError::Mismatch(format!(
            "uploaded {} bytes of a {}-byte archive",
            staged.bytes, manifest.archive_bytes
        ))))
    } else if !still_ours().await {
        Err(ExportError::NotOurs)
    } else {
        storage
            .publish(&staged, &manifest.archive_sha256)
            .await
            .map_err(ExportError::from)
    };
    if let Err(error) = published {
        // A run that lost its job leaves the staging name alone: the run that took the
        // job over may be writing it now. Cleanup removes what nobody publishes.
        if matches!(error, ExportError::NotOurs) {
            return Err(error);
        }
        if let Err(cleanup) = storage.delete_staged(&staged.key).await {
            tracing::warn!(storage.key = %staged.key, error = %cleanup, "could not delete a staging object");
        }
        return Err(error);
    }
    Ok(manifest)
}

/// Stage 1: pages of subscriptions, then of watched videos.
///
/// A failed read is returned as this stage's error and also sent down the channel, so the
/// archive stops instead of ending the entry early as if the rows had run out.
async fn feed_rows(
    db: Database,
    user: UserId,
    paging: Paging,
    subs: mpsc::Sender<Result<Vec<Subscription>, FeedStopped>>,
    watched: mpsc::Sender<Result<Vec<WatchedVideo>, FeedStopped>>,
) -> Result<(), ExportError> {
    let mut cursor = 0;
    loop {
        let page = match db.subscriptions_page(user, cursor, paging.size).await {
            Ok(page) => page,
            Err(error) => {
                let _ = subs.send(Err(FeedStopped)).await;
                return Err(error.into());
            }
        };
        if subs.send(Ok(page.items)).await.is_err() {
            return Ok(());
        }
        if !paging.pause.is_zero() {
            tokio::time::sleep(paging.pause).await;
        }
        match page.next_cursor {
            Some(next) => cursor = next,
            None => break,
        }
    }
    drop(subs);

    let mut cursor = 0;
    loop {
        let page = match db.watched_page(user, cursor, paging.size).await {
            Ok(page) => page,
            Err(error) => {
                let _ = watched.send(Err(FeedStopped)).await;
                return Err(error.into());
            }
        };
        if watched.send(Ok(page.items)).await.is_err() {
            return Ok(());
        }
        if !paging.pause.is_zero() {
            tokio::time::sleep(paging.pause).await;
        }
        match page.next_cursor {
            Some(next) => cursor = next,
            None => return Ok(()),
        }
    }
}

/// Page size and the pause between pages.
#[derive(Clone, Copy)]
struct Paging {
    size: u32,
    pause: std::time::Duration,
}

/// Tells the archive thread that the rows stopped because a read failed.
#[derive(Debug, thiserror::Error)]
#[error("reading the rows failed")]
struct FeedStopped;

/// Stage 2: the ZIP, on a blocking thread.
async fn spawn_archive(
    plan: &ExportPlan<'_>,
    subs: mpsc::Receiver<Result<Vec<Subscription>, FeedStopped>>,
    watched: mpsc::Receiver<Result<Vec<WatchedVideo>, FeedStopped>>,
    bytes: mpsc::Sender<Bytes>,
    progress: watch::Sender<Progress>,
) -> Result<Result<Manifest, ExportError>, tokio::task::JoinError> {
    let user = plan.user.clone();
    let counts = plan.counts;
    let generated_at = plan.generated_at;
    let expires_at = plan.expires_at;
    let options = ArchiveOptions {
        compression_level: plan.compression_level,
        modified: plan.generated_at,
    };

    tokio::task::spawn_blocking(move || {
        let out = ChunkWriter::new(bytes);
        let mut archive = ArchiveBuilder::new(out, options);

        progress.send_replace(Progress::new(Phase::Profile, 0, 1));
        archive.add_json(
            "profile.json",
            &ProfileDocument {
                id: user.id.0,
                email: &user.email,
                display_name: user.display_name.as_deref(),
                avatar_url: user.avatar_url.as_deref(),
                created_at: user.created_at,
                updated_at: user.updated_at,
                subscription_count: counts.subscriptions,
                watched_video_count: counts.watched_videos,
                exported_at: generated_at,
            },
        )?;

        let total = counts.subscriptions;
        progress.send_replace(Progress::new(Phase::Subscriptions, 0, total));
        archive.add_json_array("subscriptions.json", total, PageIter(subs), |done| {
            progress.send_replace(Progress::new(Phase::Subscriptions, done, total));
        })?;

        let total = counts.watched_videos;
        progress.send_replace(Progress::new(Phase::WatchHistory, 0, total));
        archive.add_json_array("watched_videos.json", total, PageIter(watched), |done| {
            progress.send_replace(Progress::new(Phase::WatchHistory, done, total));
        })?;

        progress.send_replace(Progress::new(Phase::Finishing, 0, 1));
        let text = readme::render(&user, generated_at, expires_at, archive.entries());
        archive.add_text("README.txt", &text)?;

        let (_, manifest) = archive.finish()?;
        Ok(manifest)
    })
    .await
}

/// Stage 3: the upload. Hands the upload back so the caller can finish or abort it.
async fn upload_chunks(
    mut upload: Upload,
    mut chunks: mpsc::Receiver<Bytes>,
) -> Result<Upload, (ExportError, Upload)> {
    while let Some(chunk) = chunks.recv().await {
        if let Err(error) = upload.write(chunk).await {
            return Err((error.into(), upload));
        }
    }
    Ok(upload)
}

/// Blocking receiver of row pages, as the archive builder's batch iterator.
struct PageIter<T>(mpsc::Receiver<Result<Vec<T>, FeedStopped>>);

impl<T> Iterator for PageIter<T> {
    type Item = Result<Vec<T>, FeedStopped>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.blocking_recv()
    }
}

/// Collects archive bytes into chunks and sends each to the uploader, waiting while the
/// uploader is behind. A closed channel means the upload failed: writing stops with
/// `BrokenPipe`.
struct ChunkWriter {
    buffer: BytesMut,
    sender: mpsc::Sender<Bytes>,
}

impl ChunkWriter {
    fn new(sender: mpsc::Sender<Bytes>) -> Self {
        Self {
            buffer: BytesMut::with_capacity(UPLOAD_CHUNK),
            sender,
        }
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = self.buffer.split().freeze();
        self.sender
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= UPLOAD_CHUNK {
            self.send_buffer()?;
            self.buffer.reserve(UPLOAD_CHUNK);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}
