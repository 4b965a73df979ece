//! `publish:git`: pushes the workspace as a new repository to any Git remote
//! of a configured `integrations.git` host (a bare repository, a self-hosted
//! server).

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{object_schema, Action, ActionContext, ActionError};
use crate::scm::git::{self, Author};
use crate::scm::{parse_repo_url, repo_contents_url};

/// The commit author: the step's inputs, then `scaffolder.defaultAuthor`.
pub(crate) fn commit_author(ctx: &ActionContext) -> Author {
    let configured = ctx.services.config.scaffolder.default_author.clone();
    let fallback = Author::default();
    Author {
        name: ctx
            .str_input("gitAuthorName")
            .map(str::to_string)
            .or_else(|| configured.as_ref().and_then(|a| a.name.clone()))
            .unwrap_or(fallback.name),
        email: ctx
            .str_input("gitAuthorEmail")
            .map(str::to_string)
            .or_else(|| configured.as_ref().and_then(|a| a.email.clone()))
            .unwrap_or(fallback.email),
    }
}

pub(crate) fn commit_message(ctx: &ActionContext, key: &str) -> String {
    ctx.str_input(key)
        .map(str::to_string)
        .or_else(|| {
            ctx.services
                .config
                .scaffolder
                .default_commit_message
                .clone()
        })
        .unwrap_or_else(|| "initial commit".to_string())
}

pub struct PublishGit;

#[async_trait]
impl Action for PublishGit {
    fn id(&self) -> &'static str {
        "publish:git"
    }
    fn description(&self) -> &'static str {
        "Initializes a git repository with the contents of the workspace and pushes it to a remote of a configured Git host (integrations.git)."
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "repoUrl": {"type": "string", "title": "Repository Location", "description": "host?owner=<owner>&repo=<repo>, the host being one of integrations.git"},
                "description": {"type": "string"},
                "defaultBranch": {"type": "string", "default": "main", "pattern": "^[A-Za-z0-9._/-]+$"},
                "gitCommitMessage": {"type": "string"},
                "gitAuthorName": {"type": "string"},
                "gitAuthorEmail": {"type": "string"},
                "sourcePath": {"type": "string", "description": "Path within the workspace that will be used as the repository root"}
            }),
            &["repoUrl"],
        )
    }
    fn output_schema(&self) -> Option<Value> {
        Some(object_schema(
            json!({
                "remoteUrl": {"type": "string", "examples": ["https://git.example.com/acme/service.git"]},
                "repoContentsUrl": {"type": "string", "examples": ["git+https://git.example.com/acme/service.git/-/blob/main"]},
                "commitHash": {"type": "string", "examples": ["0000000000000000000000000000000000000000"]}
            }),
            &[],
        ))
    }
    fn supports_dry_run(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let repo_url = parse_repo_url(ctx.str_input("repoUrl").unwrap_or_default())
            .map_err(ActionError::new)?;
        let remote = match ctx.services.git_hosts.remote_for(&repo_url) {
            Ok(remote) => remote,
            // A dry run outside the server (a template repository's CI) has
            // no integrations: it shows where the repository would go.
            Err(e) if ctx.dry_run => {
                ctx.log(format!(
                    "{e}; the dry run assumes https://{}",
                    repo_url.host
                ));
                crate::scm::GitRemote {
                    url: format!(
                        "https://{}/{}/{}.git",
                        repo_url.host,
                        repo_url.owner.as_deref().unwrap_or("owner"),
                        repo_url.repo
                    ),
                    auth: Default::default(),
                    create_at: None,
                }
            }
            Err(e) => return Err(ActionError::new(e)),
        };
        let branch = ctx.str_input("defaultBranch").unwrap_or("main").to_string();
        let source = ctx
            .workspace
            .resolve(ctx.str_input("sourcePath").unwrap_or("."))?;
        let contents = repo_contents_url(&remote.url, &branch);
        ctx.output("remoteUrl", json!(remote.url));
        ctx.output("repoContentsUrl", json!(contents));
        if ctx.dry_run {
            ctx.log(format!(
                "Dry run: would push the workspace to {} ({branch})",
                remote.url
            ));
            ctx.output(
                "commitHash",
                json!("0000000000000000000000000000000000000000"),
            );
            return Ok(());
        }
        if let Some(path) = &remote.create_at {
            if !path.exists() {
                std::fs::create_dir_all(path)?;
                git::git(path, &["init", "-q", "--bare"], &git::GitAuth::None, None).await?;
                ctx.log(format!("Created repository {}", remote.url));
            }
        }
        let published = git::publish_tree(
            &source,
            &remote.url,
            &branch,
            &commit_message(ctx, "gitCommitMessage"),
            &commit_author(ctx),
            &remote.auth,
        )
        .await
        .map_err(|e| ActionError::new(format!("Failed to push to {}: {e}", remote.url)))?;
        if published.already_there {
            ctx.log(format!(
                "{} already holds these files at {branch} ({}); nothing to push",
                remote.url, published.commit
            ));
        } else {
            ctx.log(format!(
                "Pushed {} to {} ({branch})",
                published.commit, remote.url
            ));
        }
        ctx.output("commitHash", json!(published.commit));
        Ok(())
    }
}
