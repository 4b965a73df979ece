//! Where an entity's docs come from: `backstage.io/techdocs-ref` is `dir:<path>`
//! (relative to the entity's source or catalog file location) or `url:<folder
//! URL>` on a configured Git host. Local folders are read in place; Git folders
//! are cloned for the build.

use std::path::{Path, PathBuf};

use greenroom_model::{annotations, Entity};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::scm::ScmHosts;

/// The annotation's target, as Backstage's `locationMetadata` reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum DocsLocation {
    /// A folder on the server's disk.
    Dir(PathBuf),
    /// A folder URL on a Git host.
    Url(String),
}

impl DocsLocation {
    pub fn metadata(&self) -> Value {
        match self {
            DocsLocation::Dir(p) => {
                serde_json::json!({"type": "dir", "target": p.display().to_string()})
            }
            DocsLocation::Url(u) => serde_json::json!({"type": "url", "target": u}),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Fetch(String),
}

fn annotation<'a>(entity: &'a Entity, key: &str) -> Option<&'a str> {
    entity
        .get("metadata")?
        .get("annotations")?
        .get(key)?
        .as_str()
}

/// Resolves the annotation of `entity` to a location, without reading it.
pub fn locate(entity: &Entity, scm: &ScmHosts) -> Result<DocsLocation, SourceError> {
    let name = entity
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let reference = annotation(entity, annotations::TECHDOCS_REF).ok_or_else(|| {
        SourceError::Input(format!(
            "No {} annotation provided in entity: {name}",
            annotations::TECHDOCS_REF
        ))
    })?;
    let (kind, target) = reference.split_once(':').ok_or_else(|| {
        SourceError::Input(format!(
            "Unable to parse {} '{reference}': expected dir:<path> or url:<URL>",
            annotations::TECHDOCS_REF
        ))
    })?;
    match kind {
        "url" => {
            check_host(target, scm)?;
            Ok(DocsLocation::Url(folder_url(target)))
        }
        "dir" => {
            let base = annotation(entity, annotations::SOURCE_LOCATION)
                .or_else(|| annotation(entity, annotations::MANAGED_BY_LOCATION))
                .ok_or_else(|| {
                    SourceError::Input(format!(
                        "Entity {name} has no location to resolve {reference} against"
                    ))
                })?;
            let (base_kind, base_target) = base.split_once(':').unwrap_or(("", base));
            match base_kind {
                "file" => local_dir(base_target, target).map(DocsLocation::Dir),
                "url" => {
                    let base_url = url::Url::parse(base_target)
                        .map_err(|_| SourceError::Input(format!("'{base_target}' is not a URL")))?;
                    let joined = base_url
                        .join(&format!("{}/", target.trim_end_matches('/')))
                        .map_err(|e| {
                            SourceError::Input(format!(
                                "Cannot resolve {reference} against {base_target}: {e}"
                            ))
                        })?;
                    if !joined.as_str().starts_with(
                        base_url
                            .join("./")
                            .map(|u| u.to_string())
                            .unwrap_or_default()
                            .as_str(),
                    ) {
                        return Err(SourceError::Input(format!(
                            "{reference} leaves the folder of the entity's location {base_target}"
                        )));
                    }
                    check_host(joined.as_str(), scm)?;
                    Ok(DocsLocation::Url(joined.to_string()))
                }
                other => Err(SourceError::Input(format!(
                    "Cannot resolve {reference} against a '{other}' location"
                ))),
            }
        }
        other => Err(SourceError::Input(format!(
            "Unsupported {} type '{other}': use dir:<path> or url:<URL>",
            annotations::TECHDOCS_REF
        ))),
    }
}

