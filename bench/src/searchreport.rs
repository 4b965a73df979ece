//! The markdown `search-bench` prints: a summary with targets, the index
//! build of the first start next to the rebuild, and the query latencies of
//! each query class on both.

use std::time::Duration;

use crate::generate::describe;
use crate::report::{info_row, markdown, table, Row};
use crate::searchrun::{
    CatchUps, ClassLatency, IndexFiles, SearchMeasured, ServerPhase, INDEX_DIR,
};

/// Targets of `search-bench`.
pub const REBUILD_TARGET: Duration = Duration::from_secs(20);
pub const QUERY_P95_TARGET: Duration = Duration::from_millis(10);

/// Milliseconds with two decimals and the unit.
fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn kb_as_mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "–".into())
}

fn overall(phase: &ServerPhase) -> Option<&ClassLatency> {
    phase.latencies.iter().find(|l| l.class.is_none())
}

fn latency_target_row(metric: &str, latency: &ClassLatency) -> Row {
    let s = &latency.summary;
    Row {
        metric: format!("{metric} p50 / p95 / max (n={})", s.samples),
        value: format!("{} / {} / {}", ms(s.p50), ms(s.p95), ms(s.max)),
        target: format!("p95 < {} ms", QUERY_P95_TARGET.as_millis()),
        pass: Some(s.p95 < QUERY_P95_TARGET),
    }
}

fn index_cell(files: &IndexFiles) -> String {
    let mut out = format!("{} in {} files", mb(files.bytes), files.files);
    if let Some(segments) = files.segments {
        out.push_str(&format!(", {segments} segments"));
    }
    if let Some(deleted) = files.deleted_docs.filter(|d| *d > 0) {
        out.push_str(&format!(", {deleted} deleted docs"));
    }
    out
}

fn catch_up_cell(catch_ups: &Option<CatchUps>) -> String {
    match catch_ups {
        None => "not logged".into(),
        Some(c) => format!(
            "{} pass{}, {} indexed, {} in total, longest {}",
            c.passes,
            if c.passes == 1 { "" } else { "es" },
            c.indexed,
            secs(c.total),
            secs(c.longest)
        ),
    }
}

/// The summary rows: set-up, the rebuild against its target, the first
/// build, the query latencies against theirs, index size and memory.
pub fn summary_rows(measured: &SearchMeasured) -> Vec<Row> {
    let (first, rebuild) = (&measured.first, &measured.rebuild);
    let generated = measured.plan.total() as u64;
    let mut rows = vec![
        info_row("catalog", describe(&measured.plan)),
        info_row(
            "database",
            format!("SQLite (file); index in {INDEX_DIR}/ beside it"),
        ),
        info_row(
            "searchable documents (= catalog totalItems)",
            format!(
                "{} ({generated} generated + {} Location)",
                rebuild.documents,
                rebuild.documents.saturating_sub(generated)
            ),
        ),
    ];
    if let Some(stitched) = first.stitched {
        rows.push(info_row(
            "first start: all entities stitched, from process start",
            secs(stitched),
        ));
        rows.push(info_row(
            "first start: index caught up after stitching was done",
            format!(
                "{} ({} from process start)",
                secs(first.complete.saturating_sub(stitched)),
                secs(first.complete)
            ),
        ));
    }
    rows.push(Row {
        metric: format!(
            "rebuild after deleting {INDEX_DIR}/: process start → search answers 200 with all {} results",
            rebuild.documents
        ),
        value: format!(
            "{} ({:.0} documents/s)",
            secs(rebuild.complete),
            rebuild.documents as f64 / rebuild.complete.as_secs_f64().max(1e-9)
        ),
        target: format!("< {} s", REBUILD_TARGET.as_secs()),
        pass: Some(rebuild.complete < REBUILD_TARGET),
    });
    if let Some(l) = overall(rebuild) {
        rows.push(latency_target_row("queries on the rebuilt index, mixed", l));
    }
    if let Some(l) = overall(first) {
        rows.push(latency_target_row(
            "queries on the index filled while stitching, mixed",
            l,
        ));
    }
    rows.push(info_row(
        "index size on disk after the rebuild",
        index_cell(&rebuild.index_at_end),
    ));
    rows.push(info_row(
        "index size on disk, first start",
        index_cell(&first.index_at_end),
    ));
    rows.push(info_row(
        "server VmRSS right after the rebuild caught up",
        or_dash(rebuild.rss_at_complete_kb.map(kb_as_mb)),
    ));
    rows.push(info_row(
        "server peak RSS (VmHWM): first start / rebuild",
        format!(
            "{} / {}",
            or_dash(first.hwm_kb.map(kb_as_mb)),
            or_dash(rebuild.hwm_kb.map(kb_as_mb))
        ),
    ));
    rows
}

