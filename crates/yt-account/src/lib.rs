//! What a signed-in user can do with their data export, in one place.
//!
//! The account page's server functions and the JSON API both call [`Account`], so the
//! rules (whose job is whose, which names are valid, when a download is allowed) exist
//! once. Callers map [`AccountError`] to their own responses.
//!
//! Rate limits ([`RateLimiter`]) are checked first in every operation they cover, before
//! any database work, so a flood costs one Redis script call per request.

mod error;
mod limits;

use std::{net::IpAddr, time::Duration};

use chrono::Utc;
use yt_jobs::{ExportJob, JobId, JobStore, job_id_from_filename};
use yt_storage::{Download, ExportStorage};
use yt_userdata::{DataCounts, Database, User, UserId};

pub use error::AccountError;
pub use limits::{ExportAdmission, Limit, Limits, RateLimiter, account_subject};

/// How long a request waits for the record of a job another request is creating.
const CREATION_WAIT: Duration = Duration::from_millis(20);
const CREATION_WAIT_TRIES: u32 = 25;

/// The client's address as the server resolved it (a request extension): the socket
/// peer, or what a trusted proxy says the peer was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// An export request's answer: the new job, or the one already running.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    pub job: ExportJob,
    /// True when the user's earlier job is still pending or processing; nothing new was
    /// queued and no quota was used.
    pub already_running: bool,
}

/// The user's profile and how much data we hold for them.
#[derive(Clone, Debug)]
pub struct Profile {
    pub user: User,
    pub counts: DataCounts,
}

/// A download the user may have.
#[derive(Clone, Debug)]
pub struct AuthorizedDownload {
    pub job: ExportJob,
    /// The validated storage key, from the job record.
    pub storage_key: String,
}

impl AuthorizedDownload {
    /// The `Content-Disposition` of the archive: the name the browser saves it under,
    /// whether we serve it or a signed URL does.
    pub fn content_disposition(&self) -> String {
        format!(
            "attachment; filename=\"youtube-feed-export-{}.zip\"",
            self.job.created_at.format("%Y-%m-%d")
        )
    }
}

/// Account operations over the database, the job store and storage.
#[derive(Clone)]
pub struct Account {
    db: Database,
    jobs: JobStore,
    storage: ExportStorage,
    limiter: RateLimiter,
    presign_downloads: Option<Duration>,
}

impl Account {
    /// `presign_downloads`: the validity of signed URLs for backends that support them;
    /// `None` streams every download through the server.
    pub fn new(
        db: Database,
        jobs: JobStore,
        storage: ExportStorage,
        limiter: RateLimiter,
        presign_downloads: Option<Duration>,
    ) -> Self {
        Self {
            db,
            jobs,
            storage,
            limiter,
            presign_downloads,
        }
    }

    pub fn storage(&self) -> &ExportStorage {
        &self.storage
    }

