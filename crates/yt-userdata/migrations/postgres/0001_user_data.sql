-- Users, their channel subscriptions and their watch history.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT,
    avatar_url    TEXT,
    password_hash TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE user_channels (
    id                 BIGSERIAL PRIMARY KEY,
    user_id            BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id         TEXT NOT NULL,
    channel_title      TEXT NOT NULL,
    channel_custom_url TEXT,
    active             BOOLEAN NOT NULL DEFAULT TRUE,
    added_at           TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, channel_id)
);

-- Keyset paging: WHERE user_id = $1 AND id > $2 ORDER BY id.
CREATE INDEX user_channels_user_page ON user_channels (user_id, id);

CREATE TABLE watched_videos (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id   TEXT NOT NULL,
    channel_id TEXT,
    title      TEXT,
    watched_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, video_id)
);

CREATE INDEX watched_videos_user_page ON watched_videos (user_id, id);
