-- Deployments that arrive after registration (Canvas, Brightspace): a
-- platform either accepts only listed deployment ids (strict) or records an
-- unknown one on an otherwise valid launch and lets it in.
ALTER TABLE platforms ADD COLUMN deployment_policy TEXT NOT NULL DEFAULT 'strict'
    CHECK (deployment_policy IN ('strict', 'register_on_first_launch'));
-- Who added a deployment: an administrator, or a first launch.
ALTER TABLE deployments ADD COLUMN added_by TEXT NOT NULL DEFAULT 'admin'
    CHECK (added_by IN ('admin', 'launch'));
