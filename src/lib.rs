//! guestlink: an LTI 1.3 tool that shares one course media item with guests.
//!
//! Layers, and the way their dependencies point:
//! `web -> service -> {domain, store, lti}`, `store -> {domain, lti}`.
//! `lti` is the LTI 1.3 protocol only and knows nothing of guest links;
//! `domain` holds pure rules and knows nothing of HTTP or SQL.

pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod lti;
pub mod outbound;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
