//! The app-config the benchmarks hand to the server: loopback only, a
//! dedicated database, the generated catalog as the single configured
//! location (or, for `scaffolder-bench`, the templates, the demo
//! organisation and a Git host), and a refresh interval long enough that
//! periodic reprocessing does not overlap the measurement.

use std::path::Path;

use serde_json::{json, Value};

/// Where the server keeps its state during the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BenchDatabase {
    /// SQLite file (created by the server).
    Sqlite { file: String },
    /// PostgreSQL connection URL of a database made for this run.
    Postgres { url: String },
}

/// Kinds the generated catalog contains; all are allowed by `catalog.rules`.
pub const ALLOWED_KINDS: &[&str] = &[
    "Component",
    "System",
    "API",
    "Resource",
    "Location",
    "Group",
    "User",
    "Domain",
];

/// `backend`: loopback on `port`, `database`.
fn backend(port: u16, database: &BenchDatabase) -> Value {
    let database = match database {
        BenchDatabase::Sqlite { file } => {
            json!({"client": "sqlite", "connection": {"filename": file}})
        }
        BenchDatabase::Postgres { url } => json!({"client": "pg", "connection": url}),
    };
    json!({
        "baseUrl": format!("http://127.0.0.1:{port}"),
        "listen": {"host": "127.0.0.1", "port": port},
        "database": database,
    })
}

pub fn app_config(port: u16, database: &BenchDatabase, location_file: &Path) -> Value {
    json!({
        "app": {"title": "Greenroom catalog benchmark"},
        "backend": backend(port, database),
        "catalog": {
            "rules": [{"allow": ALLOWED_KINDS}],
            "locations": [{"type": "file", "target": location_file.to_string_lossy()}],
            "processingInterval": {"minutes": 30},
            "orphanStrategy": "keep",
        },
    })
}

pub fn app_config_yaml(
    port: u16,
    database: &BenchDatabase,
    location_file: &Path,
) -> anyhow::Result<String> {
    Ok(serde_saphyr::to_string(&app_config(
        port,
        database,
        location_file,
    ))?)
}

/// Host name of the benchmark's Git integration. It only has to match the
/// `repoUrl` values: the server maps it to `remoteBaseUrl` and never resolves it.
pub const BENCH_GIT_HOST: &str = "git.bench";

/// What `scaffolder-bench` configures besides the database: the catalog
/// files to load and where the Git repositories live.
#[derive(Debug, Clone)]
pub struct ScaffolderSetup<'a> {
    /// `file` locations: the templates and the organisation that owns them.
    pub locations: &'a [&'a Path],
    /// `file://<root>` or `git://127.0.0.1:<port>`.
    pub remote_base_url: &'a str,
    /// Lets `publish:git` create missing `file://` repositories.
    pub create_repositories: bool,
    /// Where task workspaces go (inside the temporary directory).
    pub working_directory: &'a Path,
}

/// The app-config of `scaffolder-bench`: one Git host, the GitOps repository
/// `platform/gitops` on it, and the template and organisation locations.
pub fn scaffolder_app_config(
    port: u16,
    database: &BenchDatabase,
    setup: &ScaffolderSetup,
) -> Value {
    let locations: Vec<Value> = setup
        .locations
        .iter()
        .map(|path| json!({"type": "file", "target": path.to_string_lossy()}))
        .collect();
    let mut kinds = ALLOWED_KINDS.to_vec();
    kinds.push("Template");
    json!({
        "app": {"title": "Greenroom scaffolder benchmark"},
        "backend": backend(port, database),
        "integrations": {"git": [{
            "host": BENCH_GIT_HOST,
            "remoteBaseUrl": setup.remote_base_url,
            "createRepositories": setup.create_repositories,
        }]},
        "scaffolder": {
            "workingDirectory": setup.working_directory.to_string_lossy(),
            "gitops": {
                "repoUrl": format!("{BENCH_GIT_HOST}?owner=platform&repo=gitops"),
                "branch": "main",
            },
        },
        "catalog": {
            "rules": [{"allow": kinds}],
            "locations": locations,
            // Periodic reprocessing of the demo catalog would overlap the
            // timed tasks; registered locations are processed regardless.
            "processingInterval": {"minutes": 30},
        },
    })
}

