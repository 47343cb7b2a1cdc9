//! A real SMTP server that captures mail: `end2end/support/smtp-capture.mjs` (the npm
//! package smtp-server), one per test.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use tempfile::TempDir;

/// One captured message, as received.
#[derive(Clone, Debug)]
pub struct CapturedMail {
    pub path: PathBuf,
    pub raw: String,
}

impl CapturedMail {
    /// The body with quoted-printable soft line breaks and `=3D` undone, enough to find
    /// links in it.
    pub fn decoded(&self) -> String {
        self.raw
            .replace("=\r\n", "")
            .replace("=\n", "")
            .replace("=3D", "=")
    }
}

/// The capture server, stopped on drop.
pub struct SmtpCapture {
    port: u16,
    child: Child,
    dir: TempDir,
}

impl SmtpCapture {
    /// Starts the server on a free port. Needs `node` and `npm install` in `end2end/`.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder for mail");
        let script = repo_root().join("end2end/support/smtp-capture.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .args(["--port", "0", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node is installed");

        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the capture server prints its port");
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!("smtp-capture did not start (run npm install in end2end/): {line:?}")
            });
        Self { port, child, dir }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// An `smtp://` URL for the mailer.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<CapturedMail> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|ext| ext == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
            .into_iter()
            .map(|path| CapturedMail {
                raw: std::fs::read_to_string(&path).unwrap_or_default(),
                path,
            })
            .collect()
    }

    /// Waits up to `timeout` for at least `count` messages.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<CapturedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() >= deadline {
                return messages;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmtpCapture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The repository root, from this crate's place in it.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}
