//! Git repositories in temporary directories.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::paths::repo_root;

/// Runs `git` in `dir` with a fixed identity, `main` as the default branch and
/// no commit signing; fails the test when git fails. Returns its standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Greenroom test",
            "-c",
            "user.email=test@greenroom.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Copies the directory `from` into `to` (created), recursively.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The bare repository path of the GitOps repository, relative to a Git root.
pub const GITOPS_REPO: &str = "platform/gitops.git";

/// Creates the GitOps repository under `root` (bare, at [`GITOPS_REPO`]),
/// holding the example platform in `deploy/gitops` (XRDs) as one commit on
/// `main`; returns its path.
pub fn seed_gitops(root: &Path) -> PathBuf {
    let work = root.join("gitops-work");
    copy_tree(&repo_root().join("deploy/gitops"), &work);
    git(&work, &["init", "-q", "-b", "main"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "GitOps repository"]);
    std::fs::create_dir_all(root.join("platform")).unwrap();
    git(
        root,
        &["clone", "-q", "--bare", work.to_str().unwrap(), GITOPS_REPO],
    );
    std::fs::remove_dir_all(&work).unwrap();
    root.join(GITOPS_REPO)
}
