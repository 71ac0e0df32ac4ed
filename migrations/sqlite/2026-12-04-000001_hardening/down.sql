DROP TABLE file_grants;
DROP INDEX platforms_pending;
ALTER TABLE platforms DROP COLUMN registration_host;
ALTER TABLE guest_links DROP COLUMN token_sealed;
ALTER TABLE guest_links RENAME COLUMN token_hash TO token;
