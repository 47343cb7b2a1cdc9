//! Subscriptions and watch history: counts, keyset paging, and values that come back as
//! they went in.

use chrono::{DateTime, FixedOffset, SubsecRound, TimeZone, Utc};
use yt_userdata::{Database, NewSubscription, NewWatchedVideo, UserId, WatchedVideo};

use crate::{
    on_both_backends,
    support::{TestDb, Videos, at, user},
};

/// Reads a user's whole history with pages of `limit`; also returns the page count.
async fn all_watched(db: &Database, user: UserId, limit: u32) -> (Vec<WatchedVideo>, usize) {
    let (mut items, mut pages, mut after) = (Vec::new(), 0, 0);
    loop {
        let page = db.watched_page(user, after, limit).await.unwrap();
        assert!(page.items.len() <= limit.max(1) as usize);
        pages += 1;
        items.extend(page.items);
        match page.next_cursor {
            Some(cursor) => after = cursor,
            None => return (items, pages),
        }
    }
}

fn subscription(n: usize, ids: &[String]) -> NewSubscription<'_> {
    NewSubscription {
        channel_id: &ids[n],
        channel_title: "Channel",
        channel_custom_url: (!n.is_multiple_of(3)).then_some("@handle"),
        active: !n.is_multiple_of(4),
        added_at: at(n as i64),
    }
}

async fn counts_follow_what_was_added(t: &TestDb) {
    let viewer = user(&t.db, "counts@example.com").await;
    let ids: Vec<String> = (0..7).map(|n| format!("UC{n:022}")).collect();
    let rows: Vec<_> = (0..7).map(|n| subscription(n, &ids)).collect();
    let videos = Videos::numbered("c", 321);

    assert_eq!(t.db.add_subscriptions(viewer.id, &rows).await.unwrap(), 7);
    assert_eq!(
        t.db.add_watched_videos(viewer.id, &videos.rows())
            .await
            .unwrap(),
        321
    );
    assert_eq!(
        t.db.add_watched_videos(viewer.id, &videos.rows())
            .await
            .unwrap(),
        0
    );

    let counts = t.db.counts(viewer.id).await.unwrap();
    assert_eq!((counts.subscriptions, counts.watched_videos), (7, 321));
}

