//! The task worker: claims tasks from the database (several processes may
//! share one PostgreSQL; a claim is exclusive), keeps a heartbeat while it runs
//! one, and writes the outcome only while its claim holds. A task whose worker
//! died (no heartbeat for `taskHeartbeatTimeoutSeconds`) is claimed again and
//! resumes from its checkpoint: the workspace and outputs of the last
//! completed step.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use greenroom_model::scaffolder::{event_type, TaskSpec, TaskStatus};
use greenroom_store::{ClaimedTask, Heartbeat, TaskStore};
use serde_json::{json, Map, Value};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use super::runner::{run_task, RunInput, RunSink};
use super::secrets::SecretSealer;
use super::template::template_source;
use super::workspace::Workspace;
use super::Services;

/// The scaffolder's shared state: services, task storage, the secret sealer,
/// and the signal that wakes idle workers when a task is created.
pub struct Scaffolder {
    pub services: Arc<Services>,
    pub tasks: Arc<dyn TaskStore>,
    pub sealer: SecretSealer,
    pub wake: Notify,
    pub heartbeat_timeout: Duration,
    pub concurrency: usize,
    pub working_directory: PathBuf,
}

impl Scaffolder {
    pub fn new(services: Arc<Services>, tasks: Arc<dyn TaskStore>) -> Result<Self, String> {
        let config = &services.config.scaffolder;
        Ok(Scaffolder {
            sealer: SecretSealer::new(config.secrets_key.as_deref())?,
            heartbeat_timeout: Duration::from_secs(
                config.task_heartbeat_timeout_seconds.unwrap_or(30).max(1),
            ),
            concurrency: config.concurrent_tasks_limit.unwrap_or(10).clamp(1, 100) as usize,
            working_directory: config
                .working_directory
                .as_ref()
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir),
            services,
            tasks,
            wake: Notify::new(),
        })
    }

    /// Runs the worker loop until `shutdown`. Tasks still running then are
    /// abandoned, not failed: their last checkpoint lets the next worker
    /// resume them.
    pub fn spawn(self: &Arc<Self>, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move { this.work(shutdown).await })
    }

    async fn work(self: Arc<Self>, shutdown: CancellationToken) {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let stale_ms = self.heartbeat_timeout.as_millis() as i64;
        loop {
            let permit = tokio::select! {
                p = permits.clone().acquire_owned() => p.expect("semaphore is never closed"),
                _ = shutdown.cancelled() => break,
            };
            match self.tasks.claim_task(stale_ms).await {
                Ok(Some(claimed)) => {
                    let this = self.clone();
                    let stop = shutdown.clone();
                    tokio::spawn(async move {
                        this.run_claimed(claimed, stop).await;
                        drop(permit);
                    });
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("claiming a scaffolder task failed: {e}"),
            }
            drop(permit);
            // Heartbeats of dead workers go stale without any signal, so
            // idle workers also look again every second.
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.cancelled() => break,
            }
        }
    }

    async fn run_claimed(&self, claimed: ClaimedTask, shutdown: CancellationToken) {
        let id = claimed.task.id.clone();
        let token = claimed.claim_token.clone();
        let started = Instant::now();
        let sink = DbSink {
            tasks: self.tasks.clone(),
            id: id.clone(),
            token: token.clone(),
        };
        let lost = CancellationToken::new();
        let cancel = CancellationToken::new();
        let heartbeat = tokio::spawn(heartbeat_loop(
            self.tasks.clone(),
            id.clone(),
            token.clone(),
            (self.heartbeat_timeout / 3).max(Duration::from_millis(200)),
            cancel.clone(),
            lost.clone(),
        ));
        let run = self.prepare_and_run(claimed, &sink, cancel.clone());
        let outcome = tokio::select! {
            outcome = run => Some(outcome),
            _ = lost.cancelled() => None,
            _ = shutdown.cancelled() => None,
        };
        heartbeat.abort();
        let workspace_dir = self.workspace_dir(&id);
        let _ = std::fs::remove_dir_all(&workspace_dir);
        let Some((status, body)) = outcome else {
            tracing::info!(task = %id, "scaffolder task left for another worker to resume");
            return;
        };
        if status == TaskStatus::Cancelled {
            let _ = self
                .tasks
                .append_event(
                    &id,
                    &token,
                    event_type::CANCELLED,
                    &json!({"message": "The task was cancelled.", "status": "cancelled"}),
                )
                .await;
        }
        match self.tasks.complete_task(&id, &token, status, &body).await {
            Ok(true) => {
                metrics::counter!("greenroom_scaffolder_tasks_total", "status" => status.as_str())
                    .increment(1);
                metrics::histogram!("greenroom_scaffolder_task_duration_seconds")
                    .record(started.elapsed().as_secs_f64());
                tracing::info!(task = %id, status = status.as_str(), "scaffolder task finished");
            }
            Ok(false) => {
                tracing::warn!(task = %id, "scaffolder task was taken over before it finished here")
            }
            Err(e) => {
                tracing::error!(task = %id, "recording the end of a scaffolder task failed: {e}")
            }
        }
    }

    fn workspace_dir(&self, id: &str) -> PathBuf {
        self.working_directory.join(format!("greenroom-task-{id}"))
    }

    /// Everything between the claim and the outcome: secrets, workspace,
    /// template files, the run itself.
    async fn prepare_and_run(
        &self,
        claimed: ClaimedTask,
        sink: &DbSink,
        cancel: CancellationToken,
    ) -> (TaskStatus, Value) {
        let failed = |message: String| {
            (
                TaskStatus::Failed,
                json!({"message": "Run completed with status: failed", "error": {"name": "Error", "message": message}}),
            )
        };
        let spec: TaskSpec = match serde_json::from_str(&claimed.task.spec) {
            Ok(s) => s,
            Err(e) => return failed(format!("The task's spec cannot be read: {e}")),
        };
        let secrets: Map<String, Value> = match claimed
            .sealed_secrets
            .as_deref()
            .map(|s| self.sealer.open(s))
        {
            None => Map::new(),
            Some(Ok(s)) => s,
            Some(Err(e)) => return failed(e),
        };
        let dir = self.workspace_dir(&claimed.task.id);
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return failed(format!("Cannot create the task's workspace: {e}"));
        }
        let workspace = match Workspace::new(&dir) {
            Ok(w) => w,
            Err(e) => return failed(e.to_string()),
        };
        if let Some(snapshot) = &claimed.workspace {
            if let Err(e) = workspace.restore(snapshot) {
                return failed(format!("Cannot restore the task's workspace: {e}"));
            }
        }
        if claimed.recovered {
            let completed = claimed
                .checkpoint
                .as_ref()
                .and_then(|c| c.get("steps"))
                .and_then(Value::as_object)
                .map(|s| s.len())
                .unwrap_or(0);
            sink.log(json!({"message": format!("Resuming after {completed} completed steps")}))
                .await;
        }
        let base_url = spec.template_info.as_ref().and_then(|t| t.base_url.clone());
        let (template, _clone) = template_source(base_url.as_deref(), &self.services.scm).await;
        let input = RunInput {
            task_id: claimed.task.id.clone(),
            spec,
            secrets,
            workspace,
            template,
            dry_run: false,
            cancel,
            checkpoint: claimed.checkpoint,
        };
        let outcome = run_task(self.services.clone(), sink, &input).await;
        let body = match outcome.status {
            TaskStatus::Completed => {
                json!({"message": "Run completed with status: completed", "output": outcome.output})
            }
            TaskStatus::Cancelled => json!({"message": "Run completed with status: cancelled"}),
            _ => json!({
                "message": "Run completed with status: failed",
                "error": {"name": "Error", "message": outcome.error.unwrap_or_default()}
            }),
        };
        (outcome.status, body)
    }
}

