//! Everything a job needs, connected once at start-up.

use std::sync::Arc;

use anyhow::Context as _;
use fred::clients::Pool;
use yt_jobs::{JobQueue, JobStore, WorkerRegistry};
use yt_mail::Mailer;
use yt_storage::ExportStorage;
use yt_userdata::Database;

use crate::{WorkerArgs, cleanup::CleanupPolicy, job::RECORD_GRACE};

pub struct WorkerContext {
    pub args: WorkerArgs,
    /// Unique among the workers sharing a Redis: `{host}-{pid}-{random}`.
    pub worker_id: String,
    pub host: String,
    pub jobs: JobStore,
    /// The same connections as `jobs`, for cleanup's lock and record checks.
    pub redis: Pool,
    pub queue: JobQueue,
    pub workers: WorkerRegistry,
    pub db: Database,
    pub storage: ExportStorage,
    pub mailer: Mailer,
}

impl WorkerContext {
    /// Connects to Redis, the database and storage, and checks that each answers, so a
    /// bad setting shows at start-up rather than at the first export.
    pub async fn connect(args: WorkerArgs) -> anyhow::Result<Arc<Self>> {
        let backend = args.storage.backend()?;
        let mailer = args.mail.mailer()?;

        let pool = yt_jobs::connect_pool(&args.redis.redis_url, 2)
            .await
            .context("connecting to Redis (YT_REDIS_URL)")?;
        let queue = JobQueue::connect(&args.redis.redis_url, pool.clone())
            .await
            .context("connecting to Redis (YT_REDIS_URL)")?;

        let db = Database::connect(&args.database.database_url)
            .await
            .context("connecting to the database (YT_DATABASE_URL)")?;
        db.migrate().await.context("migrating the database")?;

        let storage = ExportStorage::open(&backend).context("opening storage")?;
        storage
            .check()
            .await
            .with_context(|| format!("storage backend {} does not answer", backend.name()))?;

        let host = hostname::get()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "unknown".to_owned());
        let worker_id = format!(
            "{host}-{}-{:04x}",
            std::process::id(),
            rand::random::<u16>()
        );
        tracing::info!(
            worker.id = %worker_id,
            storage.backend = storage.backend(),
            mail.transport = mailer.transport_name(),
            "worker connected"
        );
        Ok(Arc::new(Self {
            args,
            worker_id,
            host,
            jobs: JobStore::new(pool.clone()),
            redis: pool.clone(),
            queue,
            workers: WorkerRegistry::new(pool),
            db,
            storage,
            mailer,
        }))
    }

    /// What cleanup calls old, from the settings.
    pub fn cleanup_policy(&self) -> CleanupPolicy {
        CleanupPolicy {
            ttl: self.args.export.ttl(),
            staging_max_age: self.args.tuning.staging_max_age(),
            record_grace: self.record_grace(),
        }
    }

    /// How long a completed job's record outlives its archive's expiry: cleanup may
    /// delete the archive up to one interval late, and the record stays `RECORD_GRACE`
    /// longer still, so the page says "expired", never "not found".
    pub fn record_grace(&self) -> std::time::Duration {
        self.args.tuning.cleanup_interval() + RECORD_GRACE
    }
}
