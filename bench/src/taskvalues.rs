//! What `scaffolder-bench` submits and looks up: the template's example
//! values with a new name and repository per task, and catalog references
//! turned into `by-name` paths.

use anyhow::{anyhow, Context};
use serde_json::{json, Value};

use crate::appconfig::BENCH_GIT_HOST;
use crate::check::canonical_ref;

/// Owner (first path segment under the Git root) of every pushed repository.
pub const REPO_OWNER: &str = "bench";

/// The example values with `name` set and `repoUrl` pointing at the
/// benchmark's Git host, so each task creates and pushes its own repository
/// and writes its own claim.
pub fn task_values(example: &Value, name: &str) -> anyhow::Result<Value> {
    let mut values = example
        .as_object()
        .cloned()
        .context("the example values are not a mapping")?;
    values.insert("name".into(), json!(name));
    values.insert(
        "repoUrl".into(),
        json!(format!("{BENCH_GIT_HOST}?owner={REPO_OWNER}&repo={name}")),
    );
    Ok(Value::Object(values))
}

/// `kind:namespace/name` (namespace optional) as the path after
/// `/api/catalog/entities/by-name/`.
pub fn by_name_path(reference: &str) -> anyhow::Result<String> {
    let canonical = canonical_ref(reference, None, "default").map_err(|e| anyhow!(e))?;
    // canonical_ref always returns `kind:namespace/name`.
    Ok(canonical.replacen(':', "/", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_task_gets_its_own_name_and_repository() {
        let example = json!({"name": "parcel-eta", "owner": "group:default/team-shipping",
                             "repoUrl": "git.localhost?owner=demo&repo=parcel-eta", "database": true});
        let values = task_values(&example, "bench-svc-3").unwrap();
        assert_eq!(values["name"], "bench-svc-3");
        assert_eq!(values["repoUrl"], "git.bench?owner=bench&repo=bench-svc-3");
        assert_eq!(values["owner"], "group:default/team-shipping");
        assert_eq!(values["database"], true);
        assert!(task_values(&json!(["not", "a", "mapping"]), "x").is_err());
    }

    #[test]
    fn references_become_by_name_paths() {
        assert_eq!(
            by_name_path("template:default/rust-service").unwrap(),
            "template/default/rust-service"
        );
        assert_eq!(
            by_name_path("Group:team-shipping").unwrap(),
            "group/default/team-shipping"
        );
        assert!(by_name_path("team-shipping").is_err(), "a kind is needed");
    }
}
