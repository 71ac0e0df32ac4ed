-- Irreversible in effect: after the up migration, token_hash holds keyed
-- hashes and the tokens exist only sealed, so an older guestlink reading
-- them back as plain tokens would find no guest link. Every link sent before
-- a downgrade stops working.
DROP TABLE file_grants;
DROP INDEX platforms_pending;
ALTER TABLE platforms DROP COLUMN registration_host;
ALTER TABLE guest_links DROP COLUMN token_sealed;
ALTER TABLE guest_links RENAME COLUMN token_hash TO token;
