//! Integration tests: the real server on a random port, real HTTP, a fresh
//! database per test on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

mod helpers;

mod cli;
mod database_outage;
mod jwks;
mod lti_launch;
mod lti_login;
mod schema;
mod sessions;
