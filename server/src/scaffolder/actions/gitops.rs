//! `gitops:claim`: writes Crossplane claims and the Flux objects that deploy a
//! new service into the platform's GitOps repository, as a commit or on a
//! branch for review. Every claim is validated against the schema of the
//! CompositeResourceDefinition (XRD) in that repository that offers its kind,
//! before anything is pushed. Flux and Crossplane then reconcile the repo;
//! Greenroom never talks to a cloud itself.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::catalog::to_yaml;
use super::publish::{commit_author, commit_message};
use super::{object_schema, Action, ActionContext, ActionError};
use crate::scaffolder::workspace::safe_join;
use crate::scm::git::{self, GitAuth};
use crate::scm::{parse_repo_url, GitHost, HostedRepo, RepoUrl, ReviewRequest};

/// Fields Crossplane adds to every claim's spec itself; XRD schemas do not
/// list them, so they are checked here and left out of the schema check.
const CLAIM_SPEC_FIELDS: &[&str] = &[
    "compositionRef",
    "compositionSelector",
    "compositionRevisionRef",
    "compositionRevisionSelector",
    "compositionUpdatePolicy",
    "compositeDeletePolicy",
    "resourceRef",
    "writeConnectionSecretToRef",
    "publishConnectionDetailsTo",
];

/// A Kubernetes object name (DNS-1123 label; claims and Flux objects use it).
fn check_name(what: &str, name: &str) -> Result<(), ActionError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ActionError::new(format!(
            "{what} '{name}' is not a valid Kubernetes name (lower-case letters, digits and '-', at most 63 characters)"
        )))
    }
}

/// The XRDs of a GitOps repository, keyed by the claim kind they offer.
#[derive(Debug, Clone, Default)]
pub struct XrdSet {
    xrds: Vec<Value>,
}

impl XrdSet {
    /// Reads every `CompositeResourceDefinition` in YAML files under `dir`
    /// (`.git` skipped). Files that are not YAML objects are ignored.
    pub fn load(dir: &Path) -> XrdSet {
        let mut xrds = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() && entry.file_name() != ".git" {
                    stack.push(path);
                } else if kind.is_file()
                    && matches!(
                        path.extension().and_then(|e| e.to_str()),
                        Some("yaml" | "yml")
                    )
                {
                    let Ok(text) = std::fs::read_to_string(&path) else {
                        continue;
                    };
                    let Ok(docs) = greenroom_model::yaml::parse_documents(&text) else {
                        continue;
                    };
                    xrds.extend(docs.into_iter().map(|d| d.value).filter(|v| {
                        v.get("kind").and_then(Value::as_str) == Some("CompositeResourceDefinition")
                            && v.get("apiVersion")
                                .and_then(Value::as_str)
                                .is_some_and(|a| a.starts_with("apiextensions.crossplane.io/"))
                    }));
                }
            }
        }
        XrdSet { xrds }
    }

    pub fn is_empty(&self) -> bool {
        self.xrds.is_empty()
    }

    /// Checks one claim: its shape, the XRD offering its kind and version,
    /// and its spec against that version's `openAPIV3Schema`.
    pub fn validate_claim(&self, claim: &Value) -> Result<String, ActionError> {
        let api_version = claim
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = claim
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = claim
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some((group, version)) = api_version.split_once('/') else {
            return Err(ActionError::new(format!(
                "Claim {kind} '{name}' has apiVersion '{api_version}'; expected <group>/<version>"
            )));
        };
        if kind.is_empty() {
            return Err(ActionError::new(format!("Claim '{name}' has no kind")));
        }
        check_name(&format!("Claim {kind} name"), name)?;
        let xrd = self
            .xrds
            .iter()
            .find(|x| {
                x.pointer("/spec/group").and_then(Value::as_str) == Some(group)
                    && x.pointer("/spec/claimNames/kind").and_then(Value::as_str) == Some(kind)
            })
            .ok_or_else(|| {
                ActionError::new(format!(
                    "No CompositeResourceDefinition in the GitOps repository offers claims of kind {kind} in group {group}"
                ))
            })?;
        let xrd_name = xrd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or(kind);
        let versions = xrd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let served = versions.iter().find(|v| {
            v.get("name").and_then(Value::as_str) == Some(version)
                && v.get("served").and_then(Value::as_bool).unwrap_or(false)
        });
        let Some(served) = served else {
            return Err(ActionError::new(format!(
                "The XRD {xrd_name} does not serve version {version} of {kind}"
            )));
        };
        let spec = claim.get("spec").cloned().unwrap_or(json!({}));
        let Some(spec_map) = spec.as_object() else {
            return Err(ActionError::new(format!(
                "Claim {kind} '{name}': spec must be an object"
            )));
        };
        if let Some(secret) = spec_map.get("writeConnectionSecretToRef") {
            if secret
                .get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(ActionError::new(format!(
                    "Claim {kind} '{name}': spec.writeConnectionSecretToRef.name is required"
                )));
            }
        }
        let user_spec: Map<String, Value> = spec_map
            .iter()
            .filter(|(k, _)| !CLAIM_SPEC_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(schema) = served.pointer("/schema/openAPIV3Schema") {
            let validator = jsonschema::validator_for(schema).map_err(|e| {
                ActionError::new(format!(
                    "The XRD {xrd_name} has an invalid openAPIV3Schema: {e}"
                ))
            })?;
            let instance = json!({ "spec": user_spec });
            let problems: Vec<String> = validator
                .iter_errors(&instance)
                .map(|e| {
                    let at = e.instance_path().to_string();
                    format!("{}: {e}", if at.is_empty() { "/".to_string() } else { at })
                })
                .collect();
            if !problems.is_empty() {
                return Err(ActionError::new(format!(
                    "Claim {kind} '{name}' is not valid against the XRD {xrd_name}: {}",
                    problems.join("; ")
                )));
            }
        }
        Ok(xrd_name.to_string())
    }
}

