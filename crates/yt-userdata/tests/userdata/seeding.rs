//! Demo and heavy seeds: exact counts, idempotence, and the awkward text the export must
//! carry.

use std::collections::HashSet;

use chrono::Duration;
use yt_userdata::{
    Database, UserId, WatchedVideo,
    seed::{self, SeedReport},
};

use crate::{on_both_backends, support::TestDb};

async fn whole_history(db: &Database, user: UserId, limit: u32) -> Vec<WatchedVideo> {
    let (mut items, mut after) = (Vec::new(), 0);
    loop {
        let page = db.watched_page(user, after, limit).await.unwrap();
        items.extend(page.items);
        match page.next_cursor {
            Some(cursor) => after = cursor,
            None => return items,
        }
    }
}

fn is_youtube_id(id: &str) -> bool {
    id.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

async fn demo_seed_has_exact_counts_and_runs_once(t: &TestDb) {
    let first = seed::seed_demo(&t.db).await.unwrap();
    let second = seed::seed_demo(&t.db).await.unwrap();

    assert_eq!(
        first,
        SeedReport {
            users: 2,
            subscriptions: 55,
            watched_videos: 2_030
        }
    );
    assert_eq!(second, SeedReport::default());
    let demo =
        t.db.verify_login(seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
            .await
            .unwrap()
            .unwrap();
    let other =
        t.db.verify_login(seed::OTHER_EMAIL, seed::OTHER_PASSWORD)
            .await
            .unwrap()
            .unwrap();
    let demo_counts = t.db.counts(demo.id).await.unwrap();
    let other_counts = t.db.counts(other.id).await.unwrap();
    assert_eq!(
        (demo_counts.subscriptions, demo_counts.watched_videos),
        (50, 2_000)
    );
    assert_eq!(
        (other_counts.subscriptions, other_counts.watched_videos),
        (5, 30)
    );
    assert_eq!(demo.display_name.as_deref(), Some("Demo Viewer"));
    assert_eq!(
        t.db.verify_login(seed::DEMO_EMAIL, seed::OTHER_PASSWORD)
            .await
            .unwrap(),
        None
    );
}

async fn demo_data_looks_like_youtube_and_carries_awkward_text(t: &TestDb) {
    seed::seed_demo(&t.db).await.unwrap();
    let demo = t.db.user_by_email(seed::DEMO_EMAIL).await.unwrap().unwrap();

    let subs =
        t.db.subscriptions_page(demo.id, 0, 100)
            .await
            .unwrap()
            .items;
    assert!(
        subs.iter()
            .any(|s| s.channel_title == "日本の音楽 🎵 Channel")
    );
    assert!(
        subs.iter()
            .all(|s| s.channel_id.len() == 24 && s.channel_id.starts_with("UC"))
    );
    assert!(subs.iter().all(|s| is_youtube_id(&s.channel_id)));
    assert!(
        subs.iter()
            .flat_map(|s| &s.channel_custom_url)
            .all(|u| u.starts_with('@'))
    );

    let videos = whole_history(&t.db, demo.id, 700).await;
    let ids: HashSet<_> = videos.iter().map(|v| v.video_id.as_str()).collect();
    assert_eq!(ids.len(), 2_000);
    assert!(
        videos
            .iter()
            .all(|v| v.video_id.len() == 11 && is_youtube_id(&v.video_id))
    );

    let titles: Vec<&str> = videos.iter().filter_map(|v| v.title.as_deref()).collect();
    let has = |pred: fn(char) -> bool| titles.iter().any(|t| t.chars().any(pred));
    assert!(titles.iter().any(|t| t.contains("\"quoted \\ backslash\"")));
    assert!(has(|c| ('\u{1F300}'..='\u{1FAFF}').contains(&c)), "emoji");
    assert!(has(|c| ('\u{3040}'..='\u{9FFF}').contains(&c)), "CJK");
    assert!(has(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "Arabic");
    assert!(has(|c| ('\u{0590}'..='\u{05FF}').contains(&c)), "Hebrew");

    let now = yt_userdata::now();
    assert!(videos.iter().all(|v| v.watched_at <= now));
    assert!(
        videos
            .iter()
            .all(|v| v.watched_at >= now - Duration::days(731))
    );
    assert!(
        videos[0].watched_at < now - Duration::days(700),
        "spread over two years"
    );
}

async fn a_heavy_user_gets_all_their_rows(t: &TestDb) {
    let heavy = seed::seed_heavy_user(&t.db, "heavy@example.com", "heavy-pass", 10_000)
        .await
        .unwrap();

    let counts = t.db.counts(heavy.id).await.unwrap();
    assert_eq!((counts.subscriptions, counts.watched_videos), (50, 10_000));
    let videos = whole_history(&t.db, heavy.id, 3_000).await;
    let ids: HashSet<_> = videos.iter().map(|v| v.video_id.as_str()).collect();
    assert_eq!(ids.len(), 10_000);
    assert!(
        videos
            .windows(2)
            .all(|w| w[0].watched_at <= w[1].watched_at)
    );
    assert!(
        t.db.verify_login("heavy@example.com", "heavy-pass")
            .await
            .unwrap()
            .is_some()
    );

    let again = seed::seed_heavy_user(&t.db, "heavy@example.com", "x", 10)
        .await
        .unwrap_err();
    assert!(again.is_unique_violation());
}

on_both_backends!(
    demo_seed_has_exact_counts_and_runs_once,
    demo_data_looks_like_youtube_and_carries_awkward_text,
    a_heavy_user_gets_all_their_rows,
);
