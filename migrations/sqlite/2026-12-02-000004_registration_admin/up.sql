-- A platform registered dynamically from a host the tool does not list in
-- GUESTLINK_REGISTRATION_ALLOWED_HOSTS waits, unable to launch, until a tool
-- administrator activates it.
ALTER TABLE platforms ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE;

-- Registration tokens (or, where the LMS sends none, configuration URLs)
-- already spent: a token is used once.
CREATE TABLE used_registration_tokens (
    token_hash TEXT PRIMARY KEY,
    used_at BIGINT NOT NULL
);

-- One-time sign-in links for the admin console, and the sessions they open.
CREATE TABLE admin_login_links (
    token_hash TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Launch diagnostics: the last launches and failed launches, per platform
-- (platform_id is NULL when the issuer is unknown). They hold personal data,
-- so the periodic purge keeps only the last 500 per platform and 30 days.
CREATE TABLE launch_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id BIGINT REFERENCES platforms (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    client_id TEXT,
    deployment_id TEXT,
    stage TEXT NOT NULL CHECK (stage IN ('login', 'launch')),
    error_code TEXT,
    reason TEXT,
    claims TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX launch_attempts_platform ON launch_attempts (platform_id, id);
CREATE INDEX launch_attempts_created_at ON launch_attempts (created_at);
