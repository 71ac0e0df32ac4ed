-- Hardening.

-- Guest-link tokens are no longer kept in the clear: a keyed hash (HMAC under
-- a key derived from GUESTLINK_SECRET_KEY) to find a link by the token a guest
-- brings, and the token sealed (AES-256-GCM) for the owner's Copy. Rows from
-- before hold the plain token in token_hash and no token_sealed; the server
-- rewrites them at start.
ALTER TABLE guest_links RENAME COLUMN token TO token_hash;
ALTER TABLE guest_links ADD COLUMN token_sealed TEXT;

-- Where a dynamically registered platform's configuration came from, so the
-- registrations waiting for activation can be capped per LMS host.
ALTER TABLE platforms ADD COLUMN registration_host TEXT;
CREATE INDEX platforms_pending ON platforms (registration_host) WHERE pending;

-- A file URL handed to one viewer's page: a member's launch session or a
-- guest's session (exactly one), for one item. It may start a stream until
-- starts_until; after that a stream continues only while its requests keep
-- coming (last_used_at), and never after ends_at. It goes with its session.
CREATE TABLE file_grants (
    grant_hash TEXT PRIMARY KEY,
    media_id TEXT NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    session_hash TEXT REFERENCES sessions (token_hash) ON DELETE CASCADE,
    guest_session_hash TEXT REFERENCES guest_sessions (token_hash) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    starts_until BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    CHECK ((session_hash IS NULL) <> (guest_session_hash IS NULL))
);
CREATE INDEX file_grants_ends_at ON file_grants (ends_at);
CREATE INDEX file_grants_session ON file_grants (session_hash) WHERE session_hash IS NOT NULL;
CREATE INDEX file_grants_guest_session ON file_grants (guest_session_hash) WHERE guest_session_hash IS NOT NULL;
