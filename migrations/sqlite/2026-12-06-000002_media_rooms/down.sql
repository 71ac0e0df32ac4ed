DROP TABLE av_passes;
ALTER TABLE room_sessions DROP COLUMN janus_room;
ALTER TABLE room_sessions DROP COLUMN janus_api;
