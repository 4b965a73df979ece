//! Loader tests: files on disk in a temp dir, environment supplied explicitly.

use std::path::PathBuf;

use serde_json::json;

use super::*;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn no_env() -> Env {
    Env::default()
}

fn load_err(paths: &[PathBuf], env: &Env) -> String {
    load_with_env(paths, env)
        .expect_err("expected a config error")
        .to_string()
}

#[test]
fn later_files_override_earlier_ones_deeply() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(
        &dir,
        "app-config.yaml",
        "app: {title: Base}\nbackend:\n  listen: {port: 7007, host: 127.0.0.1}\n  baseUrl: http://base\ncatalog:\n  locations:\n    - {type: file, target: a.yaml}\n    - {type: file, target: b.yaml}\n",
    );
    let local = write(&dir, "app-config.local.yaml", "backend:\n  listen: {port: 8080}\ncatalog:\n  locations:\n    - {type: url, target: http://x/c.yaml}\n");
    let config = load_with_env(&[base, local], &no_env()).unwrap();
    assert_eq!(config.app.title.as_deref(), Some("Base"));
    assert_eq!(config.backend.listen.port, 8080);
    assert_eq!(config.backend.listen.host, "127.0.0.1");
    assert_eq!(config.base_url(), "http://base");
    assert_eq!(
        config.catalog.locations.len(),
        1,
        "arrays replace, they do not concatenate"
    );
    assert_eq!(config.catalog.locations[0].target, "http://x/c.yaml");
}

#[test]
fn substitution_with_fallback_escape_and_unset_removing_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "app-config.yaml",
        "app:\n  title: ${TITLE}\n  baseUrl: http://${UNSET_HOST}:3000\nbackend:\n  baseUrl: ${BASE:-http://localhost:7007}\n  listen:\n    port: ${PORT}\norganization:\n  name: cost $${NOT_A_VAR}\n",
    );
    let env = Env::from_pairs([("TITLE", "Portal"), ("PORT", "9000")]);
    let value = load_value(std::slice::from_ref(&file), &env).unwrap();
    assert!(
        value["app"].get("baseUrl").is_none(),
        "an unset variable removes the whole key: {value}"
    );
    let config = load_with_env(&[file], &env).unwrap();
    assert_eq!(config.app.title.as_deref(), Some("Portal"));
    assert_eq!(config.app.base_url, None);
    assert_eq!(
        config.backend.base_url.as_deref(),
        Some("http://localhost:7007")
    );
    assert_eq!(
        config.backend.listen.port, 9000,
        "a substituted numeric string is a port"
    );
    assert_eq!(
        config.organization.unwrap().name.as_deref(),
        Some("cost ${NOT_A_VAR}")
    );
}

#[test]
fn unset_variable_in_a_list_drops_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "c.yaml",
        "backend:\n  cors:\n    origin: [http://a, '${UNSET}', http://b]\n",
    );
    let config = load_with_env(&[file], &no_env()).unwrap();
    assert_eq!(
        config.backend.cors.unwrap().origin,
        vec!["http://a", "http://b"]
    );
}

#[test]
fn include_file_and_env_directives_resolve_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "conf/secrets/token.txt", "s3cret-token\n\n");
    write(&dir, "conf/shared/catalog.yaml", "catalog:\n  readonly: true\n  locations:\n    - type: file\n      target: ${CATALOG_FILE}\nother: {}\n");
    write(&dir, "conf/shared/org.json", "{\"name\": \"Acme\"}");
    let main = write(
        &dir,
        "conf/app-config.yaml",
        "catalog:\n  $include: shared/catalog.yaml#catalog\norganization:\n  $include: shared/org.json\nintegrations:\n  github:\n    - host: github.com\n      token:\n        $file: secrets/token.txt\n    - host: ghe.example.com\n      token:\n        $env: GHE_TOKEN\n    - host: other.example.com\n      token:\n        $env: UNSET_TOKEN\n",
    );
    let env = Env::from_pairs([("GHE_TOKEN", "ghe-token"), ("CATALOG_FILE", "all.yaml")]);
    let config = load_with_env(&[main], &env).unwrap();
    assert!(config.catalog.readonly);
    assert_eq!(
        config.catalog.locations[0].target, "all.yaml",
        "included content is substituted"
    );
    assert_eq!(config.organization.unwrap().name.as_deref(), Some("Acme"));
    let gh = &config.integrations.github;
    assert_eq!(
        gh[0].token.as_deref(),
        Some("s3cret-token"),
        "$file trims trailing whitespace"
    );
    assert_eq!(gh[1].token.as_deref(), Some("ghe-token"));
    assert_eq!(gh[2].token, None, "$env of an unset variable is absent");
}