/// The Flux objects for `flux` input, as YAML documents.
fn flux_objects(flux: &Value, service: &str) -> Result<Vec<Value>, ActionError> {
    let kind = flux
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("Kustomization");
    let name = flux
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(service)
        .to_string();
    check_name("Flux object name", &name)?;
    let namespace = flux
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("flux-system");
    let interval = flux.get("interval").and_then(Value::as_str).unwrap_or("5m");
    let reference = flux.get("ref").and_then(Value::as_str).unwrap_or("main");
    let metadata = json!({"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "greenroom"}});
    // Every object (sources and deployments) carries the same metadata.
    let object = |api_version: &str, kind: &str, spec: Value| {
        json!({
            "apiVersion": api_version,
            "kind": kind,
            "metadata": metadata,
            "spec": spec
        })
    };
    let git_repository = |url: &str| {
        object(
            "source.toolkit.fluxcd.io/v1",
            "GitRepository",
            json!({"interval": interval, "url": url, "ref": {"branch": reference}}),
        )
    };
    let depends_on: Vec<Value> = flux
        .get("dependsOn")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|n| json!({"name": n}))
                .collect()
        })
        .unwrap_or_default();
    let target_ns = flux.get("targetNamespace").and_then(Value::as_str);
    // The objects that deploy (Kustomization, HelmRelease) take the same
    // `targetNamespace` and `dependsOn` inputs, after their own spec.
    let deployment = |api_version: &str, kind: &str, mut spec: Value| {
        if let Some(ns) = target_ns {
            spec["targetNamespace"] = json!(ns);
        }
        if !depends_on.is_empty() {
            spec["dependsOn"] = json!(depends_on);
        }
        object(api_version, kind, spec)
    };
    let mut objects = Vec::new();
    match kind {
        "Kustomization" => {
            let url = flux.get("sourceUrl").and_then(Value::as_str).ok_or_else(|| {
                ActionError::new("flux.sourceUrl is required for a Kustomization (the Git URL of the service's repository)")
            })?;
            objects.push(git_repository(url));
            let spec = json!({
                "interval": interval,
                "path": flux.get("sourcePath").and_then(Value::as_str).unwrap_or("./deploy"),
                "prune": true,
                "wait": true,
                "sourceRef": {"kind": "GitRepository", "name": name},
            });
            objects.push(deployment(
                "kustomize.toolkit.fluxcd.io/v1",
                "Kustomization",
                spec,
            ));
        }
        "HelmRelease" => {
            let chart = flux
                .get("chart")
                .and_then(Value::as_str)
                .ok_or_else(|| ActionError::new("flux.chart is required for a HelmRelease"))?;
            let (source_kind, source) =
                match (
                    flux.get("helmRepositoryUrl").and_then(Value::as_str),
                    flux.get("sourceUrl").and_then(Value::as_str),
                ) {
                    (Some(url), _) => (
                        "HelmRepository",
                        object(
                            "source.toolkit.fluxcd.io/v1",
                            "HelmRepository",
                            json!({"interval": interval, "url": url}),
                        ),
                    ),
                    (None, Some(url)) => ("GitRepository", git_repository(url)),
                    (None, None) => return Err(ActionError::new(
                        "flux.helmRepositoryUrl or flux.sourceUrl is required for a HelmRelease",
                    )),
                };
            objects.push(source);
            let mut chart_spec =
                json!({"chart": chart, "sourceRef": {"kind": source_kind, "name": name}});
            if let Some(v) = flux.get("version").and_then(Value::as_str) {
                chart_spec["version"] = json!(v);
            }
            let mut spec = json!({"interval": interval, "chart": {"spec": chart_spec}});
            if let Some(values) = flux.get("values").filter(|v| v.is_object()) {
                spec["values"] = values.clone();
            }
            objects.push(deployment("helm.toolkit.fluxcd.io/v2", "HelmRelease", spec));
        }
        "Manifests" => {
            let manifests = flux.get("manifests").and_then(Value::as_array).ok_or_else(|| {
                ActionError::new("flux.manifests (a list of Kubernetes objects) is required for kind Manifests")
            })?;
            for (i, m) in manifests.iter().enumerate() {
                let ok = m.get("apiVersion").and_then(Value::as_str).is_some()
                    && m.get("kind").and_then(Value::as_str).is_some()
                    && m.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .is_some();
                if !ok {
                    return Err(ActionError::new(format!(
                        "flux.manifests[{i}] needs apiVersion, kind and metadata.name"
                    )));
                }
                objects.push(m.clone());
            }
        }
        other => {
            return Err(ActionError::new(format!(
                "flux.kind '{other}' is not one of Kustomization, HelmRelease, Manifests"
            )))
        }
    }
    Ok(objects)
}

