//! Use cases: each joins the domain rules, the store and the LTI protocol.
//! Handlers call one function here and render what it returns.

pub mod admin;
pub mod admission_gates;
pub mod av;
pub mod deep_linking;
pub mod diagnostics;
pub mod failure;
pub mod guest_links;
pub mod housekeeping;
pub mod invites;
pub mod keys;
pub mod launch;
pub mod live;
pub mod login;
pub mod mail;
pub mod media;
pub mod media_files;
pub mod platforms;
pub mod rate_limit;
pub mod registration;
pub mod registrations;
pub mod rooms;
pub mod secrets;
pub mod sessions;

mod tool;

pub use tool::{OpenError, Tool};
