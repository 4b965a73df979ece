//! Opening a store: connection pools, pragmas and migrations per database.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::sql::{Dialect, PgConn, PgTx, SqliteConn, SqliteTx, Tx};
use crate::Result;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Page size of new SQLite databases (an existing file keeps its own). A
/// stitched entity is about 2 KB of JSON: with the default 4 KiB pages only
/// one fits on a page and the rest of the page stays empty. Measured on the
/// 100k catalog benchmark against 4 KiB: a 5% smaller file, 12% less CPU.
const PAGE_SIZE: u32 = 16384;

/// Page cache sizes (negative: KiB) of the SQLite connections. A larger
/// writer cache measured no faster (its misses are served from the OS page
/// cache) and only adds to the resident set.
const WRITER_CACHE_KIB: &str = "-16384";
const READER_CACHE_KIB: &str = "-4096";

pub(crate) enum Pools {
    /// One writer connection (SQLite allows one writer; queuing in the pool
    /// avoids `database is locked`), several readers in WAL mode.
    Sqlite {
        writer: sqlx::SqlitePool,
        reader: sqlx::SqlitePool,
    },
    Postgres(sqlx::PgPool),
}

/// Removes the backing file of an in-memory (`:memory:`) store when dropped.
pub(crate) struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{}", self.0.display(), suffix));
        }
    }
}

pub(crate) struct Connection {
    pub pools: Pools,
    pub _temp: Option<Arc<TempDb>>,
    /// Stops the SQLite checkpointer when the store goes away.
    pub _checkpointer: Option<tokio::sync::oneshot::Sender<()>>,
}

/// How often the background checkpointer copies committed WAL pages back
/// into the SQLite database file. A page changed by several commits in
/// between is copied once: every 250 ms instead wrote a quarter more bytes
/// during a bulk ingestion.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

/// Copies committed pages from the WAL into the database file on its own
/// connection (and so its own thread), while the writer keeps writing.
/// Without it the writer does all of that copying itself, inside a commit,
/// whenever the WAL passes `wal_autocheckpoint` pages. That limit stays as
/// the backstop which lets the WAL restart from the beginning: by the time
/// the writer reaches it, most pages have been copied already. PASSIVE never
/// waits for readers or the writer.
fn spawn_checkpointer(pool: sqlx::SqlitePool) -> tokio::sync::oneshot::Sender<()> {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tokio::time::sleep(CHECKPOINT_EVERY) => {}
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::debug!("background checkpoint failed: {e}");
            }
        }
        pool.close().await;
    });
    stop
}

impl Connection {
    /// Opens (creating if needed) a SQLite database file; `None` gives a private
    /// throwaway database (`:memory:` in config) backed by a temporary file so the
    /// reader and writer pools see the same data.
    pub async fn sqlite(path: Option<&Path>) -> Result<Self> {
        let (path, temp) = match path {
            Some(p) => (p.to_path_buf(), None),
            None => {
                let p =
                    std::env::temp_dir().join(format!("greenroom-mem-{}.db", uuid::Uuid::new_v4()));
                (p.clone(), Some(Arc::new(TempDb(p))))
            }
        };
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    crate::StoreError::Input(format!(
                        "cannot create database directory {}: {e}",
                        dir.display()
                    ))
                })?;
            }
        }
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .page_size(PAGE_SIZE)
            .pragma("temp_store", "memory");
        // The writer keeps the hot index pages of large batches in its cache; readers
        // mostly touch a query's few pages.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                opts.clone()
                    .pragma("cache_size", WRITER_CACHE_KIB)
                    // Fewer, larger checkpoints: a page changed by several batches in
                    // between is copied back into the database file once (20000
                    // pages of 16 KiB: about 330 MB of WAL during a bulk ingestion).
                    .pragma("wal_autocheckpoint", "20000")
                    // Once the WAL restarts, the file shrinks back to this size
                    // instead of keeping its largest length on disk.
                    .pragma("journal_size_limit", "67108864"),
            )
            .await?;
        SQLITE_MIGRATIONS.run(&writer).await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone().pragma("cache_size", "-1024"))
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.read_only(true).pragma("cache_size", READER_CACHE_KIB))
            .await?;
        Ok(Self {
            pools: Pools::Sqlite { writer, reader },
            _temp: temp,
            _checkpointer: Some(spawn_checkpointer(checkpointer)),
        })
    }

    pub async fn postgres(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(30))
            // Statements are prepared and cached per connection; a generic plan
            // ignores the filter values, and how many entities a value matches
            // ranges from one to most of the catalog, so every execution is
            // planned for its own values. Pages stop after `limit` index rows:
            // starting parallel workers costs more than it saves.
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::Executor::execute(
                        &mut *conn,
                        "SET plan_cache_mode = force_custom_plan; SET max_parallel_workers_per_gather = 0",
                    )
                    .await
                    .map(|_| ())
                })
            })
            .connect(url)
            .await?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        Ok(Self {
            pools: Pools::Postgres(pool),
            _temp: None,
            _checkpointer: None,
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.pools {
            Pools::Sqlite { .. } => Dialect::Sqlite,
            Pools::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A write transaction.
    pub async fn write(&self) -> Result<Box<dyn Tx>> {
        Ok(match &self.pools {
            Pools::Sqlite { writer, .. } => Box::new(SqliteTx(writer.begin().await?)),
            Pools::Postgres(pool) => Box::new(PgTx(pool.begin().await?)),
        })
    }

    /// A connection for reads (no transaction).
    pub async fn read(&self) -> Result<Box<dyn Tx>> {
        Ok(match &self.pools {
            Pools::Sqlite { reader, .. } => Box::new(SqliteConn(reader.acquire().await?)),
            Pools::Postgres(pool) => Box::new(PgConn(pool.acquire().await?)),
        })
    }
}
