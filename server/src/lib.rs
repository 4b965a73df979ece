//! Greenroom server library: `app(state)` builds the router, `run` serves it.

pub mod auth;
pub mod catalog;
pub mod config;
pub mod error;
pub mod permissions;
pub mod state;