/// The files the action writes, relative to the GitOps repository root.
fn render_files(ctx: &ActionContext, xrds: &XrdSet) -> Result<Vec<(String, String)>, ActionError> {
    let path = ctx
        .str_input("path")
        .unwrap_or_default()
        .trim_matches('/')
        .to_string();
    if safe_join(Path::new("/repo"), &path).is_none_or(|p| p == Path::new("/repo"))
        || path.split('/').any(|s| s == ".git")
    {
        return Err(ActionError::new(format!(
            "gitops:claim path '{path}' must be a directory inside the GitOps repository"
        )));
    }
    let claims = ctx.input["claims"].as_array().cloned().unwrap_or_default();
    if claims.is_empty() {
        return Err(ActionError::new("gitops:claim needs at least one claim"));
    }
    let mut files = Vec::new();
    for claim in &claims {
        let kind = claim
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = claim
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if xrds.is_empty() {
            // Only the command line runs without a GitOps repository.
            check_name(&format!("Claim {kind} name"), name)?;
            ctx.log(format!("Claim {kind} '{name}' not checked: no XRDs were found (pass the GitOps repository)"));
        } else {
            let xrd = xrds.validate_claim(claim)?;
            ctx.log(format!(
                "Claim {kind} '{name}' is valid against the XRD {xrd}"
            ));
        }
        files.push((
            format!("{path}/claims/{}-{name}.yaml", kind.to_ascii_lowercase()),
            to_yaml(claim)?,
        ));
    }
    // Nothing else creates the namespaces the claims (and the deployment)
    // live in, and Flux refuses a whole Kustomization when one object's
    // namespace is missing. Created if absent, never pruned.
    let mut namespaces: Vec<String> = claims
        .iter()
        .filter_map(|c| c.pointer("/metadata/namespace").and_then(Value::as_str))
        .chain(
            ctx.input
                .pointer("/flux/targetNamespace")
                .and_then(Value::as_str),
        )
        .filter(|ns| !matches!(*ns, "default" | "flux-system" | "kube-system"))
        .map(str::to_string)
        .collect();
    namespaces.sort();
    namespaces.dedup();
    if !namespaces.is_empty() {
        let mut docs = Vec::new();
        for ns in &namespaces {
            check_name("Namespace", ns)?;
            docs.push(to_yaml(&json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": ns,
                    "annotations": {
                        "kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent",
                        "kustomize.toolkit.fluxcd.io/prune": "disabled"
                    }
                }
            }))?);
        }
        files.push((format!("{path}/namespace.yaml"), docs.join("---\n")));
    }
    if let Some(flux) = ctx.input.get("flux").filter(|f| f.is_object()) {
        let service = path.rsplit('/').next().unwrap_or(&path).to_string();
        let docs = flux_objects(flux, &service)?;
        let text = docs
            .iter()
            .map(to_yaml)
            .collect::<Result<Vec<_>, _>>()?
            .join("---\n");
        files.push((format!("{path}/flux.yaml"), text));
    }
    Ok(files)
}

