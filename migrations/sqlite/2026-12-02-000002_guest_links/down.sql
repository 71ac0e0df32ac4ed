DROP TABLE guest_sessions;
DROP TABLE guest_visits;
DROP TABLE guest_links;
ALTER TABLE media_items DROP COLUMN guest_access_enabled;