#[test]
fn bad_directives_are_reported_with_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let adjacent = write(
        &dir,
        "a.yaml",
        "app:\n  title:\n    $env: X\n    other: 1\n",
    );
    let err = load_err(&[adjacent], &no_env());
    assert!(
        err.contains("a.yaml")
            && err.contains("app.title")
            && err.contains("should not have adjacent keys"),
        "{err}"
    );

    let unknown = write(&dir, "b.yaml", "app:\n  title:\n    $secret: X\n");
    let err = load_err(&[unknown], &no_env());
    assert!(err.contains("app.title: unknown include $secret"), "{err}");

    let missing = write(&dir, "c.yaml", "app:\n  title:\n    $file: nope.txt\n");
    let err = load_err(&[missing], &no_env());
    assert!(
        err.contains("app.title") && err.contains("nope.txt"),
        "{err}"
    );

    let bad_ext = write(&dir, "d.yaml", "app:\n  $include: x.txt\n");
    let err = load_err(&[bad_ext], &no_env());
    assert!(
        err.contains("no configuration format available for x.txt"),
        "{err}"
    );
}

#[test]
fn include_cycle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "loop.yaml", "app:\n  $include: loop.yaml#app\n");
    let err = load_err(&[file], &no_env());
    assert!(err.contains("nested more than"), "{err}");
}

#[test]
fn app_config_env_overrides_win_over_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "app-config.yaml",
        "backend:\n  listen: {port: 7007}\n  baseUrl: http://file\n",
    );
    let env = Env::from_pairs([
        ("APP_CONFIG_backend_listen_port", "7100"),
        ("APP_CONFIG_backend_baseUrl", "http://env"),
        ("APP_CONFIG_catalog_readonly", "true"),
        ("APP_CONFIG_app_title", ""),
    ]);
    let config = load_with_env(&[file], &env).unwrap();
    assert_eq!(config.backend.listen.port, 7100, "JSON values are parsed");
    assert_eq!(
        config.base_url(),
        "http://env",
        "non-JSON values are strings"
    );
    assert!(config.catalog.readonly);
    assert_eq!(config.app.title, None, "empty values are ignored");
}

#[test]
fn bad_app_config_env_overrides_are_refused() {
    let err = load_err(
        &[],
        &Env::from_pairs([("APP_CONFIG_backend_listen_port", "null")]),
    );
    assert!(
        err.contains("APP_CONFIG_backend_listen_port") && err.contains("may not be null"),
        "{err}"
    );
    let err = load_err(&[], &Env::from_pairs([("APP_CONFIG_backend__port", "1")]));
    assert!(err.contains("invalid config key part"), "{err}");
    let err = load_err(
        &[],
        &Env::from_pairs([("APP_CONFIG_app", "\"x\""), ("APP_CONFIG_app_title", "y")]),
    );
    assert!(
        err.contains("cannot nest config under existing value 'app'"),
        "{err}"
    );
}

#[test]
fn unknown_key_error_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "app-config.yaml", "catalog:\n  foo: 1\n");
    let err = load_err(&[file], &no_env());
    assert!(err.starts_with("catalog.foo: unknown field"), "{err}");
    let file = write(&dir, "top.yaml", "kubernetes: {}\n");
    let err = load_err(&[file], &no_env());
    assert!(err.starts_with("kubernetes: unknown field"), "{err}");
    let file = write(
        &dir,
        "deep.yaml",
        "catalog:\n  locations:\n    - {type: file, target: x, tagret: y}\n",
    );
    let err = load_err(&[file], &no_env());
    assert!(
        err.starts_with("catalog.locations[0].tagret: unknown field"),
        "{err}"
    );
}

