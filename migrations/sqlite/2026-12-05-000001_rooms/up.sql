-- Live rooms: a room's settings, its sessions (one running at a time, held
-- by a partial unique index), who is in a session, the guests' lobby and
-- the session's chat.
CREATE TABLE room_settings (
    media_id TEXT PRIMARY KEY REFERENCES media_items (id) ON DELETE CASCADE,
    lobby_policy TEXT NOT NULL DEFAULT 'ask_moderator'
        CHECK (lobby_policy IN ('ask_moderator', 'admit_all')),
    guests_may_chat BOOLEAN NOT NULL DEFAULT 1
);

CREATE TABLE room_sessions (
    id TEXT PRIMARY KEY,
    media_id TEXT NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    started_at BIGINT NOT NULL,
    started_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    started_by_name TEXT NOT NULL,
    ended_at BIGINT,
    ended_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- The item on the stage, and the presenter's playback of it: playing or
    -- not, at which position (ms) at which instant (ms since the epoch).
    presenting TEXT REFERENCES media_items (id) ON DELETE SET NULL,
    -- Who put it there: only their player's play, pause and seek count.
    presented_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    playback_playing BOOLEAN NOT NULL DEFAULT 0,
    playback_position_ms BIGINT NOT NULL DEFAULT 0,
    playback_at_ms BIGINT NOT NULL DEFAULT 0,
    -- The last chat message's number; a message takes the next one under
    -- this row's lock, so messages commit in their numbers' order.
    chat_seq BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX room_sessions_running ON room_sessions (media_id) WHERE ended_at IS NULL;
CREATE INDEX room_sessions_media ON room_sessions (media_id, started_at);
CREATE INDEX room_sessions_ended ON room_sessions (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE room_participants (
    session_id TEXT NOT NULL REFERENCES room_sessions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('moderator', 'speaker', 'participant', 'viewer')),
    joined_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    left_at BIGINT,
    PRIMARY KEY (session_id, user_id)
);

CREATE TABLE lobby_entries (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES room_sessions (id) ON DELETE CASCADE,
    -- The guest session that knocked (a hash); no foreign key: a denied
    -- guest's session ends, and the entry stays to say so.
    guest_session_hash TEXT NOT NULL,
    link_id TEXT NOT NULL REFERENCES guest_links (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('waiting', 'admitted', 'denied', 'left', 'withdrawn', 'timed_out')),
    -- Why a withdrawn guest was withdrawn (the unavailable page's reason).
    reason TEXT,
    waiting_since BIGINT NOT NULL,
    -- When they took their place in line (ms): the line's order.
    queued_ms BIGINT NOT NULL,
    decided_at BIGINT,
    last_seen_at BIGINT NOT NULL,
    UNIQUE (session_id, guest_session_hash)
);
CREATE INDEX lobby_entries_link ON lobby_entries (link_id, status);
CREATE INDEX lobby_entries_line ON lobby_entries (session_id, queued_ms);
CREATE INDEX lobby_entries_guest ON lobby_entries (guest_session_hash);

CREATE TABLE chat_messages (
    session_id TEXT NOT NULL REFERENCES room_sessions (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    author_name TEXT NOT NULL,
    -- 'member' or 'guest'.
    author_kind TEXT NOT NULL CHECK (author_kind IN ('member', 'guest')),
    created_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
