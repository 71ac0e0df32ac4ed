DROP TABLE launch_attempts;
DROP TABLE admin_sessions;
DROP TABLE admin_login_links;
DROP TABLE used_registration_tokens;
ALTER TABLE platforms DROP COLUMN pending;
