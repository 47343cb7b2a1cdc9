//! The handle to the user database: a connection pool plus the engine it talks to.

use std::time::{Duration, Instant};

use sqlx::{AnyPool, Executor, any::AnyPoolOptions, migrate::Migrator};

use crate::{Backend, DbError, url};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Per-connection settings for SQLite: wait up to five seconds for a competing writer
/// instead of failing at once, let readers run beside the writer (WAL), and enforce the
/// foreign keys the schema declares.
const SQLITE_PRAGMAS: &str =
    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;";

/// How the pool behaves; the defaults suit both the server and the worker.
#[derive(Clone, Debug)]
pub struct DbOptions {
    /// Connections kept at most (an in-memory SQLite database always uses one).
    pub max_connections: u32,
    /// How long a caller waits for a connection, including the first one at connect,
    /// before the call fails with [`DbError::Unavailable`].
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A pool of connections to SQLite or PostgreSQL; cheap to clone and share.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
}

impl Database {
    /// Opens a pool with default options; see [`Database::connect_with`].
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with(url, &DbOptions::default()).await
    }

    /// Opens a pool on `sqlite://path` (the file and its folders are created when missing)
    /// or `postgres://...`, and checks that one connection works. It does not migrate.
    pub async fn connect_with(url: &str, options: &DbOptions) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let target = url::prepare(url)?;

        let mut pool = AnyPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout);
        if target.backend == Backend::Sqlite {
            pool = pool.after_connect(|conn, _meta| {
                Box::pin(async move { conn.execute(SQLITE_PRAGMAS).await.map(|_| ()) })
            });
        }
        if target.in_memory {
            pool = pool
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }

        let pool = pool.connect(&target.url).await.map_err(|e| match e {
            sqlx::Error::Configuration(reason) => DbError::InvalidUrl(reason.to_string()),
            other => DbError::from(other),
        })?;
        tracing::info!(db.backend = %target.backend, "connected to the user database");
        Ok(Self {
            pool,
            backend: target.backend,
        })
    }

    /// Brings the schema up to date; running it again is a no-op.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let started = Instant::now();
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };

        migrator.run(&self.pool).await?;
        tracing::info!(
            db.backend = %self.backend,
            duration_ms = started.elapsed().as_millis() as u64,
            "user database schema is up to date"
        );
        Ok(())
    }

    /// The engine behind this pool.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Round-trips a trivial statement, for health checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    /// Closes every connection; later calls fail with [`DbError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}
