//! GitLab (gitlab.com and self-hosted) through its REST API v4: project
//! creation for `publish:gitlab`, merge requests, and checkouts of `-/blob/`
//! URLs. Git traffic goes to `http_url_to_repo` with the token as `oauth2`
//! basic auth.

use std::sync::Arc;

use async_trait::async_trait;
use percent_encoding::utf8_percent_encode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::git::GitAuth;
use super::host::{
    short_reason, url_on_host, Checkout, GitHost, HostedRepo, NewRepo, Provider, Review,
    ReviewRequest, ScmError,
};
use super::RepoUrl;
use crate::catalog::readers::github::SEGMENT;
use crate::catalog::readers::gitlab::{parse_blob_path, GitlabHost as ReaderHost};
use crate::config::ScmIntegration;

pub struct GitlabHost {
    host: String,
    /// Path prefix of an instance served under a sub-path.
    base_path: String,
    api_base_url: String,
    token: Option<String>,
    client: reqwest::Client,
}

#[derive(Debug, Deserialize)]
struct Namespace {
    id: u64,
}

#[derive(Debug, Deserialize)]
struct Project {
    id: u64,
    http_url_to_repo: String,
    #[serde(default)]
    default_branch: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MergeRequest {
    iid: u64,
    web_url: String,
}

impl GitlabHost {
    pub fn new(integration: &ScmIntegration) -> Self {
        let urls = ReaderHost::from_integration(integration);
        GitlabHost {
            host: urls.host,
            base_path: urls.base_path,
            api_base_url: urls.api_base_url,
            token: urls.token,
            client: crate::catalog::readers::http_client(),
        }
    }

    fn git_auth(&self) -> GitAuth {
        match &self.token {
            Some(token) => GitAuth::Basic {
                user: "oauth2".into(),
                token: token.clone(),
            },
            None => GitAuth::None,
        }
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, ScmError> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.api_base_url));
        if let Some(token) = &self.token {
            request = request.header("PRIVATE-TOKEN", token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |message: String| ScmError::Transport {
            host: self.host.clone(),
            action: action.to_string(),
            message,
        };
        let response = request.send().await.map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| transport(e.to_string()))?;
        if !status.is_success() {
            return Err(ScmError::Refused {
                host: self.host.clone(),
                action: action.to_string(),
                status: status.as_u16(),
                message: short_reason(&text),
            });
        }
        serde_json::from_str(&text).map_err(|e| transport(format!("unexpected answer: {e}")))
    }

    fn hosted(&self, project: Project, branch: &str) -> HostedRepo {
        let remote_url = project
            .http_url_to_repo
            .trim_end_matches(".git")
            .to_string();
        HostedRepo {
            push_url: project.http_url_to_repo,
            contents_prefix: format!("{remote_url}/-/blob/"),
            remote_url,
            default_branch: project.default_branch.unwrap_or_else(|| branch.to_string()),
            auth: self.git_auth(),
            project_id: Some(project.id),
        }
    }

    fn project_path(repo: &RepoUrl) -> String {
        let path = match &repo.owner {
            Some(owner) => format!("{owner}/{}", repo.repo),
            None => repo.repo.clone(),
        };
        utf8_percent_encode(&path, SEGMENT).to_string()
    }
}

/// The body of `POST /projects`: Backstage's `publish:gitlab` inputs, with
/// `settings` passed through to GitLab's project attributes.
fn create_body(new: &NewRepo, namespace_id: u64) -> Value {
    let mut body = json!({
        "namespace_id": namespace_id,
        "name": new.repo.repo,
        "path": new.repo.repo,
        "visibility": new.visibility.as_str(),
    });
    if let Some(d) = &new.description {
        body["description"] = json!(d);
    }
    if !new.topics.is_empty() {
        body["topics"] = json!(new.topics);
    }
    if let Some(settings) = new.options.get("settings").and_then(Value::as_object) {
        for (k, v) in settings {
            // What identifies the project stays Greenroom's.
            if !matches!(k.as_str(), "namespace_id" | "name" | "path") {
                body[k] = v.clone();
            }
        }
    }
    body
}

#[async_trait]
impl GitHost for GitlabHost {
    fn provider(&self) -> Provider {
        Provider::Gitlab
    }

    fn with_token(&self, token: &str) -> Arc<dyn GitHost> {
        Arc::new(GitlabHost {
            host: self.host.clone(),
            base_path: self.base_path.clone(),
            api_base_url: self.api_base_url.clone(),
            token: Some(token.to_string()),
            client: self.client.clone(),
        })
    }

