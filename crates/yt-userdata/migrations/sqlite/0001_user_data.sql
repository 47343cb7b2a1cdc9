-- Users, their channel subscriptions and their watch history.
-- Timestamps are RFC 3339 UTC text with microseconds ('2024-05-01T12:00:00.000000Z'), whose
-- text order is time order. Flags are INTEGER 0/1: the driver cannot read a BOOLEAN column.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT,
    avatar_url    TEXT,
    password_hash TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE user_channels (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id         TEXT NOT NULL,
    channel_title      TEXT NOT NULL,
    channel_custom_url TEXT,
    active             INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    added_at           TEXT NOT NULL,
    UNIQUE (user_id, channel_id)
);

-- Keyset paging: WHERE user_id = ? AND id > ? ORDER BY id.
CREATE INDEX user_channels_user_page ON user_channels (user_id, id);

CREATE TABLE watched_videos (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id   TEXT NOT NULL,
    channel_id TEXT,
    title      TEXT,
    watched_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, video_id)
);

CREATE INDEX watched_videos_user_page ON watched_videos (user_id, id);
