-- Guest links: the per-item switch, up to three links per item, who came in,
-- and the sessions of admitted guests.
ALTER TABLE media_items ADD COLUMN guest_access_enabled BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE guest_links (
    id TEXT PRIMARY KEY,
    media_id TEXT NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    -- Which of the item's three places the link holds; with the partial
    -- unique index below the database itself refuses a fourth live link.
    slot BIGINT NOT NULL CHECK (slot BETWEEN 1 AND 3),
    -- Creation order within the item (places are reused, times can tie).
    seq BIGINT NOT NULL,
    -- The link's secret, kept so the owner can copy the link again.
    token TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    click_limit BIGINT CHECK (click_limit IS NULL OR click_limit > 0),
    clicks BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    -- A deleted link stays (until the retention purge) so its guests are
    -- told it was deleted; it no longer holds a place.
    deleted_at BIGINT
);
CREATE UNIQUE INDEX guest_links_live_slot ON guest_links (media_id, slot) WHERE deleted_at IS NULL;
-- An item's links in creation order (listing, and the next seq).
CREATE INDEX guest_links_media_seq ON guest_links (media_id, seq);
CREATE INDEX guest_links_deleted_at ON guest_links (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE guest_visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    link_id TEXT NOT NULL REFERENCES guest_links (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX guest_visits_link ON guest_visits (link_id, created_at);
CREATE INDEX guest_visits_created_at ON guest_visits (created_at);

CREATE TABLE guest_sessions (
    token_hash TEXT PRIMARY KEY,
    link_id TEXT NOT NULL REFERENCES guest_links (id) ON DELETE CASCADE,
    -- The admission that opened the session; signed file URLs name it.
    visit_id BIGINT NOT NULL REFERENCES guest_visits (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX guest_sessions_expires_at ON guest_sessions (expires_at);
