//! Resolving `backend.database` into something a store can connect to.
//! Backstage accepts `client: better-sqlite3 | sqlite3 | sqlite` and `client: pg`;
//! the pg connection is a URL string or a knex-style object.

use std::fmt;
use std::path::{Path, PathBuf};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use super::{ConfigError, DatabaseConfig};

/// Where the SQLite database file lives when the config names none.
pub const DEFAULT_SQLITE_FILE: &str = "./data/greenroom.db";
/// The file name used when the config gives a SQLite `directory`.
const SQLITE_FILE_IN_DIRECTORY: &str = "greenroom.db";

/// The resolved database to connect to.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    Sqlite(SqliteLocation),
    /// A `postgres://` connection URL (may carry a password: never log it; `Debug` redacts it).
    Postgres {
        url: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteLocation {
    Memory,
    File(PathBuf),
}

impl DatabaseTarget {
    /// A sqlx connection URL: `sqlite::memory:`, `sqlite://<file>?mode=rwc`, or the pg URL.
    pub fn url(&self) -> String {
        match self {
            DatabaseTarget::Sqlite(SqliteLocation::Memory) => "sqlite::memory:".into(),
            DatabaseTarget::Sqlite(SqliteLocation::File(path)) => {
                format!("sqlite://{}?mode=rwc", path.display())
            }
            DatabaseTarget::Postgres { url } => url.clone(),
        }
    }

    /// Creates the directory that will hold a SQLite file (no-op otherwise).
    /// Call before connecting; config loading itself never touches the disk.
    pub fn ensure_directory(&self) -> std::io::Result<()> {
        if let DatabaseTarget::Sqlite(SqliteLocation::File(path)) = self {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseTarget::Sqlite(loc) => f.debug_tuple("Sqlite").field(loc).finish(),
            DatabaseTarget::Postgres { url } => f
                .debug_struct("Postgres")
                .field("url", &redact_url(url))
                .finish(),
        }
    }
}

/// Replaces the password of a URL with `***` (unparseable URLs are hidden entirely).
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable url>".into(),
    }
}

pub(super) fn resolve(db: &DatabaseConfig) -> Result<DatabaseTarget, ConfigError> {
    let invalid = |field: &str, message: String| ConfigError::Invalid {
        path: format!("backend.database.{field}"),
        message,
    };
    match db.client.as_str() {
        "sqlite" | "sqlite3" | "better-sqlite3" => {
            resolve_sqlite(db.connection.as_ref()).map_err(|m| invalid("connection", m))
        }
        "pg" | "postgres" | "postgresql" => {
            resolve_postgres(db.connection.as_ref()).map_err(|m| invalid("connection", m))
        }
        other => Err(invalid(
            "client",
            format!(
                "unsupported client '{other}' (expected better-sqlite3, sqlite3, sqlite or pg)"
            ),
        )),
    }
}

fn resolve_sqlite(connection: Option<&Value>) -> Result<DatabaseTarget, String> {
    let location = match connection {
        None | Some(Value::Null) => SqliteLocation::File(PathBuf::from(DEFAULT_SQLITE_FILE)),
        Some(Value::String(s)) if s == ":memory:" => SqliteLocation::Memory,
        Some(Value::String(s)) if !s.is_empty() => SqliteLocation::File(PathBuf::from(s)),
        Some(Value::Object(obj)) => {
            if let Some(bad) = obj
                .keys()
                .find(|k| !matches!(k.as_str(), "filename" | "directory"))
            {
                return Err(format!(
                    "unknown field '{bad}' (expected filename or directory)"
                ));
            }
            match (obj.get("filename"), obj.get("directory")) {
                (Some(Value::String(f)), None) if f == ":memory:" => SqliteLocation::Memory,
                (Some(Value::String(f)), None) if !f.is_empty() => {
                    SqliteLocation::File(PathBuf::from(f))
                }
                (None, Some(Value::String(d))) if !d.is_empty() => {
                    SqliteLocation::File(Path::new(d).join(SQLITE_FILE_IN_DIRECTORY))
                }
                _ => {
                    return Err(
                        "expected exactly one of filename or directory, as a non-empty string"
                            .into(),
                    )
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "expected ':memory:', a file name or {{filename}}, got {}",
                kind_of(other)
            ))
        }
    };
    Ok(DatabaseTarget::Sqlite(location))
}

/// Characters kept as-is in URL user info and path segments.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn resolve_postgres(connection: Option<&Value>) -> Result<DatabaseTarget, String> {
    match connection {
        Some(Value::String(url)) => {
            let parsed = url::Url::parse(url).map_err(|e| format!("invalid connection string: {e}"))?;
            if !matches!(parsed.scheme(), "postgres" | "postgresql") {
                return Err(format!("connection string must start with postgres:// or postgresql://, got {}://", parsed.scheme()));
            }
            Ok(DatabaseTarget::Postgres { url: url.clone() })
        }
        Some(Value::Object(obj)) => {
            const KNOWN: [&str; 6] = ["host", "port", "user", "password", "database", "ssl"];
            if let Some(bad) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
                return Err(format!("unknown field '{bad}' (expected one of {})", KNOWN.join(", ")));
            }
            let text = |key: &str| -> Result<Option<String>, String> {
                match obj.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(Value::Number(n)) if key == "port" => Ok(Some(n.to_string())),
                    Some(other) => Err(format!("{key}: expected a string, got {}", kind_of(other))),
                }
            };
            let host = text("host")?.unwrap_or_else(|| "localhost".into());
            let port = match text("port")? {
                Some(p) => Some(p.parse::<u16>().map_err(|_| format!("port: invalid port '{p}'"))?),
                None => None,
            };
            let mut url = String::from("postgres://");
            if let Some(user) = text("user")? {
                url.push_str(&utf8_percent_encode(&user, COMPONENT).to_string());
                if let Some(password) = text("password")? {
                    url.push(':');
                    url.push_str(&utf8_percent_encode(&password, COMPONENT).to_string());
                }
                url.push('@');
            }
            url.push_str(&bracket_ipv6(&host));
            if let Some(port) = port {
                url.push_str(&format!(":{port}"));
            }
            if let Some(database) = text("database")? {
                url.push('/');
                url.push_str(&utf8_percent_encode(&database, COMPONENT).to_string());
            }
            match obj.get("ssl") {
                None | Some(Value::Null) => {}
                Some(Value::Bool(false)) => url.push_str("?sslmode=disable"),
                Some(Value::Bool(true)) | Some(Value::Object(_)) => url.push_str("?sslmode=require"),
                Some(other) => return Err(format!("ssl: expected true, false or an object, got {}", kind_of(other))),
            }
            Ok(DatabaseTarget::Postgres { url })
        }
        None | Some(Value::Null) => Err("client pg needs a connection (a postgres:// URL or {host, port, user, password, database})".into()),
        Some(other) => Err(format!("expected a postgres:// URL or an object, got {}", kind_of(other))),
    }
}

fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The JSON type of a value, for error messages that must not echo secrets.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
