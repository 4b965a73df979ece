//! Location refs and targets: resolving relative targets against the location
//! they were written in, the URL-derived annotations (view, edit, source), and
//! the generated `Location` entity of a registered or configured location.

use std::path::{Component, Path, PathBuf};

use greenroom_model::{annotations, Entity};
use greenroom_store::LocationSpec;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use crate::catalog::readers::ScmKind;

/// `<type>:<target>`, the location ref string used in annotations and as location key.
pub fn location_ref(spec: &LocationSpec) -> String {
    greenroom_model::location::stringify_location_ref(&spec.kind, &spec.target)
}

/// Parses a location ref `<type>:<target>` (split at the first colon), with
/// Backstage's `parseLocationRef` messages.
pub fn parse_location_ref(reference: &str) -> Result<LocationSpec, String> {
    let (kind, target) = greenroom_model::location::parse_location_ref(reference)?;
    Ok(LocationSpec { kind, target })
}

/// A Location entity named `generated-<sha1("<type>:<target>")>`, as Backstage's
/// `locationSpecToLocationEntity` builds it for a root location: both location
/// annotations point at the location itself.
pub fn generated_location_entity(spec: &LocationSpec) -> Entity {
    let reference = location_ref(spec);
    let name = format!(
        "generated-{}",
        hex::encode(Sha1::digest(reference.as_bytes()))
    );
    let value = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": name,
            "namespace": "default",
            "annotations": {
                annotations::MANAGED_BY_LOCATION: reference,
                annotations::MANAGED_BY_ORIGIN_LOCATION: reference,
            },
        },
        "spec": { "type": spec.kind, "target": spec.target },
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! object literal"),
    }
}

/// Lexically normalises `.` and `..` (the file need not exist yet).
pub(crate) fn normalize_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Resolves a file target against the file the referring entity was read from.
pub(crate) fn resolve_file_target(base_file: &str, target: &str) -> String {
    let target_path = Path::new(target);
    if target_path.is_absolute() {
        return normalize_path(target_path).to_string_lossy().into_owned();
    }
    let dir = Path::new(base_file)
        .parent()
        .unwrap_or_else(|| Path::new("/"));
    normalize_path(&dir.join(target_path))
        .to_string_lossy()
        .into_owned()
}

/// Resolves a URL target against the URL of the referring file. A target
/// starting with `/` on a GitHub or GitLab blob URL is relative to the
/// repository root at the same ref, as Backstage's SCM integrations resolve it.
pub(crate) fn resolve_url_target(
    base_url: &str,
    target: &str,
    scm: Option<ScmKind>,
) -> Result<String, String> {
    if let Ok(absolute) = url::Url::parse(target) {
        return Ok(absolute.to_string());
    }
    let base =
        url::Url::parse(base_url).map_err(|e| format!("Invalid base URL '{base_url}', {e}"))?;
    if target.starts_with('/') && !target.starts_with("//") {
        if let Some(root) = repo_root(&base, scm) {
            return Ok(format!("{root}{}", target.trim_start_matches('/')));
        }
    }
    base.join(target)
        .map(|u| u.to_string())
        .map_err(|e| format!("Unable to resolve '{target}' against '{base_url}', {e}"))
}

/// `https://host/owner/repo/blob/<ref>/` (GitHub) or `https://host/group/project/-/blob/<ref>/` (GitLab).
fn repo_root(base: &url::Url, scm: Option<ScmKind>) -> Option<String> {
    let path = base.path();
    let marker = match scm? {
        ScmKind::Github => {
            let segments: Vec<&str> = path.trim_start_matches('/').splitn(5, '/').collect();
            if segments.len() < 4 || segments[2] != "blob" {
                return None;
            }
            format!("/{}/{}/blob/{}/", segments[0], segments[1], segments[3])
        }
        ScmKind::Gitlab => {
            let (project, after) = path.split_once("/-/blob/")?;
            let (git_ref, _) = after.split_once('/')?;
            format!("{project}/-/blob/{git_ref}/")
        }
    };
    let mut root = base.clone();
    root.set_path(&marker);
    root.set_query(None);
    root.set_fragment(None);
    Some(root.to_string())
}

