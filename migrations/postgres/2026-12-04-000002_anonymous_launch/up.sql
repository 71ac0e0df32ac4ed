-- An anonymous launch (a resource-link launch without `sub`, LTI 1.3 Core
-- §5.3.6.1, https://www.imsglobal.org/spec/lti/v1p3#anonymous-launch-case)
-- opens a session for no user.
ALTER TABLE sessions ALTER COLUMN user_id DROP NOT NULL;
