//! The `git` command line for what libraries cannot do well (push, shallow
//! fetch). Credentials travel in the environment (`GIT_CONFIG_*` with an
//! `http.extraHeader`), never in a URL or on the command line where other
//! processes could read them, and they are masked in every error message.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use tokio::process::Command;

/// No Git operation of the scaffolder or the reader takes longer on a sane
/// remote; a hanging server must not hold a task forever.
const GIT_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0}")]
    Refused(String),
    #[error("git {command} failed: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("git {0} timed out")]
    Timeout(String),
    #[error("cannot run git: {0}")]
    Spawn(String),
}

/// How to authenticate to a remote.
#[derive(Clone, Default)]
pub enum GitAuth {
    #[default]
    None,
    /// `Authorization: Bearer <token>` (plain Git servers, GitLab OAuth tokens).
    Bearer(String),
    /// Basic auth with a fixed user: `x-access-token` for GitHub, `oauth2` for GitLab.
    Basic { user: String, token: String },
}

impl GitAuth {
    fn header(&self) -> Option<String> {
        match self {
            GitAuth::None => None,
            GitAuth::Bearer(token) => Some(format!("Authorization: Bearer {token}")),
            GitAuth::Basic { user, token } => Some(format!(
                "Authorization: Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"))
            )),
        }
    }

    fn secret(&self) -> Option<&str> {
        match self {
            GitAuth::None => None,
            GitAuth::Bearer(t) | GitAuth::Basic { token: t, .. } => Some(t),
        }
    }
}

/// The author (and committer) of commits.
#[derive(Debug, Clone)]
pub struct Author {
    pub name: String,
    pub email: String,
}

impl Default for Author {
    fn default() -> Self {
        Author {
            name: "Greenroom".into(),
            email: "scaffolder@greenroom.invalid".into(),
        }
    }
}

/// Refuses remotes git would run programs for (`ext::`), option-looking
/// strings and unknown schemes.
pub fn check_remote(remote: &str) -> Result<(), GitError> {
    let allowed = ["https://", "http://", "git://", "ssh://", "file://"];
    if allowed.iter().any(|p| remote.starts_with(p)) && !remote.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(GitError::Refused(format!(
            "'{remote}' is not a Git remote URL Greenroom uses (http, https, git, ssh or file)"
        )))
    }
}

/// Runs `git <args>` in `dir`; returns stdout.
pub async fn git(
    dir: &Path,
    args: &[&str],
    auth: &GitAuth,
    author: Option<&Author>,
) -> Result<String, GitError> {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_ASKPASS", "true")
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut config: Vec<(&str, String)> = vec![
        ("init.defaultBranch", "main".into()),
        ("protocol.ext.allow", "never".into()),
        ("core.hooksPath", "/dev/null".into()),
        ("commit.gpgSign", "false".into()),
    ];
    if let Some(header) = auth.header() {
        config.push(("http.extraHeader", header));
    }
    cmd.env("GIT_CONFIG_COUNT", config.len().to_string());
    for (i, (key, value)) in config.iter().enumerate() {
        cmd.env(format!("GIT_CONFIG_KEY_{i}"), key)
            .env(format!("GIT_CONFIG_VALUE_{i}"), value);
    }
    if let Some(a) = author {
        cmd.env("GIT_AUTHOR_NAME", &a.name)
            .env("GIT_AUTHOR_EMAIL", &a.email)
            .env("GIT_COMMITTER_NAME", &a.name)
            .env("GIT_COMMITTER_EMAIL", &a.email);
    }
    let command = args.first().copied().unwrap_or_default().to_string();
    let output = tokio::time::timeout(GIT_TIMEOUT, cmd.output())
        .await
        .map_err(|_| GitError::Timeout(command.clone()))?
        .map_err(|e| GitError::Spawn(e.to_string()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let mut stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if let Some(secret) = auth.secret().filter(|s| !s.is_empty()) {
            stderr = stderr.replace(secret, "***");
        }
        Err(GitError::Failed { command, stderr })
    }
}

/// What a publish did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub commit: String,
    /// The branch already held exactly these files (a step re-run after a
    /// crash): nothing was pushed.
    pub already_there: bool,
}

