//! Helpers shared by the integration tests. Each file in `tests/` is its own
//! crate and declares `mod common;` to use them.

// Each test crate uses only a subset of these helpers.
#![allow(dead_code)]

pub mod browser;
pub mod fake_oauth;
pub mod file_host;
pub mod git;
pub mod paths;
pub mod scm_fakes;
pub mod server;
pub mod slapd;
pub mod techdocs;