    async fn create_repo(&self, new: &NewRepo) -> Result<(HostedRepo, Vec<String>), ScmError> {
        let owner = new.repo.owner.as_deref().ok_or_else(|| {
            ScmError::Invalid(format!(
                "Invalid repo URL passed to publisher, missing owner (the group) for host {}",
                self.host
            ))
        })?;
        let namespace: Namespace = self
            .call(
                &format!("find the namespace {owner}"),
                reqwest::Method::GET,
                &format!("/namespaces/{}", utf8_percent_encode(owner, SEGMENT)),
                None,
            )
            .await?;
        let project: Project = self
            .call(
                &format!("create the project {owner}/{}", new.repo.repo),
                reqwest::Method::POST,
                "/projects",
                Some(&create_body(new, namespace.id)),
            )
            .await?;
        let log = vec![format!(
            "Created {} project {owner}/{} (id {})",
            new.visibility.as_str(),
            new.repo.repo,
            project.id
        )];
        Ok((self.hosted(project, &new.default_branch), log))
    }

    async fn after_push(&self, repo: &HostedRepo, new: &NewRepo) -> Result<Vec<String>, ScmError> {
        let Some(id) = repo.project_id else {
            return Ok(Vec::new());
        };
        if repo.default_branch == new.default_branch {
            return Ok(Vec::new());
        }
        let _: Value = self
            .call(
                "set the default branch",
                reqwest::Method::PUT,
                &format!("/projects/{id}"),
                Some(&json!({"default_branch": new.default_branch})),
            )
            .await?;
        Ok(vec![format!(
            "Set the default branch to {}",
            new.default_branch
        )])
    }

    async fn repo(&self, repo: &RepoUrl) -> Result<HostedRepo, ScmError> {
        let project: Project = self
            .call(
                "find the project",
                reqwest::Method::GET,
                &format!("/projects/{}", Self::project_path(repo)),
                None,
            )
            .await?;
        Ok(self.hosted(project, "main"))
    }

    async fn open_review(
        &self,
        repo: &RepoUrl,
        hosted: &HostedRepo,
        review: &ReviewRequest,
    ) -> Result<Option<Review>, ScmError> {
        let project = hosted
            .project_id
            .map(|id| id.to_string())
            .unwrap_or_else(|| Self::project_path(repo));
        // GitLab marks drafts by title.
        let title = if review.draft {
            format!("Draft: {}", review.title)
        } else {
            review.title.clone()
        };
        let mr: MergeRequest = self
            .call(
                "open a merge request",
                reqwest::Method::POST,
                &format!("/projects/{project}/merge_requests"),
                Some(&json!({
                    "source_branch": review.head,
                    "target_branch": review.base,
                    "title": title,
                    "description": review.body,
                    "remove_source_branch": true
                })),
            )
            .await?;
        Ok(Some(Review {
            url: mr.web_url,
            number: mr.iid,
        }))
    }

    /// `https://<host>/<group/sub>/<project>/-/blob/<ref>/<path>`.
    fn checkout_for(&self, url: &str) -> Option<Checkout> {
        let parsed = url_on_host(url, &self.host)?;
        let blob = parse_blob_path(&self.base_path, parsed.path())?;
        Some(Checkout {
            remote: format!(
                "{}://{}{}/{}.git",
                parsed.scheme(),
                self.host,
                self.base_path,
                blob.project
            ),
            reference: blob.git_ref,
            path: blob.path,
            auth: self.git_auth(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scm::host::Visibility;

    #[test]
    fn settings_pass_through_but_not_the_identity() {
        let new = NewRepo {
            repo: crate::scm::parse_repo_url("gitlab.com?owner=acme&repo=svc").unwrap(),
            description: None,
            visibility: Visibility::Internal,
            topics: vec![],
            default_branch: "main".into(),
            options: json!({"settings": {"ci_config_path": ".ci.yml", "name": "evil"}}),
        };
        let body = create_body(&new, 7);
        assert_eq!(body["namespace_id"], json!(7));
        assert_eq!(body["name"], json!("svc"));
        assert_eq!(body["visibility"], json!("internal"));
        assert_eq!(body["ci_config_path"], json!(".ci.yml"));
        assert!(body.get("topics").is_none());
    }

    #[test]
    fn blob_urls_check_out_the_project() {
        let mut i = ScmIntegration::bare("git.example.com");
        i.base_url = Some("https://git.example.com/gitlab".into());
        let host = GitlabHost::new(&i);
        let c = host
            .checkout_for(
                "https://git.example.com/gitlab/acme/sub/templates/-/blob/main/rust/template.yaml",
            )
            .unwrap();
        assert_eq!(
            c.remote,
            "https://git.example.com/gitlab/acme/sub/templates.git"
        );
        assert_eq!(c.reference, "main");
        assert_eq!(c.path, "rust/template.yaml");
    }
}