/// Commits the files of `work_tree` as the first commit of a new repository
/// and pushes it to `branch` of `remote`. The Git directory lives outside the
/// work tree, so the workspace gets no `.git`. When the branch already holds
/// the same tree (the step ran before and the task was resumed), its commit is
/// returned instead of pushing again.
pub async fn publish_tree(
    work_tree: &Path,
    remote: &str,
    branch: &str,
    message: &str,
    author: &Author,
    auth: &GitAuth,
) -> Result<Published, GitError> {
    check_remote(remote)?;
    check_branch(branch)?;
    let git_dir = tempfile::tempdir().map_err(|e| GitError::Spawn(e.to_string()))?;
    let dir_arg = format!("--git-dir={}", git_dir.path().display());
    let tree_arg = format!("--work-tree={}", work_tree.display());
    let none = GitAuth::None;
    let run = |args: Vec<&str>, auth: &GitAuth, author: Option<&Author>| {
        let mut full = vec![dir_arg.as_str(), tree_arg.as_str()];
        full.extend(args);
        let full: Vec<String> = full.into_iter().map(str::to_string).collect();
        let auth = auth.clone();
        let author = author.cloned();
        let work_tree = work_tree.to_path_buf();
        async move {
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            git(&work_tree, &refs, &auth, author.as_ref()).await
        }
    };
    run(vec!["init", "-q", "-b", branch], &none, None).await?;
    run(vec!["add", "-A"], &none, None).await?;
    run(
        vec!["commit", "-q", "--allow-empty", "-m", message],
        &none,
        Some(author),
    )
    .await?;
    let head_tree = run(vec!["rev-parse", "HEAD^{tree}"], &none, None).await?;
    let remote_ref = format!("refs/heads/{branch}");
    let listed = run(vec!["ls-remote", "--", remote, &remote_ref], auth, None).await?;
    if let Some(remote_commit) = listed.split_whitespace().next() {
        run(
            vec!["fetch", "-q", "--depth", "1", "--", remote, &remote_ref],
            auth,
            None,
        )
        .await?;
        let remote_tree = run(vec!["rev-parse", "FETCH_HEAD^{tree}"], &none, None).await?;
        if remote_tree.trim() == head_tree.trim() {
            return Ok(Published {
                commit: remote_commit.to_string(),
                already_there: true,
            });
        }
    }
    let refspec = format!("HEAD:{remote_ref}");
    run(vec!["push", "-q", "--", remote, &refspec], auth, None).await?;
    let commit = run(vec!["rev-parse", "HEAD"], &none, None).await?;
    Ok(Published {
        commit: commit.trim().to_string(),
        already_there: false,
    })
}

/// Clones `branch` of `remote` into `dir` (shallow). An empty remote (no
/// such branch yet) gives an empty repository on that branch.
pub async fn clone_branch(
    dir: &Path,
    remote: &str,
    branch: &str,
    auth: &GitAuth,
) -> Result<(), GitError> {
    check_remote(remote)?;
    check_branch(branch)?;
    let none = GitAuth::None;
    git(dir, &["init", "-q", "-b", branch], &none, None).await?;
    git(dir, &["remote", "add", "origin", "--", remote], &none, None).await?;
    let has_branch = !git(
        dir,
        &[
            "ls-remote",
            "--heads",
            "origin",
            &format!("refs/heads/{branch}"),
        ],
        auth,
        None,
    )
    .await?
    .trim()
    .is_empty();
    if has_branch {
        git(
            dir,
            &["fetch", "-q", "--depth", "1", "origin", branch],
            auth,
            None,
        )
        .await?;
        git(
            dir,
            &["checkout", "-q", "-B", branch, "FETCH_HEAD"],
            &none,
            None,
        )
        .await?;
    }
    Ok(())
}

/// The commit `branch` of `remote` points at, without cloning; None when the
/// branch does not exist.
pub async fn remote_head(
    remote: &str,
    branch: &str,
    auth: &GitAuth,
) -> Result<Option<String>, GitError> {
    check_remote(remote)?;
    check_branch(branch)?;
    let refname = format!("refs/heads/{branch}");
    let out = git(
        &std::env::temp_dir(),
        &["ls-remote", "--", remote, &refname],
        auth,
        None,
    )
    .await?;
    Ok(out.split_whitespace().next().map(str::to_string))
}

/// Commits every change in a clone and pushes it to `branch` of `origin`.
/// None when there was nothing to commit.
pub async fn commit_and_push(
    dir: &Path,
    branch: &str,
    message: &str,
    author: &Author,
    auth: &GitAuth,
) -> Result<Option<String>, GitError> {
    check_branch(branch)?;
    let none = GitAuth::None;
    git(dir, &["add", "-A"], &none, None).await?;
    if git(dir, &["status", "--porcelain"], &none, None)
        .await?
        .trim()
        .is_empty()
    {
        return Ok(None);
    }
    git(dir, &["commit", "-q", "-m", message], &none, Some(author)).await?;
    let refspec = format!("HEAD:refs/heads/{branch}");
    git(dir, &["push", "-q", "origin", &refspec], auth, None).await?;
    Ok(Some(
        git(dir, &["rev-parse", "HEAD"], &none, None)
            .await?
            .trim()
            .to_string(),
    ))
}

/// Reads one file at `reference` of `remote` with a shallow fetch into a
/// throwaway repository. None when the file does not exist there.
pub async fn read_remote_file(
    remote: &str,
    reference: &str,
    path: &str,
    auth: &GitAuth,
) -> Result<Option<Vec<u8>>, GitError> {
    check_remote(remote)?;
    check_branch(reference)?;
    let dir = tempfile::tempdir().map_err(|e| GitError::Spawn(e.to_string()))?;
    let none = GitAuth::None;
    git(dir.path(), &["init", "-q", "--bare"], &none, None).await?;
    git(
        dir.path(),
        &["fetch", "-q", "--depth", "1", "--", remote, reference],
        auth,
        None,
    )
    .await?;
    let object = format!("FETCH_HEAD:{}", path.trim_start_matches('/'));
    match git(dir.path(), &["cat-file", "blob", &object], &none, None).await {
        Ok(text) => Ok(Some(text.into_bytes())),
        Err(GitError::Failed { stderr, .. })
            if stderr.contains("Not a valid object name")
                || stderr.contains("does not exist")
                || stderr.contains("bad file") =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Branch names go on git's command line: refuse ones it would read as options.
pub fn check_branch(branch: &str) -> Result<(), GitError> {
    let ok = !branch.is_empty()
        && !branch.starts_with('-')
        && !branch.contains("..")
        && branch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(())
    } else {
        Err(GitError::Refused(format!(
            "'{branch}' is not a valid branch name"
        )))
    }
}
