//! The job as users see it: the JSON API's body and the account page's state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ExportJob, JobStatus, Progress};

/// A job without its internals (no email address, no storage key).
///
/// Fields that only make sense in one state are absent otherwise: `download_url`,
/// `completed_at` and `expires_at` once completed, `error` once failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub job_id: String,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    pub progress: ProgressView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Completed, but the archive is past its time to live.
    #[serde(default)]
    pub expired: bool,
}

/// Progress with its derived fields, so clients need no arithmetic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgressView {
    #[serde(flatten)]
    pub progress: Progress,
    pub percent: u8,
    pub label: String,
}

impl From<Progress> for ProgressView {
    fn from(progress: Progress) -> Self {
        Self {
            percent: progress.percent(),
            label: progress.label(),
            progress,
        }
    }
}

impl JobView {
    /// The job as it stands at `now` (which decides whether it has expired).
    pub fn new(job: &ExportJob, now: DateTime<Utc>) -> Self {
        let completed = job.status == JobStatus::Completed;
        Self {
            job_id: job.id.to_string(),
            status: job.status,
            created_at: job.created_at,
            progress: job.progress.into(),
            completed_at: job.completed_at.filter(|_| completed),
            download_url: job.download_url.clone().filter(|_| completed),
            expires_at: job.expires_at.filter(|_| completed),
            error: job
                .error
                .clone()
                .filter(|_| job.status == JobStatus::Failed),
            expired: completed && job.expires_at.is_some_and(|expires| expires <= now),
        }
    }
}