#[test]
fn wrong_type_error_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "app-config.yaml",
        "backend:\n  listen:\n    port: abc\n",
    );
    let err = load_err(&[file], &no_env());
    assert_eq!(
        err,
        "backend.listen.port: invalid type: string \"abc\", expected u16"
    );
    let file = write(&dir, "b.yaml", "catalog:\n  readonly: maybe\n");
    let err = load_err(&[file], &no_env());
    assert_eq!(
        err,
        "catalog.readonly: invalid type: string \"maybe\", expected a boolean"
    );
    let file = write(&dir, "c.yaml", "catalog:\n  orphanStrategy: forget\n");
    let err = load_err(&[file], &no_env());
    assert!(
        err.starts_with("catalog.orphanStrategy: unknown variant `forget`"),
        "{err}"
    );
}

#[test]
fn yaml_syntax_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "broken.yaml",
        "backend:\n  auth: {keys: [{secret: hunter2-secret}]}\napp: [unclosed\n",
    );
    let err = load_err(&[file], &no_env());
    assert!(
        err.starts_with("failed to parse config file") && err.contains("broken.yaml"),
        "{err}"
    );
    assert!(
        !err.contains("hunter2-secret"),
        "no source snippet in errors: {err}"
    );
    let err = load_err(&[dir.path().join("missing.yaml")], &no_env());
    assert!(
        err.starts_with("failed to read config file") && err.contains("missing.yaml"),
        "{err}"
    );
}

#[test]
fn empty_file_and_no_files_give_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(&dir, "empty.yaml", "# nothing here\n");
    let config = load_with_env(&[empty], &no_env()).unwrap();
    assert_eq!(config.backend.listen.port, 7007);
    assert_eq!(config.base_url(), "http://localhost:7007");
    assert_eq!(
        config.processing_interval_secs(),
        Some(DEFAULT_PROCESSING_INTERVAL_SECS)
    );
    assert_eq!(config.catalog.orphan_strategy, OrphanStrategy::Delete);
    assert_eq!(
        config.database().unwrap(),
        DatabaseTarget::Sqlite(SqliteLocation::File(PathBuf::from(DEFAULT_SQLITE_FILE)))
    );
}

fn config_from(value: serde_json::Value) -> Result<Config, ConfigError> {
    Config::from_value(value)
}

#[test]
fn pg_connection_object_becomes_a_url() {
    let config = config_from(json!({"backend": {"database": {"client": "pg", "connection": {
        "host": "db.internal", "port": "5433", "user": "green room", "password": "p@ss/word", "database": "portal"
    }}}}))
    .unwrap();
    let target = config.database().unwrap();
    assert_eq!(
        target,
        DatabaseTarget::Postgres {
            url: "postgres://green%20room:p%40ss%2Fword@db.internal:5433/portal".into()
        }
    );
    let debug = format!("{target:?} {config:?}");
    assert!(
        !debug.contains("p%40ss") && !debug.contains("p@ss"),
        "password leaked in Debug: {debug}"
    );

    let minimal = config_from(json!({"backend": {"database": {"client": "pg", "connection": {"host": "h", "port": 5432, "ssl": true}}}})).unwrap();
    assert_eq!(
        minimal.database().unwrap().url(),
        "postgres://h:5432?sslmode=require"
    );
}

