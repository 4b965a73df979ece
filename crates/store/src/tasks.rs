//! Scaffolder task storage: tasks, their claims and checkpoints, and the event
//! log. Claims follow the catalog's pattern: `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, the single writer connection on SQLite, and a claim token that
//! every later write must still hold, so a worker that lost its claim (its
//! heartbeat went stale and another worker recovered the task) cannot write.

use async_trait::async_trait;
use greenroom_model::scaffolder::{event_type, TaskStatus};
use serde_json::{json, Value};

use crate::sql::{Arg, Row, Tx, Val};
use crate::store::{now_ms, SqlStore};
use crate::{Result, StoreError};

/// A task as stored. `spec` is the JSON of the model's `TaskSpec`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub id: String,
    pub spec: String,
    pub status: TaskStatus,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub last_heartbeat_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskEventRecord {
    pub id: i64,
    pub task_id: String,
    pub event_type: String,
    pub body: Value,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub id: String,
    pub spec: String,
    pub sealed_secrets: Option<String>,
    pub created_by: Option<String>,
}

/// A task claimed by one worker: everything needed to run or resume it.
#[derive(Debug, Clone)]
pub struct ClaimedTask {
    pub task: TaskRecord,
    pub claim_token: String,
    pub sealed_secrets: Option<String>,
    /// The state after the last completed step, when the task was started
    /// before (a recovered or retried task).
    pub checkpoint: Option<Value>,
    pub workspace: Option<String>,
    /// The task was taken over from a worker whose heartbeat went stale.
    pub recovered: bool,
}

#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    pub created_by: Vec<String>,
    pub status: Vec<TaskStatus>,
    /// `created_at`, `status` or `created_by`, with the direction.
    pub order: Option<(String, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// What a heartbeat learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heartbeat {
    /// The claim still holds.
    Held { cancel_requested: bool },
    /// Another worker took the task over, or it ended: stop at once.
    Lost,
}

#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    async fn create_task(&self, task: NewTask) -> Result<()>;
    async fn get_task(&self, id: &str) -> Result<Option<TaskRecord>>;
    async fn list_tasks(&self, query: &TaskQuery) -> Result<(Vec<TaskRecord>, u64)>;
    /// Claims the oldest open task, or a processing one whose heartbeat is
    /// older than `stale_after_ms` (its worker died); the latter gets a
    /// `recovered` event.
    async fn claim_task(&self, stale_after_ms: i64) -> Result<Option<ClaimedTask>>;
    async fn heartbeat(&self, id: &str, claim_token: &str) -> Result<Heartbeat>;
    /// Appends an event while the claim holds; `None` when it does not.
    async fn append_event(
        &self,
        id: &str,
        claim_token: &str,
        event_type: &str,
        body: &Value,
    ) -> Result<Option<i64>>;
    /// Records the state after a step (and the workspace when it changed)
    /// with the step's closing log event, in one transaction.
    async fn checkpoint(
        &self,
        id: &str,
        claim_token: &str,
        checkpoint: &Value,
        workspace: Option<&str>,
        event_body: &Value,
    ) -> Result<bool>;
    /// Ends the task: final status, `completion` event, secrets and workspace
    /// snapshot cleared.
    async fn complete_task(
        &self,
        id: &str,
        claim_token: &str,
        status: TaskStatus,
        completion_body: &Value,
    ) -> Result<bool>;
    /// Cancels an open task at once; asks the worker of a processing one to
    /// stop. Returns the status after the call; NotFound for an unknown id.
    async fn cancel_task(&self, id: &str) -> Result<TaskStatus>;
    /// Re-opens a failed or cancelled task; it resumes after its last
    /// completed step. Conflict when the task has not ended.
    async fn retry_task(&self, id: &str, sealed_secrets: Option<String>) -> Result<()>;
    async fn list_events(&self, id: &str, after: Option<i64>) -> Result<Vec<TaskEventRecord>>;
}

const TASK_COLUMNS: &str = "id, spec, status, created_by, created_at, last_heartbeat_at";

fn opt_int(row: &Row, i: usize) -> Option<i64> {
    match &row.0[i] {
        Val::Null => None,
        _ => Some(row.int(i)),
    }
}

