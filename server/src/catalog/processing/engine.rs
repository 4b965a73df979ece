//! The background processing loop: claim due entities, process them
//! concurrently, write the batch, stitch, repeat; plus orphan cleanup.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use greenroom_store::{CatalogStore, ClaimedEntity, ProcessedResult, ProcessingError};
use tokio_util::sync::CancellationToken;

use super::Pipeline;
use crate::config::{Config, OrphanStrategy};

/// Entities claimed per round.
const BATCH_SIZE: usize = 1000;
/// How long a claim protects an entity from other workers or replicas.
const LEASE_SECS: i64 = 180;
/// Entities processed at the same time (I/O bound: URL reads).
const CONCURRENCY: usize = 16;
/// Stitch queue entries handled per store call.
const STITCH_BATCH: usize = 2500;
/// Stitch batches in flight at once (see [`stitch_all`]).
const STITCH_IN_FLIGHT: usize = 2;
/// How often, and for how long, stitching runs while processing works through
/// a backlog (see the loop in [`Engine::spawn`]).
const STITCH_EVERY: Duration = Duration::from_secs(10);
const STITCH_SLICE: Duration = Duration::from_secs(1);
const IDLE_SLEEP: Duration = Duration::from_millis(300);
const ERROR_SLEEP: Duration = Duration::from_secs(2);
const ORPHAN_CLEANUP_EVERY: Duration = Duration::from_secs(30);
const LAG_EVERY: Duration = Duration::from_secs(5);
/// Upper bound of rounds for [`run_until_idle`]: a store that keeps handing
/// out work must not hang a CLI run forever.
const MAX_IDLE_ROUNDS: usize = 100_000;

const ERRORS_TOTAL: &str = "greenroom_catalog_processing_errors_total";
const BATCH_SECONDS: &str = "greenroom_catalog_processing_batch_seconds";
const LAG_SECONDS: &str = "greenroom_catalog_processing_lag_seconds";

/// What identifies a claimed entity's result (kept aside while the entity
/// itself moves into its processing task).
struct ClaimKey {
    entity_id: String,
    entity_ref: String,
    claim_token: String,
    location_key: Option<String>,
}

impl ClaimKey {
    fn of(item: &ClaimedEntity) -> Self {
        Self {
            entity_id: item.entity_id.clone(),
            entity_ref: item.entity_ref.clone(),
            claim_token: item.claim_token.clone(),
            location_key: item.location_key.clone(),
        }
    }
}

/// A panic while processing one entity becomes that entity's error instead of
/// ending the loop.
fn panicked(key: ClaimKey, next_refresh_secs: i64) -> ProcessedResult {
    let errors = vec![ProcessingError {
        name: "Error".into(),
        message: "Processing failed unexpectedly".into(),
    }];
    ProcessedResult {
        result_hash: format!("panicked:{}", key.entity_ref),
        entity_id: key.entity_id,
        entity_ref: key.entity_ref,
        claim_token: key.claim_token,
        location_key: key.location_key,
        processed: None,
        relations: Vec::new(),
        children: Vec::new(),
        errors,
        refresh_keys: Vec::new(),
        next_refresh_secs,
    }
}

