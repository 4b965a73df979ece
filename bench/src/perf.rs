//! What the browser recorded about one page load (navigation and resource
//! timing entries, the first-rows mark) and the figures derived from it:
//! bytes per resource and in total, API request times, tables.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::report::{fmt_ms, table, Row};
use crate::stats::percentile;

/// The whole first page, compressed, as the browser downloaded it.
pub const FIRST_PAGE_TARGET_BYTES: u64 = 600_000;
/// From navigation start until the catalog table shows rows.
pub const FIRST_ROWS_TARGET: Duration = Duration::from_secs(1);

/// The `performance.mark` the catalog page sets once its table shows rows.
pub const FIRST_ROWS_MARK: &str = "greenroom:catalog-rows";

/// API paths the catalog page requests for its first view.
pub const ENTITIES_QUERY_PATH: &str = "/api/catalog/entities/by-query";
pub const FACETS_PATH: &str = "/api/catalog/entity-facets";

/// Script run in the page (WebDriver "execute script"): the navigation and
/// resource timing entries, the first-rows mark, the first contentful paint
/// and how many table rows the catalog shows.
pub const COLLECT_SCRIPT: &str = r#"
const pick = (e) => ({
  name: e.name,
  entryType: e.entryType,
  initiatorType: e.initiatorType || '',
  startTime: e.startTime,
  duration: e.duration,
  requestStart: e.requestStart || 0,
  responseStart: e.responseStart || 0,
  responseEnd: e.responseEnd || 0,
  transferSize: e.transferSize || 0,
  encodedBodySize: e.encodedBodySize || 0,
  decodedBodySize: e.decodedBodySize || 0,
});
const mark = performance.getEntriesByName(arguments[0])[0];
const fcp = performance.getEntriesByName('first-contentful-paint')[0];
return {
  navigation: performance.getEntriesByType('navigation').map(pick),
  resources: performance.getEntriesByType('resource').map(pick),
  firstRows: mark ? mark.startTime : null,
  firstContentfulPaint: fcp ? fcp.startTime : null,
  rows: document.querySelectorAll('table tbody tr').length,
  text: document.body ? document.body.innerText.slice(0, 300) : '',
};
"#;

/// One `PerformanceNavigationTiming` or `PerformanceResourceTiming` entry
/// (times in milliseconds since navigation start, sizes in bytes).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub name: String,
    pub entry_type: String,
    #[serde(default)]
    pub initiator_type: String,
    pub start_time: f64,
    pub duration: f64,
    #[serde(default)]
    pub request_start: f64,
    #[serde(default)]
    pub response_start: f64,
    #[serde(default)]
    pub response_end: f64,
    #[serde(default)]
    pub transfer_size: f64,
    #[serde(default)]
    pub encoded_body_size: f64,
    #[serde(default)]
    pub decoded_body_size: f64,
}

impl Entry {
    pub fn transfer(&self) -> u64 {
        self.transfer_size.max(0.0).round() as u64
    }
    pub fn encoded(&self) -> u64 {
        self.encoded_body_size.max(0.0).round() as u64
    }
    pub fn decoded(&self) -> u64 {
        self.decoded_body_size.max(0.0).round() as u64
    }

    /// Path and query of the entry's URL (the whole name when it is not a URL).
    pub fn path(&self) -> String {
        match Url::parse(&self.name) {
            Ok(url) => match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_string(),
            },
            Err(_) => self.name.clone(),
        }
    }

    pub fn kind(&self) -> ResourceKind {
        ResourceKind::of(self)
    }
}

/// What a downloaded resource is, for the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResourceKind {
    Html,
    Js,
    Wasm,
    Css,
    Api,
    Other,
}

impl ResourceKind {
    pub fn of(entry: &Entry) -> Self {
        if entry.entry_type == "navigation" {
            return Self::Html;
        }
        let path = Url::parse(&entry.name)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| entry.name.clone());
        if path.starts_with("/api/") {
            Self::Api
        } else if path.ends_with(".wasm") {
            Self::Wasm
        } else if path.ends_with(".js") || path.ends_with(".mjs") {
            Self::Js
        } else if path.ends_with(".css") {
            Self::Css
        } else if path.ends_with(".html") {
            Self::Html
        } else {
            Self::Other
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Html => "HTML",
            Self::Js => "JS",
            Self::Wasm => "WASM",
            Self::Css => "CSS",
            Self::Api => "API (JSON)",
            Self::Other => "other",
        }
    }
}

/// What [`COLLECT_SCRIPT`] returns.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageLoad {
    pub navigation: Vec<Entry>,
    pub resources: Vec<Entry>,
    pub first_rows: Option<f64>,
    pub first_contentful_paint: Option<f64>,
    #[serde(default)]
    pub rows: u64,
    #[serde(default)]
    pub text: String,
}

