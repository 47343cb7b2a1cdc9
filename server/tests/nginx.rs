//! `deploy/nginx.conf`, run by a real nginx in front of a real server started with
//! `--accel-redirect=true`: downloads leave through nginx's internal location, which
//! nobody reaches from outside, and neither are the operator endpoints (`/metrics`,
//! `/healthz`, `/readyz`).

mod support;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::{Client, StatusCode, header};
use serde_json::json;
use support::TestApp;
use yt_userdata::seed;

/// A running nginx; stopped when dropped.
struct Nginx {
    base: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Renders `deploy/nginx.conf` for `app` and starts nginx on a free port.
    async fn start(app: &TestApp) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = yt_testkit::free_port();
        let exports = app.dir.path().join("exports");
        std::fs::create_dir_all(&exports).unwrap();

        let template = std::fs::read_to_string(repo_file("deploy/nginx.conf")).unwrap();
        let conf = template
            .replace("${YT_NGINX_LISTEN}", &format!("127.0.0.1:{port}"))
            .replace(
                "${YT_NGINX_UPSTREAM}",
                app.base.trim_start_matches("http://"),
            )
            .replace("${YT_NGINX_STATE}", &dir.path().display().to_string())
            .replace("${YT_EXPORT_LOCAL_PATH}", &exports.display().to_string());
        let unfilled = conf
            .lines()
            .any(|line| !line.trim_start().starts_with('#') && line.contains("${"));
        assert!(!unfilled, "every placeholder filled");
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();

        let pid = dir.path().join("nginx.pid");
        // One process, no master: killing the child stops all of nginx.
        let globals = format!(
            "daemon off; master_process off; pid {}; error_log stderr; user root;",
            pid.display()
        );
        let child = Command::new("/usr/sbin/nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", &globals])
            .stdout(Stdio::null())
            .spawn()
            .expect("nginx is installed (scripts/setup installs nginx-light)");

        let nginx = Self {
            base: format!("http://127.0.0.1:{port}"),
            child,
            _dir: dir,
        };
        nginx.wait_until_up().await;
        nginx
    }

    async fn wait_until_up(&self) {
        let addr = self.base.trim_start_matches("http://").to_owned();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nginx did not start on {addr}");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// A client signed in through nginx.
async fn signed_in(app: &TestApp, nginx: &Nginx, email: &str, password: &str) -> Client {
    let client = app.client();
    let response = client
        .post(nginx.url("/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    client
}

#[tokio::test]
async fn downloads_leave_through_nginx_and_only_for_their_owner() {
    let app = TestApp::start_with(&["--accel-redirect=true"]).await;
    let nginx = Nginx::start(&app).await;
    let demo = signed_in(&app, &nginx, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let other = signed_in(&app, &nginx, seed::OTHER_EMAIL, seed::OTHER_PASSWORD).await;

    let requested = demo
        .post(nginx.url("/api/account/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(requested.status(), StatusCode::ACCEPTED);
    let job: serde_json::Value = requested.json().await.unwrap();
    let job_id = job["job_id"].as_str().unwrap().to_owned();
    app.run_worker_once().await;
    let status: serde_json::Value = demo
        .get(nginx.url(&format!("/api/account/export/status/{job_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = url::Url::parse(status["download_url"].as_str().unwrap()).unwrap();
    let file = link
        .path_segments()
        .unwrap()
        .next_back()
        .unwrap()
        .to_owned();

    let download = demo.get(nginx.url(link.path())).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()[header::CONTENT_TYPE], "application/zip");
    let disposition = download.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap();
    assert!(disposition.starts_with("attachment; filename=\"youtube-feed-export-"));
    assert!(!download.headers().contains_key("x-accel-redirect"));
    let bytes = download.bytes().await.unwrap();
    let on_disk = std::fs::read(app.dir.path().join("exports").join(&file)).unwrap();
    assert_eq!(bytes.as_ref(), on_disk.as_slice(), "the exact archive");

    for internal in ["/metrics", "/healthz", "/readyz"] {
        let hidden = demo.get(nginx.url(internal)).send().await.unwrap();
        assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "{internal}");
        let direct = demo.get(app.url(internal)).send().await.unwrap();
        assert_eq!(
            direct.status(),
            StatusCode::OK,
            "{internal} on the server itself"
        );
    }

    let direct = demo
        .get(nginx.url(&format!("/internal/exports/{file}")))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), StatusCode::NOT_FOUND);

    let stolen = other
        .get(nginx.url(link.path()))
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), StatusCode::NOT_FOUND);
    assert!(
        stolen.bytes().await.unwrap().len() < 1024,
        "no archive bytes"
    );
}

/// A login attempt through nginx from the loopback address `from`, with a forged
/// `X-Forwarded-For` that nginx must replace.
async fn login_from(nginx: &Nginx, from: [u8; 4], forged: &str) -> StatusCode {
    let client = Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .unwrap();
    client
        .post(nginx.url("/api/auth/login"))
        .header("x-forwarded-for", forged)
        .json(&json!({"email": "nobody@example.com", "password": "wrong"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn rate_limits_count_the_real_client_behind_nginx() {
    let app = TestApp::start_with(&[
        "--trusted-proxies=127.0.0.1",
        "--rate-limit-logins-per-address=2",
        "--rate-limit-logins-per-account=100",
    ])
    .await;
    let nginx = Nginx::start(&app).await;

    // Two attempts from 127.0.0.2 use its quota, whatever address each one claims.
    assert_eq!(
        login_from(&nginx, [127, 0, 0, 2], "203.0.113.1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&nginx, [127, 0, 0, 2], "203.0.113.2").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&nginx, [127, 0, 0, 2], "203.0.113.3").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Another real client behind the same nginx still has its own.
    assert_eq!(
        login_from(&nginx, [127, 0, 0, 3], "203.0.113.3").await,
        StatusCode::UNAUTHORIZED
    );
}