/// The GitOps repository: where to clone and push, and the host to open a
/// pull request on when it is a `RepoUrlPicker` value.
struct GitopsRepo {
    remote: String,
    auth: GitAuth,
    branch: String,
    hosted: Option<(Arc<dyn GitHost>, RepoUrl, HostedRepo)>,
}

/// The step's `repoUrl`, else `scaffolder.gitops`.
async fn gitops_repo(ctx: &ActionContext) -> Result<GitopsRepo, ActionError> {
    let configured = ctx.services.config.scaffolder.gitops.clone();
    let repo = ctx
        .str_input("repoUrl")
        .map(str::to_string)
        .or_else(|| configured.as_ref().map(|g| g.repo_url.clone()))
        .ok_or_else(|| {
            ActionError::new(
                "No GitOps repository: set scaffolder.gitops.repoUrl or the step's repoUrl",
            )
        })?;
    let branch = ctx
        .str_input("branch")
        .map(str::to_string)
        .or_else(|| configured.map(|g| g.branch))
        .unwrap_or_else(|| "main".into());
    if repo.contains("://") {
        let auth = ctx
            .services
            .git_hosts
            .auth_for_remote(&repo)
            .ok_or_else(|| {
                ActionError::new(format!(
                    "The GitOps remote {repo} is not under a configured integrations.git host"
                ))
            })?;
        return Ok(GitopsRepo {
            remote: repo,
            auth,
            branch,
            hosted: None,
        });
    }
    let parsed = parse_repo_url(&repo).map_err(ActionError::new)?;
    let host = ctx.services.scm.get(&parsed, None)?;
    let hosted = host.repo(&parsed).await?;
    Ok(GitopsRepo {
        remote: hosted.push_url.clone(),
        auth: hosted.auth.clone(),
        branch,
        hosted: Some((host, parsed, hosted)),
    })
}

fn write_files(root: &Path, files: &[(String, String)]) -> Result<(), ActionError> {
    for (rel, text) in files {
        let dest = safe_join(root, rel)
            .ok_or_else(|| ActionError::new(format!("'{rel}' leaves the GitOps repository")))?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(dest, text)?;
    }
    Ok(())
}

pub struct GitopsClaim;