/// A folder URL (`.../tree/main/docs/`) ends in `/`, which is how the Git hosts
/// tell a folder from a file.
fn folder_url(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

/// Docs are only read from configured Git integrations, as Backstage's URL
/// readers refuse hosts that are neither integrations nor allow-listed.
fn check_host(url: &str, scm: &ScmHosts) -> Result<(), SourceError> {
    let parsed =
        url::Url::parse(url).map_err(|_| SourceError::Input(format!("'{url}' is not a URL")))?;
    if scm.checkout_for(&folder_url(url)).is_none() {
        let host = parsed.host_str().unwrap_or_default();
        return Err(SourceError::NotAllowed(format!(
            "Reading docs from '{url}' is not allowed: '{host}' is not a configured GitHub, GitLab or Git integration"
        )));
    }
    Ok(())
}

/// `dir:` against a catalog file on disk: the folder must stay inside the
/// folder of that file (Backstage's rule for file locations).
fn local_dir(catalog_file: &str, relative: &str) -> Result<PathBuf, SourceError> {
    let file = Path::new(catalog_file);
    let base = if file.is_dir() {
        file.to_path_buf()
    } else {
        file.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let base = base.canonicalize().map_err(|e| {
        SourceError::Fetch(format!("The folder of {catalog_file} cannot be read: {e}"))
    })?;
    let dir = base.join(relative).canonicalize().map_err(|_| {
        SourceError::Fetch(format!(
            "The docs folder '{relative}' next to {catalog_file} does not exist"
        ))
    })?;
    if !dir.starts_with(&base) {
        return Err(SourceError::NotAllowed(format!(
            "dir:{relative} leaves the folder of the entity's catalog file {catalog_file}"
        )));
    }
    Ok(dir)
}

/// A folder ready to build and its version: the local folder, or a clone that
/// lives as long as the guard.
pub struct Prepared {
    pub dir: PathBuf,
    pub etag: String,
    _clone: Option<tempfile::TempDir>,
}

/// The version of a Git folder without fetching it: its branch's commit and
/// the folder's path. None for local folders, whose version is their content.
pub async fn remote_version(
    location: &DocsLocation,
    scm: &ScmHosts,
) -> Result<Option<String>, SourceError> {
    let DocsLocation::Url(url) = location else {
        return Ok(None);
    };
    let checkout = scm.checkout_for(url).ok_or_else(|| {
        SourceError::NotAllowed(format!("Reading docs from '{url}' is not allowed"))
    })?;
    let head = crate::scm::git::remote_head(&checkout.remote, &checkout.reference, &checkout.auth)
        .await
        .map_err(|e| SourceError::Fetch(format!("Cannot reach the docs' repository: {e}")))?
        .ok_or_else(|| {
            SourceError::Fetch(format!(
                "The branch '{}' of the docs' repository does not exist",
                checkout.reference
            ))
        })?;
    Ok(Some(format!("git:{head}:{}", checkout.path)))
}

/// Fetches the folder. `version` (from [`remote_version`]) becomes the etag of
/// a Git folder; a local folder's etag is its content hash.
pub async fn prepare(
    location: &DocsLocation,
    scm: &ScmHosts,
    version: Option<String>,
) -> Result<Prepared, SourceError> {
    let (dir, clone) = match location {
        DocsLocation::Dir(dir) => (dir.clone(), None),
        DocsLocation::Url(url) => {
            let (dir, guard) = crate::scm::checkout_dir(scm, url, "docs")
                .await
                .map_err(SourceError::Fetch)?;
            (dir, Some(guard))
        }
    };
    if let Some(etag) = version {
        return Ok(Prepared {
            dir,
            etag,
            _clone: clone,
        });
    }
    let hashed = dir.clone();
    let etag = tokio::task::spawn_blocking(move || content_hash(&hashed))
        .await
        .map_err(|e| SourceError::Fetch(e.to_string()))?
        .map_err(|e| SourceError::Fetch(format!("Cannot read the docs: {e}")))?;
    Ok(Prepared {
        dir,
        etag,
        _clone: clone,
    })
}

/// A hash of what a build reads: `mkdocs.yml` and every file of the docs
/// folder (path and content). The site is rebuilt exactly when this changes;
/// the rest of the folder (`dir:.` is often a whole repository, or the
/// server's own working directory) does not count, nor do hidden entries.
/// Fails fast, without reading anything, when the folder is no mkdocs project.
pub fn content_hash(dir: &Path) -> std::io::Result<String> {
    let config = ["mkdocs.yml", "mkdocs.yaml"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file());
    let docs_dir = config
        .as_ref()
        .and_then(|c| std::fs::read_to_string(c).ok())
        .and_then(|text| greenroom_techdocs::MkdocsConfig::parse(&text).ok())
        .map_or_else(|| "docs".to_string(), |c| c.docs_dir);
    let docs = dir.join(&docs_dir);
    if config.is_none() && !docs.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "{} holds neither a mkdocs.yml nor a docs folder",
                dir.display()
            ),
        ));
    }
    let mut files = Vec::new();
    if let Some(config) = config {
        let name = config
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, config));
    }
    // A docs_dir outside the folder is refused by the build; it is not read here.
    if docs.is_dir()
        && !Path::new(&docs_dir)
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        collect(dir, &docs, &mut files)?;
    }
    files.sort();
    let mut hasher = Sha256::new();
    for (relative, path) in files {
        hasher.update(relative.as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(&path)?);
        hasher.update([0]);
    }
    Ok(hex::encode(&hasher.finalize()[..16]))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            collect(root, &path, out)?;
        } else if kind.is_file() {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            out.push((relative, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(annotations: Value) -> Entity {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
               "metadata": {"name": "svc", "annotations": annotations}, "spec": {}})
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn dir_refs_resolve_inside_the_catalog_folder_only() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("repo/docs-site")).unwrap();
        std::fs::write(root.path().join("repo/catalog-info.yaml"), "x").unwrap();
        let file = root.path().join("repo/catalog-info.yaml");
        let scm = ScmHosts::default();
        let at = |dir: &str| {
            locate(
                &entity(json!({
                    "backstage.io/managed-by-location": format!("file:{}", file.display()),
                    "backstage.io/techdocs-ref": dir,
                })),
                &scm,
            )
        };
        let repo = root.path().join("repo").canonicalize().unwrap();
        assert_eq!(at("dir:.").unwrap(), DocsLocation::Dir(repo.clone()));
        assert_eq!(
            at("dir:docs-site").unwrap(),
            DocsLocation::Dir(repo.join("docs-site"))
        );
        assert!(matches!(at("dir:.."), Err(SourceError::NotAllowed(_))));
        assert!(matches!(at("dir:missing"), Err(SourceError::Fetch(_))));
        assert!(matches!(at("ftp:x"), Err(SourceError::Input(_))));
        assert!(matches!(at("nonsense"), Err(SourceError::Input(_))));
    }

    #[test]
    fn url_refs_need_a_configured_git_host() {
        let scm = ScmHosts::default();
        let err = locate(
            &entity(json!({"backstage.io/techdocs-ref": "url:https://evil.example/o/r/tree/main"})),
            &scm,
        )
        .unwrap_err();
        assert!(
            matches!(err, SourceError::NotAllowed(ref m) if m.contains("evil.example")),
            "{err}"
        );
        let missing = locate(&entity(json!({})), &scm).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "No backstage.io/techdocs-ref annotation provided in entity: svc"
        );
    }

    #[test]
    fn the_hash_follows_the_config_and_the_docs_only() {
        let dir = tempfile::tempdir().unwrap();
        let err = content_hash(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("holds neither a mkdocs.yml nor a docs folder"),
            "{err}"
        );
        std::fs::write(
            dir.path().join("mkdocs.yml"),
            "site_name: S\ndocs_dir: pages\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("pages")).unwrap();
        std::fs::write(dir.path().join("pages/a.md"), "a").unwrap();
        let one = content_hash(dir.path()).unwrap();
        std::fs::write(dir.path().join("pages/a.md"), "b").unwrap();
        let two = content_hash(dir.path()).unwrap();
        assert_ne!(one, two, "a page changed");
        std::fs::write(dir.path().join("server.db"), "unrelated").unwrap();
        std::fs::create_dir(dir.path().join("pages/.git")).unwrap();
        std::fs::write(dir.path().join("pages/.git/HEAD"), "x").unwrap();
        assert_eq!(
            two,
            content_hash(dir.path()).unwrap(),
            "other files do not count"
        );
        std::fs::write(
            dir.path().join("mkdocs.yml"),
            "site_name: T\ndocs_dir: pages\n",
        )
        .unwrap();
        assert_ne!(two, content_hash(dir.path()).unwrap(), "the config counts");
    }
}
