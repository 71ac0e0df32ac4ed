-- A live session's room on a media server (Janus VideoRoom), for audio
-- and video: the server's API address and the room's number (its secret is
-- derived from the session by the tool's URL key, so nothing secret is
-- kept here). Both null while the session has no media room (none set up,
-- or the server did not answer).
ALTER TABLE room_sessions ADD COLUMN janus_api TEXT;
ALTER TABLE room_sessions ADD COLUMN janus_room BIGINT;

-- A person's pass into a session's media room: the participant id they
-- join Janus with (a new one at every issue, so an id others have seen is
-- never valid again) and whether they may publish. Their Janus token is the
-- tool's MAC of the session, the person and this id: not kept here.
CREATE TABLE av_passes (
    session_id TEXT NOT NULL REFERENCES room_sessions (id) ON DELETE CASCADE,
    -- 'm' and a member's user id, or 'g' and a guest's lobby entry id.
    person TEXT NOT NULL,
    participant_id BIGINT NOT NULL,
    may_publish BOOLEAN NOT NULL,
    issued_at BIGINT NOT NULL,
    -- Caught publishing without the right: no further pass this session.
    barred BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, person)
);