/// Sizes summed over a set of entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bytes {
    pub transfer: u64,
    pub encoded: u64,
    pub decoded: u64,
    pub count: usize,
}

impl Bytes {
    fn add(&mut self, entry: &Entry) {
        self.transfer += entry.transfer();
        self.encoded += entry.encoded();
        self.decoded += entry.decoded();
        self.count += 1;
    }
}

impl PageLoad {
    /// The navigation entry followed by the resources, in load order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.navigation.iter().chain(self.resources.iter())
    }

    pub fn totals(&self) -> Bytes {
        let mut total = Bytes::default();
        self.entries().for_each(|e| total.add(e));
        total
    }

    pub fn totals_of(&self, kind: ResourceKind) -> Bytes {
        let mut total = Bytes::default();
        self.entries()
            .filter(|e| e.kind() == kind)
            .for_each(|e| total.add(e));
        total
    }

    /// The time of the first-rows mark.
    pub fn first_rows_time(&self) -> Option<Duration> {
        self.first_rows.map(ms)
    }

    /// The API requests of the first view (`/entities/by-query`,
    /// `/entity-facets`), in the order they started.
    pub fn api_requests(&self) -> Vec<&Entry> {
        let mut found: Vec<&Entry> = self
            .resources
            .iter()
            .filter(|e| is_path(e, ENTITIES_QUERY_PATH) || is_path(e, FACETS_PATH))
            .collect();
        found.sort_by(|a, b| a.start_time.total_cmp(&b.start_time));
        found
    }

    /// Duration (as the browser saw it) of the first request to `path`.
    pub fn request_duration(&self, path: &str) -> Option<Duration> {
        self.resources
            .iter()
            .filter(|e| is_path(e, path))
            .min_by(|a, b| a.start_time.total_cmp(&b.start_time))
            .map(|e| ms(e.duration))
    }

    /// True once every first-view API request has completed (resource
    /// entries are only added when the response has ended).
    pub fn api_requests_done(&self) -> bool {
        [ENTITIES_QUERY_PATH, FACETS_PATH]
            .iter()
            .all(|p| self.resources.iter().any(|e| is_path(e, p)))
    }
}

fn is_path(entry: &Entry, path: &str) -> bool {
    Url::parse(&entry.name).is_ok_and(|u| u.path() == path)
}

/// Milliseconds (as the browser reports them) to a `Duration`.
pub fn ms(millis: f64) -> Duration {
    Duration::from_secs_f64(millis.max(0.0) / 1000.0)
}

/// `123.4 kB` (1 kB = 1000 bytes).
pub fn kb(bytes: u64) -> String {
    format!("{:.1} kB", bytes as f64 / 1000.0)
}

/// The per-resource table: name, type, transfer, encoded, decoded.
pub fn resource_table(load: &PageLoad) -> String {
    let mut rows: Vec<Vec<String>> = load
        .entries()
        .map(|e| {
            vec![
                e.path(),
                e.kind().label().to_string(),
                e.transfer().to_string(),
                e.encoded().to_string(),
                e.decoded().to_string(),
            ]
        })
        .collect();
    let total = load.totals();
    rows.push(vec![
        format!("**total** ({} requests)", total.count),
        String::new(),
        total.transfer.to_string(),
        total.encoded.to_string(),
        total.decoded.to_string(),
    ]);
    table(
        &[
            "name",
            "type",
            "transfer (bytes)",
            "encoded (bytes)",
            "decoded (bytes)",
        ],
        &rows,
    )
}

/// The first-page size row, judged against [`FIRST_PAGE_TARGET_BYTES`].
pub fn size_row(total: &Bytes) -> Row {
    Row {
        metric: format!(
            "first page /catalog downloaded (sum of transferSize, {} requests)",
            total.count
        ),
        value: format!("{} ({} bytes)", kb(total.transfer), total.transfer),
        target: format!("< {}", kb(FIRST_PAGE_TARGET_BYTES)),
        pass: Some(total.transfer < FIRST_PAGE_TARGET_BYTES),
    }
}

/// p50 and max of a set of timings (nearest rank).
pub fn p50_max(samples: &[Duration]) -> Option<(Duration, Duration)> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    Some((percentile(&sorted, 50.0)?, *sorted.last()?))
}

/// Two rows (p50 and max) for time-to-first-rows samples, each judged
/// against [`FIRST_ROWS_TARGET`].
pub fn first_rows_rows(label: &str, samples: &[Duration]) -> Vec<Row> {
    let Some((p50, max)) = p50_max(samples) else {
        return Vec::new();
    };
    let target = format!("< {} ms", FIRST_ROWS_TARGET.as_millis());
    vec![
        Row {
            metric: format!("time to first rows, {label}, p50 (n={})", samples.len()),
            value: fmt_ms(p50),
            target: target.clone(),
            pass: Some(p50 < FIRST_ROWS_TARGET),
        },
        Row {
            metric: format!("time to first rows, {label}, max (n={})", samples.len()),
            value: fmt_ms(max),
            target,
            pass: Some(max < FIRST_ROWS_TARGET),
        },
    ]
}

