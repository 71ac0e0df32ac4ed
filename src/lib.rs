//! guestlink: an LTI 1.3 tool that shares one course media item with guests.
//!
//! # Layers
//!
//! Each module may use only the ones listed after it (leaves use nothing of
//! the crate). Dependencies point one way, towards the pure rules.
//!
//! | module | what it is | may use |
//! |---|---|---|
//! | `domain` | pure rules and types: rights, platforms, media, guest links, file grants, instants | `crypto` (random ids) |
//! | `lti` | the LTI 1.3 and OIDC protocol only (login, the launch steps, keys, deep-linking and registration messages); knows nothing of guest links | `domain`, `crypto`, `outbound`, `clock` |
//! | `store` | diesel over PostgreSQL and SQLite; returns domain types | `domain`, `lti` (the records it keeps: login states, tool keys), `crypto` (sealing), `config` |
//! | `service` | use cases over the [`service::Tool`], each with its own error enum; the only caller of `store` | `domain`, `lti`, `store`, `outbound`, `janus`, `crypto`, `config`, `clock` |
//! | `web` | actix-web: routes, extractors, pages, the one status table (`web::error`) | `service`, `domain`/`lti` types to render, `crypto` (token shapes, form signatures), `config`; never `store` |
//! | `demo` | the demo LMS under `guestlink demo`, and its sample courses (seeded through `store` at start) | `service`, `web` (pages), `lti`, `domain`, `store` |
//! | `startup` | opens the database and the [`service::Tool`], binds the server | `service`, `web`, `demo`, `store` (`Db::connect` only) |
//! | `config`, `outbound`, `crypto`, `clock`, `telemetry` | settings, the outbound-fetch rules, keys and tokens, the time, logging | leaves, but for `domain::time` (`config`, `clock`), `outbound`'s host patterns and `crypto`'s key type (`config`) |
//! | `janus` | the media servers' HTTP API (Janus VideoRoom), protocol only | `crypto` (transaction ids) |
//!
//! `main.rs` (the command line) calls `service` through a runtime, like the
//! web layer does, and maps the use cases' errors to exit codes in one table.

pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod janus;
pub mod lti;
pub mod outbound;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
