//! The export job record and its lifecycle.

use std::{fmt, str::FromStr};

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::JobId;

/// Where a job is in its life. The four values are the spec's and appear as-is in Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Pending,
    Processing,
    Completed,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    /// Whether the job may still change (and the page should keep polling).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Pending | Self::Processing)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "processing" => Ok(Self::Processing),
            "completed" => Ok(Self::Completed),
            "failed" => Ok(Self::Failed),
            other => Err(format!("unknown job status {other:?}")),
        }
    }
}

/// The step a running export is at, in the order the worker takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Queued,
    Profile,
    Subscriptions,
    WatchHistory,
    Finishing,
    Done,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Profile => "profile",
            Self::Subscriptions => "subscriptions",
            Self::WatchHistory => "watch_history",
            Self::Finishing => "finishing",
            Self::Done => "done",
        }
    }

    /// What the user reads next to the progress bar.
    pub fn label(self) -> &'static str {
        match self {
            Self::Queued => "Waiting for a worker",
            Self::Profile => "Writing profile",
            Self::Subscriptions => "Writing subscriptions",
            Self::WatchHistory => "Writing watch history",
            Self::Finishing => "Saving the archive",
            Self::Done => "Done",
        }
    }
}

impl FromStr for Phase {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Queued,
            Self::Profile,
            Self::Subscriptions,
            Self::WatchHistory,
            Self::Finishing,
            Self::Done,
        ]
        .into_iter()
        .find(|phase| phase.as_str() == s)
        .ok_or_else(|| format!("unknown phase {s:?}"))
    }
}

/// How far a job has come: the phase and the items written of that phase's total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
}

impl Progress {
    pub fn new(phase: Phase, done: u64, total: u64) -> Self {
        Self { phase, done, total }
    }

    /// Overall completion in percent, monotonic across phases. The watch history is by
    /// far the largest part of an export, so it gets most of the bar.
    pub fn percent(&self) -> u8 {
        let fraction = if self.total == 0 {
            1.0
        } else {
            (self.done.min(self.total) as f64) / (self.total as f64)
        };
        let (start, span) = match self.phase {
            Phase::Queued => (0.0, 0.0),
            Phase::Profile => (1.0, 1.0),
            Phase::Subscriptions => (2.0, 3.0),
            Phase::WatchHistory => (5.0, 90.0),
            Phase::Finishing => (96.0, 3.0),
            Phase::Done => (100.0, 0.0),
        };
        (start + span * fraction).floor().clamp(0.0, 100.0) as u8
    }

    /// "Writing watch history: 1,200 of 2,000".
    pub fn label(&self) -> String {
        match self.phase {
            Phase::Subscriptions | Phase::WatchHistory => format!(
                "{}: {} of {}",
                self.phase.label(),
                thousands(self.done),
                thousands(self.total)
            ),
            other => other.label().to_owned(),
        }
    }
}

/// Formats 1234567 as "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Everything Redis holds about one export job.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportJob {
    pub id: JobId,
    pub user_id: i64,
    /// Where the "ready" email goes; never logged.
    pub email: String,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The storage key of the published archive.
    pub storage_id: Option<String>,
    pub download_url: Option<String>,
    pub error: Option<String>,
    pub progress: Progress,
    pub archive_bytes: Option<u64>,
    pub archive_sha256: Option<String>,
    /// `sent` or `failed` once the job's email was tried.
    pub email_status: Option<String>,
    /// Why the email failed, when it did.
    pub email_error: Option<String>,
    /// How many times a worker has taken the job.
    pub attempts: u32,
    /// The worker holding the job while it is processing.
    pub worker_id: Option<String>,
    /// The cause of the last transient failure, for operators.
    pub last_error: Option<String>,
}

impl ExportJob {
    /// A job as the API creates it, before any worker has seen it. Times are kept to the
    /// millisecond, as Redis stores them.
    pub fn new_pending(id: JobId, user_id: i64, email: String, now: DateTime<Utc>) -> Self {
        Self {
            id,
            user_id,
            email,
            status: JobStatus::Pending,
            created_at: now.trunc_subsecs(3),
            started_at: None,
            completed_at: None,
            expires_at: None,
            storage_id: None,
            download_url: None,
            error: None,
            progress: Progress::new(Phase::Queued, 0, 0),
            archive_bytes: None,
            archive_sha256: None,
            email_status: None,
            email_error: None,
            attempts: 0,
            worker_id: None,
            last_error: None,
        }
    }

    /// Whether the archive can still be downloaded at `now`.
    pub fn is_downloadable(&self, now: DateTime<Utc>) -> bool {
        self.status == JobStatus::Completed
            && self.storage_id.is_some()
            && self.expires_at.is_none_or(|expires| now < expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_label_reads_like_the_page() {
        let progress = Progress::new(Phase::WatchHistory, 1_200, 2_000);

        assert_eq!(progress.label(), "Writing watch history: 1,200 of 2,000");
        assert_eq!(
            Progress::new(Phase::Queued, 0, 0).label(),
            "Waiting for a worker"
        );
    }

    #[test]
    fn percent_grows_across_phases() {
        let steps = [
            Progress::new(Phase::Queued, 0, 0),
            Progress::new(Phase::Profile, 0, 1),
            Progress::new(Phase::Subscriptions, 25, 50),
            Progress::new(Phase::WatchHistory, 0, 2_000),
            Progress::new(Phase::WatchHistory, 1_000, 2_000),
            Progress::new(Phase::WatchHistory, 2_000, 2_000),
            Progress::new(Phase::Finishing, 0, 1),
            Progress::new(Phase::Done, 1, 1),
        ];

        let percents: Vec<u8> = steps.iter().map(Progress::percent).collect();
        assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
        assert_eq!(percents.first(), Some(&0));
        assert_eq!(percents.last(), Some(&100));
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn statuses_and_phases_round_trip() {
        for status in ["pending", "processing", "completed", "failed"] {
            assert_eq!(status.parse::<JobStatus>().unwrap().as_str(), status);
        }
        for phase in [
            "queued",
            "profile",
            "subscriptions",
            "watch_history",
            "finishing",
            "done",
        ] {
            assert_eq!(phase.parse::<Phase>().unwrap().as_str(), phase);
        }
        assert!("PENDING".parse::<JobStatus>().is_err());
    }
}