async fn heartbeat_loop(
    tasks: Arc<dyn TaskStore>,
    id: String,
    token: String,
    every: Duration,
    cancel: CancellationToken,
    lost: CancellationToken,
) {
    loop {
        tokio::time::sleep(every).await;
        match tasks.heartbeat(&id, &token).await {
            Ok(Heartbeat::Held { cancel_requested }) => {
                if cancel_requested {
                    cancel.cancel();
                }
            }
            Ok(Heartbeat::Lost) => {
                lost.cancel();
                return;
            }
            Err(e) => tracing::warn!(task = %id, "scaffolder heartbeat failed: {e}"),
        }
    }
}

/// Events and checkpoints of a claimed task, written only while the claim holds.
struct DbSink {
    tasks: Arc<dyn TaskStore>,
    id: String,
    token: String,
}

#[async_trait]
impl RunSink for DbSink {
    async fn log(&self, body: Value) {
        if let Err(e) = self
            .tasks
            .append_event(&self.id, &self.token, event_type::LOG, &body)
            .await
        {
            tracing::warn!(task = %self.id, "writing a task event failed: {e}");
        }
    }
    async fn step_done(&self, checkpoint: &Value, workspace: Option<String>, body: Value) {
        if let Err(e) = self
            .tasks
            .checkpoint(
                &self.id,
                &self.token,
                checkpoint,
                workspace.as_deref(),
                &body,
            )
            .await
        {
            tracing::warn!(task = %self.id, "writing a task checkpoint failed: {e}");
        }
    }
    fn wants_snapshots(&self) -> bool {
        true
    }
}
