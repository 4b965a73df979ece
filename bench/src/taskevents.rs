//! Reading a scaffolder task's event log: how long each step took, by the
//! server's own timestamps, and a readable log for a task that failed.
//!
//! The runner writes `Beginning step <name>` (status `processing`) when a
//! step starts and `Finished step <name>` (status `completed`) after its
//! workspace checkpoint; action output in between carries the same
//! `stepId`. A step's duration is therefore the time between its first and
//! its last event. Timestamps have millisecond resolution.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, FixedOffset};
use greenroom_model::scaffolder::{event_type, TaskEvent};

use crate::stats::LatencySummary;

/// One step of one task: from its first to its last event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepTiming {
    pub id: String,
    pub duration: Duration,
}

/// What one task's event log says about where its time went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTimings {
    /// In the order the steps started.
    pub steps: Vec<StepTiming>,
    /// Task created → first step event: waiting for a worker to claim the
    /// task, creating the workspace, reading the template.
    pub before_first_step: Duration,
    /// Last step event → `completion` event: rendering the output and
    /// recording the end.
    pub after_last_step: Duration,
    /// Task created → `completion` event, all by the server's clock.
    pub server_total: Duration,
}

/// An RFC 3339 timestamp as the API writes it (`2025-01-02T03:04:05.678Z`).
pub fn parse_time(text: &str) -> anyhow::Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).with_context(|| format!("bad timestamp {text:?}"))
}

/// `later - earlier`, zero when the clock went backwards.
fn between(earlier: &DateTime<FixedOffset>, later: &DateTime<FixedOffset>) -> Duration {
    (*later - *earlier).to_std().unwrap_or_default()
}

/// Per-step durations of a completed task from its `createdAt` and events.
pub fn task_timings(task_created_at: &str, events: &[TaskEvent]) -> anyhow::Result<TaskTimings> {
    let created = parse_time(task_created_at)?;
    // (step id, first, last) in order of first appearance.
    let mut spans: Vec<(String, DateTime<FixedOffset>, DateTime<FixedOffset>)> = Vec::new();
    let mut completion = None;
    for event in events {
        let at = parse_time(&event.created_at)?;
        if event.event_type == event_type::COMPLETION {
            completion = Some(at);
            continue;
        }
        let Some(step) = event.body.get("stepId").and_then(|s| s.as_str()) else {
            continue;
        };
        match spans.iter_mut().find(|(id, _, _)| id == step) {
            Some((_, first, last)) => {
                *first = (*first).min(at);
                *last = (*last).max(at);
            }
            None => spans.push((step.to_string(), at, at)),
        }
    }
    let Some(completion) = completion else {
        bail!("the task's events have no completion event");
    };
    let (Some(first_start), Some(last_end)) = (
        spans.iter().map(|(_, first, _)| *first).min(),
        spans.iter().map(|(_, _, last)| *last).max(),
    ) else {
        bail!("the task's events name no step");
    };
    Ok(TaskTimings {
        steps: spans
            .iter()
            .map(|(id, first, last)| StepTiming {
                id: id.clone(),
                duration: between(first, last),
            })
            .collect(),
        before_first_step: between(&created, &first_start),
        after_last_step: between(&last_end, &completion),
        server_total: between(&created, &completion),
    })
}

/// One row of the per-step table: a step (or a phase around the steps)
/// summarised over every timed task that ran it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSummary {
    pub label: String,
    pub summary: LatencySummary,
}

/// The phases of every run summarised: before the first step, each step
/// (labelled `<id>: <name>`, in the order of the first run), after the last
/// step. `names` maps step ids to the template's step names.
pub fn phase_summaries(runs: &[TaskTimings], names: &HashMap<String, String>) -> Vec<PhaseSummary> {
    let mut order: Vec<&str> = Vec::new();
    for run in runs {
        for step in &run.steps {
            if !order.contains(&step.id.as_str()) {
                order.push(&step.id);
            }
        }
    }
    let mut phases = Vec::new();
    let mut push = |label: String, samples: Vec<Duration>| {
        if let Some(summary) = LatencySummary::from_samples(&samples) {
            phases.push(PhaseSummary { label, summary });
        }
    };
    push(
        "(task created → first step)".into(),
        runs.iter().map(|r| r.before_first_step).collect(),
    );
    for id in order {
        let samples = runs
            .iter()
            .flat_map(|r| r.steps.iter().filter(|s| s.id == id).map(|s| s.duration))
            .collect();
        let label = match names.get(id) {
            Some(name) => format!("{id}: {name}"),
            None => id.to_string(),
        };
        push(label, samples);
    }
    push(
        "(last step → completion)".into(),
        runs.iter().map(|r| r.after_last_step).collect(),
    );
    phases
}

