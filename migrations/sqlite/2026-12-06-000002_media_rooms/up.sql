-- A live session's room on a media server (Janus VideoRoom), for audio
-- and video: the server's API address and the room's number (its secret is
-- derived from the session by the tool's URL key, so nothing secret is
-- kept here). Both null while the session has no media room (none set up,
-- or the server did not answer).
ALTER TABLE room_sessions ADD COLUMN janus_api TEXT;
ALTER TABLE room_sessions ADD COLUMN janus_room BIGINT;
