//! The result tables: one row per figure with its target and verdict, and
//! plain markdown tables with millisecond cells.

use std::time::Duration;

use crate::stats::LatencySummary;

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub metric: String,
    pub value: String,
    pub target: String,
    /// None when the row is informational (no target).
    pub pass: Option<bool>,
}

/// Targets the benchmark judges against.
pub const STITCH_TARGET: Duration = Duration::from_secs(60);
pub const P95_TARGET: Duration = Duration::from_millis(20);
pub const RSS_TARGET_MB: f64 = 300.0;

pub fn stitch_row(entities: usize, elapsed: Duration) -> Row {
    let secs = elapsed.as_secs_f64();
    Row {
        metric: format!("all {entities} entities stitched"),
        value: format!(
            "{secs:.1} s ({:.0} entities/s)",
            entities as f64 / secs.max(1e-9)
        ),
        target: format!("≤ {} s", STITCH_TARGET.as_secs()),
        pass: Some(elapsed <= STITCH_TARGET),
    }
}

pub fn latency_row(name: &str, summary: &LatencySummary) -> Row {
    Row {
        metric: format!("{name} p50 / p95 / p99 (n={})", summary.samples),
        value: format!(
            "{} / {} / {} ms",
            millis_2dp(summary.p50),
            millis_2dp(summary.p95),
            millis_2dp(summary.p99)
        ),
        target: format!("p95 < {} ms", P95_TARGET.as_millis()),
        pass: Some(summary.p95 < P95_TARGET),
    }
}

pub fn rss_row(metric: &str, kb: u64) -> Row {
    let mb = kb as f64 / 1024.0;
    Row {
        metric: metric.to_string(),
        value: format!("{mb:.1} MB"),
        target: format!("< {RSS_TARGET_MB:.0} MB"),
        pass: Some(mb < RSS_TARGET_MB),
    }
}

pub fn info_row(metric: &str, value: String) -> Row {
    Row {
        metric: metric.to_string(),
        value,
        target: "–".into(),
        pass: None,
    }
}

/// Milliseconds with two decimals, no unit (the latency rows name it once).
fn millis_2dp(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// `12.3 ms`.
pub fn fmt_ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A markdown table with `|` in cells escaped.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = format!(
        "| {} |\n|{}\n",
        headers
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(headers.len())
    );
    for row in rows {
        out.push_str(&format!(
            "| {} |\n",
            row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    out
}

/// A GitHub-flavoured markdown table; `|` in cells is escaped.
pub fn markdown(rows: &[Row]) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("| metric | value | target | result |\n|---|---|---|---|\n");
    for row in rows {
        let verdict = match row.pass {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {verdict} |\n",
            cell(&row.metric),
            cell(&row.value),
            cell(&row.target)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stitch_row_reports_rate_and_verdict() {
        let row = stitch_row(100_000, Duration::from_secs(40));
        assert_eq!(row.value, "40.0 s (2500 entities/s)");
        assert_eq!(row.pass, Some(true));
        assert_eq!(stitch_row(10, Duration::from_secs(61)).pass, Some(false));
        assert_eq!(stitch_row(10, Duration::from_secs(60)).pass, Some(true));
    }

    #[test]
    fn latency_row_judges_p95_only() {
        let summary = LatencySummary {
            samples: 200,
            min: Duration::from_micros(900),
            p50: Duration::from_micros(1500),
            p95: Duration::from_micros(19_990),
            p99: Duration::from_millis(45),
            max: Duration::from_millis(90),
        };
        let row = latency_row("GET /x", &summary);
        assert_eq!(row.value, "1.50 / 19.99 / 45.00 ms");
        assert_eq!(row.pass, Some(true));
        let slow = LatencySummary {
            p95: Duration::from_millis(20),
            ..summary
        };
        assert_eq!(latency_row("GET /x", &slow).pass, Some(false));
    }

    #[test]
    fn rss_row_converts_kb() {
        assert_eq!(rss_row("peak", 204_800).value, "200.0 MB");
        assert_eq!(rss_row("peak", 204_800).pass, Some(true));
        assert_eq!(rss_row("peak", 307_200).pass, Some(false));
    }

    #[test]
    fn tables_escape_pipes_and_milliseconds_have_one_decimal() {
        let t = table(&["a", "b"], &[vec!["x|y".into(), "1".into()]]);
        assert_eq!(t, "| a | b |\n|---|---|\n| x\\|y | 1 |\n");
        assert_eq!(fmt_ms(Duration::from_micros(12_345)), "12.3 ms");
    }

    #[test]
    fn markdown_table_has_header_rows_and_escapes_pipes() {
        let rows = vec![info_row("a|b", "1".into()), rss_row("peak", 1024)];
        let table = markdown(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "| metric | value | target | result |");
        assert_eq!(lines[2], "| a\\|b | 1 | – |  |");
        assert_eq!(lines[3], "| peak | 1.0 MB | < 300 MB | PASS |");
    }
}
