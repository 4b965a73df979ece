//! TechDocs' `/sync` route as a test reads it.

use std::time::Duration;

use serde_json::Value;

use super::server::Server;

/// Runs `/api/techdocs/sync/<entity>` (`ns/kind/name`) to its end and returns
/// its events as (event, data) pairs; data is parsed as JSON when it is JSON.
pub async fn sync(server: &Server, entity: &str) -> Vec<(String, Value)> {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(server.url(&format!("/api/techdocs/sync/{entity}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = tokio::time::timeout(Duration::from_secs(60), response.text())
        .await
        .expect("the stream ends")
        .unwrap();
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            (!data.is_empty()).then(|| {
                (
                    name,
                    serde_json::from_str(&data).unwrap_or(Value::String(data)),
                )
            })
        })
        .collect()
}