/// The first start next to the rebuild, phase by phase.
pub fn build_table(measured: &SearchMeasured) -> String {
    let phases = [&measured.first, &measured.rebuild];
    let row = |label: &str, cell: &dyn Fn(&ServerPhase) -> String| {
        let mut out = vec![label.to_string()];
        out.extend(phases.iter().map(|p| cell(p)));
        out
    };
    let rows = vec![
        row("search route first answered (status)", &|p| {
            or_dash(p.first_answer.map(|(t, s)| format!("{} ({s})", secs(t))))
        }),
        row("first 200 (numberOfResults then)", &|p| {
            or_dash(p.first_ok.map(|(t, n)| format!("{} ({n})", secs(t))))
        }),
        row("all entities stitched", &|p| or_dash(p.stitched.map(secs))),
        row("all documents searchable", &|p| secs(p.complete)),
        row("server CPU (user + system) at stitched", &|p| {
            or_dash(p.cpu_at_stitched.map(|c| format!("{c:.1} s")))
        }),
        row("server CPU (user + system) when searchable", &|p| {
            or_dash(p.cpu_at_complete.map(|c| format!("{c:.1} s")))
        }),
        row(
            "bytes written to storage by the server until searchable",
            &|p| or_dash(p.written_at_complete.map(mb)),
        ),
        row("catch-ups logged by the server", &|p| {
            catch_up_cell(&p.catch_ups)
        }),
        row("server CPU per timed query (average)", &|p| {
            or_dash(p.cpu_per_query.map(ms))
        }),
        row(&format!("{INDEX_DIR}/ when searchable"), &|p| {
            index_cell(&p.index_at_complete)
        }),
        row(&format!("{INDEX_DIR}/ after the query samples"), &|p| {
            index_cell(&p.index_at_end)
        }),
        row("VmRSS when searchable", &|p| {
            or_dash(p.rss_at_complete_kb.map(kb_as_mb))
        }),
        row("VmHWM at the end", &|p| or_dash(p.hwm_kb.map(kb_as_mb))),
    ];
    table(
        &[
            "index build (times from process start)",
            "first start (filled while stitching)",
            &format!("rebuild ({INDEX_DIR}/ deleted)"),
        ],
        &rows,
    )
}

/// One row per query class plus the mixed total.
pub fn latency_table(latencies: &[ClassLatency]) -> String {
    let rows: Vec<Vec<String>> = latencies
        .iter()
        .map(|l| {
            let s = &l.summary;
            vec![
                l.class.map_or("all (mixed)", |c| c.label()).to_string(),
                l.distinct.to_string(),
                s.samples.to_string(),
                ms(s.p50),
                ms(s.p95),
                ms(s.max),
                if s.p95 < QUERY_P95_TARGET {
                    "PASS"
                } else {
                    "FAIL"
                }
                .to_string(),
                l.median_results.to_string(),
                l.example.clone(),
            ]
        })
        .collect();
    table(
        &[
            "query",
            "distinct",
            "n",
            "p50",
            "p95",
            "max",
            &format!("p95 < {} ms", QUERY_P95_TARGET.as_millis()),
            "numberOfResults (median)",
            "example",
        ],
        &rows,
    )
}