/// The task's log as lines of `<time> [<step>] <message>`, with the error
/// of the completion event, for a task that did not complete.
pub fn readable_log(events: &[TaskEvent]) -> String {
    events
        .iter()
        .map(|event| {
            let step = event
                .body
                .get("stepId")
                .and_then(|s| s.as_str())
                .map(|s| format!("[{s}] "))
                .unwrap_or_default();
            let message = event
                .body
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default();
            let error = event
                .body
                .pointer("/error/message")
                .and_then(|m| m.as_str())
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            format!(
                "{} {} {step}{message}{error}",
                event.created_at, event.event_type
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn event(id: i64, kind: &str, at: &str, body: Value) -> TaskEvent {
        TaskEvent {
            id,
            task_id: "t".into(),
            event_type: kind.into(),
            body,
            created_at: at.into(),
            is_task_recoverable: None,
        }
    }

    fn step_log(id: i64, at: &str, step: &str, message: &str) -> TaskEvent {
        event(id, "log", at, json!({"message": message, "stepId": step}))
    }

    fn completed_task() -> Vec<TaskEvent> {
        vec![
            step_log(
                1,
                "2025-01-01T00:00:00.020Z",
                "fetch",
                "Beginning step Fetch",
            ),
            step_log(
                2,
                "2025-01-01T00:00:00.050Z",
                "fetch",
                "Finished step Fetch",
            ),
            step_log(
                3,
                "2025-01-01T00:00:00.051Z",
                "publish",
                "Beginning step Publish",
            ),
            step_log(4, "2025-01-01T00:00:00.090Z", "publish", "Pushing"),
            step_log(
                5,
                "2025-01-01T00:00:00.251Z",
                "publish",
                "Finished step Publish",
            ),
            event(
                6,
                "completion",
                "2025-01-01T00:00:00.260Z",
                json!({"message": "Run completed with status: completed"}),
            ),
        ]
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn steps_last_from_their_first_to_their_last_event() {
        let timings = task_timings("2025-01-01T00:00:00.005Z", &completed_task()).unwrap();
        assert_eq!(
            timings.steps,
            vec![
                StepTiming {
                    id: "fetch".into(),
                    duration: ms(30)
                },
                StepTiming {
                    id: "publish".into(),
                    duration: ms(200)
                },
            ]
        );
        assert_eq!(timings.before_first_step, ms(15));
        assert_eq!(timings.after_last_step, ms(9));
        assert_eq!(timings.server_total, ms(255));
    }

    #[test]
    fn events_without_a_step_are_not_a_step_and_offsets_are_understood() {
        let mut events = completed_task();
        events.insert(
            0,
            event(
                0,
                "log",
                "2025-01-01T01:00:00.010+01:00",
                json!({"message": "Resuming after 0 completed steps"}),
            ),
        );
        let timings = task_timings("2025-01-01T00:00:00.000Z", &events).unwrap();
        assert_eq!(timings.steps.len(), 2);
        assert_eq!(timings.before_first_step, ms(20));
    }

    #[test]
    fn a_log_without_completion_or_steps_is_an_error() {
        let mut events = completed_task();
        events.pop();
        let err = task_timings("2025-01-01T00:00:00.000Z", &events).unwrap_err();
        assert!(err.to_string().contains("no completion"), "{err}");
        let only_end = &completed_task()[5..];
        let err = task_timings("2025-01-01T00:00:00.000Z", only_end).unwrap_err();
        assert!(err.to_string().contains("no step"), "{err}");
        assert!(task_timings("yesterday", &completed_task()).is_err());
    }

    #[test]
    fn phases_are_summarised_over_runs_in_step_order() {
        let run = |fetch: u64, publish: u64| TaskTimings {
            steps: vec![
                StepTiming {
                    id: "fetch".into(),
                    duration: ms(fetch),
                },
                StepTiming {
                    id: "publish".into(),
                    duration: ms(publish),
                },
            ],
            before_first_step: ms(5),
            after_last_step: ms(1),
            server_total: ms(fetch + publish + 6),
        };
        let runs = [run(10, 300), run(30, 100), run(20, 200)];
        let names = HashMap::from([("publish".to_string(), "Publish repository".to_string())]);
        let phases = phase_summaries(&runs, &names);
        let labels: Vec<&str> = phases.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "(task created → first step)",
                "fetch",
                "publish: Publish repository",
                "(last step → completion)"
            ]
        );
        assert_eq!(phases[1].summary.p50, ms(20));
        assert_eq!(phases[2].summary.p50, ms(200));
        assert_eq!(phases[2].summary.max, ms(300));
        assert_eq!(phases[2].summary.samples, 3);
        assert!(phase_summaries(&[], &names).is_empty());
    }

    #[test]
    fn the_log_of_a_failed_task_shows_steps_messages_and_the_error() {
        let events = vec![
            step_log(1, "2025-01-01T00:00:00.020Z", "publish", "push refused"),
            event(
                2,
                "completion",
                "2025-01-01T00:00:00.030Z",
                json!({"message": "Run completed with status: failed", "error": {"name": "Error", "message": "push refused"}}),
            ),
        ];
        assert_eq!(
            readable_log(&events),
            "2025-01-01T00:00:00.020Z log [publish] push refused\n\
             2025-01-01T00:00:00.030Z completion Run completed with status: failed: push refused"
        );
    }
}
