//! The markdown `scaffolder-bench` prints: its set-up, the task durations
//! (min / p50 / p95 / max over the timed runs) and the per-step table.

use std::time::Duration;

use crate::report::{fmt_ms, table};
use crate::scaffolderrun::{Measured, TaskRun, POLL_EVERY};
use crate::stats::LatencySummary;
use crate::taskevents::phase_summaries;

/// `[n, min, p50, p95, max]` cells of a set of durations, after `label`.
fn summary_row(label: &str, samples: &[Duration]) -> Option<Vec<String>> {
    let s = LatencySummary::from_samples(samples)?;
    Some(vec![
        label.to_string(),
        s.samples.to_string(),
        fmt_ms(s.min),
        fmt_ms(s.p50),
        fmt_ms(s.p95),
        fmt_ms(s.max),
    ])
}

fn durations(runs: &[TaskRun], of: impl Fn(&TaskRun) -> Duration) -> Vec<Duration> {
    runs.iter().map(of).collect()
}

/// The report: `setup` as a two-column table, then the task durations and
/// the per-step medians.
pub fn render(setup: &[(&str, String)], measured: &Measured) -> String {
    let runs = &measured.runs;
    let setup_rows: Vec<Vec<String>> = setup
        .iter()
        .map(|(k, v)| vec![k.to_string(), v.clone()])
        .collect();
    let polled = format!(
        "POST /v2/tasks → task seen `completed` (polled every {} ms)",
        POLL_EVERY.as_millis()
    );
    let rows: Vec<Vec<String>> = [
        summary_row(&polled, &durations(runs, |r| r.elapsed)),
        summary_row(
            "task created → completion event (server timestamps)",
            &durations(runs, |r| r.timings.server_total),
        ),
        summary_row(
            "seen `completed` → component served by the catalog (not in the total)",
            &durations(runs, |r| r.to_catalog),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let timings: Vec<_> = runs.iter().map(|r| r.timings.clone()).collect();
    let step_rows: Vec<Vec<String>> = phase_summaries(&timings, &measured.step_names)
        .iter()
        .map(|phase| {
            vec![
                phase.label.clone(),
                fmt_ms(phase.summary.p50),
                fmt_ms(phase.summary.min),
                fmt_ms(phase.summary.max),
            ]
        })
        .collect();
    let mut out = table(&["setting", "value"], &setup_rows);
    out.push('\n');
    out.push_str(&table(
        &["measure", "runs", "min", "p50", "p95", "max"],
        &rows,
    ));
    out.push_str(
        "\nPer step, by the server's event timestamps (first to last event of the step; ms resolution):\n\n",
    );
    out.push_str(&table(&["step", "median", "min", "max"], &step_rows));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskevents::{StepTiming, TaskTimings};
    use std::collections::HashMap;

    fn run(total_ms: u64, publish_ms: u64) -> TaskRun {
        let ms = Duration::from_millis;
        TaskRun {
            elapsed: ms(total_ms),
            to_catalog: ms(40),
            timings: TaskTimings {
                steps: vec![StepTiming {
                    id: "publish".into(),
                    duration: ms(publish_ms),
                }],
                before_first_step: ms(3),
                after_last_step: ms(2),
                server_total: ms(total_ms - 10),
            },
        }
    }

    #[test]
    fn the_report_has_the_summary_and_the_step_medians() {
        let measured = Measured {
            runs: vec![run(500, 200), run(700, 300), run(600, 250)],
            step_names: HashMap::from([("publish".into(), "Publish repository".into())]),
        };
        let text = render(&[("remote", "file://".into())], &measured);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "| setting | value |");
        assert_eq!(lines[2], "| remote | file:// |");
        assert!(text.contains(
            "| POST /v2/tasks → task seen `completed` (polled every 10 ms) | 3 | 500.0 ms | 600.0 ms | 700.0 ms | 700.0 ms |"
        ), "{text}");
        assert!(
            text.contains("| task created → completion event (server timestamps) | 3 | 490.0 ms |"),
            "{text}"
        );
        assert!(
            text.contains("| publish: Publish repository | 250.0 ms | 200.0 ms | 300.0 ms |"),
            "{text}"
        );
        assert!(
            text.contains("| (task created → first step) | 3.0 ms |"),
            "{text}"
        );
    }
}
