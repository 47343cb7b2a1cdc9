//! A PostgreSQL database per test: a fresh database on a shared server when
//! `YT_TEST_POSTGRES_URL` names one, otherwise a private cluster in a temporary folder.
//!
//! The shared-server mode is the fast path for CI machines that already run PostgreSQL;
//! the private cluster needs nothing but the server binaries and costs about a second
//! per test for `initdb`. Either way the test owns its database outright and nothing is
//! left behind when the handle drops.

use std::{
    fs,
    net::TcpStream,
    os::unix::fs::{MetadataExt, chown},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use tempfile::TempDir;

use crate::free_port;

/// The variable naming an admin URL of a running server to create test databases on.
pub const POSTGRES_URL_VAR: &str = "YT_TEST_POSTGRES_URL";

/// Where Debian installs one folder of server binaries per major version.
const DEBIAN_PG_ROOT: &str = "/usr/lib/postgresql";

/// The system user that owns a private cluster when tests run as root, since `initdb`
/// and `postgres` refuse to run as root.
const SERVICE_USER: &str = "postgres";

/// A PostgreSQL database owned by one test, dropped (with its cluster, if private) on drop.
pub struct Postgres {
    url: String,
    inner: Inner,
}

enum Inner {
    /// A database created on a server someone else runs.
    Shared { admin_url: String, name: String },
    /// A whole cluster started for this test.
    Private(Cluster),
}

struct Cluster {
    pg_ctl: PathBuf,
    data: PathBuf,
    as_service_user: bool,
    dir: TempDir,
}

impl Postgres {
    /// Creates a database on the server named by `YT_TEST_POSTGRES_URL`, or starts a
    /// private cluster when that variable is unset or empty.
    pub fn start() -> Self {
        match std::env::var(POSTGRES_URL_VAR) {
            Ok(admin_url) if !admin_url.trim().is_empty() => Self::create_database(&admin_url),
            _ => Self::start_cluster(),
        }
    }

    /// Creates a uniquely named UTF-8 database through `admin_url` (any database on the
    /// server, as a role allowed to create databases), dropped again on drop.
    pub fn create_database(admin_url: &str) -> Self {
        let name = unique_database_name();
        psql(
            admin_url,
            &format!(
                "CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' \
                 LC_COLLATE 'C' LC_CTYPE 'C'"
            ),
        );

        Self {
            url: with_database(admin_url, &name),
            inner: Inner::Shared {
                admin_url: admin_url.to_owned(),
                name,
            },
        }
    }

    /// Starts a private cluster on 127.0.0.1 at a free port with trust authentication and
    /// no fsync, and hands out its `postgres` database.
    pub fn start_cluster() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder for PostgreSQL");
        let data = dir.path().join("data");
        let as_service_user = owned_by_root(dir.path());
        if as_service_user {
            let (uid, gid) = service_user_ids();
            chown(dir.path(), Some(uid), Some(gid))
                .expect("the temporary folder can be given to the postgres user");
        }

        let initdb = server_binary("initdb");
        let mut init = command(as_service_user, &initdb, dir.path());
        init.arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
            .args(["--no-sync", "--no-instructions"]);
        expect_success(init.output(), "initdb");

        let mut cluster = Cluster {
            pg_ctl: server_binary("pg_ctl"),
            data,
            as_service_user,
            dir,
        };
        for _attempt in 0..5 {
            let port = free_port();
            if cluster.start_on(port) {
                return Self {
                    url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                    inner: Inner::Private(cluster),
                };
            }
        }
        panic!(
            "PostgreSQL did not start on any of five free ports; see {}",
            cluster.log().display()
        );
    }

    /// A `postgres://` URL to the test's own database.
    pub fn url(&self) -> String {
        self.url.clone()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        match &mut self.inner {
            Inner::Shared { admin_url, name } => {
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                let _ = psql_command(admin_url, &sql).output();
            }
            Inner::Private(cluster) => cluster.stop(),
        }
    }
}

impl Cluster {
    /// Starts the server in the background and waits until it accepts connections.
    fn start_on(&mut self, port: u16) -> bool {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.dir.path().display()
        );
        let mut start = command(self.as_service_user, &self.pg_ctl, self.dir.path());
        start
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.log())
            .args(["-o", &options, "-w", "-t", "30", "start"]);

        let started = start.stdout(Stdio::null()).stderr(Stdio::null()).status();
        started.is_ok_and(|status| status.success()) && accepts_connections(port)
    }

    fn stop(&mut self) {
        let mut stop = command(self.as_service_user, &self.pg_ctl, self.dir.path());
        stop.arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = stop.stdout(Stdio::null()).stderr(Stdio::null()).status();
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }
}

/// `pg_ctl -w` has already waited for the server, which then is not our child; this only
/// confirms that it is the one listening on `port` over TCP.
fn accepts_connections(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Runs `program` in `dir`, directly or as the postgres user through `runuser` when we are
/// root (the postgres user may not be allowed into the caller's working folder).
fn command(as_service_user: bool, program: &Path, dir: &Path) -> Command {
    let mut command = if as_service_user {
        let mut command = Command::new("runuser");
        command.args(["-u", SERVICE_USER, "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    command.current_dir(dir);
    command
}

/// The newest Debian server binary of that name, or the bare name to look up on `PATH`.
fn server_binary(name: &str) -> PathBuf {
    let newest = fs::read_dir(DEBIAN_PG_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: f64 = entry.file_name().to_str()?.parse().ok()?;
            let binary = entry.path().join("bin").join(name);
            binary.exists().then_some((version, binary))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));

    newest.map_or_else(|| PathBuf::from(name), |(_, binary)| binary)
}

/// Files we create belong to our effective user, so a fresh folder tells us whether we
/// are root without reaching for libc.
fn owned_by_root(path: &Path) -> bool {
    fs::metadata(path)
        .map(|meta| meta.uid() == 0)
        .unwrap_or(false)
}

/// The uid and gid of the postgres system user, read from `/etc/passwd`.
fn service_user_ids() -> (u32, u32) {
    let passwd = fs::read_to_string("/etc/passwd").expect("/etc/passwd is readable");
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&SERVICE_USER) && fields.len() > 3)
        .and_then(|fields| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
        .expect("a postgres system user exists (Debian package postgresql)")
}

/// A database name no other test in any process uses at the same time.
fn unique_database_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let serial = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("yt_test_{}_{serial}_{nanos}", std::process::id())
}

/// `url` with its database (the path) replaced by `name`, keeping any query string.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };

    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

fn psql_command(url: &str, sql: &str) -> Command {
    let mut command = Command::new("psql");
    command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]);
    command
}

fn psql(url: &str, sql: &str) {
    expect_success(psql_command(url, sql).output(), "psql");
}

fn expect_success(output: std::io::Result<Output>, what: &str) {
    let output = output.unwrap_or_else(|e| panic!("{what} could not run: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_only_the_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@host/db?sslmode=disable", "t2"),
            "postgres://u:p@host/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://host", "t3"), "postgres://host/t3");
    }
}
