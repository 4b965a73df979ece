//! The app-config the benchmark hands to the server: loopback only, a
//! dedicated database, the generated catalog as the single configured
//! location, and a refresh interval long enough that periodic reprocessing
//! does not overlap the measurement.

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

pub fn app_config(port: u16, database: &BenchDatabase, location_file: &Path) -> Value {
    let database = match database {
        BenchDatabase::Sqlite { file } => {
            json!({"client": "sqlite", "connection": {"filename": file}})
        }
        BenchDatabase::Postgres { url } => json!({"client": "pg", "connection": url}),
    };
    json!({
        "app": {"title": "Greenroom catalog benchmark"},
        "backend": {
            "baseUrl": format!("http://127.0.0.1:{port}"),
            "listen": {"host": "127.0.0.1", "port": port},
            "database": database,
        },
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
