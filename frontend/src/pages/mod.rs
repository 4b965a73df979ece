//! One module per route.

pub mod catalog;
pub mod entity;
pub mod home;
pub mod not_found;
pub mod pending;
pub mod validate;