    pub fn jobs(&self) -> &JobStore {
        &self.jobs
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Checks an email and password; `None` when they don't match an account. Every
    /// attempt counts against the limits of the client address and of the account.
    pub async fn login(
        &self,
        client: IpAddr,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, AccountError> {
        self.limiter.login(client, email).await?;
        Ok(self.db.verify_login(email, password).await?)
    }

    pub async fn profile(&self, user: UserId) -> Result<Profile, AccountError> {
        let user = self
            .db
            .user_by_id(user)
            .await?
            .ok_or(AccountError::NotFound)?;
        let counts = self.db.counts(user.id).await?;
        Ok(Profile { user, counts })
    }

    /// Queues an export of the user's data, unless one is already pending or processing:
    /// then that job is the answer, and no quota is used.
    pub async fn request_export(&self, user: UserId) -> Result<ExportRequest, AccountError> {
        let id = JobId::generate();

        // A marker can outlive its job when a worker died mid-job; the second round runs
        // after such a stale marker is cleared.
        for _ in 0..2 {
            match self.limiter.admit_export(user, &id).await? {
                ExportAdmission::Admitted => {
                    let queued = self.queue_export(user, id.clone()).await;
                    if queued.is_err() {
                        self.limiter.release_export(user, &id, true).await?;
                    }
                    return queued.map(|job| ExportRequest {
                        job,
                        already_running: false,
                    });
                }
                ExportAdmission::Limited(retry_at) => {
                    tracing::debug!(user.id = user.0, "export request rate limited");
                    return Err(AccountError::RateLimited { retry_at });
                }
                ExportAdmission::Active(active) => {
                    if let Some(job) = self.wait_for_record(&active).await?
                        && job.status.is_active()
                    {
                        return Ok(ExportRequest {
                            job,
                            already_running: true,
                        });
                    }
                    tracing::warn!(job.id = %active, "cleared a stale active-export marker");
                    self.limiter.release_export(user, &active, false).await?;
                }
            }
        }
        Err(AccountError::Unavailable(
            "the active-export marker keeps reappearing".into(),
        ))
    }

    async fn queue_export(&self, user: UserId, id: JobId) -> Result<ExportJob, AccountError> {
        let user = self
            .db
            .user_by_id(user)
            .await?
            .ok_or(AccountError::NotFound)?;
        let job = ExportJob::new_pending(id, user.id.0, user.email, Utc::now());
        self.jobs.create(&job).await?;
        Ok(job)
    }

    /// The record of an active job; another request may be creating it right now, so
    /// a missing record is given a moment to appear.
    async fn wait_for_record(&self, id: &JobId) -> Result<Option<ExportJob>, AccountError> {
        for _ in 0..CREATION_WAIT_TRIES {
            if let Some(job) = self.jobs.get(id).await? {
                return Ok(Some(job));
            }
            tokio::time::sleep(CREATION_WAIT).await;
        }
        Ok(None)
    }

    /// One of the user's jobs. Another user's job is reported as not found, so its
    /// existence is not revealed.
    pub async fn job(&self, user: UserId, raw_id: &str) -> Result<ExportJob, AccountError> {
        self.limiter.status(user).await?;
        let id = JobId::parse(raw_id).map_err(|_| AccountError::InvalidInput("job id"))?;
        self.owned_job(user, &id).await
    }

    /// The user's most recent job, if its record still exists.
    pub async fn latest_job(&self, user: UserId) -> Result<Option<ExportJob>, AccountError> {
        Ok(self.jobs.latest_for_user(user.0).await?)
    }

    /// Authorizes a download by file name: the name must be that of a completed,
    /// unexpired job of this user. The storage key to serve comes from the returned job
    /// record, never from the name in the request.
    pub async fn authorize_download(
        &self,
        user: UserId,
        filename: &str,
    ) -> Result<AuthorizedDownload, AccountError> {
        self.limiter.download(user).await?;
        let id =
            job_id_from_filename(filename).map_err(|_| AccountError::InvalidInput("file name"))?;
        let job = self.owned_job(user, &id).await?;

        if job.status != yt_jobs::JobStatus::Completed {
            return Err(AccountError::NotReady);
        }
        if !job.is_downloadable(Utc::now()) {
            return Err(AccountError::Expired);
        }
        let storage_key = job.storage_id.clone().ok_or(AccountError::NotFound)?;
        yt_storage::validate_key(&storage_key).map_err(|e| AccountError::Internal(e.into()))?;
        Ok(AuthorizedDownload { job, storage_key })
    }

    /// Opens an authorized download: a signed URL where the backend supports them and
    /// they are enabled, the bytes otherwise.
    pub async fn open_download(
        &self,
        download: &AuthorizedDownload,
    ) -> Result<Download, AccountError> {
        match self
            .storage
            .download_as(
                &download.storage_key,
                self.presign_downloads,
                &download.content_disposition(),
            )
            .await
        {
            Err(yt_storage::StorageError::NotFound) => Err(AccountError::Expired),
            other => Ok(other?),
        }
    }

    async fn owned_job(&self, user: UserId, id: &JobId) -> Result<ExportJob, AccountError> {
        match self.jobs.get(id).await? {
            Some(job) if job.user_id == user.0 => Ok(job),
            _ => Err(AccountError::NotFound),
        }
    }
}
