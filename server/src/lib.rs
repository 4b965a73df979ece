//! Greenroom server library: `app(state)` builds the router, `run` serves it.

pub mod catalog;
pub mod config;
pub mod permissions;
pub mod spa;
pub mod state;
