//! GitHub (github.com and GitHub Enterprise) through octocrab: repository
//! creation with Backstage's `publish:github` settings, pull requests, and
//! checkouts of blob URLs. Git traffic goes to the repository's `clone_url`
//! with the token as `x-access-token` basic auth.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use octocrab::Octocrab;
use serde::Deserialize;
use serde_json::{json, Value};

use super::git::GitAuth;
use super::host::{
    decoded_segments, url_on_host, Checkout, GitHost, HostedRepo, NewRepo, Provider, Review,
    ReviewRequest, ScmError, Visibility,
};
use super::RepoUrl;
use crate::catalog::readers::github::default_api_base_url;
use crate::config::ScmIntegration;

const API_TIMEOUT: Duration = Duration::from_secs(30);

pub struct GithubHost {
    host: String,
    api_base_url: String,
    token: Option<String>,
    client: OnceLock<Result<Octocrab, String>>,
}

/// The fields of GitHub's repository object that Greenroom uses.
#[derive(Debug, Deserialize)]
struct Repository {
    clone_url: String,
    html_url: String,
    #[serde(default)]
    default_branch: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Account {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Deserialize)]
struct PullRequest {
    number: u64,
    html_url: String,
}

impl GithubHost {
    pub fn new(integration: &ScmIntegration) -> Self {
        GithubHost {
            host: integration.host.to_ascii_lowercase(),
            api_base_url: integration
                .api_base_url
                .clone()
                .unwrap_or_else(|| default_api_base_url(&integration.host))
                .trim_end_matches('/')
                .to_string(),
            token: integration.token.clone(),
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&Octocrab, ScmError> {
        self.client
            .get_or_init(|| {
                let mut builder = Octocrab::builder()
                    .base_uri(self.api_base_url.as_str())
                    .map_err(|e| format!("invalid apiBaseUrl {}: {e}", self.api_base_url))?
                    .set_connect_timeout(Some(API_TIMEOUT))
                    .set_read_timeout(Some(API_TIMEOUT));
                if let Some(token) = &self.token {
                    builder = builder.personal_token(token.clone());
                }
                builder.build().map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| ScmError::Invalid(format!("GitHub client for {}: {e}", self.host)))
    }

    fn git_auth(&self) -> GitAuth {
        match &self.token {
            Some(token) => GitAuth::Basic {
                user: "x-access-token".into(),
                token: token.clone(),
            },
            None => GitAuth::None,
        }
    }

    fn error(&self, action: &str, e: octocrab::Error) -> ScmError {
        match e {
            octocrab::Error::GitHub { source, .. } => {
                let details = source
                    .errors
                    .as_ref()
                    .filter(|e| !e.is_empty())
                    .map(|e| format!(" {}", Value::Array(e.clone())))
                    .unwrap_or_default();
                ScmError::Refused {
                    host: self.host.clone(),
                    action: action.to_string(),
                    status: source.status_code.as_u16(),
                    message: format!("{}{details}", source.message),
                }
            }
            other => ScmError::Transport {
                host: self.host.clone(),
                action: action.to_string(),
                message: other.to_string(),
            },
        }
    }

    fn hosted(&self, repo: Repository, branch: &str) -> HostedRepo {
        HostedRepo {
            push_url: repo.clone_url.clone(),
            remote_url: repo.clone_url,
            contents_prefix: format!("{}/blob/", repo.html_url.trim_end_matches('/')),
            default_branch: repo.default_branch.unwrap_or_else(|| branch.to_string()),
            auth: self.git_auth(),
            project_id: None,
        }
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        route: String,
        body: &Value,
    ) -> Result<T, ScmError> {
        self.client()?
            .post(route, Some(body))
            .await
            .map_err(|e| self.error(action, e))
    }

    /// PUT and PATCH: several of these answer 204 without a body, which
    /// octocrab's typed calls cannot read.
    async fn send(
        &self,
        action: &str,
        method: &str,
        route: String,
        body: &Value,
    ) -> Result<(), ScmError> {
        let client = self.client()?;
        let response = match method {
            "PATCH" => client._patch(route, Some(body)).await,
            _ => client._put(route, Some(body)).await,
        };
        let response = response.map_err(|e| self.error(action, e))?;
        octocrab::map_github_error(response)
            .await
            .map(drop)
            .map_err(|e| self.error(action, e))
    }

    async fn put(&self, action: &str, route: String, body: &Value) -> Result<(), ScmError> {
        self.send(action, "PUT", route, body).await
    }

    async fn patch(&self, action: &str, route: String, body: &Value) -> Result<(), ScmError> {
        self.send(action, "PATCH", route, body).await
    }

    /// Team and user permissions from `access` and `collaborators`.
    async fn grant_access(
        &self,
        owner: &str,
        name: &str,
        options: &Value,
        log: &mut Vec<String>,
    ) -> Result<(), ScmError> {
        let mut grants: Vec<(String, String, bool)> = Vec::new();
        if let Some(access) = options.get("access").and_then(Value::as_str) {
            match access.split_once('/') {
                Some((org, team)) if org == owner => {
                    grants.push((team.to_string(), "admin".into(), true))
                }
                _ if access != owner => grants.push((access.to_string(), "admin".into(), false)),
                _ => {}
            }
        }
        for c in options
            .get("collaborators")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let permission = c.get("access").and_then(Value::as_str).unwrap_or("pull");
            if let Some(user) = c.get("user").and_then(Value::as_str) {
                grants.push((user.to_string(), permission.into(), false));
            } else if let Some(team) = c.get("team").and_then(Value::as_str) {
                grants.push((team.to_string(), permission.into(), true));
            }
        }
        for (who, permission, is_team) in grants {
            let body = json!({"permission": permission});
            if is_team {
                self.put(
                    "grant a team access",
                    format!("/orgs/{owner}/teams/{who}/repos/{owner}/{name}"),
                    &body,
                )
                .await?;
                log.push(format!("Gave team {owner}/{who} {permission} access"));
            } else {
                self.put(
                    "add a collaborator",
                    format!("/repos/{owner}/{name}/collaborators/{who}"),
                    &body,
                )
                .await?;
                log.push(format!("Gave {who} {permission} access"));
            }
        }
        Ok(())
    }
}

fn bool_option(options: &Value, key: &str, default: bool) -> bool {
    options.get(key).and_then(Value::as_bool).unwrap_or(default)
}

/// The body of `POST /orgs/{org}/repos` or `POST /user/repos` (Backstage's
/// mapping of `publish:github` inputs).
fn create_body(new: &NewRepo, for_org: bool) -> Value {
    let o = &new.options;
    let mut body = json!({
        "name": new.repo.repo,
        "private": if for_org { new.visibility != Visibility::Public } else { new.visibility == Visibility::Private },
        "description": new.description.clone().unwrap_or_default(),
        "has_wiki": bool_option(o, "hasWiki", true),
        "has_projects": bool_option(o, "hasProjects", true),
        "has_issues": bool_option(o, "hasIssues", true),
        "allow_merge_commit": bool_option(o, "allowMergeCommit", true),
        "allow_squash_merge": bool_option(o, "allowSquashMerge", true),
        "allow_rebase_merge": bool_option(o, "allowRebaseMerge", true),
        "allow_auto_merge": bool_option(o, "allowAutoMerge", false),
        "delete_branch_on_merge": bool_option(o, "deleteBranchOnMerge", false),
    });
    if for_org {
        body["visibility"] = json!(new.visibility.as_str());
    }
    if let Some(home) = o.get("homepageUrl").and_then(Value::as_str) {
        body["homepage"] = json!(home);
    }
    for (input, field) in [
        ("squashMergeCommitTitle", "squash_merge_commit_title"),
        ("squashMergeCommitMessage", "squash_merge_commit_message"),
    ] {
        if let Some(v) = o.get(input).and_then(Value::as_str) {
            body[field] = json!(v);
        }
    }
    body
}

/// The body of `PUT /repos/{o}/{r}/branches/{b}/protection`.
fn protection_body(options: &Value) -> Value {
    let contexts: Vec<Value> = options
        .get("requiredStatusCheckContexts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let status_checks =
        if contexts.is_empty() && !bool_option(options, "requireBranchesToBeUpToDate", false) {
            Value::Null
        } else {
            json!({
                "strict": bool_option(options, "requireBranchesToBeUpToDate", true),
                "contexts": contexts
            })
        };
    json!({
        "required_status_checks": status_checks,
        "enforce_admins": bool_option(options, "protectEnforceAdmins", true),
        "required_pull_request_reviews": {
            "required_approving_review_count": options.get("requiredApprovingReviewCount").and_then(Value::as_u64).unwrap_or(1),
            "require_code_owner_reviews": bool_option(options, "requireCodeOwnerReviews", false),
            "dismiss_stale_reviews": bool_option(options, "dismissStaleReviews", false)
        },
        "required_conversation_resolution": bool_option(options, "requiredConversationResolution", false),
        "restrictions": Value::Null
    })
}

#[async_trait]
impl GitHost for GithubHost {
    fn provider(&self) -> Provider {
        Provider::Github
    }

    fn with_token(&self, token: &str) -> Arc<dyn GitHost> {
        Arc::new(GithubHost {
            host: self.host.clone(),
            api_base_url: self.api_base_url.clone(),
            token: Some(token.to_string()),
            client: OnceLock::new(),
        })
    }

    async fn create_repo(&self, new: &NewRepo) -> Result<(HostedRepo, Vec<String>), ScmError> {
        let owner = new.repo.owner.as_deref().ok_or_else(|| {
            ScmError::Invalid(format!(
                "Invalid repo URL passed to publisher, missing owner for host {}",
                self.host
            ))
        })?;
        let name = &new.repo.repo;
        let account: Account = self
            .client()?
            .get(format!("/users/{owner}"), None::<&()>)
            .await
            .map_err(|e| self.error(&format!("look up the owner {owner}"), e))?;
        let for_org = account.kind == "Organization";
        if !for_org && new.visibility == Visibility::Internal {
            return Err(ScmError::Invalid(format!(
                "{owner} is a user account: internal visibility exists only for organization repositories"
            )));
        }
        let route = if for_org {
            format!("/orgs/{owner}/repos")
        } else {
            "/user/repos".to_string()
        };
        let action = format!("create the repository {owner}/{name}");
        let created: Repository = self
            .post(&action, route, &create_body(new, for_org))
            .await?;
        let mut log = vec![format!(
            "Created {} repository {owner}/{name}: {}",
            new.visibility.as_str(),
            created.html_url
        )];
        if !new.topics.is_empty() {
            self.put(
                "set the repository topics",
                format!("/repos/{owner}/{name}/topics"),
                &json!({"names": new.topics}),
            )
            .await?;
            log.push(format!("Set topics {}", new.topics.join(", ")));
        }
        self.grant_access(owner, name, &new.options, &mut log)
            .await?;
        let hosted = self.hosted(created, &new.default_branch);
        Ok((hosted, log))
    }

    async fn after_push(&self, repo: &HostedRepo, new: &NewRepo) -> Result<Vec<String>, ScmError> {
        let owner = new.repo.owner.as_deref().unwrap_or_default();
        let name = &new.repo.repo;
        let branch = &new.default_branch;
        let mut log = Vec::new();
        if repo.default_branch != *branch {
            self.patch(
                "set the default branch",
                format!("/repos/{owner}/{name}"),
                &json!({"default_branch": branch}),
            )
            .await?;
            log.push(format!("Set the default branch to {branch}"));
        }
        if bool_option(&new.options, "protectDefaultBranch", true) {
            // Plans without branch protection on private repositories refuse
            // it: the repository is still usable, as in Backstage.
            match self
                .put(
                    "protect the default branch",
                    format!("/repos/{owner}/{name}/branches/{branch}/protection"),
                    &protection_body(&new.options),
                )
                .await
            {
                Ok(()) => log.push(format!("Protected branch {branch}")),
                Err(e) => log.push(format!(
                    "Warning: skipping branch protection of {branch}: {e}"
                )),
            }
        }
        Ok(log)
    }

    async fn repo(&self, repo: &RepoUrl) -> Result<HostedRepo, ScmError> {
        let owner = repo.owner.as_deref().unwrap_or_default();
        let found: Repository = self
            .client()?
            .get(format!("/repos/{owner}/{}", repo.repo), None::<&()>)
            .await
            .map_err(|e| self.error(&format!("find the repository {owner}/{}", repo.repo), e))?;
        Ok(self.hosted(found, "main"))
    }

    async fn open_review(
        &self,
        repo: &RepoUrl,
        _hosted: &HostedRepo,
        review: &ReviewRequest,
    ) -> Result<Option<Review>, ScmError> {
        let owner = repo.owner.as_deref().unwrap_or_default();
        let name = &repo.repo;
        let pr: PullRequest = self
            .post(
                "open a pull request",
                format!("/repos/{owner}/{name}/pulls"),
                &json!({
                    "title": review.title,
                    "head": review.head,
                    "base": review.base,
                    "body": review.body,
                    "draft": review.draft
                }),
            )
            .await?;
        if !review.reviewers.is_empty() || !review.team_reviewers.is_empty() {
            let _: Value = self
                .post(
                    "request reviewers",
                    format!("/repos/{owner}/{name}/pulls/{}/requested_reviewers", pr.number),
                    &json!({"reviewers": review.reviewers, "team_reviewers": review.team_reviewers}),
                )
                .await?;
        }
        Ok(Some(Review {
            url: pr.html_url,
            number: pr.number,
        }))
    }

    /// `https://<host>/<owner>/<repo>/blob/<ref>/<path>` or `/tree/`.
    fn checkout_for(&self, url: &str) -> Option<Checkout> {
        let parsed = url_on_host(url, &self.host)?;
        let segments = decoded_segments(&parsed);
        if segments.len() < 4 || !matches!(segments[2].as_str(), "blob" | "tree") {
            return None;
        }
        let remote = format!(
            "{}://{}/{}/{}.git",
            parsed.scheme(),
            self.host,
            segments[0],
            segments[1].trim_end_matches(".git")
        );
        Some(Checkout {
            remote,
            reference: segments[3].clone(),
            path: segments[4..].join("/"),
            auth: self.git_auth(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_repo(options: Value, visibility: Visibility) -> NewRepo {
        NewRepo {
            repo: super::super::parse_repo_url("github.com?owner=acme&repo=svc").unwrap(),
            description: Some("A service".into()),
            visibility,
            topics: vec!["rust".into()],
            default_branch: "main".into(),
            options,
        }
    }

    #[test]
    fn organization_and_user_repositories_map_visibility_as_backstage_does() {
        let org = create_body(&new_repo(json!({}), Visibility::Internal), true);
        assert_eq!(org["private"], json!(true));
        assert_eq!(org["visibility"], json!("internal"));
        let user = create_body(&new_repo(json!({}), Visibility::Internal), false);
        assert_eq!(user["private"], json!(false));
        assert!(user.get("visibility").is_none());
        let o = create_body(
            &new_repo(
                json!({"hasWiki": false, "homepageUrl": "https://x", "deleteBranchOnMerge": true}),
                Visibility::Public,
            ),
            true,
        );
        assert_eq!(o["has_wiki"], json!(false));
        assert_eq!(o["homepage"], json!("https://x"));
        assert_eq!(o["delete_branch_on_merge"], json!(true));
        assert_eq!(o["private"], json!(false));
    }

    #[test]
    fn protection_defaults() {
        let p = protection_body(&json!({}));
        assert_eq!(p["required_status_checks"], Value::Null);
        assert_eq!(
            p["required_pull_request_reviews"]["required_approving_review_count"],
            json!(1)
        );
        let p = protection_body(
            &json!({"requiredStatusCheckContexts": ["ci"], "requiredApprovingReviewCount": 2}),
        );
        assert_eq!(p["required_status_checks"]["contexts"], json!(["ci"]));
        assert_eq!(
            p["required_pull_request_reviews"]["required_approving_review_count"],
            json!(2)
        );
    }

    #[test]
    fn blob_urls_check_out_the_repository() {
        let host = GithubHost::new(&ScmIntegration::bare("github.com"));
        let c = host
            .checkout_for("https://github.com/acme/templates/blob/main/rust/template.yaml")
            .unwrap();
        assert_eq!(c.remote, "https://github.com/acme/templates.git");
        assert_eq!(c.reference, "main");
        assert_eq!(c.path, "rust/template.yaml");
        assert!(host
            .checkout_for("https://gitlab.com/acme/t/blob/main/x")
            .is_none());
        assert!(host.checkout_for("https://github.com/acme").is_none());
    }
}
