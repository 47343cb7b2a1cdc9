//! A private `redis-server` per test.

use std::{
    io::{Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use tempfile::TempDir;

use crate::free_port;

/// A `redis-server` process listening on 127.0.0.1 at a free port, killed on drop.
pub struct RedisServer {
    port: u16,
    child: Child,
    dir: TempDir,
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts a server that keeps nothing on disk.
    pub fn start() -> Self {
        Self::start_with(&["--save", "", "--appendonly", "no"])
    }

    /// Starts a server with extra command-line options (for example AOF persistence).
    pub fn start_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder for redis-server");

        for _attempt in 0..5 {
            let port = free_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .arg("--dir")
                .arg(dir.path())
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server is installed (Debian package redis-server)");

            // Another test may have taken the same free port first: only a server that
            // reports our child's pid is ours.
            if wait_for_port(port, &mut child) && serves_pid(port, child.id()) {
                let extra = extra.iter().map(|s| s.to_string()).collect();
                return Self {
                    port,
                    child,
                    dir,
                    extra,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start on any of five free ports");
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A `redis://` URL for clients.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The folder the server runs in (where AOF files land when persistence is on).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Starts a server that appends every write to an AOF file (fsync every second), so
    /// a restart keeps the data.
    pub fn start_persistent() -> Self {
        Self::start_with(&[
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ])
    }

    /// Stops the server the way an operator's restart does (`SIGTERM`: it flushes its
    /// AOF and exits), waits `down_for`, and starts it again on the same port and folder.
    pub fn restart(&mut self, down_for: Duration) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        thread::sleep(down_for);

        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server restarts");
        assert!(
            wait_for_port(self.port, &mut child) && serves_pid(self.port, child.id()),
            "redis-server did not come back on port {}",
            self.port
        );
        self.child = child;
    }

    /// Kills the server at once (`SIGKILL`), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether the redis-server on `port` is the process `pid` (`INFO server`).
fn serves_pid(port: u16, pid: u32) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"INFO server\r\n").is_err() {
        return false;
    }
    let mut reply = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(read) = stream.read(&mut buffer) {
        if read == 0 {
            break;
        }
        reply.extend_from_slice(&buffer[..read]);
        if String::from_utf8_lossy(&reply).contains("process_id:") && reply.ends_with(b"\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&reply)
        .lines()
        .any(|line| line.trim() == format!("process_id:{pid}"))
}

/// Waits until something accepts connections on `port`, or the child exits.
pub(crate) fn wait_for_port(port: u16, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}
