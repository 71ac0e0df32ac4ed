//! Pure rules: no actix, diesel or reqwest here, and the time is passed in.

pub mod diagnostics;
pub mod field;
pub mod file_access;
pub mod file_type;
pub mod guest_access;
pub mod ids;
pub mod invite;
pub mod media;
pub mod permissions;
pub mod platform;
pub mod room;
pub mod session;
pub mod time;
