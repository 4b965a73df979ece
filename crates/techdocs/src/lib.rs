//! Greenroom's TechDocs builder: turns a mkdocs project (`mkdocs.yml` and a
//! folder of Markdown) into a static site without Python. The output follows
//! mkdocs' layout so Backstage's TechDocs routes can serve it, every page is
//! sanitised, and links between pages are checked.

mod blocks;
pub mod config;
mod highlight;
pub mod links;
mod markdown;
mod sanitize;
mod site;
pub mod text;

use std::path::Path;

pub use config::{MkdocsConfig, NavEntry};
pub use site::{
    build_site, BuildOptions, BuiltPage, BuiltSite, METADATA_FILE, SEARCH_INDEX_FILE,
    STYLESHEET_FILE,
};
pub use text::Section;

#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("mkdocs configuration: {0}")]
    Config(String),
    #[error("{0} holds neither a mkdocs.yml nor a docs folder")]
    NoProject(String),
    #[error("the docs folder '{0}' does not exist")]
    NoDocsDir(String),
    #[error("{page} is {} MB; pages are limited to {} MB", mb(*bytes), mb(*limit as u64))]
    PageTooLarge {
        page: String,
        bytes: u64,
        limit: usize,
    },
    #[error("the site is {} MB; sites are limited to {} MB", mb(*bytes), mb(*limit))]
    SiteTooLarge { bytes: u64, limit: u64 },
    #[error("{page} is not UTF-8 text")]
    NotUtf8 { page: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl DocsError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        DocsError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}
