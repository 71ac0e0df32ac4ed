ALTER TABLE deployments DROP COLUMN added_by;
ALTER TABLE platforms DROP COLUMN deployment_policy;
