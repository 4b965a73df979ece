//! One module per route.

pub mod actions;
pub mod api_definition;
pub mod apis;
pub mod audit;
pub mod catalog;
pub mod create;
pub mod docs_explorer;
pub mod docs_reader;
pub mod entity;
pub mod entity_graph;
pub mod entity_lists;
pub mod entity_overview;
pub mod form_fields;
pub mod home;
pub mod import;
pub mod not_found;
pub mod search;
pub mod settings;
pub mod sign_in;
pub mod task;
pub mod tasks;
pub mod template_form;
pub mod validate;
