//! The `git` CLI for `scaffolder-bench`: bare repositories under a local
//! root (the Git host the server pushes to), seeded the way `scripts/run`
//! seeds the demo GitOps repository, and checks of what a task pushed.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context};
use tokio::process::Command;

/// Runs `git <args>` and returns its stdout; a failure quotes git's stderr.
/// The identity and initial branch are set here so the user's git
/// configuration cannot change what the benchmark creates.
pub async fn git<I, S>(args: I) -> anyhow::Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<S> = args.into_iter().collect();
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Greenroom benchmark",
            "-c",
            "user.email=bench@greenroom.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .await
        .context("cannot run git; is it installed and on PATH?")?;
    if !out.status.success() {
        bail!(
            "git {} failed ({}): {}",
            shown.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `git init --bare` at `path` (and its parents), HEAD on `main`.
pub async fn init_bare(path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(path).with_context(|| format!("cannot create {}", path.display()))?;
    git([
        OsStr::new("init"),
        OsStr::new("-q"),
        OsStr::new("--bare"),
        OsStr::new("-b"),
        OsStr::new("main"),
        path.as_os_str(),
    ])
    .await?;
    Ok(())
}

/// Creates the bare repository `bare` holding one commit on `main` with the
/// files of `source`, as `scripts/run` does for the demo GitOps repository.
/// The commit is made in `scratch` (a new directory, removed afterwards)
/// with `source` as its work tree, so `source` itself is not touched.
pub async fn seed_bare_repo(source: &Path, bare: &Path, scratch: &Path) -> anyhow::Result<()> {
    if !source.is_dir() {
        bail!("{} is not a directory", source.display());
    }
    init_bare(bare).await?;
    git([OsStr::new("init"), OsStr::new("-q"), scratch.as_os_str()]).await?;
    let git_dir = scratch.join(".git");
    let in_scratch = |rest: &[&OsStr]| {
        let mut args = vec![
            OsStr::new("--git-dir").to_os_string(),
            git_dir.as_os_str().to_os_string(),
            OsStr::new("--work-tree").to_os_string(),
            source.as_os_str().to_os_string(),
        ];
        args.extend(rest.iter().map(|a| a.to_os_string()));
        args
    };
    git(in_scratch(&[OsStr::new("add"), OsStr::new("-A")])).await?;
    git(in_scratch(&[
        OsStr::new("commit"),
        OsStr::new("-q"),
        OsStr::new("-m"),
        OsStr::new("GitOps repository from deploy/gitops"),
    ]))
    .await?;
    git(in_scratch(&[
        OsStr::new("push"),
        OsStr::new("-q"),
        bare.as_os_str(),
        OsStr::new("main"),
    ]))
    .await?;
    std::fs::remove_dir_all(scratch)
        .with_context(|| format!("cannot remove {}", scratch.display()))?;
    Ok(())
}

/// Whether `path` is a file on `branch` of the bare repository `bare`.
pub async fn file_on_branch(bare: &Path, branch: &str, path: &str) -> anyhow::Result<bool> {
    if !bare.is_dir() {
        return Ok(false);
    }
    let status = Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(["cat-file", "-e", &format!("{branch}:{path}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .context("cannot run git")?;
    Ok(status.success())
}
