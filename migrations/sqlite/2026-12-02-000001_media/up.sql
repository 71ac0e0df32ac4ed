-- Media library: course media items, the platform's module switches, the
-- settings of a deep-linking launch kept with its session, and tool secrets.
ALTER TABLE platforms ADD COLUMN invite_to_media BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE platforms ADD COLUMN media_page BOOLEAN NOT NULL DEFAULT 1;

ALTER TABLE sessions ADD COLUMN deep_linking TEXT;

CREATE TABLE media_items (
    id TEXT PRIMARY KEY,
    platform_id BIGINT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    course_id BIGINT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('video', 'audio', 'image', 'document', 'quiz',
        'live_event', 'room', 'channel_room', 'gallery_room')),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    source_url TEXT,
    file_name TEXT,
    content_type TEXT,
    file_size BIGINT,
    original_name TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX media_items_course ON media_items (course_id, created_at);
CREATE INDEX media_items_platform ON media_items (platform_id);

-- Secrets the tool makes for itself (the key that signs media URLs), shared
-- by every instance through the database.
CREATE TABLE tool_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