/// The same URL fetched outside the browser with `Accept-Encoding: gzip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refetch {
    pub path: String,
    pub content_encoding: Option<String>,
    /// Body bytes as received (compressed when `content_encoding` is gzip).
    pub body_bytes: u64,
    /// Body bytes after gunzip (equal to `body_bytes` when not compressed).
    pub decoded_bytes: u64,
}

/// Compares the browser's `encodedBodySize`/`decodedBodySize` with a
/// refetch: one table row per resource.
pub fn cross_check_row(entry: &Entry, refetch: &Refetch) -> Vec<String> {
    let same = entry.encoded() == refetch.body_bytes && entry.decoded() == refetch.decoded_bytes;
    vec![
        refetch.path.clone(),
        refetch
            .content_encoding
            .clone()
            .unwrap_or_else(|| "(none)".into()),
        entry.encoded().to_string(),
        refetch.body_bytes.to_string(),
        entry.decoded().to_string(),
        refetch.decoded_bytes.to_string(),
        if same { "yes" } else { "NO" }.to_string(),
    ]
}

pub const CROSS_CHECK_HEADERS: &[&str] = &[
    "name",
    "Content-Encoding",
    "browser encoded",
    "refetched body",
    "browser decoded",
    "refetched decoded",
    "same",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(name: &str, entry_type: &str, transfer: f64, encoded: f64, decoded: f64) -> Entry {
        Entry {
            name: name.into(),
            entry_type: entry_type.into(),
            initiator_type: String::new(),
            start_time: 0.0,
            duration: 0.0,
            request_start: 0.0,
            response_start: 0.0,
            response_end: 0.0,
            transfer_size: transfer,
            encoded_body_size: encoded,
            decoded_body_size: decoded,
        }
    }

    fn sample_load() -> PageLoad {
        let value = json!({
            "navigation": [{
                "name": "http://127.0.0.1:4000/catalog", "entryType": "navigation",
                "initiatorType": "navigation", "startTime": 0, "duration": 420.5,
                "transferSize": 1300, "encodedBodySize": 1000, "decodedBodySize": 2500
            }],
            "resources": [
                {"name": "http://127.0.0.1:4000/style.css", "entryType": "resource",
                 "initiatorType": "link", "startTime": 10, "duration": 5,
                 "transferSize": 2300, "encodedBodySize": 2000, "decodedBodySize": 8000},
                {"name": "http://127.0.0.1:4000/greenroom_frontend.js", "entryType": "resource",
                 "initiatorType": "script", "startTime": 11, "duration": 6,
                 "transferSize": 10300, "encodedBodySize": 10000, "decodedBodySize": 40000},
                {"name": "http://127.0.0.1:4000/greenroom_frontend_bg.wasm", "entryType": "resource",
                 "initiatorType": "fetch", "startTime": 30, "duration": 60,
                 "transferSize": 300300, "encodedBodySize": 300000, "decodedBodySize": 900000},
                {"name": "http://127.0.0.1:4000/api/catalog/entity-facets?facet=kind", "entryType": "resource",
                 "initiatorType": "fetch", "startTime": 201, "duration": 12.5,
                 "transferSize": 500, "encodedBodySize": 200, "decodedBodySize": 200},
                {"name": "http://127.0.0.1:4000/api/catalog/entities/by-query?limit=50&orderField=metadata.name,asc",
                 "entryType": "resource", "initiatorType": "fetch", "startTime": 200, "duration": 48.25,
                 "transferSize": 8300, "encodedBodySize": 8000, "decodedBodySize": 60000}
            ],
            "firstRows": 512.75,
            "firstContentfulPaint": 80.0,
            "rows": 50,
            "text": "Software catalog"
        });
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn resources_are_classified_by_entry_type_and_path() {
        let load = sample_load();
        let kinds: Vec<ResourceKind> = load.entries().map(Entry::kind).collect();
        use ResourceKind::*;
        assert_eq!(kinds, vec![Html, Css, Js, Wasm, Api, Api]);
        assert_eq!(
            entry("http://h/index.html", "resource", 0.0, 0.0, 0.0).kind(),
            Html
        );
        assert_eq!(
            entry("http://h/favicon.ico", "resource", 0.0, 0.0, 0.0).kind(),
            Other
        );
        assert_eq!(
            entry("http://h/x.js?v=1", "resource", 0.0, 0.0, 0.0).kind(),
            Js
        );
    }

    #[test]
    fn totals_sum_navigation_and_resources() {
        let load = sample_load();
        let total = load.totals();
        assert_eq!(total.count, 6);
        assert_eq!(total.transfer, 1300 + 2300 + 10300 + 300300 + 500 + 8300);
        assert_eq!(total.encoded, 1000 + 2000 + 10000 + 300000 + 200 + 8000);
        assert_eq!(total.decoded, 2500 + 8000 + 40000 + 900000 + 200 + 60000);
        let api = load.totals_of(ResourceKind::Api);
        assert_eq!((api.count, api.transfer), (2, 8800));
        assert_eq!(load.totals_of(ResourceKind::Other), Bytes::default());
    }

    #[test]
    fn first_rows_and_api_requests_are_read() {
        let load = sample_load();
        assert_eq!(load.first_rows_time(), Some(Duration::from_micros(512_750)));
        let api: Vec<String> = load.api_requests().iter().map(|e| e.path()).collect();
        assert_eq!(
            api,
            vec![
                "/api/catalog/entities/by-query?limit=50&orderField=metadata.name,asc",
                "/api/catalog/entity-facets?facet=kind"
            ]
        );
        assert_eq!(
            load.request_duration(ENTITIES_QUERY_PATH),
            Some(Duration::from_micros(48_250))
        );
        assert_eq!(
            load.request_duration(FACETS_PATH),
            Some(Duration::from_micros(12_500))
        );
        assert!(load.api_requests_done());
        let mut partial = load.clone();
        partial.resources.retain(|e| !e.name.contains("facets"));
        assert!(!partial.api_requests_done());
        assert_eq!(partial.request_duration(FACETS_PATH), None);
    }

    #[test]
    fn a_load_without_the_mark_has_no_first_rows() {
        let load: PageLoad = serde_json::from_value(json!({
            "navigation": [], "resources": [], "firstRows": null, "firstContentfulPaint": null
        }))
        .unwrap();
        assert_eq!(load.first_rows_time(), None);
        assert_eq!(load.rows, 0);
        assert_eq!(load.totals(), Bytes::default());
    }

    #[test]
    fn size_row_is_judged_on_transfer_bytes() {
        let mut total = Bytes {
            transfer: 599_999,
            encoded: 1,
            decoded: 1,
            count: 3,
        };
        let row = size_row(&total);
        assert_eq!(row.pass, Some(true));
        assert_eq!(row.value, "600.0 kB (599999 bytes)");
        assert_eq!(row.target, "< 600.0 kB");
        total.transfer = 600_000;
        assert_eq!(size_row(&total).pass, Some(false));
    }

    #[test]
    fn first_rows_rows_judge_p50_and_max() {
        let samples: Vec<Duration> = [700, 400, 1200, 500, 600]
            .iter()
            .map(|m| Duration::from_millis(*m))
            .collect();
        let rows = first_rows_rows("cold", &samples);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].metric, "time to first rows, cold, p50 (n=5)");
        assert_eq!(rows[0].value, "600.0 ms");
        assert_eq!(rows[0].pass, Some(true));
        assert_eq!(rows[1].value, "1200.0 ms");
        assert_eq!(rows[1].pass, Some(false));
        assert!(first_rows_rows("cold", &[]).is_empty());
    }

    #[test]
    fn the_resource_table_totals_the_resources() {
        let resources = resource_table(&sample_load());
        let lines: Vec<&str> = resources.lines().collect();
        assert_eq!(lines.len(), 2 + 6 + 1);
        assert_eq!(lines[2], "| /catalog | HTML | 1300 | 1000 | 2500 |");
        assert_eq!(
            lines[8],
            "| **total** (6 requests) |  | 323000 | 321200 | 1010700 |"
        );
    }

    #[test]
    fn cross_check_compares_encoded_and_decoded_sizes() {
        let e = entry("http://h/style.css", "resource", 2300.0, 2000.0, 8000.0);
        let same = Refetch {
            path: "/style.css".into(),
            content_encoding: Some("gzip".into()),
            body_bytes: 2000,
            decoded_bytes: 8000,
        };
        let row = cross_check_row(&e, &same);
        assert_eq!(row.len(), CROSS_CHECK_HEADERS.len());
        assert_eq!(row[1], "gzip");
        assert_eq!(row[6], "yes");
        let plain = Refetch {
            content_encoding: None,
            body_bytes: 8000,
            ..same
        };
        let row = cross_check_row(&e, &plain);
        assert_eq!((row[1].as_str(), row[6].as_str()), ("(none)", "NO"));
    }

    #[test]
    fn helpers_format_units() {
        assert_eq!(kb(599_950), "600.0 kB");
        assert_eq!(kb(0), "0.0 kB");
        assert_eq!(ms(-5.0), Duration::ZERO);
        assert_eq!(
            p50_max(&[Duration::from_millis(3), Duration::from_millis(1)]),
            Some((Duration::from_millis(1), Duration::from_millis(3)))
        );
    }
}
