//! Demo and load-test data: two demo accounts for development and the end-to-end tests,
//! and heavy users with as much watch history as a benchmark needs.
//!
//! Each user is seeded in one transaction, so a crash never leaves a half-seeded account
//! that a later run would skip. Seeding the demo accounts is idempotent, also when two
//! processes race: an account that already exists is left alone.

mod fake;

use std::time::Instant;

use serde::Serialize;

use crate::{
    Database, DbError, NewUser, User,
    insert::{insert_subscriptions, insert_watched, watched_rows_per_statement},
    password, timestamp,
    users::insert_user,
};
use fake::Faker;

pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "demo-export-123";
pub const OTHER_EMAIL: &str = "other@example.com";
pub const OTHER_PASSWORD: &str = "other-export-123";

/// Subscriptions a heavy user gets beside the requested history.
pub const HEAVY_SUBSCRIPTIONS: usize = 50;

/// What a seeding run created (all zero when everything already existed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SeedReport {
    pub users: u64,
    pub subscriptions: u64,
    pub watched_videos: u64,
}

/// Who to seed and how much.
struct Profile<'a> {
    email: &'a str,
    password: &'a str,
    display_name: &'a str,
    avatar_url: Option<&'a str>,
    subscriptions: usize,
    watched: u64,
    seed: u64,
}

const DEMO: Profile<'static> = Profile {
    email: DEMO_EMAIL,
    password: DEMO_PASSWORD,
    display_name: "Demo Viewer",
    avatar_url: Some("https://example.com/avatars/demo.png"),
    subscriptions: 50,
    watched: 2_000,
    seed: 2024,
};

const OTHER: Profile<'static> = Profile {
    email: OTHER_EMAIL,
    password: OTHER_PASSWORD,
    display_name: "Other Viewer",
    avatar_url: None,
    subscriptions: 5,
    watched: 30,
    seed: 7,
};

/// Creates `demo@example.com` (50 subscriptions, 2,000 watched videos) and
/// `other@example.com` (5 and 30), each unless it already exists.
pub async fn seed_demo(db: &Database) -> Result<SeedReport, DbError> {
    let mut report = SeedReport::default();
    for profile in [DEMO, OTHER] {
        if db.user_by_email(profile.email).await?.is_some() {
            continue;
        }
        match seed_user(db, &profile).await {
            Ok((_, subscriptions, watched_videos)) => {
                report.users += 1;
                report.subscriptions += subscriptions;
                report.watched_videos += watched_videos;
            }
            Err(e) if e.is_unique_violation() => continue,
            Err(e) => return Err(e),
        }
    }

    tracing::info!(
        seed.users = report.users,
        seed.subscriptions = report.subscriptions,
        seed.watched_videos = report.watched_videos,
        "seeded the demo accounts"
    );
    Ok(report)
}

/// Creates a user with [`HEAVY_SUBSCRIPTIONS`] subscriptions and `watched` watched videos,
/// for load tests of the export. Fails if the email is taken.
pub async fn seed_heavy_user(
    db: &Database,
    email: &str,
    password: &str,
    watched: u64,
) -> Result<User, DbError> {
    let profile = Profile {
        email,
        password,
        display_name: "Heavy Viewer",
        avatar_url: None,
        subscriptions: HEAVY_SUBSCRIPTIONS,
        watched,
        seed: fnv1a(email.as_bytes()),
    };
    let (user, _, _) = seed_user(db, &profile).await?;
    Ok(user)
}

/// Creates one user and their data in a single transaction; returns the user and how many
/// subscriptions and watched videos were added.
async fn seed_user(db: &Database, profile: &Profile<'_>) -> Result<(User, u64, u64), DbError> {
    let started = Instant::now();
    let backend = db.backend();
    let hash = password::hash(profile.password).await?;
    let now = timestamp::now();
    let mut faker = Faker::new(profile.seed, now);
    let channels = faker.channels(profile.subscriptions);

    let mut tx = db.pool().begin().await?;
    let new = NewUser {
        email: profile.email,
        display_name: Some(profile.display_name),
        avatar_url: profile.avatar_url,
        password: profile.password,
    };
    let user = insert_user(&mut *tx, backend, new, &hash).await?;

    let rows: Vec<_> = channels.iter().map(|c| c.as_new()).collect();
    let subscriptions = insert_subscriptions(&mut tx, backend, user.id, &rows).await?;

    let batch = 10 * watched_rows_per_statement(backend) as u64;
    let mut watched = 0;
    let mut next = 0;
    while next < profile.watched {
        let end = (next + batch).min(profile.watched);
        let videos = faker.videos(next..end, profile.watched, &channels);
        let rows: Vec<_> = videos.iter().map(|v| v.as_new()).collect();
        watched += insert_watched(&mut tx, backend, user.id, &rows, now).await?;
        next = end;
    }
    tx.commit().await?;
    analyze(db).await?;

    tracing::info!(
        user.id = user.id.0,
        seed.subscriptions = subscriptions,
        seed.watched_videos = watched,
        duration_ms = started.elapsed().as_millis() as u64,
        "seeded a user"
    );
    Ok((user, subscriptions, watched))
}

/// Refreshes the planner's statistics after a bulk load. Without them PostgreSQL guesses
/// that a user has a thousand rows and pages by sorting all of them (1.5 s instead of
/// 20 ms per page at a million rows) until autovacuum gets round to the table.
async fn analyze(db: &Database) -> Result<(), DbError> {
    for table in ["user_channels", "watched_videos"] {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(db.pool())
            .await?;
    }
    Ok(())
}

/// FNV-1a, to derive a stable seed from an email.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
