//! Test support shared by every crate's tests: a fresh database per test on
//! SQLite and on PostgreSQL. In CI (`CI=true`) an unreachable PostgreSQL is a
//! failure, never a silent skip.

use crate::SqlStore;

/// The PostgreSQL server used by tests (`GREENROOM_TEST_PG_URL`, default the local server).
pub fn postgres_admin_url() -> String {
    std::env::var("GREENROOM_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !v.is_empty() && v != "false" && v != "0")
        .unwrap_or(false)
}

/// A database created for one test and dropped with it.
pub struct TestPostgres {
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestPostgres {
    /// Creates an empty database; None (with a loud message) when PostgreSQL is not
    /// reachable outside CI or when `GREENROOM_SKIP_PG` is set outside CI.
    pub async fn create() -> Option<Self> {
        use sqlx::Connection;
        let admin_url = postgres_admin_url();
        if std::env::var("GREENROOM_SKIP_PG").is_ok() && !in_ci() {
            eprintln!("PostgreSQL tests skipped: GREENROOM_SKIP_PG is set");
            return None;
        }
        let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
            Ok(c) => c,
            Err(e) if !in_ci() => {
                eprintln!("PostgreSQL tests SKIPPED: cannot connect to {admin_url}: {e}");
                return None;
            }
            Err(e) => panic!("PostgreSQL is required in CI but {admin_url} is unreachable: {e}"),
        };
        let name = format!("greenroom_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let mut url = url::Url::parse(&admin_url).expect("GREENROOM_TEST_PG_URL is a URL");
        url.set_path(&format!("/{name}"));
        Some(Self {
            url: url.to_string(),
            admin_url,
            name,
        })
    }

    pub async fn store(&self) -> SqlStore {
        SqlStore::postgres(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        // Drop the database from a separate runtime: Drop cannot be async.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}