pub fn scaffolder_app_config_yaml(
    port: u16,
    database: &BenchDatabase,
    setup: &ScaffolderSetup,
) -> anyhow::Result<String> {
    Ok(serde_saphyr::to_string(&scaffolder_app_config(
        port, database, setup,
    ))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_config_listens_on_loopback_and_registers_the_location() {
        let db = BenchDatabase::Sqlite {
            file: "/tmp/x/catalog.sqlite".into(),
        };
        let yaml = app_config_yaml(4321, &db, Path::new("/tmp/x/catalog-location.yaml")).unwrap();
        let config: Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(config["backend"]["listen"]["host"], "127.0.0.1");
        assert_eq!(config["backend"]["listen"]["port"], 4321);
        assert_eq!(config["backend"]["baseUrl"], "http://127.0.0.1:4321");
        assert_eq!(config["backend"]["database"]["client"], "sqlite");
        assert_eq!(
            config["backend"]["database"]["connection"]["filename"],
            "/tmp/x/catalog.sqlite"
        );
        assert_eq!(
            config["catalog"]["locations"],
            json!([{"type": "file", "target": "/tmp/x/catalog-location.yaml"}])
        );
        assert_eq!(
            config["catalog"]["processingInterval"],
            json!({"minutes": 30})
        );
        assert_eq!(config["catalog"]["orphanStrategy"], "keep");
        assert_eq!(
            config["catalog"]["rules"][0]["allow"]
                .as_array()
                .unwrap()
                .len(),
            8
        );
    }

    #[test]
    fn scaffolder_config_maps_the_git_host_and_the_gitops_repository() {
        let db = BenchDatabase::Sqlite {
            file: "/tmp/s/greenroom.sqlite".into(),
        };
        let locations = [
            Path::new("/r/templates/all.yaml"),
            Path::new("/r/demo/all.yaml"),
        ];
        let setup = ScaffolderSetup {
            locations: &locations,
            remote_base_url: "file:///tmp/s/git",
            create_repositories: true,
            working_directory: Path::new("/tmp/s/work"),
        };
        let yaml = scaffolder_app_config_yaml(5000, &db, &setup).unwrap();
        let config: Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(config["backend"]["listen"]["host"], "127.0.0.1");
        assert_eq!(
            config["integrations"]["git"],
            json!([{"host": "git.bench", "remoteBaseUrl": "file:///tmp/s/git", "createRepositories": true}])
        );
        assert_eq!(
            config["scaffolder"]["gitops"],
            json!({"repoUrl": "git.bench?owner=platform&repo=gitops", "branch": "main"})
        );
        assert_eq!(config["scaffolder"]["workingDirectory"], "/tmp/s/work");
        assert_eq!(
            config["catalog"]["locations"][1]["target"],
            "/r/demo/all.yaml"
        );
        let kinds = config["catalog"]["rules"][0]["allow"].as_array().unwrap();
        assert!(kinds.contains(&json!("Template")) && kinds.contains(&json!("Group")));
    }

    #[test]
    fn postgres_config_uses_the_connection_url() {
        let db = BenchDatabase::Postgres {
            url: "postgres://postgres@127.0.0.1:5432/greenroom_bench_ab".into(),
        };
        let config = app_config(1, &db, Path::new("loc.yaml"));
        assert_eq!(config["backend"]["database"]["client"], "pg");
        assert_eq!(
            config["backend"]["database"]["connection"],
            "postgres://postgres@127.0.0.1:5432/greenroom_bench_ab"
        );
    }
}
