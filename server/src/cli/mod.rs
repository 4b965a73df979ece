//! The `greenroom` command line: `serve` (the default), `catalog validate`,
//! `template validate|dry-run`, `docs build|serve` and `policy test`.
//! `main.rs` only calls [`main`].

mod against;
mod docs;
mod policy;
mod spans;
mod template;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "greenroom",
    version,
    about = "Greenroom developer portal: a Backstage-compatible catalog API and web UI in one binary",
    long_about = "Greenroom developer portal: a Backstage-compatible catalog API and web UI in one binary.\n\n\
                  Without a subcommand it runs `serve`, so `greenroom --config FILE` starts the server.",
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  \
                  greenroom                                   serve with ./app-config.yaml (+ app-config.local.yaml)\n  \
                  greenroom --config app-config.yaml --config prod.yaml\n  \
                  greenroom catalog validate catalog-info.yaml\n  \
                  greenroom catalog validate services/ --against http://localhost:7007\n  \
                  greenroom template validate templates/rust-service\n  \
                  greenroom template dry-run templates/rust-service --values values.yaml --gitops deploy/gitops\n  \
                  greenroom docs build . --output site\n  \
                  greenroom docs serve .\n  \
                  greenroom policy test permission-policy.test.yaml\n\n\
                  Environment:\n  \
                  RUST_LOG              log filter, e.g. `info` (default) or `greenroom=debug,info`\n  \
                  GREENROOM_LOG_FORMAT  `json` for one JSON object per log line\n  \
                  APP_CONFIG_<a>_<b>    overrides config key a.b (value parsed as JSON when possible)"
)]
pub struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the portal server (API, web UI, background catalog processing).
    Serve(ServeArgs),
    /// Work with catalog descriptor files.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Check and dry-run Software Templates (template.yaml + skeleton).
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Build and preview TechDocs sites (mkdocs projects) without Python.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// Work with permission policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Run a permission policy's test cases (users, permissions, resources,
    /// expected decisions). Exits with status 1 when a case fails.
    Test(policy::PolicyTestArgs),
}

#[derive(Debug, Subcommand)]
enum DocsCommand {
    /// Build a mkdocs project into a static site, as the server does for TechDocs.
    /// Exits with status 1 on errors (and on warnings with --strict).
    Build(docs::DocsBuildArgs),
    /// Serve a live preview of a mkdocs project, rebuilt when its files change.
    Serve(docs::DocsServeArgs),
}

#[derive(Debug, Subcommand)]
enum TemplateCommand {
    /// Check a template: envelope, parameter schemas, action ids and inputs,
    /// expressions and what they refer to. Exits with status 1 on problems.
    Validate(template::TemplateValidateArgs),
    /// Run every step in dry-run mode with the given values; print the log,
    /// the files it would produce (GitOps files under gitops/) and the output.
    DryRun(template::TemplateDryRunArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Configuration file; repeat to layer files, later ones override earlier ones.
    /// Default: app-config.yaml, then app-config.local.yaml when it exists.
    #[arg(long = "config", value_name = "FILE")]
    config: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Check catalog descriptor files (catalog-info.yaml) with the server's own rules.
    ///
    /// Prints one `<file>:<line>: <field>: <message>` line per problem and a summary;
    /// exits with status 1 when any problem is found.
    Validate(validate::ValidateArgs),
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Catalog(CatalogCommand::Validate(args))) => validate::run(args),
        Some(Command::Template(TemplateCommand::Validate(args))) => template::validate(args),
        Some(Command::Template(TemplateCommand::DryRun(args))) => template::dry_run_command(args),
        Some(Command::Docs(DocsCommand::Build(args))) => docs::build(args),
        Some(Command::Docs(DocsCommand::Serve(args))) => docs::serve(args),
        Some(Command::Policy(PolicyCommand::Test(args))) => policy::test(args),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    crate::telemetry::init();
    let defaults = args.config.is_empty();
    let paths = if defaults {
        crate::config::default_paths()
    } else {
        args.config
    };
    let config = match crate::config::load(&paths) {
        Ok(config) => {
            tracing::info!(files = ?paths, "configuration loaded");
            config
        }
        Err(err) => {
            eprintln!("error: invalid configuration: {err}");
            if defaults && matches!(err, crate::config::ConfigError::Read { .. }) {
                eprintln!(
                    "hint: run from the directory holding app-config.yaml, or pass --config FILE"
                );
            }
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crate::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Logged (not printed) so JSON log shippers see it too.
            tracing::error!(error = format!("{err:#}"), "server stopped with an error");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bare_config_flags_mean_serve() {
        let cli =
            Cli::try_parse_from(["greenroom", "--config", "a.yaml", "--config", "b.yaml"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(
            cli.serve.config,
            vec![PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]
        );
        let cli = Cli::try_parse_from(["greenroom", "serve", "--config", "c.yaml"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Serve(ServeArgs { ref config })) if config == &[PathBuf::from("c.yaml")])
        );
    }

    #[test]
    fn validate_takes_paths_and_against() {
        let cli = Cli::try_parse_from([
            "greenroom",
            "catalog",
            "validate",
            "a.yaml",
            "dir",
            "--against",
            "http://localhost:7007",
        ])
        .unwrap();
        let Some(Command::Catalog(CatalogCommand::Validate(args))) = cli.command else {
            panic!("not validate")
        };
        assert_eq!(
            args.paths,
            vec![PathBuf::from("a.yaml"), PathBuf::from("dir")]
        );
        assert_eq!(args.against.as_deref(), Some("http://localhost:7007"));
        assert!(
            Cli::try_parse_from(["greenroom", "catalog", "validate"]).is_err(),
            "a path is required"
        );
        assert!(
            Cli::try_parse_from(["greenroom", "--config", "x", "catalog", "validate", "a"])
                .is_err()
        );
    }
}
