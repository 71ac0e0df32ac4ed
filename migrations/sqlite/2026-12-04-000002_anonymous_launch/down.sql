CREATE TABLE sessions_old (
    token_hash TEXT PRIMARY KEY,
    platform_id BIGINT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id BIGINT REFERENCES courses (id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    can_manage BOOLEAN NOT NULL,
    roles TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    deep_linking TEXT
);
INSERT INTO sessions_old
    SELECT token_hash, platform_id, user_id, course_id, deployment_id, can_manage, roles,
           created_at, last_seen_at, expires_at, deep_linking
    FROM sessions WHERE user_id IS NOT NULL;
DROP TABLE sessions;
ALTER TABLE sessions_old RENAME TO sessions;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
