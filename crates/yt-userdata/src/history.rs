//! Reading a user's subscriptions and watch history for export, one keyset page at a time.
//!
//! Pages follow the row id (`WHERE user_id = $1 AND id > $2 ORDER BY id`) on the
//! `(user_id, id)` index, so page ten thousand costs what page one does and rows inserted
//! while an export runs never shift what it has already read. A page asks for one row more
//! than it returns, so the last page says it is the last.
//!
//! Each page arrives as a single JSON array of arrays rather than as rows. sqlx's SQLite
//! driver hands every row from its own thread to ours over a small channel that the `Any`
//! driver cannot enlarge, and that hand-off cost 9-19 s per million rows; as one value per
//! page the same million takes about 1.5 s on SQLite and 3.6 s on PostgreSQL
//! (`examples/page_history.rs`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::{Database, DbError, UserId, timestamp};

/// The most rows one page returns, whatever the caller asks for (a limit of 0 means 1).
pub const MAX_PAGE_SIZE: u32 = 10_000;

/// A channel the user subscribed to (or once did: `active` is false after unsubscribing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Subscription {
    pub channel_id: String,
    pub channel_title: String,
    pub channel_custom_url: Option<String>,
    pub active: bool,
    pub added_at: DateTime<Utc>,
}

/// One entry of the watch history; channel and title are unknown for some old entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WatchedVideo {
    pub video_id: String,
    pub channel_id: Option<String>,
    pub title: Option<String>,
    pub watched_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How many rows a user has of each kind, for progress and manifests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DataCounts {
    pub subscriptions: u64,
    pub watched_videos: u64,
}

/// One page of rows and the cursor for the next (`None` once the last row was returned).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<i64>,
}

impl Database {
    /// How many subscriptions and watched videos the user has.
    pub async fn counts(&self, user: UserId) -> Result<DataCounts, DbError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM user_channels WHERE user_id = $1), \
             (SELECT COUNT(*) FROM watched_videos WHERE user_id = $1)",
        )
        .bind(user.0)
        .fetch_one(self.pool())
        .await?;

        let subscriptions: i64 = row.try_get(0)?;
        let watched_videos: i64 = row.try_get(1)?;
        Ok(DataCounts {
            subscriptions: subscriptions.unsigned_abs(),
            watched_videos: watched_videos.unsigned_abs(),
        })
    }

    /// Up to `limit` subscriptions with row ids above `after` (0 starts), by id.
    pub async fn subscriptions_page(
        &self,
        user: UserId,
        after: i64,
        limit: u32,
    ) -> Result<Page<Subscription>, DbError> {
        let columns = [
            "id",
            "channel_id",
            "channel_title",
            "channel_custom_url",
            "CASE WHEN active THEN 1 ELSE 0 END",
            "added_at",
        ];
        let json = self
            .page_json("user_channels", &columns, user, after, limit)
            .await?;

        let rows: Vec<SubscriptionRow<'_>> = parse(&json)?;
        into_page(rows.into_iter().map(subscription_from_row), limit)
    }

    /// Up to `limit` watched videos with row ids above `after` (0 starts), by id.
    pub async fn watched_page(
        &self,
        user: UserId,
        after: i64,
        limit: u32,
    ) -> Result<Page<WatchedVideo>, DbError> {
        let columns = [
            "id",
            "video_id",
            "channel_id",
            "title",
            "watched_at",
            "created_at",
            "updated_at",
        ];
        let json = self
            .page_json("watched_videos", &columns, user, after, limit)
            .await?;

        let rows: Vec<WatchedRow<'_>> = parse(&json)?;
        into_page(rows.into_iter().map(watched_from_row), limit)
    }

    /// One page of `table` for `user` as a JSON array of arrays of `columns`, the first of
    /// which must be the row id; one row more than `limit` when more follow.
    async fn page_json(
        &self,
        table: &str,
        columns: &[&str],
        user: UserId,
        after: i64,
        limit: u32,
    ) -> Result<String, DbError> {
        let aliased: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} AS c{i}"))
            .collect();
        let values: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
        let sql = format!(
            "SELECT {} FROM (SELECT {} FROM {table} WHERE user_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3) AS page",
            self.backend().json_rows(&values.join(", ")),
            aliased.join(", "),
        );

        let json: Option<String> = sqlx::query_scalar(&sql)
            .bind(user.0)
            .bind(after)
            .bind(i64::from(clamp_limit(limit)) + 1)
            .fetch_one(self.pool())
            .await?;
        Ok(json.unwrap_or_else(|| "[]".to_owned()))
    }
}

/// id, channel_id, channel_title, channel_custom_url, active (0 or 1), added_at.
type SubscriptionRow<'a> = (i64, String, String, Option<String>, i64, &'a str);

/// id, video_id, channel_id, title, watched_at, created_at, updated_at.
type WatchedRow<'a> = (
    i64,
    String,
    Option<String>,
    Option<String>,
    &'a str,
    &'a str,
    &'a str,
);

fn subscription_from_row(row: SubscriptionRow<'_>) -> Result<(i64, Subscription), sqlx::Error> {
    let (id, channel_id, channel_title, channel_custom_url, active, added_at) = row;
    let subscription = Subscription {
        channel_id,
        channel_title,
        channel_custom_url,
        active: active != 0,
        added_at: timestamp::decode(added_at, "added_at")?,
    };
    Ok((id, subscription))
}

fn watched_from_row(row: WatchedRow<'_>) -> Result<(i64, WatchedVideo), sqlx::Error> {
    let (id, video_id, channel_id, title, watched_at, created_at, updated_at) = row;
    let video = WatchedVideo {
        video_id,
        channel_id,
        title,
        watched_at: timestamp::decode(watched_at, "watched_at")?,
        created_at: timestamp::decode(created_at, "created_at")?,
        updated_at: timestamp::decode(updated_at, "updated_at")?,
    };
    Ok((id, video))
}

fn clamp_limit(limit: u32) -> u32 {
    limit.clamp(1, MAX_PAGE_SIZE)
}

fn parse<'a, R: serde::Deserialize<'a>>(json: &'a str) -> Result<Vec<R>, DbError> {
    serde_json::from_str(json).map_err(|e| DbError::Query(sqlx::Error::Decode(e.into())))
}

/// The first `limit` of `rows` (id and item) by id as a page, with a cursor if more
/// followed.
fn into_page<T>(
    rows: impl Iterator<Item = Result<(i64, T), sqlx::Error>>,
    limit: u32,
) -> Result<Page<T>, DbError> {
    let mut rows = rows.collect::<Result<Vec<_>, _>>()?;
    rows.sort_unstable_by_key(|(id, _)| *id);

    let limit = clamp_limit(limit) as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more {
        rows.last().map(|(id, _)| *id)
    } else {
        None
    };

    Ok(Page {
        items: rows.into_iter().map(|(_, item)| item).collect(),
        next_cursor,
    })
}