#[async_trait]
impl Action for GitopsClaim {
    fn id(&self) -> &'static str {
        "gitops:claim"
    }
    fn description(&self) -> &'static str {
        "Writes Crossplane claims (validated against the XRDs of the GitOps repository) and the Flux objects that deploy the service into the GitOps repository, as a commit or on a branch for review."
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "path": {"type": "string", "description": "Directory in the GitOps repository for this service, e.g. apps/my-service"},
                "claims": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
                    "properties": {
                        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                        "metadata": {"type": "object", "required": ["name"]},
                        "spec": {"type": "object"}
                    }
                }},
                "flux": {"type": "object", "properties": {
                    "kind": {"type": "string", "enum": ["Kustomization", "HelmRelease", "Manifests"]},
                    "name": {"type": "string"}, "namespace": {"type": "string"}, "interval": {"type": "string"},
                    "targetNamespace": {"type": "string"}, "sourceUrl": {"type": "string"}, "ref": {"type": "string"},
                    "sourcePath": {"type": "string"}, "chart": {"type": "string"}, "version": {"type": "string"},
                    "helmRepositoryUrl": {"type": "string"}, "values": {"type": "object"},
                    "manifests": {"type": "array", "items": {"type": "object"}},
                    "dependsOn": {"type": "array", "items": {"type": "string"}}
                }},
                "pullRequest": {"type": "boolean", "default": false, "description": "Push to a new branch for review instead of committing to the main branch; on GitHub and GitLab a pull (merge) request is opened for it"},
                "commitMessage": {"type": "string"},
                "repoUrl": {"type": "string", "description": "The GitOps repository; defaults to scaffolder.gitops.repoUrl"},
                "branch": {"type": "string"},
                "gitAuthorName": {"type": "string"},
                "gitAuthorEmail": {"type": "string"}
            }),
            &["path", "claims"],
        )
    }
    fn output_schema(&self) -> Option<Value> {
        Some(object_schema(
            json!({
                "commitHash": {"type": "string", "examples": ["0000000000000000000000000000000000000000"]},
                "path": {"type": "string"},
                "files": {"type": "array", "items": {"type": "string"}},
                "branch": {"type": "string"},
                "pullRequestUrl": {"type": "string", "description": "The pull (merge) request, on GitHub and GitLab"}
            }),
            &[],
        ))
    }
    fn supports_dry_run(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let path = ctx
            .str_input("path")
            .unwrap_or_default()
            .trim_matches('/')
            .to_string();
        ctx.output("path", json!(path));
        // A local copy of the GitOps repository (the command line's --gitops)
        // stands in for cloning it.
        if let Some(local) = ctx.services.gitops_dir.clone() {
            let files = render_files(ctx, &XrdSet::load(&local))?;
            return finish_dry_run(ctx, files);
        }
        let gitops = gitops_repo(ctx).await?;
        let (remote, auth, branch) = (
            gitops.remote.clone(),
            gitops.auth.clone(),
            gitops.branch.clone(),
        );
        let checkout = tempfile::tempdir()?;
        git::clone_branch(checkout.path(), &remote, &branch, &auth)
            .await
            .map_err(|e| {
                ActionError::new(format!("Cannot clone the GitOps repository {remote}: {e}"))
            })?;
        let xrds = XrdSet::load(checkout.path());
        if xrds.is_empty() {
            return Err(ActionError::new(format!(
                "The GitOps repository {remote} has no CompositeResourceDefinitions to validate claims against"
            )));
        }
        let files = render_files(ctx, &xrds)?;
        if ctx.dry_run {
            return finish_dry_run(ctx, files);
        }
        write_files(checkout.path(), &files)?;
        let pull_request = ctx.bool_input("pullRequest").unwrap_or(false);
        let target_branch = if pull_request {
            let slug: String = path.replace('/', "-");
            let short: String = ctx.task_id.chars().take(8).collect();
            format!("greenroom/{slug}-{short}")
        } else {
            branch.clone()
        };
        let message = commit_message(ctx, "commitMessage");
        let message = if message == "initial commit" {
            format!("Add {path} (Greenroom task {})", ctx.task_id)
        } else {
            message
        };
        let pushed = git::commit_and_push(
            checkout.path(),
            &target_branch,
            &message,
            &commit_author(ctx),
            &auth,
        )
        .await
        .map_err(|e| {
            ActionError::new(format!(
                "Failed to push to the GitOps repository {remote}: {e}"
            ))
        })?;
        let commit = match pushed {
            Some(c) => {
                ctx.log(format!(
                    "Committed {c} to {remote} ({target_branch}): {} files under {path}",
                    files.len()
                ));
                c
            }
            None => {
                ctx.log(format!("The GitOps repository already holds these files under {path}; nothing to commit"));
                git::git(
                    checkout.path(),
                    &["rev-parse", "HEAD"],
                    &GitAuth::None,
                    None,
                )
                .await?
                .trim()
                .to_string()
            }
        };
        if pull_request {
            let review = match &gitops.hosted {
                Some((host, repo, hosted)) => {
                    host.open_review(
                        repo,
                        hosted,
                        &ReviewRequest {
                            head: target_branch.clone(),
                            base: branch.clone(),
                            title: message.lines().next().unwrap_or_default().to_string(),
                            body: format!(
                                "Infrastructure for {path}, written by Greenroom task {}:\n\n{}",
                                ctx.task_id,
                                files
                                    .iter()
                                    .map(|(p, _)| format!("- `{p}`"))
                                    .collect::<Vec<_>>()
                                    .join("\n")
                            ),
                            draft: false,
                            reviewers: Vec::new(),
                            team_reviewers: Vec::new(),
                        },
                    )
                    .await?
                }
                None => None,
            };
            match review {
                Some(r) => {
                    ctx.log(format!("Opened {} for review; merging it lets Flux apply it", r.url));
                    ctx.output("pullRequestUrl", json!(r.url));
                }
                None => ctx.log(format!(
                    "Pushed branch {target_branch} for review; merge it into {branch} to let Flux apply it"
                )),
            }
        }
        ctx.output("commitHash", json!(commit));
        ctx.output("branch", json!(target_branch));
        ctx.output(
            "files",
            json!(files.iter().map(|(p, _)| p).collect::<Vec<_>>()),
        );
        Ok(())
    }
}

/// A dry run shows the GitOps files under `gitops/` instead of pushing them.
fn finish_dry_run(
    ctx: &mut ActionContext,
    files: Vec<(String, String)>,
) -> Result<(), ActionError> {
    ctx.log(format!(
        "Dry run: would commit {} files to the GitOps repository",
        files.len()
    ));
    ctx.output(
        "commitHash",
        json!("0000000000000000000000000000000000000000"),
    );
    ctx.output(
        "files",
        json!(files.iter().map(|(p, _)| p).collect::<Vec<_>>()),
    );
    for (rel, text) in files {
        ctx.extra_files
            .push((format!("gitops/{rel}"), text.into_bytes()));
    }
    Ok(())
}