async fn pages_return_every_row_once_in_order_for_one_user(t: &TestDb) {
    let mine = user(&t.db, "mine@example.com").await;
    let theirs = user(&t.db, "theirs@example.com").await;
    let my_videos = Videos::numbered("m", 1_234);
    let their_videos = Videos::numbered("t", 300);
    let (my_rows, their_rows) = (my_videos.rows(), their_videos.rows());
    for (mine_chunk, theirs_chunk) in my_rows.chunks(100).zip(their_rows.chunks(25)) {
        t.db.add_watched_videos(mine.id, mine_chunk).await.unwrap();
        t.db.add_watched_videos(theirs.id, theirs_chunk)
            .await
            .unwrap();
    }
    t.db.add_watched_videos(mine.id, &my_rows[1_200..])
        .await
        .unwrap();

    let (items, pages) = all_watched(&t.db, mine.id, 100).await;
    let ids: Vec<_> = items.iter().map(|v| v.video_id.as_str()).collect();
    assert_eq!(
        ids,
        my_videos.ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(pages, 13);

    let (theirs_items, theirs_pages) = all_watched(&t.db, theirs.id, 100).await;
    assert_eq!(theirs_items.len(), 300);
    assert_eq!(
        theirs_pages, 3,
        "an exactly full last page already says it is the last"
    );
    assert!(theirs_items.iter().all(|v| v.video_id.starts_with("vt")));

    let (one_by_one, _) = all_watched(&t.db, theirs.id, 0).await;
    assert_eq!(one_by_one, theirs_items);
    let nobody = t.db.watched_page(UserId(-1), 0, 10).await.unwrap();
    assert!(nobody.items.is_empty() && nobody.next_cursor.is_none());
}

async fn subscriptions_page_in_order_with_their_flags(t: &TestDb) {
    let viewer = user(&t.db, "subs@example.com").await;
    let other = user(&t.db, "other-subs@example.com").await;
    let ids: Vec<String> = (0..23).map(|n| format!("UC{n:022}")).collect();
    let rows: Vec<_> = (0..23).map(|n| subscription(n, &ids)).collect();
    t.db.add_subscriptions(viewer.id, &rows).await.unwrap();
    t.db.add_subscriptions(other.id, &rows[..3]).await.unwrap();

    let (mut seen, mut after) = (Vec::new(), 0);
    loop {
        let page = t.db.subscriptions_page(viewer.id, after, 7).await.unwrap();
        seen.extend(page.items);
        match page.next_cursor {
            Some(cursor) => after = cursor,
            None => break,
        }
    }

    assert_eq!(seen.len(), 23);
    for (n, sub) in seen.iter().enumerate() {
        assert_eq!(sub.channel_id, ids[n]);
        assert_eq!(sub.active, !n.is_multiple_of(4));
        assert_eq!(sub.channel_custom_url.is_some(), !n.is_multiple_of(3));
        assert_eq!(sub.added_at, at(n as i64));
    }
}

async fn timestamps_round_trip_in_utc_to_the_microsecond(t: &TestDb) {
    let viewer = user(&t.db, "time@example.com").await;
    let tokyo = FixedOffset::east_opt(9 * 3600).unwrap();
    let times: Vec<DateTime<Utc>> = vec![
        at(0),
        tokyo
            .with_ymd_and_hms(2023, 12, 31, 23, 59, 59)
            .unwrap()
            .with_timezone(&Utc),
        Utc.with_ymd_and_hms(2001, 2, 3, 4, 5, 6).unwrap(),
        Utc.timestamp_opt(1_700_000_000, 999_999_999).unwrap(),
    ];
    let ids: Vec<String> = (0..times.len()).map(|n| format!("time{n}")).collect();
    let rows: Vec<_> = times
        .iter()
        .zip(&ids)
        .map(|(&watched_at, id)| NewWatchedVideo {
            video_id: id,
            channel_id: None,
            title: None,
            watched_at,
        })
        .collect();

    let before = yt_userdata::now();
    t.db.add_watched_videos(viewer.id, &rows).await.unwrap();
    let page = t.db.watched_page(viewer.id, 0, 10).await.unwrap();

    let read: Vec<_> = page.items.iter().map(|v| v.watched_at).collect();
    let expected: Vec<_> = times.iter().map(|t| t.trunc_subsecs(6)).collect();
    assert_eq!(read, expected);
    assert_eq!(
        page.items[1].watched_at,
        Utc.with_ymd_and_hms(2023, 12, 31, 14, 59, 59).unwrap()
    );
    for video in &page.items {
        assert!(video.created_at >= before && video.created_at == video.updated_at);
        assert_eq!(
            (video.channel_id.as_deref(), video.title.as_deref()),
            (None, None)
        );
    }
}

async fn unicode_titles_round_trip_byte_for_byte(t: &TestDb) {
    let viewer = user(&t.db, "unicode@example.com").await;
    let titles = [
        "日本の音楽 🎵 Channel",
        "Escaping \"quoted \\ backslash\" in JSON",
        "شرح البرمجة بالتفصيل",
        "מדריך למתחילים",
        "Family 👨\u{200d}👩\u{200d}👧\u{200d}👦 vlog 🏳️\u{200d}🌈",
        "e\u{301} (decomposed) vs \u{e9} (composed)",
        "\u{202e}reversed\u{202c} and tabs\tand\nnewlines\r\n",
        "𝕄𝕒𝕥𝕙 𐍈 and 中文 and 한국어",
        "'single' `back` $1 %s {} \\\\ \\n",
    ];
    let ids: Vec<String> = (0..titles.len()).map(|n| format!("uni{n}")).collect();
    let rows: Vec<_> = titles
        .iter()
        .zip(&ids)
        .map(|(title, id)| NewWatchedVideo {
            video_id: id,
            channel_id: Some(*title),
            title: Some(title),
            watched_at: at(0),
        })
        .collect();
    let channel = NewSubscription {
        channel_id: "UCunicode",
        channel_title: titles[0],
        channel_custom_url: Some("@日本"),
        active: true,
        added_at: at(0),
    };

    t.db.add_watched_videos(viewer.id, &rows).await.unwrap();
    t.db.add_subscriptions(viewer.id, &[channel]).await.unwrap();

    let page = t.db.watched_page(viewer.id, 0, 100).await.unwrap();
    let read: Vec<_> = page
        .items
        .iter()
        .map(|v| v.title.as_deref().unwrap().as_bytes())
        .collect();
    assert_eq!(read, titles.map(str::as_bytes));
    assert!(page.items.iter().all(|v| v.channel_id == v.title));
    let subs = t.db.subscriptions_page(viewer.id, 0, 10).await.unwrap();
    assert_eq!(subs.items[0].channel_title.as_bytes(), titles[0].as_bytes());
    assert_eq!(subs.items[0].channel_custom_url.as_deref(), Some("@日本"));
}

on_both_backends!(
    counts_follow_what_was_added,
    pages_return_every_row_once_in_order_for_one_user,
    subscriptions_page_in_order_with_their_flags,
    timestamps_round_trip_in_utc_to_the_microsecond,
    unicode_titles_round_trip_byte_for_byte,
);
