//! Integration tests: the real server on a random port, real HTTP, a fresh
//! database per test on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

mod guest_helpers;
mod helpers;
mod invite_helpers;
mod janus_helpers;
mod log_check;
mod media_helpers;
mod registration_helpers;
mod room_helpers;
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod admin;
mod av;
mod cli;
mod cli_media;
mod database_outage;
mod deep_linking;
mod deployment_files;
mod guest_access;
mod guest_entry;
mod invite_mail;
mod invites;
mod jwks;
mod lti_config;
mod lti_launch;
mod lti_login;
mod media;
mod media_files;
mod registration;
mod rooms;
mod rooms_live;
mod schema;
mod secrets;
mod sessions;
mod store_writes;
