ALTER TABLE room_participants DROP COLUMN invited;
DROP INDEX sessions_invite;
ALTER TABLE sessions DROP COLUMN invite_id;
DROP TABLE invite_access;
DROP TABLE invites;