/// Claims one batch, processes it and writes the results. Returns how many
/// entities were processed.
async fn process_batch(
    store: &dyn CatalogStore,
    pipeline: &Arc<Pipeline>,
) -> anyhow::Result<usize> {
    let claimed = store.claim_due(BATCH_SIZE, LEASE_SECS).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let started = Instant::now();
    let count = claimed.len();
    // Each entity is its own task, so validation and relation building (CPU)
    // spread over every core while other entities wait for URL reads.
    let next_refresh_secs = pipeline.interval().next_refresh_secs();
    let results: Vec<ProcessedResult> = futures::stream::iter(claimed)
        .map(|item| {
            let pipeline = pipeline.clone();
            async move {
                let key = ClaimKey::of(&item);
                match tokio::spawn(async move { pipeline.process(&item).await }).await {
                    Ok(result) => {
                        // One line per processed entity: shows which replica did the work.
                        tracing::debug!(entity_ref = %key.entity_ref, "processed entity");
                        result
                    }
                    Err(_) => {
                        tracing::error!(entity = %key.entity_ref, "processing panicked");
                        panicked(key, next_refresh_secs)
                    }
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let processed_in = started.elapsed();
    let error_count: usize = results.iter().map(|r| r.errors.len()).sum();
    if error_count > 0 {
        metrics::counter!(ERRORS_TOTAL).increment(error_count as u64);
    }
    let report = store.write_processed(results).await?;
    for (entity_ref, existing, new) in &report.conflicts {
        tracing::warn!(
            "Detected conflicting entityRef {entity_ref} already referenced by {} and now also {}",
            existing.as_deref().unwrap_or("<none>"),
            new.as_deref().unwrap_or("<none>")
        );
    }
    metrics::histogram!(BATCH_SECONDS).record(started.elapsed().as_secs_f64());
    tracing::debug!(
        entities = count,
        process_ms = processed_in.as_millis() as u64,
        write_ms = (started.elapsed() - processed_in).as_millis() as u64,
        "processed a batch"
    );
    Ok(count)
}

/// Stitches until the queue is empty or `budget` has passed; returns how many
/// entities were stitched. Two batches are in flight at once: a batch is read
/// and composed without holding the write transaction, so on a database with
/// one writer the other batch is written meanwhile.
async fn stitch_all(store: &dyn CatalogStore, budget: Option<Duration>) -> anyhow::Result<usize> {
    let started = Instant::now();
    let mut total = 0;
    let mut in_flight = futures::stream::FuturesUnordered::new();
    let mut drained = false;
    loop {
        let out_of_time = budget.is_some_and(|b| started.elapsed() >= b);
        while !drained && !out_of_time && in_flight.len() < STITCH_IN_FLIGHT {
            in_flight.push(store.stitch_pending(STITCH_BATCH));
        }
        let Some(stitched) = in_flight.next().await else {
            break;
        };
        let stitched = stitched?;
        total += stitched;
        drained |= stitched == 0;
    }
    if total > 0 {
        tracing::debug!(
            entities = total,
            stitch_ms = started.elapsed().as_millis() as u64,
            "stitched"
        );
    }
    Ok(total)
}

/// Processes and stitches until nothing is due (ignores
/// `processingInterval: false`: this is an explicit request). Used by tests
/// and the CLI.
pub async fn run_until_idle(store: &dyn CatalogStore, pipeline: &Pipeline) -> anyhow::Result<()> {
    // Processing tasks share the pipeline; a clone is configuration only.
    let pipeline = Arc::new(pipeline.clone());
    for _ in 0..MAX_IDLE_ROUNDS {
        let processed = process_batch(store, &pipeline).await?;
        let stitched = stitch_all(store, None).await?;
        if processed == 0 && stitched == 0 {
            return Ok(());
        }
    }
    anyhow::bail!("catalog processing did not become idle after {MAX_IDLE_ROUNDS} rounds")
}

/// The background processing loop.
pub struct Engine;

impl Engine {
    /// Starts the loops; they stop when `shutdown` is cancelled. With
    /// `processingInterval: false` it only waits for shutdown.
    pub fn spawn(
        store: Arc<dyn CatalogStore>,
        pipeline: Arc<Pipeline>,
        config: &Config,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let delete_orphans = config.catalog.orphan_strategy == OrphanStrategy::Delete;
        tokio::spawn(async move {
            if !pipeline.interval().is_enabled() {
                tracing::info!(
                    "catalog processing is disabled (catalog.processingInterval: false)"
                );
                shutdown.cancelled().await;
                return;
            }
            // As many loops as the store writes concurrently. Each claims its
            // own batches (claims are exclusive), so on PostgreSQL one loop's
            // batch is written while another's is processed or stitched.
            let workers: Vec<_> = (0..store.concurrent_writers().max(1))
                .map(|i| {
                    tokio::spawn(worker(
                        store.clone(),
                        pipeline.clone(),
                        shutdown.clone(),
                        // Housekeeping runs once, in the first worker.
                        i == 0,
                        delete_orphans,
                    ))
                })
                .collect();
            for w in futures::future::join_all(workers).await {
                if let Err(e) = w {
                    tracing::error!("a catalog processing worker ended abnormally: {e}");
                }
            }
            tracing::info!("catalog processing stopped");
        })
    }
}

/// One processing loop: process a batch, stitch, repeat until shutdown.
async fn worker(
    store: Arc<dyn CatalogStore>,
    pipeline: Arc<Pipeline>,
    shutdown: CancellationToken,
    housekeeping: bool,
    delete_orphans: bool,
) {
    let mut last_orphan_cleanup = Instant::now();
    let mut last_stitch = Instant::now();
    let mut last_lag: Option<Instant> = None;
    loop {
        let round = async {
            let processed = process_batch(store.as_ref(), &pipeline).await?;
            // While a backlog is being processed, stitching mostly waits:
            // the queue deduplicates refs, so an entity that many others
            // relate to (a team owning thousands) is stitched once instead
            // of after every batch, and an entity is stitched after the
            // entities that point at it were processed rather than again
            // for each of them. Every STITCH_EVERY a short slice keeps a
            // large first ingestion visibly progressing. Outside a backlog
            // every change is stitched right after it is processed.
            let backlog = processed == BATCH_SIZE;
            let stitched = if !backlog {
                last_stitch = Instant::now();
                stitch_all(store.as_ref(), None).await?
            } else if last_stitch.elapsed() >= STITCH_EVERY {
                last_stitch = Instant::now();
                stitch_all(store.as_ref(), Some(STITCH_SLICE)).await?
            } else {
                0
            };
            anyhow::Ok(processed + stitched)
        };
        let pause = tokio::select! {
            _ = shutdown.cancelled() => break,
            outcome = round => match outcome {
                Ok(0) => IDLE_SLEEP,
                Ok(_) => Duration::ZERO,
                Err(e) => {
                    tracing::error!("catalog processing round failed: {e:#}");
                    ERROR_SLEEP
                }
            },
        };
        if housekeeping {
            if last_lag.is_none_or(|at| at.elapsed() >= LAG_EVERY) {
                last_lag = Some(Instant::now());
                match store.pending_work().await {
                    Ok(pending) => metrics::gauge!(LAG_SECONDS).set(pending.max_lag_secs as f64),
                    Err(e) => tracing::warn!("could not read processing lag: {e}"),
                }
            }
            if delete_orphans && last_orphan_cleanup.elapsed() >= ORPHAN_CLEANUP_EVERY {
                last_orphan_cleanup = Instant::now();
                match store.delete_orphans().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("deleted {n} orphaned entities"),
                    Err(e) => tracing::error!("orphan cleanup failed: {e}"),
                }
            }
        }
        if !pause.is_zero() {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}