/// The whole report.
pub fn render(measured: &SearchMeasured) -> String {
    let mut out = markdown(&summary_rows(measured));
    out.push('\n');
    out.push_str(&build_table(measured));
    out.push_str(
        "\nQuery latency on the rebuilt index (sequential, classes interleaved, body read):\n\n",
    );
    out.push_str(&latency_table(&measured.rebuild.latencies));
    out.push_str("\nQuery latency on the index filled while stitching (first start):\n\n");
    out.push_str(&latency_table(&measured.first.latencies));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::CatalogPlan;
    use crate::searchqueries::QueryClass;
    use crate::stats::LatencySummary;

    fn latency(class: Option<QueryClass>, p95_us: u64) -> ClassLatency {
        let us = Duration::from_micros;
        ClassLatency {
            class,
            distinct: 20,
            summary: LatencySummary {
                samples: 200,
                min: us(500),
                p50: us(1_250),
                p95: us(p95_us),
                p99: us(p95_us + 1),
                max: us(p95_us + 2_000),
            },
            median_results: 321,
            example: "term=\"ledger\"".into(),
        }
    }

    fn phase(complete_s: u64, stitched: Option<u64>) -> ServerPhase {
        ServerPhase {
            first_answer: Some((Duration::from_millis(300), 503)),
            first_ok: Some((Duration::from_secs(2), 2000)),
            stitched: stitched.map(Duration::from_secs),
            complete: Duration::from_secs(complete_s),
            documents: 102,
            cpu_at_complete: Some(12.5),
            cpu_per_query: Some(Duration::from_micros(1_500)),
            index_at_complete: IndexFiles {
                bytes: 12_300_000,
                files: 40,
                segments: Some(6),
                deleted_docs: Some(0),
            },
            index_at_end: IndexFiles {
                bytes: 10_000_000,
                files: 20,
                segments: Some(3),
                deleted_docs: Some(7),
            },
            hwm_kb: Some(204_800),
            latencies: vec![
                latency(Some(QueryClass::Typo), 12_000),
                latency(None, 4_000),
            ],
            catch_ups: Some(CatchUps {
                passes: 1,
                indexed: 102,
                removed: 0,
                total: Duration::from_millis(1500),
                longest: Duration::from_millis(1500),
            }),
            ..ServerPhase::default()
        }
    }

    #[test]
    fn the_report_judges_the_rebuild_and_the_p95() {
        let measured = SearchMeasured {
            plan: CatalogPlan::new(100, 1).unwrap(),
            first: phase(70, Some(60)),
            rebuild: phase(25, None),
        };
        let text = render(&measured);
        assert!(
            text.contains("| searchable documents (= catalog totalItems) | 102 (100 generated + 2 Location) | – |  |"),
            "{text}"
        );
        assert!(
            text.contains("| first start: index caught up after stitching was done | 10.0 s (70.0 s from process start) |"),
            "{text}"
        );
        assert!(
            text.contains("results | 25.0 s (4 documents/s) | < 20 s | FAIL |"),
            "{text}"
        );
        assert!(
            text.contains("| queries on the rebuilt index, mixed p50 / p95 / max (n=200) | 1.25 ms / 4.00 ms / 6.00 ms | p95 < 10 ms | PASS |"),
            "{text}"
        );
        assert!(
            text.contains("| one typo (two letters swapped) | 20 | 200 | 1.25 ms | 12.00 ms | 14.00 ms | FAIL | 321 | term=\"ledger\" |"),
            "{text}"
        );
        assert!(
            text.contains("| search route first answered (status) | 0.3 s (503) | 0.3 s (503) |"),
            "{text}"
        );
        assert!(
            text.contains("| server CPU per timed query (average) | 1.50 ms | 1.50 ms |"),
            "{text}"
        );
        assert!(
            text.contains("| all entities stitched | 60.0 s | – |"),
            "{text}"
        );
        assert!(
            text.contains("10.0 MB in 20 files, 3 segments, 7 deleted docs"),
            "{text}"
        );
        assert!(
            text.contains("1 pass, 102 indexed, 1.5 s in total, longest 1.5 s"),
            "{text}"
        );
        assert!(
            text.contains(
                "| server peak RSS (VmHWM): first start / rebuild | 200.0 MB / 200.0 MB |"
            ),
            "{text}"
        );
    }
}
