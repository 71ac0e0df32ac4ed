DROP TABLE sessions;
DROP TABLE courses;
DROP TABLE users;
DROP TABLE login_states;
DROP TABLE tool_keys;
DROP TABLE deployments;
DROP TABLE platforms;
