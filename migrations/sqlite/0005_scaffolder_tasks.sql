-- Scaffolder tasks: the template snapshot and values (spec), the status and the
-- claim of the worker running it, and a checkpoint written after every step so
-- a task whose worker died resumes after its last completed step.
CREATE TABLE scaffolder_tasks (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    -- Secrets sealed with the scaffolder key (never plain text); cleared when the task ends.
    secrets TEXT,
    status TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    last_heartbeat_at INTEGER,
    claim_token TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    -- {"steps": {"<id>": {"status", "output"}}} of the steps done so far.
    checkpoint TEXT,
    -- The workspace after the last completed step (tar.gz, base64); cleared when the task ends.
    workspace TEXT
);
CREATE INDEX scaffolder_tasks_status ON scaffolder_tasks (status, created_at);
CREATE INDEX scaffolder_tasks_created_by ON scaffolder_tasks (created_by, created_at);

CREATE TABLE scaffolder_task_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL REFERENCES scaffolder_tasks (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX scaffolder_task_events_task ON scaffolder_task_events (task_id, id);
