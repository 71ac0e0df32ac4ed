-- A moderator's "Mute all" in a session: a count every publishing page
-- follows (it mutes its microphone when the count moves on).
ALTER TABLE room_sessions ADD COLUMN av_mute_all BIGINT NOT NULL DEFAULT 0;

-- A publishing pass whose holder was seen in the media room: once they
-- are gone from it, the pass is withdrawn, so its participant id (which
-- the room showed to everyone) is never valid again.
ALTER TABLE av_passes ADD COLUMN seen BOOLEAN NOT NULL DEFAULT 0;
