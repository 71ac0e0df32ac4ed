-- An anonymous launch (a resource-link launch without `sub`, LTI 1.3 Core
-- §5.3.6.1, https://www.imsglobal.org/spec/lti/v1p3#anonymous-launch-case)
-- opens a session for no user. SQLite cannot drop a NOT NULL, so the table
-- is rebuilt; open sessions are kept (their file grants, which the
-- rebuild's delete cascades to, are renewed by the pages).
CREATE TABLE sessions_new (
    token_hash TEXT PRIMARY KEY,
    platform_id BIGINT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    course_id BIGINT REFERENCES courses (id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    can_manage BOOLEAN NOT NULL,
    roles TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    deep_linking TEXT
);
INSERT INTO sessions_new
    SELECT token_hash, platform_id, user_id, course_id, deployment_id, can_manage, roles,
           created_at, last_seen_at, expires_at, deep_linking
    FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
