//! `server --help` documents every variable; a bad value names its variable.

use std::process::Command;

const VARIABLES: &[&str] = &[
    "YT_LISTEN_ADDR",
    "YT_SITE_ROOT",
    "YT_REDIS_URL",
    "YT_DATABASE_URL",
    "YT_EXPORT_STORAGE_BACKEND",
    "YT_EXPORT_LOCAL_PATH",
    "YT_EXPORT_URL_BASE",
    "YT_EXPORT_TTL_HOURS",
    "YT_GCS_BUCKET_NAME",
    "YT_GCS_CREDENTIALS_FILE",
    "YT_EXPORT_ACCEL_REDIRECT",
    "YT_LOG_FORMAT",
];

#[test]
fn help_lists_every_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--help")
        .output()
        .unwrap();

    let help = String::from_utf8(out.stdout).unwrap();
    for variable in VARIABLES {
        assert!(
            help.contains(variable),
            "{variable} missing from --help:\n{help}"
        );
    }
}

#[test]
fn a_bad_value_stops_start_up_naming_the_variable() {
    for (variable, value) in [
        ("YT_EXPORT_TTL_HOURS", "soon"),
        ("YT_EXPORT_URL_BASE", "not a url"),
        ("YT_EXPORT_STORAGE_BACKEND", "floppy"),
        ("YT_LISTEN_ADDR", "localhost"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_server"))
            .env(variable, value)
            .output()
            .unwrap();

        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(variable), "{variable}={value}: {stderr}");
    }
}

#[test]
fn gcs_without_a_bucket_is_refused_at_start_up() {
    let out = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("YT_EXPORT_STORAGE_BACKEND", "gcs")
        .env_remove("YT_GCS_BUCKET_NAME")
        .output()
        .unwrap();

    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("YT_GCS_BUCKET_NAME"));
}

#[test]
fn an_unreachable_storage_backend_stops_start_up_naming_it() {
    let redis = yt_testkit::RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let closed = yt_testkit::free_port();

    let out = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("YT_REDIS_URL", redis.url())
        .env(
            "YT_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("app.db").display()),
        )
        .env("YT_LISTEN_ADDR", "127.0.0.1:0")
        .env("YT_EXPORT_STORAGE_BACKEND", "s3")
        .env("YT_S3_BUCKET", "exports")
        .env("YT_S3_ENDPOINT", format!("http://127.0.0.1:{closed}"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();

    assert!(!out.status.success(), "the server started without storage");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("storage backend s3 does not answer"),
        "{stderr}"
    );
}
