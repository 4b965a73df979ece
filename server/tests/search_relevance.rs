//! Search relevance over a fixed catalog (`tests/search/catalog.yaml`): each
//! query names what must come first (or be among the first few), through the
//! real `GET /api/search/query` of the real app. Also: a new entity is found
//! within 2 s and gone once deleted, and bad input gets a 400 with a reason.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::file_host::FileHost;
use common::server::{config, Server};
use serde_json::{json, Value};

const FIXTURE: &str = "tests/search/catalog.yaml";

async fn search(server: &Server, query: &str) -> (u16, Value) {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(server.url(&format!("/api/search/query?{query}")))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn term(t: &str) -> String {
    format!("term={}", url_encode(t))
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The refs of the results, best first: `kind:namespace/name` for entities,
/// `docs:<location>` for docs pages.
fn refs(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|hit| {
                    let d = &hit["document"];
                    if hit["type"] == "techdocs" {
                        return format!("docs:{}", d["location"].as_str().unwrap_or(""));
                    }
                    format!(
                        "{}:{}/{}",
                        d["kind"].as_str().unwrap_or("").to_lowercase(),
                        d["namespace"].as_str().unwrap_or(""),
                        d["name"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the index holds the whole fixture; `url` locations may be
/// read from `reading_host`.
async fn indexed_server_reading(reading_host: Option<&str>) -> Server {
    let mut config = config(&[FIXTURE]);
    if let Some(host) = reading_host {
        config["backend"]["reading"] = json!({"allow": [{"host": host}]});
    }
    let server = Server::start(config, Vec::new()).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // The catalog, then the docs sites the server builds at start.
        let (status, body) = search(&server, "term=orders").await;
        let (_, docs) = search(&server, "term=adjustments&types%5B0%5D=techdocs").await;
        if status == 200 && !refs(&body).is_empty() && !refs(&docs).is_empty() {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "the index was not built: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn indexed_server() -> Server {
    indexed_server_reading(None).await
}

/// What a query must return.
enum Expect {
    /// This ref first.
    First(&'static str),
    /// These refs among the first `n`.
    Within(usize, &'static [&'static str]),
    /// `better` ranks above `worse` (or `worse` is not found at all).
    Above(&'static str, &'static str),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_find_what_a_person_means() {
    use Expect::*;
    let cases: Vec<(&str, Expect)> = vec![
        // Exact names first.
        (
            "payment-service",
            First("component:default/payment-service"),
        ),
        ("inventory", First("component:default/inventory")),
        ("techdocs", First("component:default/techdocs")),
        ("ledger", First("component:default/ledger")),
        ("team-payments", First("group:default/team-payments")),
        ("billing", First("system:default/billing")),
        ("commerce", First("domain:default/commerce")),
        ("exchange rates", First("component:default/exchange-rates")),
        ("feature flags", First("component:default/feature-flags")),
        (
            "payment service",
            First("component:default/payment-service"),
        ),
        // Partial words.
        ("invent", First("component:default/inventory")),
        ("tech", First("component:default/techdocs")),
        (
            "tech",
            Above(
                "component:default/techdocs",
                "component:default/team-dashboard",
            ),
        ),
        ("geo", First("component:default/geo-utils")),
        (
            "recommend",
            First("component:default/recommendation-engine"),
        ),
        ("image resize", First("component:default/image-resizer")),
        (
            "ship",
            Within(
                2,
                &[
                    "component:default/shipping-service",
                    "component:default/shipment-tracker",
                ],
            ),
        ),
        (
            "pay",
            Within(
                3,
                &[
                    "component:default/payment-service",
                    "component:default/payment-gateway-adapter",
                ],
            ),
        ),
        // Typos in longer words.
        ("paymnet", Within(2, &["component:default/payment-service"])),
        (
            "notifcation",
            First("component:default/notification-service"),
        ),
        (
            "recomendation",
            First("component:default/recommendation-engine"),
        ),
        ("invnetory", First("component:default/inventory")),
        ("ledgre", First("component:default/ledger")),
        // Words only in an API definition (paths and operation ids).
        ("bins", First("api:default/warehouse-api")),
        ("cancellation", First("api:default/orders-api")),
        ("parcel eta", First("api:default/parcel-eta-api")),
        ("listStorageBins", First("api:default/warehouse-api")),
        // Descriptions, profiles, kinds of resource.
        ("charges cards", First("component:default/payment-service")),
        ("Jane Doe", First("user:default/jane-doe")),
        ("jane@example.com", First("user:default/jane-doe")),
        ("kafka", First("resource:default/kafka-cluster")),
        (
            "relational database",
            First("resource:default/postgres-main"),
        ),
        ("sms", First("component:default/sms-sender")),
        ("thumbnails", First("component:default/image-resizer")),
        ("PDF", First("component:default/pdf-renderer")),
        // Templates, by the fields of their form.
        ("rabbitmq exchange", First("template:default/kotlin-worker")),
        ("queue worker", First("template:default/kotlin-worker")),
        // Docs pages (tests/search/docs): a hit points at the section.
        (
            "partial refund",
            First("docs:/docs/default/component/payment-service/refunds/#partial-refunds"),
        ),
        (
            "webhook signature",
            First("docs:/docs/default/component/payment-service/refunds/#refund-webhooks"),
        ),
        (
            "rotating gateway keys",
            First("docs:/docs/default/component/payment-service/runbook/#rotating-gateway-keys"),
        ),
        (
            "cycle counting",
            First("docs:/docs/default/component/inventory/stock-counts/#cycle-counting"),
        ),
        (
            "decilne codes",
            First("docs:/docs/default/component/payment-service/runbook/#card-declines"),
        ),
        (
            "refunds",
            Above(
                "component:default/payment-service",
                "docs:/docs/default/component/payment-service/refunds/",
            ),
        ),
    ];
    assert!(cases.len() >= 30);
    let server = indexed_server().await;
    let mut failures = Vec::new();
    for (query, expect) in &cases {
        let (status, body) = search(&server, &term(query)).await;
        assert_eq!(status, 200, "{query}: {body}");
        let found = refs(&body);
        let ok = match expect {
            First(r) => found.first().map(String::as_str) == Some(*r),
            Within(n, wanted) => wanted.iter().all(|w| found.iter().take(*n).any(|f| f == w)),
            Above(better, worse) => {
                let at = |r: &str| found.iter().position(|f| f == r);
                match (at(better), at(worse)) {
                    (Some(b), Some(w)) => b < w,
                    (Some(_), None) => true,
                    _ => false,
                }
            }
        };
        if !ok {
            failures.push(format!("{query:?}: got {:?}", &found[..found.len().min(5)]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries ranked wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_highlights_and_pages() {
    let server = indexed_server().await;
    // Filters: kind and lifecycle, case-insensitive, several values for one field.
    let (_, body) = search(
        &server,
        "term=&filters%5Bkind%5D=Component&filters%5Blifecycle%5D=experimental",
    )
    .await;
    let mut found = refs(&body);
    found.sort();
    assert_eq!(
        found,
        vec![
            "component:default/fraud-detector",
            "component:default/recommendation-engine",
            "component:default/search-service"
        ]
    );
    let (_, body) = search(&server, "term=sender&filters%5Blifecycle%5D%5B0%5D=production&filters%5Blifecycle%5D%5B1%5D=deprecated").await;
    assert_eq!(refs(&body).len(), 2);
    // Owner by short name or full ref.
    let (_, short) = search(
        &server,
        "term=&filters%5Bowner%5D=team-growth&filters%5Bkind%5D=component",
    )
    .await;
    let (_, full) = search(
        &server,
        "term=&filters%5Bowner%5D=group%3Adefault%2Fteam-growth&filters%5Bkind%5D=component",
    )
    .await;
    assert_eq!(short["numberOfResults"], 6);
    assert_eq!(refs(&short), refs(&full));
    // Highlights use the response's own tags.
    let (_, body) = search(&server, &term("invent")).await;
    let hit = &body["results"][0];
    let (pre, post) = (
        hit["highlight"]["preTag"].as_str().unwrap(),
        hit["highlight"]["postTag"].as_str().unwrap(),
    );
    assert_eq!(
        hit["highlight"]["fields"]["title"],
        format!("{pre}inventory{post}")
    );
    assert_eq!(hit["rank"], 1);
    assert_eq!(hit["type"], "software-catalog");
    assert_eq!(
        hit["document"]["location"],
        "/catalog/default/component/inventory"
    );
    // Pages by cursor: no result twice, all of them once.
    let mut seen = Vec::new();
    let mut query = "term=&pageLimit=7".to_string();
    let total = loop {
        let (status, body) = search(&server, &query).await;
        assert_eq!(status, 200, "{body}");
        seen.extend(refs(&body));
        match body["nextPageCursor"].as_str() {
            Some(c) => query = format!("term=&pageLimit=7&pageCursor={}", url_encode(c)),
            None => break body["numberOfResults"].as_u64().unwrap() as usize,
        }
    };
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), total);
    assert_eq!(unique.len(), total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_answer() {
    let server = indexed_server().await;
    let long = "x".repeat(10 * 1024);
    let cases = [
        (term(&long), 400, "longer than 100 characters"),
        (
            "types%5B0%5D=secrets".to_string(),
            400,
            "unknown type 'secrets'",
        ),
        (
            "filters%5Bpassword%5D=x".to_string(),
            400,
            "unknown filter 'password'",
        ),
        ("pageCursor=not-a-cursor".to_string(), 400, "pageCursor"),
        ("pageLimit=0".to_string(), 400, "pageLimit"),
    ];
    for (query, status, message) in cases {
        let (got, body) = search(&server, &query).await;
        assert_eq!(got, status, "{body}");
        let text = body["error"]["message"].as_str().unwrap_or_default();
        assert!(text.contains(message), "{text}");
        assert!(
            text.len() < 300,
            "the answer does not echo the input: {text}"
        );
    }
    // Query syntax characters are words to search for, not syntax.
    for t in [
        "\"",
        "(",
        "payment:",
        "*",
        "pay*",
        "AND OR NOT",
        "\u{0}",
        "' OR 1=1 --",
    ] {
        let (status, body) = search(&server, &term(t)).await;
        assert_eq!(status, 200, "{t:?}: {body}");
    }
    // An empty term lists everything.
    let (status, body) = search(&server, "term=").await;
    assert_eq!(status, 200);
    assert!(body["numberOfResults"].as_u64().unwrap() >= 36);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_entity_is_found_within_two_seconds_and_gone_once_deleted() {
    let files = HashMap::from([(
        "acme/zebra/catalog-info.yaml".to_string(),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: zebra-stripes\n  description: Paints stripes\nspec:\n  type: service\n  lifecycle: production\n  owner: team-platform\n".to_string(),
    )]);
    let host = FileHost::start(files).await;
    let server = indexed_server_reading(Some(host.host())).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let registered = Instant::now();
    let location: Value = http
        .post(server.url("/api/catalog/locations"))
        .json(&json!({"type": "url", "target": format!("{}/acme/zebra/catalog-info.yaml", host.base())}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let found_within = |wanted: bool| {
        let server = &server;
        async move {
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                let (_, body) = search(server, &term("zebra")).await;
                if refs(&body).contains(&"component:default/zebra-stripes".to_string()) == wanted {
                    return Some(started.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            None
        }
    };
    let in_catalog = server
        .get_status("/api/catalog/entities/by-name/component/default/zebra-stripes")
        .await;
    found_within(true).await.unwrap_or_else(|| {
        panic!("the new entity is found ({location}; in the catalog: {in_catalog})")
    });
    assert!(
        registered.elapsed() < Duration::from_secs(2),
        "found {:?} after registering",
        registered.elapsed()
    );
    let id = location["location"]["id"]
        .as_str()
        .expect("location id")
        .to_string();
    let deleted = http
        .delete(server.url(&format!("/api/catalog/locations/{id}")))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    let gone = found_within(false)
        .await
        .expect("the deleted entity is gone from search");
    assert!(gone < Duration::from_secs(2), "gone after {gone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_index_is_rebuilt_from_the_database_at_start() {
    let data = tempfile::tempdir().unwrap();
    let mut cfg = config(&[FIXTURE]);
    cfg["backend"]["database"]["connection"] = json!(data.path().join("greenroom.db"));
    let index_dir = data.path().join("search-index");
    let wait_for = |server: Server| async move {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, body) = search(&server, &term("ledger")).await;
            if status == 200 && !refs(&body).is_empty() {
                return server;
            }
            // While it is rebuilt the index says so instead of answering wrong.
            assert!(status == 200 || status == 503, "{status} {body}");
            assert!(Instant::now() < deadline, "not rebuilt: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let first = wait_for(Server::start(cfg.clone(), Vec::new()).await).await;
    assert!(
        index_dir.join("meta.json").exists(),
        "the index lives beside the SQLite file"
    );
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::remove_dir_all(&index_dir).unwrap();
    let second = wait_for(Server::start(cfg.clone(), Vec::new()).await).await;
    let (_, body) = search(&second, &term("invent")).await;
    assert_eq!(refs(&body)[0], "component:default/inventory");
    drop(second);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A corrupt index is replaced the same way.
    std::fs::write(index_dir.join("meta.json"), "{not json").unwrap();
    let third = wait_for(Server::start(cfg, Vec::new()).await).await;
    let (_, body) = search(&third, &term("ledger")).await;
    assert_eq!(refs(&body)[0], "component:default/ledger");
}