#[test]
fn pg_connection_string_and_sqlite_forms() {
    let url = "postgresql://u:pw@localhost:5432/greenroom";
    let pg =
        config_from(json!({"backend": {"database": {"client": "pg", "connection": url}}})).unwrap();
    assert_eq!(
        pg.database().unwrap(),
        DatabaseTarget::Postgres { url: url.into() }
    );
    for client in ["sqlite", "sqlite3", "better-sqlite3"] {
        let mem = config_from(
            json!({"backend": {"database": {"client": client, "connection": ":memory:"}}}),
        )
        .unwrap();
        assert_eq!(
            mem.database().unwrap(),
            DatabaseTarget::Sqlite(SqliteLocation::Memory)
        );
    }
    let file = config_from(json!({"backend": {"database": {"client": "better-sqlite3", "connection": {"filename": "x/y.db"}}}})).unwrap();
    assert_eq!(file.database().unwrap().url(), "sqlite://x/y.db?mode=rwc");
    let dir = config_from(json!({"backend": {"database": {"client": "sqlite3", "connection": {"directory": "state"}}}})).unwrap();
    assert_eq!(
        dir.database().unwrap(),
        DatabaseTarget::Sqlite(SqliteLocation::File(PathBuf::from("state/greenroom.db")))
    );
}

