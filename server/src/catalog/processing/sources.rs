//! Where processing reads from: URL targets through the configured reader,
//! file targets from the local disk, and the resolution of relative targets.

use std::sync::Arc;

use greenroom_store::LocationSpec;

use super::locations::{resolve_file_target, resolve_url_target};
use crate::catalog::readers::{
    read_file_target, ReadError, ScmHosts, ScmKind, UrlReader, MAX_READ_BYTES,
};

/// One document source that was read: the location it came from (a glob
/// expands to several) and its text.
#[derive(Debug, Clone)]
pub(crate) struct ReadSource {
    pub location: LocationSpec,
    pub text: String,
}

#[derive(Clone)]
pub(crate) struct Sources {
    reader: Arc<dyn UrlReader>,
    scm: ScmHosts,
}

impl Sources {
    pub fn new(reader: Arc<dyn UrlReader>, scm: ScmHosts) -> Self {
        Self { reader, scm }
    }

    pub fn scm_kind(&self, url: &str) -> Option<ScmKind> {
        self.scm.kind_of(url)
    }

    /// Backstage's `toAbsoluteUrl`: a target of the same type as the base
    /// location is resolved against it; other types are taken as written.
    pub fn resolve_target(
        &self,
        base: &LocationSpec,
        kind: &str,
        target: &str,
    ) -> Result<String, String> {
        if base.kind != kind {
            return Ok(target.to_string());
        }
        match kind {
            "file" => Ok(resolve_file_target(&base.target, target)),
            "url" => resolve_url_target(&base.target, target, self.scm_kind(&base.target)),
            _ => Ok(target.to_string()),
        }
    }

    /// Refuses a `url` location no reader may fetch, in the words a read
    /// would fail with; other types are checked when they are read.
    pub fn check_readable(&self, location: &LocationSpec) -> Result<(), String> {
        if location.kind != "url" {
            return Ok(());
        }
        self.reader
            .check_allowed(&location.target)
            .map_err(|e| format!("Unable to read url, {}: {e}", e.name()))
    }

    /// Reads a location. `file` targets may be globs (one source per match).
    /// Unknown types are reported by the caller; here they are an error.
    pub async fn read_location(
        &self,
        location: &LocationSpec,
    ) -> Result<Vec<ReadSource>, ReadError> {
        match location.kind.as_str() {
            "url" => {
                let text = self.reader.read_url(&location.target).await?;
                Ok(vec![ReadSource {
                    location: location.clone(),
                    text,
                }])
            }
            "file" => {
                let target = location.target.clone();
                let documents = tokio::task::spawn_blocking(move || read_file_target(&target))
                    .await
                    .map_err(|e| {
                        ReadError::Other(format!("Unable to read file {}, {e}", location.target))
                    })??;
                Ok(documents
                    .into_iter()
                    .map(|d| ReadSource {
                        location: LocationSpec {
                            kind: "file".into(),
                            target: d.path.to_string_lossy().into_owned(),
                        },
                        text: d.text,
                    })
                    .collect())
            }
            other => Err(ReadError::Other(format!(
                "No processor was able to handle reading of {other}:{}",
                location.target
            ))),
        }
    }

    /// Reads the text a placeholder points at: an absolute URL through the
    /// reader, or a path relative to the entity's own location.
    pub async fn read_relative(
        &self,
        base: &LocationSpec,
        reference: &str,
    ) -> Result<String, PlaceholderReadError> {
        if url::Url::parse(reference).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            return self
                .reader
                .read_url(reference)
                .await
                .map_err(PlaceholderReadError::Read);
        }
        match base.kind.as_str() {
            "url" => {
                let url = resolve_url_target(&base.target, reference, self.scm_kind(&base.target))
                    .map_err(PlaceholderReadError::Resolve)?;
                self.reader
                    .read_url(&url)
                    .await
                    .map_err(PlaceholderReadError::Read)
            }
            "file" => {
                let path = resolve_file_target(&base.target, reference);
                read_small_file(&path)
                    .await
                    .map_err(PlaceholderReadError::Read)
            }
            other => Err(PlaceholderReadError::Resolve(format!(
                "relative references are not supported for {other} locations"
            ))),
        }
    }
}

pub(crate) enum PlaceholderReadError {
    /// The reference could not be turned into a readable location.
    Resolve(String),
    Read(ReadError),
}

async fn read_small_file(path: &str) -> Result<String, ReadError> {
    let metadata = tokio::fs::metadata(path)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                ReadError::NotFound(format!("file {path} does not exist"))
            }
            _ => ReadError::Other(format!("Unable to read file {path}, {e}")),
        })?;
    if !metadata.is_file() {
        return Err(ReadError::Other(format!(
            "Unable to read file {path}, it is not a regular file"
        )));
    }
    if metadata.len() > MAX_READ_BYTES as u64 {
        return Err(ReadError::Other(format!(
            "Unable to read file {path}, it is larger than {MAX_READ_BYTES} bytes"
        )));
    }
    tokio::fs::read_to_string(path)
        .await
        .map_err(|e| ReadError::Other(format!("Unable to read file {path}, {e}")))
}