/// A 40-hex-digit run (a full commit SHA) anywhere in the URL: such URLs are
/// pinned, so an edit link would edit something else.
fn contains_commit_sha(url: &str) -> bool {
    let mut run = 0;
    for c in url.chars() {
        if c.is_ascii_hexdigit() {
            run += 1;
            if run >= 40 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// The SCM edit URL for a blob URL (GitHub `blob` → `edit`, GitLab `-/blob` → `-/edit`).
pub(crate) fn edit_url(target: &str, scm: Option<ScmKind>) -> Option<String> {
    if contains_commit_sha(target) {
        return None;
    }
    let url = url::Url::parse(target).ok()?;
    let path = url.path();
    let new_path = match scm? {
        ScmKind::Github => {
            let segments: Vec<&str> = path.trim_start_matches('/').splitn(4, '/').collect();
            if segments.len() < 4 || segments[2] != "blob" {
                return None;
            }
            format!("/{}/{}/edit/{}", segments[0], segments[1], segments[3])
        }
        ScmKind::Gitlab => {
            let (project, after) = path.split_once("/-/blob/")?;
            format!("{project}/-/edit/{after}")
        }
    };
    let mut edited = url.clone();
    edited.set_path(&new_path);
    Some(edited.to_string())
}

/// The directory of a file URL (`./` resolved against it). On GitHub and GitLab
/// the directory is shown as a `tree` URL.
/// Like Backstage, only locations read through an SCM integration get one.
pub(crate) fn source_dir_url(target: &str, scm: Option<ScmKind>) -> Option<String> {
    let scm = scm?;
    let url = url::Url::parse(target).ok()?;
    let mut dir = url.join("./").ok()?;
    dir.set_query(url.query());
    let path = dir.path().to_string();
    let tree_path = match scm {
        ScmKind::Github => {
            let segments: Vec<&str> = path.trim_start_matches('/').splitn(4, '/').collect();
            if segments.len() >= 3 && segments[2] == "blob" {
                let rest = segments.get(3).copied().unwrap_or("");
                Some(format!("/{}/{}/tree/{rest}", segments[0], segments[1]))
            } else {
                None
            }
        }
        ScmKind::Gitlab => path
            .split_once("/-/blob/")
            .map(|(p, rest)| format!("{p}/-/tree/{rest}")),
    };
    if let Some(tree_path) = tree_path {
        dir.set_path(&tree_path);
    }
    Some(dir.to_string())
}

/// The annotation defaults a processed entity gets from its own location:
/// both location refs always; view-url, edit-url and source-location for `url`
/// locations. Values the entity already has win.
pub(crate) fn apply_location_defaults(
    entity: &mut Entity,
    location: &LocationSpec,
    origin: &LocationSpec,
    scm: Option<ScmKind>,
) {
    let mut defaults: Vec<(&str, String)> = vec![
        (annotations::MANAGED_BY_LOCATION, location_ref(location)),
        (
            annotations::MANAGED_BY_ORIGIN_LOCATION,
            location_ref(origin),
        ),
    ];
    if location.kind == "url" {
        defaults.push((annotations::VIEW_URL, location.target.clone()));
        if let Some(edit) = edit_url(&location.target, scm) {
            defaults.push((annotations::EDIT_URL, edit));
        }
        if let Some(dir) = source_dir_url(&location.target, scm) {
            defaults.push((annotations::SOURCE_LOCATION, format!("url:{dir}")));
        }
    }
    let metadata = entity
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(annotations) = annotations.as_object_mut() else {
        return;
    };
    for (key, value) in defaults {
        annotations.entry(key).or_insert(Value::String(value));
    }
}

/// Sets an emitted child's location annotations: the location it was read
/// from and the origin of its parent (these always override what the file says).
pub(crate) fn annotate_child(entity: &mut Entity, read_from: &str, origin: &str) {
    let metadata = entity
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Some(metadata) = metadata.as_object_mut() {
        let annotations = metadata
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if !annotations.is_object() {
            *annotations = Value::Object(Default::default());
        }
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert(
                annotations::MANAGED_BY_ORIGIN_LOCATION.into(),
                Value::String(origin.to_string()),
            );
            annotations.insert(
                annotations::MANAGED_BY_LOCATION.into(),
                Value::String(read_from.to_string()),
            );
        }
    }
}

/// A string annotation of an entity.
pub(crate) fn annotation<'a>(entity: &'a Entity, key: &str) -> Option<&'a str> {
    entity
        .get("metadata")?
        .get("annotations")?
        .get(key)?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_entity_matches_backstage_shape() {
        let spec = LocationSpec {
            kind: "url".into(),
            target: "https://example.com/catalog-info.yaml".into(),
        };
        let entity = generated_location_entity(&spec);
        let expected_name = format!(
            "generated-{}",
            hex::encode(Sha1::digest(b"url:https://example.com/catalog-info.yaml"))
        );
        assert_eq!(
            Value::Object(entity),
            json!({
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Location",
                "metadata": {
                    "name": expected_name,
                    "namespace": "default",
                    "annotations": {
                        "backstage.io/managed-by-location": "url:https://example.com/catalog-info.yaml",
                        "backstage.io/managed-by-origin-location": "url:https://example.com/catalog-info.yaml"
                    }
                },
                "spec": {"type": "url", "target": "https://example.com/catalog-info.yaml"}
            })
        );
        assert_eq!(expected_name.len(), "generated-".len() + 40);
    }

    #[test]
    fn parses_location_refs() {
        let spec = parse_location_ref("url:https://example.com/a.yaml").unwrap();
        assert_eq!(
            (spec.kind.as_str(), spec.target.as_str()),
            ("url", "https://example.com/a.yaml")
        );
        assert_eq!(
            parse_location_ref("nocolon").unwrap_err(),
            "Unable to parse location ref 'nocolon', expected '<type>:<target>', e.g. 'url:https://host/path'"
        );
        assert!(parse_location_ref("url:").is_err());
        assert_eq!(
            parse_location_ref("https://example.com/a.yaml").unwrap_err(),
            "Invalid location ref 'https://example.com/a.yaml', please prefix it with 'url:', e.g. 'url:https://example.com/a.yaml'"
        );
    }

    #[test]
    fn resolves_file_targets() {
        assert_eq!(
            resolve_file_target("/repo/catalog/all.yaml", "./team/a.yaml"),
            "/repo/catalog/team/a.yaml"
        );
        assert_eq!(
            resolve_file_target("/repo/catalog/all.yaml", "../b.yaml"),
            "/repo/b.yaml"
        );
        assert_eq!(
            resolve_file_target("/repo/catalog/all.yaml", "c.yaml"),
            "/repo/catalog/c.yaml"
        );
        assert_eq!(
            resolve_file_target("/repo/catalog/all.yaml", "/abs/./d.yaml"),
            "/abs/d.yaml"
        );
        assert_eq!(
            resolve_file_target("/repo/catalog/all.yaml", "./*/*.yaml"),
            "/repo/catalog/*/*.yaml"
        );
    }

    #[test]
    fn resolves_url_targets() {
        let base = "https://github.com/acme/svc/blob/main/catalog/all.yaml";
        assert_eq!(
            resolve_url_target(base, "./a.yaml", Some(ScmKind::Github)).unwrap(),
            "https://github.com/acme/svc/blob/main/catalog/a.yaml"
        );
        assert_eq!(
            resolve_url_target(base, "../b.yaml", Some(ScmKind::Github)).unwrap(),
            "https://github.com/acme/svc/blob/main/b.yaml"
        );
        assert_eq!(
            resolve_url_target(base, "/root.yaml", Some(ScmKind::Github)).unwrap(),
            "https://github.com/acme/svc/blob/main/root.yaml"
        );
        let gitlab = "https://gitlab.com/g/sub/p/-/blob/main/dir/x.yaml";
        assert_eq!(
            resolve_url_target(gitlab, "/y.yaml", Some(ScmKind::Gitlab)).unwrap(),
            "https://gitlab.com/g/sub/p/-/blob/main/y.yaml"
        );
        assert_eq!(
            resolve_url_target("https://example.com/c/all.yaml", "/y.yaml", None).unwrap(),
            "https://example.com/y.yaml"
        );
        assert_eq!(
            resolve_url_target(base, "https://other.example/x.yaml", None).unwrap(),
            "https://other.example/x.yaml"
        );
    }

    #[test]
    fn url_annotations_follow_the_scm() {
        let gh = "https://github.com/acme/svc/blob/main/dir/catalog-info.yaml";
        assert_eq!(
            edit_url(gh, Some(ScmKind::Github)).unwrap(),
            "https://github.com/acme/svc/edit/main/dir/catalog-info.yaml"
        );
        assert_eq!(
            source_dir_url(gh, Some(ScmKind::Github)).unwrap(),
            "https://github.com/acme/svc/tree/main/dir/"
        );
        let gl = "https://gitlab.com/g/p/-/blob/main/catalog-info.yaml";
        assert_eq!(
            edit_url(gl, Some(ScmKind::Gitlab)).unwrap(),
            "https://gitlab.com/g/p/-/edit/main/catalog-info.yaml"
        );
        assert_eq!(
            source_dir_url(gl, Some(ScmKind::Gitlab)).unwrap(),
            "https://gitlab.com/g/p/-/tree/main/"
        );
        let pinned = "https://github.com/acme/svc/blob/0123456789abcdef0123456789abcdef01234567/catalog-info.yaml";
        assert_eq!(edit_url(pinned, Some(ScmKind::Github)), None);
        assert_eq!(edit_url("https://example.com/c/x.yaml", None), None);
        assert_eq!(source_dir_url("https://example.com/c/x.yaml", None), None);
    }

    #[test]
    fn location_defaults_do_not_override_entity_values() {
        let mut entity: Entity = serde_json::from_value(json!({
            "kind": "Component",
            "metadata": {"name": "a", "annotations": {"backstage.io/view-url": "https://custom.example/view"}}
        }))
        .unwrap();
        let location = LocationSpec {
            kind: "url".into(),
            target: "https://github.com/acme/svc/blob/main/catalog-info.yaml".into(),
        };
        let origin = LocationSpec {
            kind: "url".into(),
            target: "https://github.com/acme/root/blob/main/all.yaml".into(),
        };
        apply_location_defaults(&mut entity, &location, &origin, Some(ScmKind::Github));
        let annotations = entity["metadata"]["annotations"].as_object().unwrap();
        assert_eq!(
            annotations["backstage.io/view-url"],
            "https://custom.example/view"
        );
        assert_eq!(
            annotations["backstage.io/managed-by-location"],
            "url:https://github.com/acme/svc/blob/main/catalog-info.yaml"
        );
        assert_eq!(
            annotations["backstage.io/managed-by-origin-location"],
            "url:https://github.com/acme/root/blob/main/all.yaml"
        );
        assert_eq!(
            annotations["backstage.io/edit-url"],
            "https://github.com/acme/svc/edit/main/catalog-info.yaml"
        );
        assert_eq!(
            annotations["backstage.io/source-location"],
            "url:https://github.com/acme/svc/tree/main/"
        );

        let mut file_entity: Entity =
            serde_json::from_value(json!({"kind": "Component", "metadata": {"name": "b"}}))
                .unwrap();
        let file = LocationSpec {
            kind: "file".into(),
            target: "/repo/catalog-info.yaml".into(),
        };
        apply_location_defaults(&mut file_entity, &file, &file, None);
        let annotations = file_entity["metadata"]["annotations"].as_object().unwrap();
        assert_eq!(annotations.len(), 2);
    }

    #[test]
    fn child_annotations_override_the_file() {
        let mut entity: Entity = serde_json::from_value(json!({
            "kind": "Component",
            "metadata": {"name": "a", "annotations": {"backstage.io/managed-by-location": "file:/elsewhere.yaml", "x/y": "z"}}
        }))
        .unwrap();
        annotate_child(&mut entity, "file:/repo/a.yaml", "file:/repo/root.yaml");
        assert_eq!(
            annotation(&entity, "backstage.io/managed-by-location"),
            Some("file:/repo/a.yaml")
        );
        assert_eq!(
            annotation(&entity, "backstage.io/managed-by-origin-location"),
            Some("file:/repo/root.yaml")
        );
        assert_eq!(annotation(&entity, "x/y"), Some("z"));
    }
}
