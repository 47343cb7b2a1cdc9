//! The production topology, run for real by `deploy/local-cluster`: Redis, nginx, servers
//! and workers as separate processes on free ports. Exports go through nginx from
//! request to download; sessions, rate limits and jobs are shared by every process; the
//! `/metrics` endpoints count what happened; worker logs name each job.

mod cluster_kit;

use std::{collections::HashSet, io::Cursor};

use cluster_kit::{
    Cluster, get_text,
    prometheus::{Scrape, scrape, wait_for_total},
    request_export, signed_in, wait_until_completed,
};
use reqwest::{StatusCode, header};
use serde_json::Value;
use yt_metrics::names;
use yt_userdata::{Database, seed};

/// Users besides the demo ones, so several jobs wait at once.
const VIEWERS: usize = 4;

#[tokio::test]
async fn metrics_move_as_a_job_runs() {
    let cluster = Cluster::start(1, 1, &[]).await;
    let (server, worker) = (&cluster.servers[0], &cluster.workers[0]);
    for base in [server, worker] {
        assert!(get_text(&format!("{base}/healthz")).await.contains("alive"));
        let ready: Value = serde_json::from_str(&get_text(&format!("{base}/readyz")).await)
            .expect("JSON readiness");
        assert_eq!(ready["status"], "ready", "{base}: {ready}");
        for part in ["redis", "database", "storage"] {
            assert_eq!(ready["checks"][part], "ok", "{base}: {part}");
        }
    }
    let demo = signed_in(&cluster.nginx, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let server_before = scrape(server).await;
    let worker_before = scrape(worker).await;
    assert_eq!(worker_before.sum(names::WORKER_UP, &[]), 1.0);
    assert!(
        worker_before.has(names::JOBS_FINISHED),
        "job counters exist from the first scrape"
    );

    let (status, body) = request_export(&demo, &cluster.nginx).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let job_id = body["job_id"].as_str().unwrap();
    wait_until_completed(&demo, &cluster.nginx, job_id).await;
    let archive = cluster.export_dir.join(format!("yt-export-{job_id}.zip"));
    let archive_bytes = std::fs::metadata(&archive).unwrap().len() as f64;
    let completed = [("status", "completed")];
    let done = worker_before.sum(names::JOBS_FINISHED, &completed) + 1.0;
    wait_for_total(&cluster.workers, names::JOBS_FINISHED, &completed, done).await;

    let worker_after = scrape(worker).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        worker_after.sum(name, labels) - worker_before.sum(name, labels)
    };
    assert_eq!(moved(names::JOBS_FINISHED, &[("status", "completed")]), 1.0);
    assert_eq!(moved(names::JOBS_FINISHED, &[("status", "failed")]), 0.0);
    let job_count = format!("{}_count", names::JOB_DURATION);
    assert_eq!(moved(&job_count, &[("status", "completed")]), 1.0);
    let phase_count = format!("{}_count", names::JOB_PHASE_DURATION);
    assert_eq!(moved(&phase_count, &[("phase", "archive")]), 1.0);
    assert_eq!(moved(&phase_count, &[("phase", "email")]), 1.0);
    assert_eq!(moved(names::ARCHIVE_BYTES, &[]), archive_bytes);
    assert_eq!(moved(names::EMAILS, &[("outcome", "sent")]), 1.0);
    assert_eq!(worker_after.sum(names::QUEUE_LENGTH, &[]), 0.0);
    for state in ["waiting", "delayed", "processing", "failed"] {
        let jobs = worker_after.sum(names::JOBS, &[("state", state)]);
        assert_eq!(jobs, 0.0, "{state} jobs after the only job completed");
    }
    assert!(worker_after.has(names::JOBS));
    assert_eq!(worker_after.sum(names::WORKERS_LIVE, &[]), 1.0);
    assert_eq!(worker_after.sum(names::STORAGE_BYTES, &[]), archive_bytes);
    assert_eq!(worker_after.sum(names::STORAGE_ARCHIVES, &[]), 1.0);

    let server_after = scrape(server).await;
    let requested = [("route", "/api/account/export"), ("status", "202")];
    let served = server_after.sum(names::HTTP_REQUESTS, &requested)
        - server_before.sum(names::HTTP_REQUESTS, &requested);
    assert_eq!(served, 1.0, "the export request, counted under its route");
    let polled = [("route", "/api/account/export/status/{job_id}")];
    assert!(server_after.sum(names::HTTP_REQUESTS, &polled) >= 1.0);
    assert_eq!(server_after.sum(names::QUEUE_LENGTH, &[]), 0.0);
    assert_eq!(server_after.sum(names::STORAGE_BYTES, &[]), archive_bytes);
}

