//! Opening the database: URLs we refuse, servers we cannot reach, and SQLite's file.

use std::time::{Duration, Instant};

use yt_userdata::{Backend, Database, DbError, DbOptions};

use crate::{on_both_backends, support::TestDb};

#[tokio::test]
async fn urls_of_other_kinds_are_invalid() {
    for url in [
        "mysql://root:hunter2@localhost/db",
        "hunter2",
        "",
        "sqlite://",
        "postgres://[::1",
    ] {
        match Database::connect(url).await {
            Err(DbError::InvalidUrl(reason)) => {
                assert!(
                    !reason.contains("hunter2"),
                    "the reason repeats the URL: {reason}"
                );
            }
            other => panic!("{url:?} gave {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_and_worth_retrying() {
    let port = yt_testkit::free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/nothing");
    let options = DbOptions {
        acquire_timeout: Duration::from_millis(500),
        ..DbOptions::default()
    };

    let started = Instant::now();
    let error = Database::connect_with(&url, &options).await.unwrap_err();

    assert!(matches!(error, DbError::Unavailable(_)), "{error:?}");
    assert!(error.is_transient());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn sqlite_creates_the_file_and_its_folders() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep").join("er").join("yt.db");

    let db = Database::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();

    assert_eq!(db.backend(), Backend::Sqlite);
    assert!(file.is_file());
    assert!(
        dir.path().join("deep/er/yt.db-wal").exists(),
        "the journal is write-ahead"
    );
}

#[tokio::test]
async fn sqlite_in_memory_keeps_its_data_across_calls() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.migrate().await.unwrap();
    yt_userdata::seed::seed_demo(&db).await.unwrap();

    let demo = db
        .user_by_email(yt_userdata::seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(db.counts(demo.id).await.unwrap().watched_videos, 2_000);
}

async fn a_closed_pool_is_unavailable(t: &TestDb) {
    t.db.ping().await.unwrap();
    t.db.close().await;

    let error = t.db.ping().await.unwrap_err();
    assert!(matches!(error, DbError::Unavailable(_)), "{error:?}");
    assert!(error.is_transient());
}

on_both_backends!(a_closed_pool_is_unavailable);
