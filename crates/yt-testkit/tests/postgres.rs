//! `Postgres` hands each test a database that `psql` can reach, in both of its modes.

use std::process::Command;

use yt_testkit::Postgres;

/// Runs one statement through `psql` and returns its unaligned output.
fn psql(url: &str, sql: &str) -> String {
    let output = Command::new("psql")
        .args([
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("psql is installed");
    assert!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("psql prints UTF-8")
        .trim()
        .to_owned()
}

#[test]
fn start_gives_a_database_that_answers() {
    let postgres = Postgres::start();

    assert_eq!(psql(&postgres.url(), "select 1"), "1");
}

#[test]
fn private_cluster_listens_on_loopback_and_is_gone_after_drop() {
    let postgres = Postgres::start_cluster();
    let url = postgres.url();

    assert_eq!(psql(&url, "select 1"), "1");
    assert_eq!(psql(&url, "show listen_addresses"), "127.0.0.1");
    assert_eq!(psql(&url, "show server_encoding"), "UTF8");

    drop(postgres);
    let after = Command::new("psql")
        .args(["-X", "-d", &url, "-c", "select 1"])
        .output()
        .expect("psql is installed");
    assert!(
        !after.status.success(),
        "the cluster still answers after drop"
    );
}

#[test]
fn shared_server_mode_creates_and_drops_its_own_database() {
    let server = Postgres::start_cluster();

    let first = Postgres::create_database(&server.url());
    let second = Postgres::create_database(&server.url());
    assert_ne!(first.url(), second.url());
    assert_eq!(psql(&first.url(), "select 1"), "1");
    assert_eq!(psql(&second.url(), "show server_encoding"), "UTF8");

    let name = psql(&first.url(), "select current_database()");
    drop(first);
    let left = psql(
        &server.url(),
        &format!("select count(*) from pg_database where datname = '{name}'"),
    );
    assert_eq!(left, "0");
}