#[test]
fn bad_database_settings_are_refused_with_the_path() {
    let err = config_from(json!({"backend": {"database": {"client": "mysql"}}}))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("backend.database.client: unsupported client 'mysql'"),
        "{err}"
    );
    let err = config_from(json!({"backend": {"database": {"client": "pg"}}}))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("backend.database.connection: client pg needs a connection"),
        "{err}"
    );
    let err =
        config_from(json!({"backend": {"database": {"client": "pg", "connection": "mysql://x"}}}))
            .unwrap_err()
            .to_string();
    assert!(err.contains("must start with postgres://"), "{err}");
    let err = config_from(json!({"backend": {"database": {"client": "pg", "connection": {"host": "h", "pasword": "x"}}}}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field 'pasword'"), "{err}");
    let err = config_from(json!({"backend": {"database": {"client": "pg", "connection": {"host": "h", "port": "x"}}}}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("port: invalid port 'x'"), "{err}");
}

#[test]
fn sqlite_directory_is_created_on_demand() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/data/greenroom.db");
    let target = DatabaseTarget::Sqlite(SqliteLocation::File(file.clone()));
    target.ensure_directory().unwrap();
    assert!(file.parent().unwrap().is_dir());
}

#[test]
fn processing_interval_forms() {
    let secs = |v: serde_json::Value| {
        config_from(json!({"catalog": {"processingInterval": v}}))
            .map(|c| c.processing_interval_secs())
    };
    assert_eq!(secs(json!({"seconds": 100})).unwrap(), Some(100));
    assert_eq!(
        secs(json!({"minutes": 2, "seconds": 30})).unwrap(),
        Some(150)
    );
    assert_eq!(secs(json!({"hours": 1})).unwrap(), Some(3600));
    assert_eq!(secs(json!(false)).unwrap(), None);
    let err = secs(json!({"fortnights": 1})).unwrap_err().to_string();
    assert!(
        err.starts_with("catalog.processingInterval: unknown duration unit 'fortnights'"),
        "{err}"
    );
    let err = secs(json!(true)).unwrap_err().to_string();
    assert!(
        err.starts_with("catalog.processingInterval: expected false or a duration"),
        "{err}"
    );
    let err = secs(json!({"seconds": 0})).unwrap_err().to_string();
    assert!(err.contains("at least one second"), "{err}");
}

#[test]
fn backstage_sections_are_accepted_and_secrets_stay_out_of_debug() {
    let config = config_from(json!({
        "app": {"title": "x", "baseUrl": "http://localhost:3000"},
        "backend": {"csp": {"connect-src": ["'self'"]}, "cache": {"store": "memory"}, "auth": {"keys": [{"secret": "backend-secret"}]},
                    "cors": {"origin": "http://localhost:3000", "methods": ["GET", "POST"], "credentials": true}},
        "catalog": {"rules": [{"allow": ["Component", {"kind": "API", "spec.type": "openapi"}]}],
                    "locations": [{"type": "url", "target": "https://x/org.yaml", "rules": [{"allow": ["User", "Group"]}]}],
                    "orphanStrategy": "keep", "defaultLocationConflictStrategy": "refresh",
                    "providers": {"github": {"org": {"organization": "acme"}}}},
        "integrations": {"github": [{"host": "github.com", "token": "ghp_topsecret"}], "gitlab": [{"host": "gitlab.com", "token": "glpat-secret"}]},
        "auth": {"providers": {"github": {"development": {"clientSecret": "oauth-secret"}}}},
        "scaffolder": {}, "techdocs": {"builder": "local"}, "search": {"maxPageLimit": 100}, "permission": {"enabled": false},
    }))
    .unwrap();
    let cors = config.backend.cors.as_ref().unwrap();
    assert_eq!(cors.origin, vec!["http://localhost:3000"]);
    assert!(cors.credentials);
    assert_eq!(config.catalog.orphan_strategy, OrphanStrategy::Keep);
    assert_eq!(
        config.catalog.default_location_conflict_strategy,
        Some(LocationConflictStrategy::Refresh)
    );
    assert_eq!(config.catalog.locations[0].rules.as_ref().unwrap().len(), 1);
    let debug = format!("{config:?}");
    for secret in [
        "backend-secret",
        "ghp_topsecret",
        "glpat-secret",
        "oauth-secret",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked in Debug output");
    }
}

#[test]
fn default_paths_add_the_local_file_only_when_present() {
    // Runs in the crate directory, which has neither file.
    let paths = default_paths();
    assert_eq!(paths[0], PathBuf::from(BASE_CONFIG_FILE));
    assert_eq!(
        paths.len(),
        usize::from(std::path::Path::new(LOCAL_CONFIG_FILE).is_file()) + 1
    );
}

#[test]
fn repository_app_config_and_production_layer_load() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let base = root.join("app-config.yaml");
    let config = load_with_env(std::slice::from_ref(&base), &no_env()).unwrap();
    assert_eq!(config.backend.listen.port, 7007);
    assert_eq!(config.base_url(), "http://localhost:7007");
    assert_eq!(
        config.database().unwrap(),
        DatabaseTarget::Sqlite(SqliteLocation::File(PathBuf::from(DEFAULT_SQLITE_FILE)))
    );
    assert_eq!(config.processing_interval_secs(), Some(100));
    assert_eq!(
        config.catalog.locations[0].target,
        "./demo/catalog/all.yaml"
    );
    assert_eq!(config.catalog.rules.as_ref().unwrap()[0].allow.len(), 9);
    assert!(!config.backend.reading.allow.is_empty());

    let env = Env::from_pairs([
        ("POSTGRES_HOST", "postgres"),
        ("POSTGRES_USER", "greenroom"),
        ("POSTGRES_PASSWORD", "pw"),
        ("PORT", "8080"),
    ]);
    let production = load_with_env(
        &[base, root.join("deploy/app-config.production.yaml")],
        &env,
    )
    .unwrap();
    assert_eq!(production.backend.listen.port, 8080);
    assert_eq!(
        production.database().unwrap().url(),
        "postgres://greenroom:pw@postgres:5432/greenroom"
    );
}

#[test]
fn listen_accepts_backstage_string_forms() {
    let listen = |v: serde_json::Value| {
        config_from(json!({"backend": {"listen": v}})).map(|c| c.backend.listen)
    };
    let l = listen(json!(":7100")).unwrap();
    assert_eq!((l.host.as_str(), l.port), ("0.0.0.0", 7100));
    let l = listen(json!("127.0.0.1:7200")).unwrap();
    assert_eq!((l.host.as_str(), l.port), ("127.0.0.1", 7200));
    let l = listen(json!("7300")).unwrap();
    assert_eq!(l.port, 7300);
    let err = listen(json!("localhost:http")).unwrap_err().to_string();
    assert!(
        err.starts_with("backend.listen: invalid value: string \"localhost:http\""),
        "{err}"
    );
    let err = listen(json!({"port": 1, "hots": "x"}))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("backend.listen.hots: unknown field"),
        "{err}"
    );
}
