//! A task's working directory. Templates are untrusted: every path an action
//! reads or writes goes through [`Workspace::resolve`], which keeps it inside
//! the workspace (no absolute paths, no `..` out of it, no symbolic links
//! leading out). Snapshots let a task resume on another worker.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use base64::Engine;

/// Largest workspace a task may keep (and snapshot into the database).
pub const MAX_WORKSPACE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("Relative path is not allowed to refer to a directory outside its parent: '{0}'")]
    Outside(String),
    #[error("{0}")]
    Io(String),
    #[error("the workspace is larger than {MAX_WORKSPACE_BYTES} bytes")]
    TooLarge,
}

impl From<std::io::Error> for WorkspaceError {
    fn from(e: std::io::Error) -> Self {
        WorkspaceError::Io(e.to_string())
    }
}

#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

/// Joins `relative` onto `base` lexically; None when it leaves `base`.
pub fn safe_join(base: &Path, relative: &str) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(p) => parts.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    let mut out = base.to_path_buf();
    out.extend(parts);
    Some(out)
}

impl Workspace {
    /// `root` must exist; it is canonicalised so symlink checks compare like
    /// with like.
    pub fn new(root: &Path) -> Result<Self, WorkspaceError> {
        Ok(Workspace {
            root: root.canonicalize()?,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path of `relative` inside the workspace. Refuses absolute
    /// paths, `..` leaving the workspace and existing symbolic links on the way.
    pub fn resolve(&self, relative: &str) -> Result<PathBuf, WorkspaceError> {
        let path = safe_join(&self.root, relative)
            .ok_or_else(|| WorkspaceError::Outside(relative.to_string()))?;
        let mut current = self.root.clone();
        for component in path.strip_prefix(&self.root).unwrap_or(&path).components() {
            current.push(component);
            match std::fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(WorkspaceError::Outside(relative.to_string()))
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        Ok(path)
    }

    /// Writes a file (creating parent directories) inside the workspace.
    pub fn write(&self, relative: &str, content: &[u8]) -> Result<PathBuf, WorkspaceError> {
        let path = self.resolve(relative)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)?;
        Ok(path)
    }

    /// Every regular file, relative to the root, sorted.
    pub fn files(&self) -> Result<Vec<PathBuf>, WorkspaceError> {
        let mut out = Vec::new();
        collect_files(&self.root, &self.root, &mut out)?;
        out.sort();
        Ok(out)
    }

    /// The workspace as a gzipped tar, base64 encoded.
    pub fn snapshot(&self) -> Result<String, WorkspaceError> {
        let mut total = 0u64;
        let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut archive = tar::Builder::new(encoder);
        archive.follow_symlinks(false);
        for rel in self.files()? {
            let path = self.root.join(&rel);
            total += std::fs::metadata(&path)?.len();
            if total > MAX_WORKSPACE_BYTES {
                return Err(WorkspaceError::TooLarge);
            }
            archive.append_path_with_name(&path, &rel)?;
        }
        let bytes = archive.into_inner()?.finish()?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Replaces the workspace's content with a snapshot. `tar` refuses entries
    /// that would land outside the directory.
    pub fn restore(&self, snapshot: &str) -> Result<(), WorkspaceError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(snapshot)
            .map_err(|e| WorkspaceError::Io(format!("corrupt workspace snapshot: {e}")))?;
        for entry in std::fs::read_dir(&self.root)? {
            let path = entry?.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
        let decoder = flate2::read::GzDecoder::new(&bytes[..]).take(MAX_WORKSPACE_BYTES * 2);
        let mut archive = tar::Archive::new(decoder);
        archive.set_preserve_permissions(true);
        archive.unpack(&self.root)?;
        Ok(())
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), WorkspaceError> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            collect_files(root, &path, out)?;
        } else if kind.is_file() {
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path()).unwrap();
        assert!(ws.resolve("a/b.txt").unwrap().starts_with(ws.root()));
        assert!(ws.resolve("a/../b.txt").unwrap().starts_with(ws.root()));
        for bad in ["../x", "a/../../x", "/etc/passwd", "a/../../../etc"] {
            let err = ws.resolve(bad).unwrap_err();
            assert!(matches!(err, WorkspaceError::Outside(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn symlinks_out_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path()).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        assert!(ws.write("link/evil.txt", b"x").is_err());
        assert!(!outside.path().join("evil.txt").exists());
    }

    #[test]
    fn snapshot_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path()).unwrap();
        ws.write("src/main.rs", b"fn main() {}").unwrap();
        ws.write("README.md", b"# hi").unwrap();
        let snap = ws.snapshot().unwrap();
        ws.write("junk", b"x").unwrap();
        ws.restore(&snap).unwrap();
        assert_eq!(
            ws.files().unwrap(),
            vec![PathBuf::from("README.md"), PathBuf::from("src/main.rs")]
        );
        assert_eq!(
            std::fs::read(dir.path().join("src/main.rs")).unwrap(),
            b"fn main() {}"
        );
    }
}
