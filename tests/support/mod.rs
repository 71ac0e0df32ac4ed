//! Helpers shared by integration tests. Each test crate includes this with
//! `mod support;` and uses only what it needs.

pub mod process;
pub mod sim_lms;
pub mod webdriver;
