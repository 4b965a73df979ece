//! The scaffolder: Software Templates (`scaffolder.backstage.io/v1beta3`) run
//! as tasks. A task is a database row; workers claim tasks, run their steps
//! (actions from the registry, inputs rendered with `${{ }}` expressions) and
//! record a checkpoint after every step so a task whose worker died resumes
//! after its last completed step.

pub mod actions;
pub mod api;
pub mod dry_run;
pub mod lint;
pub mod runner;
pub mod secrets;
pub mod template;
pub mod worker;
pub mod workspace;

use std::path::PathBuf;
use std::sync::Arc;

use greenroom_expressions::Renderer;
use greenroom_store::CatalogStore;

use crate::catalog::processing::Pipeline;
use crate::config::Config;
use crate::scm::{GitHosts, ScmHosts};
use actions::ActionRegistry;

/// The catalog as actions see it.
#[derive(Clone)]
pub struct CatalogAccess {
    pub store: Arc<dyn CatalogStore>,
    pub pipeline: Arc<Pipeline>,
}

/// What actions may use: configuration, the expression renderer, Git hosts,
/// the catalog (absent on the command line) and the action registry itself.
pub struct Services {
    pub config: Arc<Config>,
    pub renderer: Arc<Renderer>,
    /// Plain Git hosts, for GitOps remotes given as URLs.
    pub git_hosts: GitHosts,
    /// Every configured host (GitHub, GitLab, plain Git) by `RepoUrlPicker` host.
    pub scm: ScmHosts,
    pub catalog: Option<CatalogAccess>,
    pub actions: ActionRegistry,
    /// A local copy of the GitOps repository used instead of cloning it (the
    /// command line's `--gitops`).
    pub gitops_dir: Option<PathBuf>,
}

impl Services {
    pub fn new(config: Arc<Config>, catalog: Option<CatalogAccess>) -> Self {
        Services {
            git_hosts: GitHosts::from_config(&config),
            scm: ScmHosts::from_config(&config),
            config,
            renderer: Arc::new(Renderer::new()),
            catalog,
            actions: ActionRegistry::builtin(),
            gitops_dir: None,
        }
    }
}