fn task_record(row: &Row) -> Result<TaskRecord> {
    let status = row.string(2);
    Ok(TaskRecord {
        id: row.string(0),
        spec: row.string(1),
        status: TaskStatus::parse(&status)
            .ok_or_else(|| StoreError::Decode(format!("unknown task status {status}")))?,
        created_by: row.opt_string(3),
        created_at_ms: row.int(4),
        last_heartbeat_at_ms: opt_int(row, 5),
    })
}

fn parse_json(text: Option<&str>) -> Result<Option<Value>> {
    text.map(|t| serde_json::from_str(t).map_err(|e| StoreError::Decode(e.to_string())))
        .transpose()
}

async fn insert_event(
    tx: &mut Box<dyn Tx>,
    id: &str,
    event_type: &str,
    body: &Value,
    now: i64,
) -> Result<i64> {
    let rows = tx
        .rows(
            "INSERT INTO scaffolder_task_events (task_id, event_type, body, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
            vec![
                Arg::from(id),
                Arg::from(event_type),
                Arg::from(body.to_string()),
                Arg::Int(now),
            ],
        )
        .await?;
    Ok(rows.first().map(|r| r.int(0)).unwrap_or_default())
}

/// True while `claim_token` is the task's current claim and it is processing.
async fn claim_holds(tx: &mut Box<dyn Tx>, id: &str, claim_token: &str) -> Result<bool> {
    let rows = tx
        .rows(
            "SELECT 1 FROM scaffolder_tasks WHERE id = $1 AND claim_token = $2 AND status = 'processing'",
            vec![Arg::from(id), Arg::from(claim_token)],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// The task's status as stored (the raw text, for messages), NotFound for an
/// unknown id.
async fn stored_status(tx: &mut Box<dyn Tx>, id: &str) -> Result<String> {
    let rows = tx
        .rows(
            "SELECT status FROM scaffolder_tasks WHERE id = $1",
            vec![Arg::from(id)],
        )
        .await?;
    match rows.first() {
        Some(row) => Ok(row.string(0)),
        None => Err(StoreError::NotFound(format!(
            "Task with id {id} does not exist"
        ))),
    }
}

impl SqlStore {
    /// A worker's write to its task: `UPDATE scaffolder_tasks SET {set}` (whose
    /// placeholders `$1`.. are `set_args`) plus a heartbeat, and the event, in
    /// one transaction. False, with nothing written, once the claim is lost.
    async fn write_claimed(
        &self,
        id: &str,
        claim_token: &str,
        set: &str,
        mut set_args: Vec<Arg>,
        event_type: &str,
        event_body: &Value,
    ) -> Result<bool> {
        let mut tx = self.conn().write().await?;
        let now = now_ms();
        let n = set_args.len();
        set_args.extend([Arg::Int(now), Arg::from(id), Arg::from(claim_token)]);
        let updated = tx
            .exec(
                &format!(
                    "UPDATE scaffolder_tasks SET {set}, last_heartbeat_at = ${} \
                     WHERE id = ${} AND claim_token = ${} AND status = 'processing'",
                    n + 1,
                    n + 2,
                    n + 3
                ),
                set_args,
            )
            .await?;
        if updated == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, id, event_type, event_body, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[async_trait]
impl TaskStore for SqlStore {
    async fn create_task(&self, task: NewTask) -> Result<()> {
        let mut tx = self.conn().write().await?;
        tx.exec(
            "INSERT INTO scaffolder_tasks (id, spec, secrets, status, created_by, created_at) \
             VALUES ($1, $2, $3, 'open', $4, $5)",
            vec![
                Arg::from(task.id),
                Arg::from(task.spec),
                Arg::from(task.sealed_secrets),
                Arg::from(task.created_by),
                Arg::Int(now_ms()),
            ],
        )
        .await?;
        tx.commit().await
    }

    async fn get_task(&self, id: &str) -> Result<Option<TaskRecord>> {
        let mut c = self.conn().read().await?;
        let rows = c
            .rows(
                &format!("SELECT {TASK_COLUMNS} FROM scaffolder_tasks WHERE id = $1"),
                vec![Arg::from(id)],
            )
            .await?;
        rows.first().map(task_record).transpose()
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<(Vec<TaskRecord>, u64)> {
        let mut conditions = Vec::new();
        let mut args = Vec::new();
        for (column, values) in [
            ("created_by", query.created_by.clone()),
            (
                "status",
                query
                    .status
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect(),
            ),
        ] {
            if values.is_empty() {
                continue;
            }
            let marks: Vec<String> = values
                .into_iter()
                .map(|v| {
                    args.push(Arg::from(v));
                    format!("${}", args.len())
                })
                .collect();
            conditions.push(format!("{column} IN ({})", marks.join(", ")));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let (column, ascending) = query
            .order
            .clone()
            .unwrap_or_else(|| ("created_at".to_string(), false));
        let column = match column.as_str() {
            "status" | "created_by" | "created_at" => column,
            other => return Err(StoreError::Input(format!("cannot order tasks by {other}"))),
        };
        let direction = if ascending { "ASC" } else { "DESC" };
        let mut c = self.conn().read().await?;
        let total = c
            .rows(
                &format!("SELECT COUNT(*) FROM scaffolder_tasks{filter}"),
                args.clone(),
            )
            .await?
            .first()
            .map(|r| r.int(0))
            .unwrap_or_default() as u64;
        let mut page_args = args;
        page_args.push(Arg::Int(query.limit.unwrap_or(1000).min(10_000) as i64));
        page_args.push(Arg::Int(query.offset.unwrap_or(0) as i64));
        let n = page_args.len();
        let rows = c
            .rows(
                &format!(
                    "SELECT {TASK_COLUMNS} FROM scaffolder_tasks{filter} ORDER BY {column} {direction}, id {direction} \
                     LIMIT ${} OFFSET ${}",
                    n - 1,
                    n
                ),
                page_args,
            )
            .await?;
        Ok((rows.iter().map(task_record).collect::<Result<_>>()?, total))
    }

    async fn claim_task(&self, stale_after_ms: i64) -> Result<Option<ClaimedTask>> {
        let mut tx = self.conn().write().await?;
        let now = now_ms();
        let stale_before = now - stale_after_ms;
        let candidates = tx
            .rows(
                &format!(
                    "SELECT id, status FROM scaffolder_tasks \
                     WHERE status = 'open' OR (status = 'processing' AND last_heartbeat_at < $1) \
                     ORDER BY created_at LIMIT 1{}",
                    tx.dialect().skip_locked()
                ),
                vec![Arg::Int(stale_before)],
            )
            .await?;
        let Some(candidate) = candidates.first() else {
            tx.commit().await?;
            return Ok(None);
        };
        let id = candidate.string(0);
        let recovered = candidate.string(1) == "processing";
        let token = uuid::Uuid::new_v4().to_string();
        // The condition is repeated: on SQLite another process may have
        // claimed the task between the SELECT and this UPDATE.
        let rows = tx
            .rows(
                &format!(
                    "UPDATE scaffolder_tasks SET status = 'processing', claim_token = $1, last_heartbeat_at = $2 \
                     WHERE id = $3 AND (status = 'open' OR (status = 'processing' AND last_heartbeat_at < $4)) \
                     RETURNING {TASK_COLUMNS}, secrets, checkpoint, workspace"
                ),
                vec![
                    Arg::from(&token),
                    Arg::Int(now),
                    Arg::from(&id),
                    Arg::Int(stale_before),
                ],
            )
            .await?;
        let Some(row) = rows.first() else {
            tx.commit().await?;
            return Ok(None);
        };
        if recovered {
            insert_event(
                &mut tx,
                &id,
                event_type::RECOVERED,
                &json!({"message": "The worker running this task stopped; another worker resumes it after its last completed step."}),
                now,
            )
            .await?;
        }
        let claimed = ClaimedTask {
            task: task_record(row)?,
            claim_token: token,
            sealed_secrets: row.opt_string(6),
            checkpoint: parse_json(row.text(7))?,
            workspace: row.opt_string(8),
            recovered,
        };
        tx.commit().await?;
        Ok(Some(claimed))
    }

    async fn heartbeat(&self, id: &str, claim_token: &str) -> Result<Heartbeat> {
        let mut tx = self.conn().write().await?;
        let rows = tx
            .rows(
                "UPDATE scaffolder_tasks SET last_heartbeat_at = $1 \
                 WHERE id = $2 AND claim_token = $3 AND status = 'processing' RETURNING cancel_requested",
                vec![Arg::Int(now_ms()), Arg::from(id), Arg::from(claim_token)],
            )
            .await?;
        tx.commit().await?;
        Ok(match rows.first() {
            Some(r) => Heartbeat::Held {
                cancel_requested: r.int(0) != 0,
            },
            None => Heartbeat::Lost,
        })
    }

    async fn append_event(
        &self,
        id: &str,
        claim_token: &str,
        event_type: &str,
        body: &Value,
    ) -> Result<Option<i64>> {
        let mut tx = self.conn().write().await?;
        if !claim_holds(&mut tx, id, claim_token).await? {
            return Ok(None);
        }
        let event = insert_event(&mut tx, id, event_type, body, now_ms()).await?;
        tx.commit().await?;
        Ok(Some(event))
    }

    async fn checkpoint(
        &self,
        id: &str,
        claim_token: &str,
        checkpoint: &Value,
        workspace: Option<&str>,
        event_body: &Value,
    ) -> Result<bool> {
        // A NULL `workspace` (unchanged since the last step) keeps the stored snapshot.
        self.write_claimed(
            id,
            claim_token,
            "checkpoint = $1, workspace = COALESCE($2, workspace)",
            vec![Arg::from(checkpoint.to_string()), Arg::from(workspace)],
            event_type::LOG,
            event_body,
        )
        .await
    }

    async fn complete_task(
        &self,
        id: &str,
        claim_token: &str,
        status: TaskStatus,
        completion_body: &Value,
    ) -> Result<bool> {
        self.write_claimed(
            id,
            claim_token,
            "status = $1, secrets = NULL, workspace = NULL, cancel_requested = 0",
            vec![Arg::from(status.as_str())],
            event_type::COMPLETION,
            completion_body,
        )
        .await
    }

    async fn cancel_task(&self, id: &str) -> Result<TaskStatus> {
        let mut tx = self.conn().write().await?;
        let status =
            TaskStatus::parse(&stored_status(&mut tx, id).await?).unwrap_or(TaskStatus::Failed);
        let now = now_ms();
        let after = match status {
            TaskStatus::Open => {
                tx.exec(
                    "UPDATE scaffolder_tasks SET status = 'cancelled', secrets = NULL, workspace = NULL WHERE id = $1",
                    vec![Arg::from(id)],
                )
                .await?;
                let message = "Run completed with status: cancelled";
                insert_event(
                    &mut tx,
                    id,
                    event_type::CANCELLED,
                    &json!({"message": "The task was cancelled before it started.", "status": "cancelled"}),
                    now,
                )
                .await?;
                insert_event(
                    &mut tx,
                    id,
                    event_type::COMPLETION,
                    &json!({"message": message}),
                    now,
                )
                .await?;
                TaskStatus::Cancelled
            }
            TaskStatus::Processing => {
                tx.exec(
                    "UPDATE scaffolder_tasks SET cancel_requested = 1 WHERE id = $1",
                    vec![Arg::from(id)],
                )
                .await?;
                TaskStatus::Processing
            }
            other => other,
        };
        tx.commit().await?;
        Ok(after)
    }

    async fn retry_task(&self, id: &str, sealed_secrets: Option<String>) -> Result<()> {
        let mut tx = self.conn().write().await?;
        let status = stored_status(&mut tx, id).await?;
        if !matches!(status.as_str(), "failed" | "cancelled") {
            return Err(StoreError::Conflict(format!(
                "Task {id} is {status}; only a failed or cancelled task can be retried"
            )));
        }
        tx.exec(
            "UPDATE scaffolder_tasks SET status = 'open', claim_token = NULL, last_heartbeat_at = NULL, \
               cancel_requested = 0, secrets = COALESCE($1, secrets) WHERE id = $2",
            vec![Arg::from(sealed_secrets), Arg::from(id)],
        )
        .await?;
        insert_event(
            &mut tx,
            id,
            event_type::RECOVERED,
            &json!({"message": "The task was retried; it resumes after its last completed step."}),
            now_ms(),
        )
        .await?;
        tx.commit().await
    }

    async fn list_events(&self, id: &str, after: Option<i64>) -> Result<Vec<TaskEventRecord>> {
        let mut c = self.conn().read().await?;
        let rows = c
            .rows(
                "SELECT id, task_id, event_type, body, created_at FROM scaffolder_task_events \
                 WHERE task_id = $1 AND id > $2 ORDER BY id",
                vec![Arg::from(id), Arg::Int(after.unwrap_or(-1))],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TaskEventRecord {
                    id: r.int(0),
                    task_id: r.string(1),
                    event_type: r.string(2),
                    body: parse_json(r.text(3))?.unwrap_or(Value::Null),
                    created_at_ms: r.int(4),
                })
            })
            .collect()
    }
}
