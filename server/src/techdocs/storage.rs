//! Where built sites live: `<namespace>/<kind>/<name>/` (lower case, as
//! Backstage's publishers), behind one trait so several replicas can share an
//! object store instead of a local folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

/// A documented entity's site, by its lower-cased triplet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteKey {
    pub namespace: String,
    pub kind: String,
    pub name: String,
}

impl SiteKey {
    pub fn new(namespace: &str, kind: &str, name: &str) -> Self {
        SiteKey {
            namespace: namespace.to_lowercase(),
            kind: kind.to_lowercase(),
            name: name.to_lowercase(),
        }
    }

    pub fn entity_ref(&self) -> String {
        format!("{}:{}/{}", self.kind, self.namespace, self.name)
    }

    fn prefix(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("docs storage: {0}")]
pub struct StorageError(pub String);

#[async_trait]
pub trait DocsStorage: Send + Sync {
    /// Replaces the whole site of `key` with `files` (path → bytes). Local
    /// storage swaps whole folders, so readers see the old site or the new one;
    /// object stores replace files one by one and write the metadata last.
    async fn publish(
        &self,
        key: &SiteKey,
        files: &BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StorageError>;
    /// One file of a site; None when the site or the file does not exist.
    async fn read(&self, key: &SiteKey, path: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Every published site.
    async fn sites(&self) -> Result<Vec<SiteKey>, StorageError>;
}

/// Sites in a local folder (`techdocs.publisher.local.publishDirectory`).
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStorage { root: root.into() }
    }

    fn site_dir(&self, key: &SiteKey) -> PathBuf {
        self.root.join(key.prefix())
    }
}

/// A path inside a site, refused when it could leave it.
pub fn safe_relative(path: &str) -> Option<&str> {
    let ok = !path
        .split('/')
        .any(|s| s == ".." || s.contains('\\') || s.contains('\0'))
        && !path.starts_with('/');
    ok.then_some(path)
}

#[async_trait]
impl DocsStorage for LocalStorage {
    async fn publish(
        &self,
        key: &SiteKey,
        files: &BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StorageError> {
        let target = self.site_dir(key);
        let files = files.clone();
        tokio::task::spawn_blocking(move || publish_dir(&target, &files))
            .await
            .map_err(|e| StorageError(e.to_string()))?
    }

    async fn read(&self, key: &SiteKey, path: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let Some(path) = safe_relative(path) else {
            return Ok(None);
        };
        let file = self.site_dir(key).join(path);
        match tokio::fs::read(&file).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) if e.raw_os_error() == Some(20) => Ok(None), // ENOTDIR: a file named like a folder
            Err(e) => Err(StorageError(format!("{}: {e}", file.display()))),
        }
    }

    async fn sites(&self) -> Result<Vec<SiteKey>, StorageError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for ns in read_dirs(&root) {
                for kind in read_dirs(&root.join(&ns)) {
                    for name in read_dirs(&root.join(&ns).join(&kind)) {
                        if root
                            .join(&ns)
                            .join(&kind)
                            .join(&name)
                            .join(greenroom_techdocs::METADATA_FILE)
                            .is_file()
                        {
                            out.push(SiteKey::new(&ns, &kind, &name));
                        }
                    }
                }
            }
            out.sort();
            out
        })
        .await
        .map_err(|e| StorageError(e.to_string()))
    }
}

fn read_dirs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

/// Writes the site beside the old one, then swaps the folders with renames.
fn publish_dir(target: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(), StorageError> {
    let err = |e: std::io::Error, p: &Path| StorageError(format!("{}: {e}", p.display()));
    let parent = target
        .parent()
        .ok_or_else(|| StorageError("no parent folder".into()))?;
    std::fs::create_dir_all(parent).map_err(|e| err(e, parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(parent)
        .map_err(|e| err(e, parent))?;
    for (path, bytes) in files {
        let Some(path) = safe_relative(path) else {
            return Err(StorageError(format!("refusing to publish '{path}'")));
        };
        let file = staging.path().join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(e, dir))?;
        }
        std::fs::write(&file, bytes).map_err(|e| err(e, &file))?;
    }
    let old = parent.join(format!(".old-{}", uuid::Uuid::new_v4().simple()));
    let had_old = target.exists();
    if had_old {
        std::fs::rename(target, &old).map_err(|e| err(e, target))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, target).map_err(|e| err(e, target))?;
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn publishing_replaces_a_site_and_reads_stay_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path());
        let key = SiteKey::new("Default", "Component", "Svc");
        let mut files = BTreeMap::new();
        files.insert("index.html".to_string(), b"one".to_vec());
        files.insert("a/index.html".to_string(), b"a".to_vec());
        files.insert(
            greenroom_techdocs::METADATA_FILE.to_string(),
            b"{}".to_vec(),
        );
        storage.publish(&key, &files).await.unwrap();
        assert_eq!(
            storage.read(&key, "index.html").await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert!(dir
            .path()
            .join("default/component/svc/a/index.html")
            .is_file());

        files.remove("a/index.html");
        files.insert("index.html".to_string(), b"two".to_vec());
        storage.publish(&key, &files).await.unwrap();
        assert_eq!(
            storage.read(&key, "index.html").await.unwrap().as_deref(),
            Some(&b"two"[..])
        );
        assert_eq!(
            storage.read(&key, "a/index.html").await.unwrap(),
            None,
            "old files are gone"
        );
        assert_eq!(
            storage.read(&key, "../../../../etc/passwd").await.unwrap(),
            None
        );
        assert_eq!(storage.read(&key, "index.html/x").await.unwrap(), None);
        assert_eq!(storage.sites().await.unwrap(), vec![key.clone()]);

        let mut hostile = BTreeMap::new();
        hostile.insert("../escape.html".to_string(), b"x".to_vec());
        assert!(storage.publish(&key, &hostile).await.is_err());
        assert!(!dir.path().join("default/component/escape.html").exists());
    }
}
