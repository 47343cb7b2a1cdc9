//! What a signed-in user can do with their data export, in one place.
//!
//! The account page's server functions and the JSON API both call [`Account`], so the
//! rules (whose job is whose, which names are valid, when a download is allowed) exist
//! once. Callers map [`AccountError`] to their own responses.

mod error;

use std::time::Duration;

use chrono::Utc;
use yt_jobs::{ExportJob, JobId, JobStore, job_id_from_filename};
use yt_storage::{Download, ExportStorage};
use yt_userdata::{DataCounts, Database, User, UserId};

pub use error::AccountError;

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

/// Account operations over the database, the job store and storage.
#[derive(Clone)]
pub struct Account {
    db: Database,
    jobs: JobStore,
    storage: ExportStorage,
    presign_downloads: Option<Duration>,
}

impl Account {
    /// `presign_downloads`: the validity of signed URLs for backends that support them;
    /// `None` streams every download through the server.
    pub fn new(
        db: Database,
        jobs: JobStore,
        storage: ExportStorage,
        presign_downloads: Option<Duration>,
    ) -> Self {
        Self {
            db,
            jobs,
            storage,
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

    /// Checks an email and password; `None` when they don't match an account.
    pub async fn login(&self, email: &str, password: &str) -> Result<Option<User>, AccountError> {
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

    /// Queues an export of the user's data.
    pub async fn request_export(&self, user: UserId) -> Result<ExportJob, AccountError> {
        let user = self
            .db
            .user_by_id(user)
            .await?
            .ok_or(AccountError::NotFound)?;
        let job = ExportJob::new_pending(JobId::generate(), user.id.0, user.email, Utc::now());
        self.jobs.create(&job).await?;
        Ok(job)
    }

    /// One of the user's jobs. Another user's job is reported as not found, so its
    /// existence is not revealed.
    pub async fn job(&self, user: UserId, raw_id: &str) -> Result<ExportJob, AccountError> {
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
            .download(&download.storage_key, self.presign_downloads)
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
