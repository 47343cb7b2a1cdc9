//! Storage emulators, one per test: moto (S3), gcp-storage-emulator (GCS) and Azurite
//! (Azure Blob), each on a free port in a temporary folder and killed on drop.
//!
//! `scripts/setup` installs them under the tool folder (`YT_TOOLS_DIR`, default
//! `~/.cache/yt-export-tools`): a Python venv in `venv/` and Azurite in `node_modules/`. A
//! missing emulator fails the test with the command that installs it; it is never skipped.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use tempfile::TempDir;

use crate::{free_port, redis::wait_for_port};

/// Azurite's well-known development account and key (public, in Microsoft's docs).
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// The folder `scripts/setup` installs the emulators into.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("YT_TOOLS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("yt-export-tools")
}

/// An emulator process, killed on drop.
struct Emulator {
    port: u16,
    child: Child,
    _dir: TempDir,
}

impl Emulator {
    /// Starts `program` with the arguments `args(port, dir)` gives, retrying on another
    /// free port when the first is taken.
    fn start(
        name: &str,
        program: PathBuf,
        args: impl Fn(u16, &std::path::Path) -> Vec<String>,
    ) -> Self {
        assert!(
            program.exists(),
            "{name} is not installed at {}: run scripts/setup",
            program.display()
        );
        let dir = tempfile::tempdir().expect("a temporary folder for an emulator");
        for _attempt in 0..3 {
            let port = free_port();
            let mut child = Command::new(&program)
                .args(args(port, dir.path()))
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {name} ({}): {e}", program.display()));
            if wait_for_port_long(port, &mut child) {
                return Self {
                    port,
                    child,
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("{name} did not start on any of three free ports");
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Python emulators take a few seconds to import on a busy machine.
fn wait_for_port_long(port: u16, child: &mut Child) -> bool {
    (0..6).any(|_| wait_for_port(port, child))
}

/// moto in server mode: an S3 endpoint with path-style buckets.
pub struct S3Emulator(Emulator);

impl S3Emulator {
    /// Starts moto with one empty bucket, `bucket`.
    pub fn start(bucket: &str) -> Self {
        let program = tools_dir().join("venv/bin/moto_server");
        let emulator = Emulator::start("moto_server", program, |port, _| {
            vec![
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ]
        });
        let status = http(emulator.port, "PUT", &format!("/{bucket}"), &[]);
        assert_eq!(status, 200, "moto did not create bucket {bucket}");
        Self(emulator)
    }

    pub fn endpoint(&self) -> String {
        self.0.endpoint()
    }

    pub fn port(&self) -> u16 {
        self.0.port
    }
}

/// gcp-storage-emulator, in memory, with one bucket, run through our launcher
/// `emulators/gcs_emulator.py`: it adds GCS's XML API multipart upload, which opendal
/// uses for large objects and the emulator lacks.
pub struct GcsEmulator(Emulator);

impl GcsEmulator {
    pub fn start(bucket: &str) -> Self {
        // The venv's python is there whatever was installed in it: look for the package's
        // own command to tell whether scripts/setup installed the emulator.
        let venv = tools_dir().join("venv");
        let installed = venv.join("bin/gcp-storage-emulator");
        assert!(
            installed.exists(),
            "gcp-storage-emulator is not installed at {}: run scripts/setup",
            installed.display()
        );
        let launcher = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("emulators/gcs_emulator.py");
        let bucket = bucket.to_owned();
        let python = venv.join("bin/python");
        let emulator = Emulator::start("gcp-storage-emulator", python, move |port, _| {
            vec![
                launcher.display().to_string(),
                "start".into(),
                "--host".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
                "--in-memory".into(),
                "--quiet".into(),
                "--default-bucket".into(),
                bucket.clone(),
            ]
        });
        Self(emulator)
    }

    pub fn endpoint(&self) -> String {
        self.0.endpoint()
    }
}

/// Azurite's blob service, with one container made with the development account's key.
pub struct AzuriteEmulator(Emulator);

impl AzuriteEmulator {
    pub fn start(container: &str) -> Self {
        let program = tools_dir().join("node_modules/.bin/azurite-blob");
        // In memory, so no --location (Azurite refuses the two together); it runs in its
        // temporary folder all the same.
        let emulator = Emulator::start("azurite-blob", program, |port, _| {
            vec![
                "--blobHost".into(),
                "127.0.0.1".into(),
                "--blobPort".into(),
                port.to_string(),
                "--inMemoryPersistence".into(),
                "--silent".into(),
                "--skipApiVersionCheck".into(),
                "--disableTelemetry".into(),
            ]
        });
        let path = format!("/{AZURITE_ACCOUNT}/{container}?restype=container");
        let headers = crate::azure::shared_key_headers("PUT", AZURITE_ACCOUNT, AZURITE_KEY, &path);
        let status = http(emulator.port, "PUT", &path, &headers);
        assert_eq!(status, 201, "Azurite did not create container {container}");
        Self(emulator)
    }

    /// The blob endpoint, account included (`http://127.0.0.1:PORT/devstoreaccount1`).
    pub fn endpoint(&self) -> String {
        format!("{}/{AZURITE_ACCOUNT}", self.0.endpoint())
    }
}

/// One bodiless HTTP/1.1 request; returns the status code.
fn http(port: u16, method: &str, path: &str, headers: &[(String, String)]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the emulator accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("sending a request");
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {reply:?}"))
}
