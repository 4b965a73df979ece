//! Local files for `file` locations: a path or a glob pattern.

use std::path::{Path, PathBuf};

use super::{ReadError, MAX_READ_BYTES};

/// One file matched by a `file` location target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDocument {
    pub path: PathBuf,
    pub text: String,
}

fn is_glob(target: &str) -> bool {
    target.contains(['*', '?', '['])
}

/// Reads the file(s) a `file` target names. The target must be absolute (the
/// pipeline resolves relative targets against the parent file first). A glob
/// matching nothing, or a missing file, is NotFound with Backstage's message.
pub fn read_file_target(target: &str) -> Result<Vec<FileDocument>, ReadError> {
    if target.ends_with('/') || target.ends_with(std::path::MAIN_SEPARATOR) {
        return Err(ReadError::Other(format!(
            "file {target} is a directory; a file location must name a file or a glob pattern"
        )));
    }
    if !Path::new(target).is_absolute() {
        return Err(ReadError::Other(format!(
            "file {target} is not an absolute path"
        )));
    }
    let paths: Vec<PathBuf> = if is_glob(target) {
        let pattern = glob::glob(target)
            .map_err(|e| ReadError::Other(format!("Invalid glob pattern '{target}', {e}")))?;
        let mut paths: Vec<PathBuf> = pattern
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        paths
    } else {
        vec![PathBuf::from(target)]
    };
    let missing = || ReadError::NotFound(format!("file {target} does not exist"));
    if paths.is_empty() {
        return Err(missing());
    }
    paths
        .into_iter()
        .map(|path| {
            let metadata = std::fs::metadata(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => missing(),
                _ => ReadError::Other(format!("Unable to read file {}, {e}", path.display())),
            })?;
            if metadata.is_dir() {
                return Err(ReadError::Other(format!(
                    "file {} is a directory",
                    path.display()
                )));
            }
            if metadata.len() > MAX_READ_BYTES as u64 {
                return Err(ReadError::Other(format!(
                    "Unable to read file {}, it is larger than {MAX_READ_BYTES} bytes",
                    path.display()
                )));
            }
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ReadError::Other(format!("Unable to read file {}, {e}", path.display()))
            })?;
            Ok(FileDocument { path, text })
        })
        .collect()
}
