//! `publish:github:pull-request` and `publish:gitlab:merge-request`: copy
//! files from the workspace into an existing repository on a new branch and
//! open a pull (merge) request for it.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::{json, Value};

use super::publish::{commit_author, host_for, repo_and_branch, string_list};
use super::{object_schema, Action, ActionContext, ActionError};
use crate::scaffolder::workspace::safe_join;
use crate::scm::git;
use crate::scm::{Provider, ReviewRequest};

pub struct OpenPullRequest {
    id: &'static str,
    provider: Provider,
}

impl OpenPullRequest {
    pub fn github() -> Self {
        OpenPullRequest {
            id: "publish:github:pull-request",
            provider: Provider::Github,
        }
    }

    pub fn gitlab() -> Self {
        OpenPullRequest {
            id: "publish:gitlab:merge-request",
            provider: Provider::Gitlab,
        }
    }
}

/// The workspace files under `source`, relative to it.
fn files_under(ctx: &ActionContext, source: &Path) -> Result<Vec<PathBuf>, ActionError> {
    let prefix = source
        .strip_prefix(ctx.workspace.root())
        .unwrap_or(Path::new(""))
        .to_path_buf();
    Ok(ctx
        .workspace
        .files()?
        .into_iter()
        .filter_map(|f| f.strip_prefix(&prefix).ok().map(Path::to_path_buf))
        .collect())
}

#[async_trait]
impl Action for OpenPullRequest {
    fn id(&self) -> &'static str {
        self.id
    }
    fn description(&self) -> &'static str {
        match self.provider {
            Provider::Gitlab => {
                "Creates a merge request in a GitLab project with the files of the workspace."
            }
            _ => "Creates a pull request in a GitHub repository with the files of the workspace.",
        }
    }
    fn input_schema(&self) -> Value {
        object_schema(
            json!({
                "repoUrl": {"type": "string", "description": "host?owner=<owner>&repo=<repo> of an existing repository"},
                "branchName": {"type": "string", "pattern": "^[A-Za-z0-9._/-]+$", "description": "The new branch"},
                "targetBranchName": {"type": "string", "description": "The branch to merge into; the repository's default branch when absent"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "draft": {"type": "boolean"},
                "sourcePath": {"type": "string", "description": "Workspace directory whose files are copied"},
                "targetPath": {"type": "string", "description": "Directory of the repository the files are copied to"},
                "commitMessage": {"type": "string"},
                "reviewers": {"type": "array", "items": {"type": "string"}},
                "teamReviewers": {"type": "array", "items": {"type": "string"}},
                "gitAuthorName": {"type": "string"},
                "gitAuthorEmail": {"type": "string"},
                "token": {"type": "string"}
            }),
            &["repoUrl", "branchName", "title", "description"],
        )
    }
    fn output_schema(&self) -> Option<Value> {
        let outputs = match self.provider {
            Provider::Gitlab => json!({
                "targetBranchName": {"type": "string"},
                "mergeRequestUrl": {"type": "string", "examples": ["https://gitlab.example.com/acme/service/-/merge_requests/1"]},
                "projectPath": {"type": "string"}
            }),
            _ => json!({
                "targetBranchName": {"type": "string"},
                "remoteUrl": {"type": "string", "examples": ["https://github.com/acme/service/pull/1"]},
                "pullRequestNumber": {"type": "integer", "examples": [1]}
            }),
        };
        Some(object_schema(outputs, &[]))
    }
    fn supports_dry_run(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let (repo, branch) = repo_and_branch(ctx, "branchName", "")?;
        let source = ctx
            .workspace
            .resolve(ctx.str_input("sourcePath").unwrap_or("."))?;
        let target_path = ctx.str_input("targetPath").unwrap_or("").to_string();
        let files = files_under(ctx, &source)?;
        let title = ctx.str_input("title").unwrap_or_default().to_string();
        if ctx.dry_run {
            ctx.log(format!(
                "Dry run: would push {} files to branch {branch} of {}/{} and open \"{title}\"",
                files.len(),
                repo.owner.as_deref().unwrap_or_default(),
                repo.repo
            ));
            return Ok(());
        }
        let host = host_for(ctx, &repo, Some(self.provider))?;
        let hosted = host.repo(&repo).await?;
        let base = ctx
            .str_input("targetBranchName")
            .map(str::to_string)
            .unwrap_or_else(|| hosted.default_branch.clone());
        let checkout = tempfile::tempdir()?;
        git::clone_branch(checkout.path(), &hosted.push_url, &base, &hosted.auth).await?;
        let target_root = safe_join(checkout.path(), &target_path).ok_or_else(|| {
            ActionError::new(format!("targetPath '{target_path}' leaves the repository"))
        })?;
        for rel in &files {
            let dest = target_root.join(rel);
            if dest.strip_prefix(checkout.path().join(".git")).is_ok() {
                return Err(ActionError::new(
                    "Refusing to write into the repository's .git directory",
                ));
            }
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(source.join(rel), &dest)?;
        }
        let message = ctx.str_input("commitMessage").unwrap_or(&title).to_string();
        let pushed = git::commit_and_push(
            checkout.path(),
            &branch,
            &message,
            &commit_author(ctx),
            &hosted.auth,
        )
        .await?;
        ctx.output("targetBranchName", json!(base));
        let Some(commit) = pushed else {
            ctx.log(format!(
                "{base} already holds these files: no pull request is needed"
            ));
            return Ok(());
        };
        ctx.log(format!(
            "Pushed {commit} to branch {branch} of {}",
            hosted.remote_url
        ));
        let review = host
            .open_review(
                &repo,
                &hosted,
                &ReviewRequest {
                    head: branch.clone(),
                    base: base.clone(),
                    title,
                    body: ctx.str_input("description").unwrap_or_default().to_string(),
                    draft: ctx.bool_input("draft").unwrap_or(false),
                    reviewers: string_list(ctx.input.get("reviewers")),
                    team_reviewers: string_list(ctx.input.get("teamReviewers")),
                },
            )
            .await?
            .ok_or_else(|| ActionError::new(format!("{} cannot open pull requests", repo.host)))?;
        ctx.log(format!("Opened {} #{}", review.url, review.number));
        match self.provider {
            Provider::Gitlab => {
                ctx.output("mergeRequestUrl", json!(review.url));
                ctx.output(
                    "projectPath",
                    json!(format!(
                        "{}/{}",
                        repo.owner.as_deref().unwrap_or_default(),
                        repo.repo
                    )),
                );
            }
            _ => {
                ctx.output("remoteUrl", json!(review.url));
                ctx.output("pullRequestNumber", json!(review.number));
            }
        }
        Ok(())
    }
}
