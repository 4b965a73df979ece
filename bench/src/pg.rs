//! A throw-away PostgreSQL database per benchmark run, so runs never see each
//! other's data and nothing is left behind.

use anyhow::{bail, Context};
use sqlx::{Connection, Executor, PgConnection};
use url::Url;

/// Only loopback servers: the benchmark must not send traffic elsewhere.
pub fn ensure_loopback(url: &Url) -> anyhow::Result<()> {
    match url.host_str() {
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1") => Ok(()),
        Some(other) => {
            bail!("--pg-url must point at a loopback PostgreSQL (127.0.0.1), not '{other}'")
        }
        None => bail!("--pg-url has no host"),
    }
}

/// `admin_url` with its database replaced by `database`.
pub fn database_url(admin_url: &str, database: &str) -> anyhow::Result<String> {
    let mut url =
        Url::parse(admin_url).with_context(|| format!("--pg-url '{admin_url}' is not a URL"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        bail!("--pg-url must start with postgres:// or postgresql://, got '{admin_url}'");
    }
    ensure_loopback(&url)?;
    url.set_path(&format!("/{database}"));
    Ok(url.to_string())
}

/// A database created by [`TempDatabase::create`]; call [`TempDatabase::drop_now`]
/// when done (after the server that used it has stopped).
pub struct TempDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TempDatabase {
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let name = format!("greenroom_bench_{:016x}", rand::random::<u64>());
        let url = database_url(admin_url, &name)?;
        let mut admin = connect(admin_url).await?;
        // The name is generated from hex digits only, so quoting is safe.
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .with_context(|| format!("cannot create database {name}"))?;
        admin.close().await.ok();
        Ok(Self {
            admin_url: admin_url.to_string(),
            name,
            url,
        })
    }

    pub async fn drop_now(self) -> anyhow::Result<()> {
        let mut admin = connect(&self.admin_url).await?;
        // FORCE ends sessions a killed server may have left behind.
        admin
            .execute(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name).as_str())
            .await
            .with_context(|| format!("cannot drop database {}", self.name))?;
        admin.close().await.ok();
        Ok(())
    }
}

async fn connect(url: &str) -> anyhow::Result<PgConnection> {
    ensure_loopback(&Url::parse(url).with_context(|| format!("'{url}' is not a URL"))?)?;
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        PgConnection::connect(url),
    )
    .await
    .with_context(|| format!("timed out connecting to PostgreSQL at {url}"))?
    .with_context(|| format!("cannot connect to PostgreSQL at {url}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_replaces_the_path() {
        assert_eq!(
            database_url(
                "postgres://postgres@127.0.0.1:5432/postgres",
                "greenroom_bench_1"
            )
            .unwrap(),
            "postgres://postgres@127.0.0.1:5432/greenroom_bench_1"
        );
        assert_eq!(
            database_url("postgresql://u:p@localhost/x?sslmode=disable", "db").unwrap(),
            "postgresql://u:p@localhost/db?sslmode=disable"
        );
    }

    #[test]
    fn non_loopback_and_non_postgres_urls_are_refused() {
        let err = database_url("postgres://postgres@db.internal:5432/postgres", "x").unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
        let err = database_url("mysql://127.0.0.1/x", "x").unwrap_err();
        assert!(err.to_string().contains("postgres://"), "{err}");
        let err = database_url("not a url", "x").unwrap_err();
        assert!(err.to_string().contains("is not a URL"), "{err}");
    }

    /// Creates and drops a real database on the local PostgreSQL.
    #[tokio::test]
    async fn temp_database_is_created_and_dropped() {
        let admin = std::env::var("GREENROOM_BENCH_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let db = TempDatabase::create(&admin).await.unwrap();
        assert!(db.name.starts_with("greenroom_bench_"));
        let mut conn = connect(&db.url).await.unwrap();
        let one: (i32,) = sqlx::query_as("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(one.0, 1);
        conn.close().await.unwrap();
        let name = db.name.clone();
        db.drop_now().await.unwrap();
        let mut admin_conn = connect(&admin).await.unwrap();
        let exists: Option<(String,)> =
            sqlx::query_as("SELECT datname FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_optional(&mut admin_conn)
                .await
                .unwrap();
        assert!(exists.is_none(), "{name} still exists");
    }
}
