//! The rate limiter on a real redis-server: atomic under concurrency, one active export
//! per user, and quota given back.

use std::time::Duration;

use chrono::Utc;
use futures::future::join_all;
use yt_account::{AccountError, ExportAdmission, Limit, Limits, RateLimiter};
use yt_jobs::JobId;
use yt_testkit::RedisServer;
use yt_userdata::UserId;

async fn limiter(redis: &RedisServer) -> RateLimiter {
    let pool = yt_jobs::connect_pool(&redis.url(), 8).await.unwrap();
    RateLimiter::new(pool, Limits::default())
}

#[tokio::test]
async fn a_hundred_simultaneous_requests_admit_exactly_the_limit() {
    let redis = RedisServer::start();
    let limiter = limiter(&redis).await;
    let limit = Limit::per_hour(3);

    let answers = join_all((0..100).map(|_| limiter.check("export", "7", limit))).await;

    let admitted = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(admitted, 3);
    let now = Utc::now();
    for answer in answers.into_iter().filter_map(Result::err) {
        let AccountError::RateLimited { retry_at } = answer else {
            panic!("{answer:?}");
        };
        assert!(retry_at > now && retry_at <= now + chrono::Duration::hours(1));
    }

    // Other subjects and scopes have windows of their own.
    limiter.check("export", "8", limit).await.unwrap();
    limiter.check("status", "7", limit).await.unwrap();
}

#[tokio::test]
async fn a_window_slides() {
    let redis = RedisServer::start();
    let limiter = limiter(&redis).await;
    let limit = Limit {
        max: 2,
        window: Duration::from_millis(300),
    };

    limiter.check("status", "1", limit).await.unwrap();
    limiter.check("status", "1", limit).await.unwrap();
    assert!(limiter.check("status", "1", limit).await.is_err());

    tokio::time::sleep(Duration::from_millis(350)).await;
    limiter.check("status", "1", limit).await.unwrap();
}

#[tokio::test]
async fn concurrent_export_requests_leave_one_active_job_and_use_one_unit() {
    let redis = RedisServer::start();
    let limiter = limiter(&redis).await;
    let user = UserId(7);

    let ids: Vec<JobId> = (0..100).map(|_| JobId::generate()).collect();
    let answers = join_all(ids.iter().map(|id| limiter.admit_export(user, id))).await;

    let admitted: Vec<&JobId> = ids
        .iter()
        .zip(&answers)
        .filter(|(_, a)| matches!(a, Ok(ExportAdmission::Admitted)))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(admitted.len(), 1);
    let winner = admitted[0].clone();
    for answer in &answers {
        match answer {
            Ok(ExportAdmission::Admitted) => {}
            Ok(ExportAdmission::Active(active)) => assert_eq!(*active, winner),
            other => panic!("{other:?}"),
        }
    }

    // The job ends: the next request is admitted and uses the second unit.
    limiter.release_export(user, &winner, false).await.unwrap();
    let second = JobId::generate();
    assert_eq!(
        limiter.admit_export(user, &second).await.unwrap(),
        ExportAdmission::Admitted
    );

    // It fails on our side and gives its unit back: two more fit in the hour, not one.
    limiter.release_export(user, &second, true).await.unwrap();
    for _ in 0..2 {
        let id = JobId::generate();
        assert_eq!(
            limiter.admit_export(user, &id).await.unwrap(),
            ExportAdmission::Admitted
        );
        limiter.release_export(user, &id, false).await.unwrap();
    }
    assert!(matches!(
        limiter
            .admit_export(user, &JobId::generate())
            .await
            .unwrap(),
        ExportAdmission::Limited(_)
    ));
}
