//! The report of `permissions-bench`: the set-up, then per concurrency
//! level one table with both modes side by side, the p95 ratio and its
//! verdict against the target.

use std::time::Duration;

use crate::report::table;
use crate::stats::LatencySummary;

/// p95 with the policy must stay below this multiple of p95 without.
pub const RATIO_TARGET: f64 = 2.0;
pub const TARGET_LINE: &str = "target: p95 with policy < 2x without";

/// One mode's figures for one query (or for all queries together, when
/// `items` and `total` are None).
#[derive(Debug, Clone, PartialEq)]
pub struct ModeFigures {
    pub summary: LatencySummary,
    /// Requests per second over the wall time of this mode's blocks.
    pub per_second: f64,
    /// Items on the checked page.
    pub items: Option<usize>,
    /// `totalItems` of the checked page.
    pub total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueryRow {
    pub query: String,
    pub no_policy: ModeFigures,
    pub policy: ModeFigures,
}

impl QueryRow {
    /// p95 with the policy over p95 without.
    pub fn ratio(&self) -> f64 {
        self.policy.summary.p95.as_secs_f64() / self.no_policy.summary.p95.as_secs_f64().max(1e-9)
    }

    pub fn passes(&self) -> bool {
        self.ratio() < RATIO_TARGET
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LevelTable {
    pub concurrency: usize,
    /// One row per query, the last one over all queries.
    pub rows: Vec<QueryRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PermissionsReport {
    /// (setting, value) lines above the tables.
    pub setup: Vec<(String, String)>,
    pub levels: Vec<LevelTable>,
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn latencies(f: &ModeFigures) -> String {
    format!(
        "{} / {} / {}",
        ms(f.summary.p50),
        ms(f.summary.p95),
        ms(f.summary.p99)
    )
}

fn pair<T: ToString>(a: Option<T>, b: Option<T>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{} / {}", a.to_string(), b.to_string()),
        _ => "–".into(),
    }
}

pub fn render(report: &PermissionsReport) -> String {
    let mut out = String::from(
        "## permissions-bench: GET /api/catalog/entities/by-query without and with a permission policy\n\n",
    );
    let setup: Vec<Vec<String>> = report
        .setup
        .iter()
        .map(|(k, v)| vec![k.clone(), v.clone()])
        .collect();
    out.push_str(&table(&["setting", "value"], &setup));
    for level in &report.levels {
        let how = if level.concurrency == 1 {
            "sequential (concurrency 1)".to_string()
        } else {
            format!("concurrency {}", level.concurrency)
        };
        out.push_str(&format!("\n### {how}\n\n"));
        let rows: Vec<Vec<String>> = level
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.query.clone(),
                    r.no_policy.summary.samples.to_string(),
                    latencies(&r.no_policy),
                    latencies(&r.policy),
                    format!("{:.2}x", r.ratio()),
                    pair(r.no_policy.items, r.policy.items),
                    pair(r.no_policy.total, r.policy.total),
                    format!("{:.0} / {:.0}", r.no_policy.per_second, r.policy.per_second),
                    if r.passes() { "PASS" } else { "FAIL" }.into(),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "query (GET /api/catalog/entities/by-query?…)",
                "n per mode",
                "no policy p50 / p95 / p99 ms",
                "policy p50 / p95 / p99 ms",
                "p95 policy / no policy",
                "items no policy / policy",
                "totalItems no policy / policy",
                "req/s no policy / policy",
                "result",
            ],
            &rows,
        ));
    }
    out.push('\n');
    out.push_str(TARGET_LINE);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(p95_ms: u64, items: Option<usize>, total: Option<u64>) -> ModeFigures {
        ModeFigures {
            summary: LatencySummary {
                samples: 500,
                min: Duration::from_millis(1),
                p50: Duration::from_millis(2),
                p95: Duration::from_millis(p95_ms),
                p99: Duration::from_millis(p95_ms + 1),
                max: Duration::from_millis(p95_ms + 5),
            },
            per_second: 250.4,
            items,
            total,
        }
    }

    #[test]
    fn ratio_and_verdict_follow_p95() {
        let row = |a, b| QueryRow {
            query: "q".into(),
            no_policy: figures(a, None, None),
            policy: figures(b, None, None),
        };
        assert!((row(4, 6).ratio() - 1.5).abs() < 1e-9);
        assert!(row(4, 7).passes());
        assert!(!row(4, 8).passes(), "exactly 2x is not below 2x");
    }

    #[test]
    fn render_shows_both_modes_counts_and_the_target() {
        let report = PermissionsReport {
            setup: vec![("database".into(), "SQLite (file)".into())],
            levels: vec![LevelTable {
                concurrency: 1,
                rows: vec![
                    QueryRow {
                        query: "filter=kind=component&limit=20".into(),
                        no_policy: figures(4, Some(20), Some(55_000)),
                        policy: figures(12, Some(20), Some(275)),
                    },
                    QueryRow {
                        query: "all queries".into(),
                        no_policy: figures(4, None, None),
                        policy: figures(6, None, None),
                    },
                ],
            }],
        };
        let text = render(&report);
        assert!(text.contains("| database | SQLite (file) |"), "{text}");
        assert!(text.contains("### sequential (concurrency 1)"), "{text}");
        assert!(text.contains(
            "| filter=kind=component&limit=20 | 500 | 2.00 / 4.00 / 5.00 | 2.00 / 12.00 / 13.00 | 3.00x | 20 / 20 | 55000 / 275 | 250 / 250 | FAIL |"
        ), "{text}");
        assert!(text.contains("| all queries | 500 | 2.00 / 4.00 / 5.00 | 2.00 / 6.00 / 7.00 | 1.50x | – | – | 250 / 250 | PASS |"), "{text}");
        assert!(text
            .trim_end()
            .ends_with("target: p95 with policy < 2x without"));
    }
}
