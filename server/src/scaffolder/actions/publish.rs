//! `publish:github`, `publish:gitlab` and `publish:git`: create a repository
//! on a configured host and push the workspace to it as its first commit.
//! The three differ in their host (checked, so `publish:github` cannot be
//! pointed at a GitLab server) and in the settings their input offers; the
//! work is the same.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::{object_schema, Action, ActionContext, ActionError};
use crate::scm::git::{self, Author};
use crate::scm::host::Visibility;
use crate::scm::{parse_repo_url, GitHost, NewRepo, Provider, RepoUrl};

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

/// The step's `repoUrl` and the branch named by input `key` (else `default`).
pub(crate) fn repo_and_branch(
    ctx: &ActionContext,
    key: &str,
    default: &str,
) -> Result<(RepoUrl, String), ActionError> {
    let repo =
        parse_repo_url(ctx.str_input("repoUrl").unwrap_or_default()).map_err(ActionError::new)?;
    let branch = ctx.str_input(key).unwrap_or(default).to_string();
    git::check_branch(&branch)?;
    Ok((repo, branch))
}

/// The configured host of `repo`, of `provider`, acting with the step's
/// `token` input when there is one.
pub(crate) fn host_for(
    ctx: &ActionContext,
    repo: &RepoUrl,
    provider: Option<Provider>,
) -> Result<std::sync::Arc<dyn GitHost>, ActionError> {
    let host = ctx.services.scm.get(repo, provider)?;
    Ok(match ctx.str_input("token").filter(|t| !t.is_empty()) {
        Some(token) => host.with_token(token),
        None => host,
    })
}

/// One of the publish actions.
pub struct Publish {
    id: &'static str,
    provider: Provider,
    description: &'static str,
}

impl Publish {
    pub fn git() -> Self {
        Publish {
            id: "publish:git",
            provider: Provider::Git,
            description: "Initializes a git repository with the contents of the workspace and pushes it to a remote of a configured Git host (integrations.git).",
        }
    }

    pub fn github() -> Self {
        Publish {
            id: "publish:github",
            provider: Provider::Github,
            description:
                "Initializes a git repository of contents in workspace and publishes it to GitHub.",
        }
    }

    pub fn gitlab() -> Self {
        Publish {
            id: "publish:gitlab",
            provider: Provider::Gitlab,
            description: "Initializes a git repository of the content in the workspace, and publishes it to GitLab.",
        }
    }

    fn properties(&self) -> Map<String, Value> {
        let p = json!({
            "repoUrl": {"type": "string", "title": "Repository Location", "description": "host?owner=<owner>&repo=<repo>, the host being a configured integration"},
            "description": {"type": "string", "title": "Repository Description"},
            "defaultBranch": {"type": "string", "default": "main", "pattern": "^[A-Za-z0-9._/-]+$"},
            "gitCommitMessage": {"type": "string", "default": "initial commit"},
            "gitAuthorName": {"type": "string"},
            "gitAuthorEmail": {"type": "string"},
            "sourcePath": {"type": "string", "description": "Path within the workspace that will be used as the repository root"},
            "token": {"type": "string", "description": "The token to use instead of the integration's (for example the user's own OAuth token)"}
        });
        let visibility = json!({"type": "string", "enum": ["private", "internal", "public"], "default": "private"});
        let topics = json!({"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,49}$"}});
        let extra = match self.provider {
            Provider::Github => json!({
                "repoVisibility": visibility,
                "topics": topics,
                "homepageUrl": {"type": "string"},
                "access": {"type": "string", "description": "Team (org/team) or user given admin access"},
                "collaborators": {"type": "array", "items": {"type": "object", "required": ["access"], "properties": {
                    "user": {"type": "string"}, "team": {"type": "string"},
                    "access": {"type": "string", "enum": ["pull", "push", "admin", "maintain", "triage"]}
                }}},
                "hasWiki": {"type": "boolean"}, "hasProjects": {"type": "boolean"}, "hasIssues": {"type": "boolean"},
                "allowMergeCommit": {"type": "boolean"}, "allowSquashMerge": {"type": "boolean"},
                "allowRebaseMerge": {"type": "boolean"}, "allowAutoMerge": {"type": "boolean"},
                "squashMergeCommitTitle": {"type": "string", "enum": ["PR_TITLE", "COMMIT_OR_PR_TITLE"]},
                "squashMergeCommitMessage": {"type": "string", "enum": ["PR_BODY", "COMMIT_MESSAGES", "BLANK"]},
                "deleteBranchOnMerge": {"type": "boolean"},
                "protectDefaultBranch": {"type": "boolean", "default": true},
                "protectEnforceAdmins": {"type": "boolean", "default": true},
                "requireCodeOwnerReviews": {"type": "boolean"},
                "dismissStaleReviews": {"type": "boolean"},
                "requiredApprovingReviewCount": {"type": "integer", "minimum": 0, "maximum": 6},
                "requiredStatusCheckContexts": {"type": "array", "items": {"type": "string"}},
                "requireBranchesToBeUpToDate": {"type": "boolean"},
                "requiredConversationResolution": {"type": "boolean"}
            }),
            Provider::Gitlab => json!({
                "repoVisibility": visibility,
                "topics": topics,
                "settings": {"type": "object", "description": "Project attributes passed to GitLab's project creation (ci_config_path, auto_devops_enabled, ...)"}
            }),
            Provider::Git => json!({}),
        };
        let (Value::Object(mut p), Value::Object(extra)) = (p, extra) else {
            unreachable!("both are object literals")
        };
        p.extend(extra);
        p
    }

    /// Where a dry run says the repository would go, without asking the host.
    fn assumed(&self, repo: &RepoUrl, branch: &str) -> (String, String) {
        let owner = repo.owner.as_deref().unwrap_or("owner");
        let web = format!("https://{}/{owner}/{}", repo.host, repo.repo);
        match self.provider {
            Provider::Github => (format!("{web}.git"), format!("{web}/blob/{branch}")),
            Provider::Gitlab => (web.clone(), format!("{web}/-/blob/{branch}")),
            Provider::Git => (
                format!("{web}.git"),
                crate::scm::repo_contents_url(&format!("{web}.git"), branch),
            ),
        }
    }
}

