-- Invite links: one person (an email address), one item, one role. Only
-- the hash of an invitation's current link is kept; Resend replaces it.
CREATE TABLE invites (
    id TEXT PRIMARY KEY,
    media_id TEXT NOT NULL REFERENCES media_items (id) ON DELETE CASCADE,
    -- The address as the owner typed it (trimmed), and the form compared
    -- (lower case): one live invitation per address and item.
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'speaker', 'moderator')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    invited_by_name TEXT NOT NULL,
    -- The deployment the owner launched through: the invitee's session
    -- belongs to it.
    deployment_id TEXT NOT NULL,
    -- How many days a link of this invitation lasts (Resend starts anew).
    valid_days INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    -- False once revoked, or once expired and replaced by a new invitation.
    live BOOLEAN NOT NULL DEFAULT TRUE,
    email_status TEXT NOT NULL DEFAULT 'not_sent'
        CHECK (email_status IN ('not_sent', 'sent', 'failed'))
);
CREATE UNIQUE INDEX invites_live ON invites (media_id, email_key) WHERE live;
CREATE INDEX invites_media ON invites (media_id, created_at);

-- Who is behind an invitation: the browser it is bound to, the person made
-- for the invitee, and the wrong addresses typed on its page.
CREATE TABLE invite_access (
    invite_id TEXT PRIMARY KEY REFERENCES invites (id) ON DELETE CASCADE,
    -- The bound browser's invitee session (its token hash), and the browser
    -- itself (the hash of its form cookie): the same browser may confirm
    -- again (a lost answer, a cleared cookie) and gets a new session.
    bound_session_hash TEXT,
    bound_browser_hash TEXT,
    accepted_at BIGINT,
    -- The invitee as a person of the room (made when they first confirm).
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- Wrong addresses typed within the hour since wrong_since.
    wrong_tries INTEGER NOT NULL DEFAULT 0,
    wrong_since BIGINT
);

-- An invitee's session is a session of its own kind: it opens one item,
-- under /i/{token}/ only, never the course.
ALTER TABLE sessions ADD COLUMN invite_id TEXT REFERENCES invites (id) ON DELETE CASCADE;
CREATE INDEX sessions_invite ON sessions (invite_id) WHERE invite_id IS NOT NULL;

-- Invitees are listed among a session's participants, marked.
ALTER TABLE room_participants ADD COLUMN invited BOOLEAN NOT NULL DEFAULT FALSE;
