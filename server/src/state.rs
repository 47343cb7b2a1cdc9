//! What every handler can reach.

use std::time::Duration;

use anyhow::Context as _;
use axum::extract::FromRef;
use fred::clients::Pool;
use leptos::config::LeptosOptions;
use yt_account::{Account, Limit, Limits, RateLimiter};
use yt_config::RateLimitArgs;
use yt_jobs::JobStore;
use yt_storage::ExportStorage;
use yt_userdata::Database;

use crate::ServerArgs;

/// Redis connections shared by sessions and the job store.
const REDIS_POOL_SIZE: usize = 4;

#[derive(Clone)]
pub struct AppState {
    pub args: ServerArgs,
    pub account: Account,
    pub redis: Pool,
    pub leptos: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Connects and checks Redis, the database and storage, so a bad setting shows at
    /// start-up.
    pub async fn connect(args: ServerArgs) -> anyhow::Result<Self> {
        let backend = args.storage.backend()?;
        if args.accel_redirect && !matches!(backend, yt_storage::BackendConfig::Local { .. }) {
            anyhow::bail!("YT_EXPORT_ACCEL_REDIRECT: only works with local storage");
        }

        let redis = yt_jobs::connect_pool(&args.redis.redis_url, REDIS_POOL_SIZE)
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

        let presign = Some(Duration::from_secs(args.signed_url_secs.max(1)));
        let limiter = RateLimiter::new(redis.clone(), limits(&args.limits));
        let account = Account::new(db, JobStore::new(redis.clone()), storage, limiter, presign);
        let leptos = leptos_options(&args);
        Ok(Self {
            args,
            account,
            redis,
            leptos,
        })
    }
}

fn limits(args: &RateLimitArgs) -> Limits {
    Limits {
        export: Limit::per_hour(args.exports_per_hour),
        status: Limit::per_minute(args.status_per_minute),
        download: Limit::per_minute(args.downloads_per_minute),
        login_address: Limit::per_minute(args.logins_per_address),
        login_account: Limit::per_minute(args.logins_per_account),
    }
}

fn leptos_options(args: &ServerArgs) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("yt-export")
        .site_root(args.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(args.listen)
        .build()
}
