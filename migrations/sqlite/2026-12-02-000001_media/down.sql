DROP TABLE tool_secrets;
DROP TABLE media_items;
ALTER TABLE sessions DROP COLUMN deep_linking;
ALTER TABLE platforms DROP COLUMN media_page;
ALTER TABLE platforms DROP COLUMN invite_to_media;
