//! POST /analyze-location: find the catalog file of a repository (or read the
//! file URL given) and report its entities; when there is none, suggest a
//! Component the way Backstage's RepoLocationAnalyzer does.

use greenroom_store::{LocationSpec, ProcessingError};
use serde_json::{json, Value};

use super::pipeline::error;
use super::Pipeline;
use crate::catalog::readers::{ReadError, ScmKind};

const DEFAULT_CATALOG_FILENAME: &str = "catalog-info.yaml";

fn is_yaml_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// `(owner, name)` of a repository URL: the project path before `-/` (GitLab)
/// or `blob/`/`tree/` (GitHub), else the first two path segments.
fn repo_owner_and_name(url: &url::Url, scm: Option<ScmKind>) -> Option<(String, String)> {
    let path = url.path().trim_matches('/');
    let repo_path = match scm {
        Some(ScmKind::Gitlab) => path.split("/-/").next().unwrap_or(path).to_string(),
        _ => path.splitn(3, '/').take(2).collect::<Vec<_>>().join("/"),
    };
    let repo_path = repo_path.trim_end_matches(".git");
    let (owner, name) = repo_path.rsplit_once('/')?;
    (!owner.is_empty() && !name.is_empty()).then(|| (owner.to_string(), name.to_string()))
}

/// The URL of the catalog file in a repository's default branch.
fn catalog_file_url(url: &url::Url, scm: Option<ScmKind>, owner: &str, name: &str, filename: &str) -> Option<String> {
    let filename = filename.trim_start_matches('/');
    let mut root = url.clone();
    root.set_query(None);
    root.set_fragment(None);
    match scm {
        Some(ScmKind::Github) => root.set_path(&format!("/{owner}/{name}/blob/HEAD/{filename}")),
        Some(ScmKind::Gitlab) => root.set_path(&format!("/{owner}/{name}/-/blob/HEAD/{filename}")),
        None => {
            let base = if url.path().ends_with('/') { url.clone() } else { url::Url::parse(&format!("{url}/")).ok()? };
            return base.join(filename).ok().map(|u| u.to_string());
        }
    }
    Some(root.to_string())
}

impl Pipeline {
    /// Returns `{existingEntityFiles, generateEntities}`; `isRegistered` is
    /// always false here (the API fills it from the store).
    pub async fn analyze_location(
        &self,
        spec: &LocationSpec,
        catalog_filename: Option<String>,
    ) -> Result<Value, ProcessingError> {
        let url = url::Url::parse(&spec.target)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| error("InputError", "The given location.target is not a URL"))?;
        let scm = self.sources.scm_kind(&spec.target);
        let owner_and_name = repo_owner_and_name(&url, scm);

        let file_url = if is_yaml_file(url.path()) {
            Some(spec.target.clone())
        } else {
            let filename = catalog_filename.unwrap_or_else(|| DEFAULT_CATALOG_FILENAME.to_string());
            owner_and_name.as_ref().and_then(|(owner, name)| catalog_file_url(&url, scm, owner, name, &filename))
        };

        if let Some(file_url) = file_url {
            let location = LocationSpec { kind: "url".into(), target: file_url.clone() };
            match self.sources.read_location(&location).await {
                Ok(sources) => {
                    let mut existing = Vec::new();
                    for source in sources {
                        let documents = greenroom_model::yaml::parse_documents(&source.text)
                            .map_err(|e| error("InputError", format!("YAML error at url:{file_url}, {e}")))?;
                        for document in documents {
                            if let Value::Object(entity) = document.value {
                                existing.push(json!({
                                    "location": {"type": "url", "target": file_url},
                                    "isRegistered": false,
                                    "entity": entity,
                                }));
                            }
                        }
                    }
                    if !existing.is_empty() {
                        return Ok(json!({"existingEntityFiles": existing, "generateEntities": []}));
                    }
                }
                Err(ReadError::NotFound(_)) => {}
                Err(e) => return Err(error(e.name(), e.to_string())),
            }
        }

        let Some((owner, name)) = owner_and_name else {
            return Err(error("InputError", format!("Unable to find a repository in {}", spec.target)));
        };
        let mut entity = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name},
            "spec": {"type": "other", "lifecycle": "unknown"},
        });
        let prefix = match scm {
            Some(ScmKind::Github) => Some("github.com"),
            Some(ScmKind::Gitlab) => Some("gitlab.com"),
            None => None,
        };
        if let Some(prefix) = prefix {
            entity["metadata"]["annotations"] = json!({ format!("{prefix}/project-slug"): format!("{owner}/{name}") });
        }
        Ok(json!({"existingEntityFiles": [], "generateEntities": [{"entity": entity, "fields": []}]}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repository_names_and_catalog_files() {
        let gh = url::Url::parse("https://github.com/acme/svc").unwrap();
        let (owner, name) = repo_owner_and_name(&gh, Some(ScmKind::Github)).unwrap();
        assert_eq!((owner.as_str(), name.as_str()), ("acme", "svc"));
        assert_eq!(
            catalog_file_url(&gh, Some(ScmKind::Github), &owner, &name, "catalog-info.yaml").unwrap(),
            "https://github.com/acme/svc/blob/HEAD/catalog-info.yaml"
        );
        let gl = url::Url::parse("https://gitlab.com/group/sub/project.git").unwrap();
        let (owner, name) = repo_owner_and_name(&gl, Some(ScmKind::Gitlab)).unwrap();
        assert_eq!((owner.as_str(), name.as_str()), ("group/sub", "project"));
        assert_eq!(
            catalog_file_url(&gl, Some(ScmKind::Gitlab), &owner, &name, "/backstage.yaml").unwrap(),
            "https://gitlab.com/group/sub/project/-/blob/HEAD/backstage.yaml"
        );
        let plain = url::Url::parse("https://example.com/acme/svc").unwrap();
        assert_eq!(
            catalog_file_url(&plain, None, "acme", "svc", "catalog-info.yaml").unwrap(),
            "https://example.com/acme/svc/catalog-info.yaml"
        );
        assert!(repo_owner_and_name(&url::Url::parse("https://example.com/").unwrap(), None).is_none());
    }
}