pub(crate) fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl Action for Publish {
    fn id(&self) -> &'static str {
        self.id
    }
    fn description(&self) -> &'static str {
        self.description
    }
    fn input_schema(&self) -> Value {
        object_schema(Value::Object(self.properties()), &["repoUrl"])
    }
    fn output_schema(&self) -> Option<Value> {
        let mut outputs = json!({
            "remoteUrl": {"type": "string", "examples": ["https://git.example.com/acme/service.git"]},
            "repoContentsUrl": {"type": "string", "examples": ["https://git.example.com/acme/service/blob/main"]},
            "commitHash": {"type": "string", "examples": ["0000000000000000000000000000000000000000"]}
        });
        if self.provider == Provider::Gitlab {
            outputs["projectId"] = json!({"type": "integer", "examples": [1]});
            outputs["created"] = json!({"type": "boolean", "examples": [true]});
        }
        Some(object_schema(outputs, &[]))
    }
    fn supports_dry_run(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &mut ActionContext) -> Result<(), ActionError> {
        let (repo, branch) = repo_and_branch(ctx, "defaultBranch", "main")?;
        let new = NewRepo {
            repo: repo.clone(),
            description: ctx.str_input("description").map(str::to_string),
            visibility: Visibility::parse(ctx.str_input("repoVisibility"))?,
            topics: string_list(ctx.input.get("topics")),
            default_branch: branch.clone(),
            options: ctx.input.clone(),
        };
        let source = ctx
            .workspace
            .resolve(ctx.str_input("sourcePath").unwrap_or("."))?;
        let host = host_for(ctx, &repo, Some(self.provider));
        if ctx.dry_run {
            // A dry run outside the server (a template repository's CI) has
            // no integrations, and a dry run never creates anything: it shows
            // where the repository would go.
            let (remote, contents) = match &host {
                Ok(h) if self.provider == Provider::Git => {
                    let hosted = h.repo(&repo).await?;
                    (hosted.remote_url.clone(), hosted.contents_url(&branch))
                }
                _ => self.assumed(&repo, &branch),
            };
            ctx.log(format!(
                "Dry run: would create the {} repository {} ({}) and push the workspace to {remote} ({branch})",
                new.visibility.as_str(),
                repo.repo,
                self.provider.name()
            ));
            ctx.output("remoteUrl", json!(remote));
            ctx.output("repoContentsUrl", json!(contents));
            ctx.output(
                "commitHash",
                json!("0000000000000000000000000000000000000000"),
            );
            return Ok(());
        }
        let host = host?;
        let (hosted, lines) = host.create_repo(&new).await?;
        for line in lines {
            ctx.log(line);
        }
        let published = git::publish_tree(
            &source,
            &hosted.push_url,
            &branch,
            &commit_message(ctx, "gitCommitMessage"),
            &commit_author(ctx),
            &hosted.auth,
        )
        .await
        .map_err(|e| ActionError::new(format!("Failed to push to {}: {e}", hosted.push_url)))?;
        if published.already_there {
            ctx.log(format!(
                "{} already holds these files at {branch} ({}); nothing to push",
                hosted.push_url, published.commit
            ));
        } else {
            ctx.log(format!(
                "Pushed {} to {} ({branch})",
                published.commit, hosted.push_url
            ));
        }
        for line in host.after_push(&hosted, &new).await? {
            ctx.log(line);
        }
        ctx.output("remoteUrl", json!(hosted.remote_url));
        ctx.output("repoContentsUrl", json!(hosted.contents_url(&branch)));
        ctx.output("commitHash", json!(published.commit));
        if let Some(id) = hosted.project_id {
            ctx.output("projectId", json!(id));
            ctx.output("created", json!(true));
        }
        Ok(())
    }
}
