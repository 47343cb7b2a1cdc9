//! The worker refuses to start when a part it needs does not answer, and says which.

use std::process::Command;

#[test]
fn an_unreachable_storage_backend_stops_the_worker_naming_it() {
    let redis = yt_testkit::RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let closed = yt_testkit::free_port();

    let out = Command::new(env!("CARGO_BIN_EXE_worker"))
        .arg("run")
        .env("YT_REDIS_URL", redis.url())
        .env(
            "YT_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("app.db").display()),
        )
        .env("YT_WORKER_METRICS_ADDR", "127.0.0.1:0")
        .env("YT_EXPORT_STORAGE_BACKEND", "azblob")
        .env("YT_AZBLOB_CONTAINER", "exports")
        .env("YT_AZBLOB_ACCOUNT_NAME", "devstoreaccount1")
        .env("YT_AZBLOB_ACCOUNT_KEY", "a2V5")
        .env(
            "YT_AZBLOB_ENDPOINT",
            format!("http://127.0.0.1:{closed}/devstoreaccount1"),
        )
        .output()
        .unwrap();

    assert!(!out.status.success(), "the worker started without storage");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("azblob"), "{stderr}");
    assert!(stderr.contains("does not answer"), "{stderr}");
}

#[test]
fn an_unreachable_redis_stops_the_worker_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let closed = yt_testkit::free_port();

    let out = Command::new(env!("CARGO_BIN_EXE_worker"))
        .arg("run")
        .env("YT_REDIS_URL", format!("redis://127.0.0.1:{closed}"))
        .env(
            "YT_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("app.db").display()),
        )
        .env("YT_EXPORT_LOCAL_PATH", dir.path().join("exports"))
        .env("YT_WORKER_METRICS_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();

    assert!(!out.status.success(), "the worker started without Redis");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("YT_REDIS_URL"), "{stderr}");
}
