ALTER TABLE av_passes DROP COLUMN seen;
ALTER TABLE room_sessions DROP COLUMN av_mute_all;
