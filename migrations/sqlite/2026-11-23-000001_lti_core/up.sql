-- LTI core: registered platforms, tool keys, login state, users, courses, sessions.
-- Times are Unix seconds (BIGINT) on both backends so one schema serves both.
CREATE TABLE platforms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    lms TEXT NOT NULL CHECK (lms IN ('moodle', 'canvas', 'sakai', 'brightspace', 'generic')),
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    auth_url TEXT NOT NULL,
    jwks_url TEXT NOT NULL,
    token_url TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (issuer, client_id)
);

CREATE TABLE deployments (
    platform_id BIGINT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (platform_id, deployment_id)
);

CREATE TABLE tool_keys (
    kid TEXT PRIMARY KEY,
    private_key TEXT NOT NULL,
    public_n TEXT NOT NULL,
    public_e TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
-- At most one current key, even when several instances start at once.
CREATE UNIQUE INDEX tool_keys_one_current ON tool_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

CREATE TABLE login_states (
    state_hash TEXT PRIMARY KEY,
    platform_id BIGINT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    nonce_hash TEXT NOT NULL,
    binding_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX login_states_expires_at ON login_states (expires_at);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id BIGINT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    sub TEXT NOT NULL,
    name TEXT,
    email TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (platform_id, sub)
);

CREATE TABLE courses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id BIGINT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    context_id TEXT NOT NULL,
    label TEXT,
    title TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (platform_id, context_id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    platform_id BIGINT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id BIGINT REFERENCES courses (id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    can_manage BOOLEAN NOT NULL,
    roles TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
