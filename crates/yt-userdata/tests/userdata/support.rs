//! A migrated, empty database per test, on either engine, and the macro that runs one
//! behaviour on both.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tempfile::TempDir;
use yt_testkit::Postgres;
use yt_userdata::{Database, NewUser, NewWatchedVideo, User};

/// A database a test owns; the database handle drops before the files or server behind it.
pub struct TestDb {
    pub db: Database,
    pub url: String,
    _home: Home,
}

enum Home {
    Sqlite(#[expect(dead_code, reason = "held so the folder outlives the database")] TempDir),
    Postgres(#[expect(dead_code, reason = "held so the server outlives the database")] Postgres),
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("userdata.db").display());
        Self::open(url, Home::Sqlite(dir)).await
    }

    pub async fn postgres() -> Self {
        let server = Postgres::start();
        Self::open(server.url(), Home::Postgres(server)).await
    }

    async fn open(url: String, home: Home) -> Self {
        let db = Database::connect(&url)
            .await
            .expect("the test database opens");
        db.migrate().await.expect("the schema migrates");
        Self {
            db,
            url,
            _home: home,
        }
    }
}

/// Runs each named `async fn(&TestDb)` of the calling module as two tests,
/// `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let test_db = $crate::support::TestDb::sqlite().await;
                    super::$name(&test_db).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let test_db = $crate::support::TestDb::postgres().await;
                    super::$name(&test_db).await;
                }
            )+
        }
    };
}

/// Creates a user with a throwaway password.
pub async fn user(db: &Database, email: &str) -> User {
    let new = NewUser {
        email,
        display_name: None,
        avatar_url: None,
        password: "pw-123456",
    };
    db.create_user(new).await.expect("the user is created")
}

/// A fixed instant plus `seconds`, with microseconds, for predictable timestamps.
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
        + Duration::seconds(seconds)
        + Duration::microseconds(123_456)
}

/// Owned rows for `add_watched_videos`, with ids `v<prefix><n>`.
pub struct Videos {
    pub ids: Vec<String>,
    pub titles: Vec<String>,
}

impl Videos {
    pub fn numbered(prefix: &str, count: usize) -> Self {
        Self {
            ids: (0..count).map(|n| format!("v{prefix}{n:09}")).collect(),
            titles: (0..count)
                .map(|n| format!("Video {n} of {prefix}"))
                .collect(),
        }
    }

    pub fn rows(&self) -> Vec<NewWatchedVideo<'_>> {
        self.ids
            .iter()
            .zip(&self.titles)
            .enumerate()
            .map(|(n, (id, title))| NewWatchedVideo {
                video_id: id,
                channel_id: Some("UCxxxxxxxxxxxxxxxxxxxxxx"),
                title: Some(title),
                watched_at: at(n as i64),
            })
            .collect()
    }
}