#[tokio::test]
async fn exports_run_across_two_servers_and_three_workers() {
    let cluster = Cluster::start(
        2,
        3,
        &[
            ("YT_LOG_FORMAT", "json"),
            ("YT_RATE_LIMIT_EXPORTS_PER_HOUR", "2"),
            ("YT_RATE_LIMIT_STATUS_PER_MINUTE", "10000"),
        ],
    )
    .await;
    let (first, second) = (&cluster.servers[0], &cluster.servers[1]);
    let viewers: Vec<String> = (1..=VIEWERS)
        .map(|i| format!("viewer{i}@example.com"))
        .collect();
    let db = Database::connect(&cluster.database_url).await.unwrap();
    for email in &viewers {
        seed::seed_heavy_user(&db, email, seed::DEMO_PASSWORD, 300)
            .await
            .unwrap();
    }
    db.close().await;

    // Signed in through nginx; the same session works on each server directly.
    let demo = signed_in(&cluster.nginx, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let (status, body) = request_export(&demo, first).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let job_id = body["job_id"].as_str().unwrap().to_owned();
    let seen = demo
        .get(format!("{second}/api/account/export/status/{job_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        seen.status(),
        StatusCode::OK,
        "the other server knows session and job"
    );

    // Completed by some worker, downloaded through nginx from the shared folder.
    let job = wait_until_completed(&demo, &cluster.nginx, &job_id).await;
    let completed = [("status", "completed")];
    wait_for_total(&cluster.workers, names::JOBS_FINISHED, &completed, 1.0).await;
    let link = job["download_url"].as_str().unwrap();
    assert!(link.starts_with(&cluster.nginx), "{link}");
    let download = demo.get(link).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()[header::CONTENT_TYPE], "application/zip");
    assert!(!download.headers().contains_key("x-accel-redirect"));
    let bytes = download.bytes().await.unwrap();
    let zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let files: HashSet<String> = zip
        .file_names()
        .map(|name| name.unwrap().into_owned())
        .collect();
    for file in [
        "profile.json",
        "subscriptions.json",
        "watched_videos.json",
        "README.txt",
    ] {
        assert!(files.contains(file), "{file} in {files:?}");
    }

    // Two exports an hour, counted for both servers together.
    let (status, body) = request_export(&demo, second).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    wait_until_completed(&demo, &cluster.nginx, body["job_id"].as_str().unwrap()).await;
    // Counted once the worker has also released the user's active export.
    wait_for_total(&cluster.workers, names::JOBS_FINISHED, &completed, 2.0).await;
    for base in [&cluster.nginx, first, second] {
        let (status, body) = request_export(&demo, base).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{base}: {body}");
    }

    // Several users at once: the jobs spread over the workers.
    let mut jobs = Vec::new();
    for email in &viewers {
        let client = signed_in(&cluster.nginx, email, seed::DEMO_PASSWORD).await;
        let (status, body) = request_export(&client, &cluster.nginx).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        jobs.push((client, body["job_id"].as_str().unwrap().to_owned()));
    }
    for (client, job_id) in &jobs {
        wait_until_completed(client, &cluster.nginx, job_id).await;
    }
    let total_jobs = 2 + VIEWERS;
    wait_for_total(
        &cluster.workers,
        names::JOBS_FINISHED,
        &completed,
        total_jobs as f64,
    )
    .await;

    let mut per_worker = Vec::new();
    for base in &cluster.workers {
        let scraped = scrape(base).await;
        per_worker.push(scraped.sum(names::JOBS_FINISHED, &[("status", "completed")]));
        assert_eq!(scraped.sum(names::QUEUE_LENGTH, &[]), 0.0, "{base}");
    }
    assert_eq!(
        per_worker.iter().sum::<f64>(),
        total_jobs as f64,
        "{per_worker:?}"
    );
    let busy = per_worker.iter().filter(|&&done| done > 0.0).count();
    assert!(busy >= 2, "jobs spread over the workers: {per_worker:?}");

    let servers: Vec<Scrape> = vec![scrape(first).await, scrape(second).await];
    let total = |name: &str, labels: &[(&str, &str)]| -> f64 {
        servers.iter().map(|s| s.sum(name, labels)).sum()
    };
    let accepted = [("route", "/api/account/export"), ("status", "202")];
    assert_eq!(total(names::HTTP_REQUESTS, &accepted), total_jobs as f64);
    for scraped in &servers {
        assert_eq!(
            scraped.sum(names::WORKERS_LIVE, &[]),
            3.0,
            "every server sees 3"
        );
    }
    assert_eq!(
        total(names::RATE_LIMIT_REFUSALS, &[("scope", "export")]),
        3.0
    );
    let logins = [("route", "/api/auth/login"), ("status", "204")];
    for (base, scraped) in [first, second].into_iter().zip(&servers) {
        assert!(
            scraped.sum(names::HTTP_REQUESTS, &logins) >= 1.0,
            "nginx sent sign-ins to {base} too"
        );
    }

    let mut started = 0;
    for i in 1..=cluster.workers.len() {
        started += check_job_logs(&cluster.log_dir.join(format!("worker-{i}.log")), &viewers);
    }
    assert_eq!(started, total_jobs, "every job's start is logged once");
}

/// Checks a worker's JSON log: each line from a job's start to its email names that job,
/// and no line holds a user's email address. Returns the jobs started.
fn check_job_logs(path: &std::path::Path, viewers: &[String]) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let mut addresses = vec![seed::DEMO_EMAIL.to_owned(), seed::OTHER_EMAIL.to_owned()];
    addresses.extend(viewers.iter().cloned());

    let mut current: Option<String> = None;
    let mut started = 0;
    for line in text.lines() {
        for address in &addresses {
            assert!(
                !line.contains(address.as_str()),
                "an email address in {line}"
            );
        }
        let entry: Value = serde_json::from_str(line).expect("JSON log lines");
        let job_id = entry["span"]["job.id"].as_str().map(str::to_owned);
        let message = entry["message"].as_str().unwrap_or_default();
        if message == "export started" {
            assert!(current.is_none(), "one job at a time: {line}");
            current = Some(job_id.clone().expect("the start names its job"));
            started += 1;
        }
        if let Some(expected) = &current {
            assert_eq!(
                job_id.as_ref(),
                Some(expected),
                "a job's line without its id: {line}"
            );
        }
        if message == "email sent" || message == "email failed" {
            current = None;
        }
    }
    started
}
