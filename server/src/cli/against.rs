//! `--against URL`: every entity a descriptor points at (owner, system, domain,
//! APIs, dependencies) must exist in the running catalog, checked with
//! `POST {URL}/api/catalog/entities/by-refs` (a `null` slot = missing), or be
//! defined in the validated files themselves.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use greenroom_model::relations::{
    emit_relations, CONSUMES_API, DEPENDS_ON, OWNED_BY, PART_OF, PROVIDES_API,
};
use greenroom_model::EntityRef;
use serde_json::{json, Value};

use super::validate::{CheckedFile, Problem};

/// Spec fields whose targets must exist, with the relation each one produces.
const REFERENCE_FIELDS: &[(&str, &str)] = &[
    ("owner", OWNED_BY),
    ("system", PART_OF),
    ("domain", PART_OF),
    ("subcomponentOf", PART_OF),
    ("subdomainOf", PART_OF),
    ("providesApis", PROVIDES_API),
    ("consumesApis", CONSUMES_API),
    ("dependsOn", DEPENDS_ON),
];

/// Refs per request, well under what the catalog accepts in one body.
const BATCH_SIZE: usize = 500;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A reference found in a file, with where it was written.
struct Reference {
    file_index: usize,
    line: usize,
    field: String,
    target: String,
}

/// Problems for references that exist neither in `defined` nor in the catalog at `base_url`.
pub fn check_references(
    base_url: &str,
    files: &[CheckedFile],
    defined: &BTreeSet<String>,
) -> Vec<Problem> {
    let references: Vec<Reference> = collect_references(files)
        .into_iter()
        .filter(|r| !defined.contains(&r.target))
        .collect();
    let unique: Vec<String> = references
        .iter()
        .map(|r| r.target.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if unique.is_empty() {
        return Vec::new();
    }
    let existing = match fetch_existing(base_url, &unique) {
        Ok(existing) => existing,
        Err(message) => {
            let file = files.first().map(|f| f.path.clone()).unwrap_or_default();
            return vec![Problem {
                file,
                line: 0,
                field: None,
                message: format!("cannot check references against {base_url}: {message}"),
            }];
        }
    };
    references
        .into_iter()
        .filter(|r| !existing.contains(&r.target))
        .map(|r| Problem {
            file: files[r.file_index].path.clone(),
            line: r.line,
            field: Some(r.field),
            message: format!(
                "entity {} does not exist in the catalog at {base_url} or in the validated files",
                r.target
            ),
        })
        .collect()
}

/// Every reference of the [`REFERENCE_FIELDS`], resolved by the model's own
/// relation rules (default kind per field, the referring entity's namespace).
fn collect_references(files: &[CheckedFile]) -> Vec<Reference> {
    let mut out = Vec::new();
    for (file_index, file) in files.iter().enumerate() {
        for doc in &file.documents {
            let Some(entity) = doc.value.as_object() else {
                continue;
            };
            let Some(spec) = entity.get("spec").and_then(Value::as_object) else {
                continue;
            };
            for (field, relation) in REFERENCE_FIELDS {
                let (items, listed): (Vec<&Value>, bool) = match spec.get(*field) {
                    Some(Value::Array(items)) => (items.iter().collect(), true),
                    Some(Value::Null) | None => continue,
                    Some(other) => (vec![other], false),
                };
                for (i, item) in items.into_iter().enumerate() {
                    // One entity per value, so each target is tied to its own line.
                    let mut single = entity.clone();
                    single.insert("spec".into(), json!({ *field: item }));
                    let Ok(relations) = emit_relations(&single) else {
                        continue;
                    };
                    let Some(source) = EntityRef::of_entity(&single).map(|r| r.canonical()) else {
                        continue;
                    };
                    let path = if listed {
                        format!("spec.{field}[{i}]")
                    } else {
                        format!("spec.{field}")
                    };
                    for rel in relations
                        .into_iter()
                        .filter(|r| r.source_ref == source && r.relation_type == *relation)
                    {
                        out.push(Reference {
                            file_index,
                            line: doc.line_of(&path),
                            field: format!("spec.{field}"),
                            target: rel.target_ref,
                        });
                    }
                }
            }
        }
    }
    out
}

/// The subset of `refs` the catalog knows, asked in batches.
fn fetch_existing(base_url: &str, refs: &[String]) -> Result<BTreeSet<String>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        let endpoint = format!(
            "{}/api/catalog/entities/by-refs",
            base_url.trim_end_matches('/')
        );
        let mut existing = BTreeSet::new();
        for batch in refs.chunks(BATCH_SIZE) {
            let response = client
                .post(&endpoint)
                .json(&json!({ "entityRefs": batch }))
                .send()
                .await
                .map_err(|e| format!("request to {endpoint} failed: {e}"))?;
            let status = response.status();
            if !status.is_success() {
                let body = response.text().await.unwrap_or_default();
                return Err(format!(
                    "{endpoint} answered {status}: {}",
                    body.chars().take(300).collect::<String>()
                ));
            }
            let body: Value = response
                .json()
                .await
                .map_err(|e| format!("{endpoint} answered with invalid JSON: {e}"))?;
            let items = body
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("{endpoint} answered without an items array"))?;
            if items.len() != batch.len() {
                return Err(format!(
                    "{endpoint} answered {} items for {} refs",
                    items.len(),
                    batch.len()
                ));
            }
            let by_slot: BTreeMap<&String, &Value> = batch.iter().zip(items).collect();
            existing.extend(
                by_slot
                    .into_iter()
                    .filter(|(_, item)| !item.is_null())
                    .map(|(r, _)| r.clone()),
            );
        }
        Ok(existing)
    })
}
