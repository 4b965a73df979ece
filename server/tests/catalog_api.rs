//! `/api/catalog` router tests against the real SQLite store (in memory) and
//! the real processing pipeline reading from an in-memory URL reader.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use greenroom::auth::Caller;
use greenroom::catalog::processing::{run_until_idle, Pipeline};
use greenroom::catalog::readers::{ReadError, UrlReader};
use greenroom::config::{CatalogRule, Config, RuleAllow};
use greenroom::permissions::{AllowAllPolicy, Decision, Evaluation, Permission, PermissionPolicy};
use greenroom::state::AppState;
use greenroom_store::SqlStore;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const CATALOG_URL: &str = "https://example.com/org/catalog-info.yaml";

const CATALOG_YAML: &str = r#"
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: a-service
  tags: [java]
spec:
  type: service
  owner: team-a
  lifecycle: production
  providesApis: [petstore]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: b-website
  tags: [js]
spec:
  type: website
  owner: team-b
  lifecycle: experimental
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: c-lib
spec:
  type: library
  owner: team-a
  lifecycle: production
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: petstore
spec:
  type: openapi
  owner: team-a
  lifecycle: production
  definition: "openapi: 3.0.0"
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-b
spec:
  type: team
  children: []
"#;

/// Serves fixed documents by URL.
struct MemoryReader(HashMap<String, String>);

#[async_trait]
impl UrlReader for MemoryReader {
    async fn read_url(&self, url: &str) -> Result<String, ReadError> {
        self.0
            .get(url)
            .cloned()
            .ok_or_else(|| ReadError::NotFound(format!("could not read {url}, 404 Not Found")))
    }
}

/// Denies exactly the listed permissions.
struct DenyPolicy(Vec<&'static str>);

impl PermissionPolicy for DenyPolicy {
    fn evaluate(&self, _caller: &Caller, permission: &Permission) -> Evaluation {
        Evaluation {
            decision: if self.0.contains(&permission.name) {
                Decision::Deny
            } else {
                Decision::Allow
            },
            rule: None,
        }
    }
}

struct TestApp {
    app: Router,
    store: Arc<SqlStore>,
    pipeline: Arc<Pipeline>,
}

fn test_config() -> Config {
    let mut config = Config::default();
    config.catalog.rules = Some(vec![CatalogRule {
        allow: ["Component", "API", "Location", "Group", "User", "System"]
            .iter()
            .map(|k| RuleAllow::Kind(k.to_string()))
            .collect(),
        locations: None,
    }]);
    config
}

async fn build(config: Config, policy: Arc<dyn PermissionPolicy>) -> TestApp {
    let store = Arc::new(SqlStore::sqlite(None).await.expect("in-memory store"));
    let reader = MemoryReader(HashMap::from([(
        CATALOG_URL.to_string(),
        CATALOG_YAML.to_string(),
    )]));
    let pipeline = Arc::new(Pipeline::new(&config, Arc::new(reader)));
    // No sign-in configured: every caller is the guest.
    let auth = Arc::new(
        greenroom::auth::service::AuthService::from_config(&config, store.clone(), store.clone())
            .expect("auth"),
    );
    let state = AppState {
        config: Arc::new(config),
        store: store.clone(),
        pipeline: pipeline.clone(),
        policy,
        auth,
        scaffolder: None,
        search: None,
        techdocs: None,
    };
    let (catalog, _) = greenroom::catalog::api::router();
    let app = Router::new()
        .nest("/api/catalog", catalog)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            greenroom::auth::middleware::authenticate,
        ))
        .with_state(state);
    TestApp {
        app,
        store,
        pipeline,
    }
}

async fn empty_app() -> TestApp {
    build(test_config(), Arc::new(AllowAllPolicy)).await
}

/// An app with the sample catalog registered and fully processed.
async fn seeded_app() -> TestApp {
    seeded_with(Arc::new(AllowAllPolicy)).await
}

async fn seeded_with(policy: Arc<dyn PermissionPolicy>) -> TestApp {
    let t = build(test_config(), policy).await;
    let (status, body) = t
        .post("/locations", json!({"type": "url", "target": CATALOG_URL}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    run_until_idle(t.store.as_ref(), &t.pipeline)
        .await
        .expect("processing settles");
    t
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl TestApp {
    async fn request(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.request(
            Request::get(format!("/api/catalog{path}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn send_json(&self, method: &str, path: &str, body: Value) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(format!("/api/catalog{path}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.request(request).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.send_json("POST", path, body).await;
        (r.status, r.body)
    }

    async fn delete(&self, path: &str) -> Reply {
        self.request(
            Request::delete(format!("/api/catalog{path}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}

fn names(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| e["metadata"]["name"].as_str().expect("a name").to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn error_body(name: &str, message: &str, method: &str, url: &str, status: u16) -> Value {
    json!({
        "error": {"name": name, "message": message},
        "request": {"method": method, "url": url},
        "response": {"statusCode": status}
    })
}

// ---- GET /entities -----------------------------------------------------------------------

#[tokio::test]
async fn filters_are_ored_across_params_and_anded_within_one() {
    let t = seeded_app().await;
    let r = t
        .get("/entities?filter=kind=component,spec.type=service&filter=kind=api")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(sorted(names(&r.body)), vec!["a-service", "petstore"]);

    // Case-insensitive keys and values; a bare key means "exists".
    let r = t.get("/entities?filter=KIND=Component,metadata.tags").await;
    assert_eq!(sorted(names(&r.body)), vec!["a-service", "b-website"]);

    // The same key twice in one set is "any of".
    let r = t
        .get("/entities?filter=kind=component,spec.type=service,spec.type=library")
        .await;
    assert_eq!(sorted(names(&r.body)), vec!["a-service", "c-lib"]);

    let r = t.get("/entities?filter=kind=nothing").await;
    assert_eq!(r.body, json!([]));
}

#[tokio::test]
async fn without_paging_params_every_entity_is_returned() {
    let t = seeded_app().await;
    let r = t.get("/entities").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get(header::LINK).is_none());
    // 6 from the file and the generated Location entity
    assert_eq!(r.body.as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn fields_project_entities() {
    let t = seeded_app().await;
    let r = t
        .get("/entities?filter=kind=group&fields=metadata.name,kind&order=asc:metadata.name")
        .await;
    assert_eq!(
        r.body,
        json!([
            {"metadata": {"name": "team-a"}, "kind": "Group"},
            {"metadata": {"name": "team-b"}, "kind": "Group"}
        ])
    );
    let r = t.get("/entities?fields=spec.owners[0]").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["error"]["message"],
        "Invalid field \"spec.owners[0]\", array type fields are not supported"
    );
}

#[tokio::test]
async fn order_sorts_entities() {
    let t = seeded_app().await;
    let r = t
        .get("/entities?filter=kind=component&order=desc:metadata.name")
        .await;
    assert_eq!(names(&r.body), vec!["c-lib", "b-website", "a-service"]);
    let r = t
        .get("/entities?filter=kind=component&order=asc:metadata.name")
        .await;
    assert_eq!(names(&r.body), vec!["a-service", "b-website", "c-lib"]);

    let r = t.get("/entities?order=sideways:metadata.name").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["error"]["message"],
        "Invalid order parameter \"sideways:metadata.name\", expected \"<asc or desc>:<field name>\""
    );
}

#[tokio::test]
async fn offset_and_limit_page_with_a_next_link() {
    let t = seeded_app().await;
    let r = t
        .get("/entities?filter=kind=component&order=asc:metadata.name&offset=0&limit=2")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(names(&r.body), vec!["a-service", "b-website"]);
    let link = r.headers[header::LINK].to_str().unwrap().to_string();
    assert!(
        link.starts_with(
            "</entities?filter=kind%3Dcomponent&order=asc%3Ametadata.name&limit=2&after="
        ),
        "{link}"
    );
    assert!(link.ends_with(">; rel=\"next\""), "{link}");
    assert!(!link.contains("offset="), "{link}");

    // Following the link (it is plugin-relative) gives the rest and no further link.
    let next = &link[1..link.find('>').unwrap()];
    let r = t.get(next).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(names(&r.body), vec!["c-lib"]);
    assert!(r.headers.get(header::LINK).is_none());

    let r = t
        .get("/entities?filter=kind=component&order=asc:metadata.name&offset=1")
        .await;
    assert_eq!(names(&r.body), vec!["b-website", "c-lib"]);

    let r = t.get("/entities?limit=0").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_filter_is_a_400_with_the_backstage_message() {
    let t = seeded_app().await;
    let r = t.get("/entities?filter=%3Dx").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        error_body(
            "InputError",
            "Invalid filter, '=x' is not a valid statement (expected a string on the form a=b or a= or a)",
            "GET",
            "/entities?filter=%3Dx",
            400
        )
    );
}

// ---- /entities/by-query ------------------------------------------------------------------

#[tokio::test]
async fn by_query_cursors_walk_forward_and_back() {
    let t = seeded_app().await;
    let r = t
        .get("/entities/by-query?filter=kind=component&limit=1&orderField=metadata.name,asc")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totalItems"], 3);
    assert_eq!(names(&r.body["items"]), vec!["a-service"]);
    assert!(r.body["pageInfo"].get("prevCursor").is_none());
    let next = r.body["pageInfo"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_string();

    let encode = |c: &str| url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>();
    let page2 = t
        .get(&format!(
            "/entities/by-query?cursor={}&limit=1",
            encode(&next)
        ))
        .await;
    assert_eq!(names(&page2.body["items"]), vec!["b-website"]);
    assert_eq!(page2.body["totalItems"], 3);
    let next = page2.body["pageInfo"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(page2.body["pageInfo"]["prevCursor"].is_string());

    let page3 = t
        .get(&format!(
            "/entities/by-query?cursor={}&limit=1",
            encode(&next)
        ))
        .await;
    assert_eq!(names(&page3.body["items"]), vec!["c-lib"]);
    assert!(page3.body["pageInfo"].get("nextCursor").is_none());
    let prev = page3.body["pageInfo"]["prevCursor"]
        .as_str()
        .unwrap()
        .to_string();

    let back2 = t
        .get(&format!(
            "/entities/by-query?cursor={}&limit=1",
            encode(&prev)
        ))
        .await;
    assert_eq!(names(&back2.body["items"]), vec!["b-website"]);
    assert!(back2.body["pageInfo"]["nextCursor"].is_string());
    let prev = back2.body["pageInfo"]["prevCursor"]
        .as_str()
        .unwrap()
        .to_string();

    let back1 = t
        .get(&format!(
            "/entities/by-query?cursor={}&limit=1",
            encode(&prev)
        ))
        .await;
    assert_eq!(names(&back1.body["items"]), vec!["a-service"]);
    assert!(
        back1.body["pageInfo"].get("prevCursor").is_none(),
        "{}",
        back1.body
    );
    assert!(back1.body["pageInfo"]["nextCursor"].is_string());
}

#[tokio::test]
async fn by_query_descending_with_fields_and_default_limit() {
    let t = seeded_app().await;
    let r = t.get("/entities/by-query?filter=kind=component&orderField=metadata.name,desc&fields=metadata.name").await;
    assert_eq!(
        r.body["items"],
        json!([{"metadata": {"name": "c-lib"}}, {"metadata": {"name": "b-website"}}, {"metadata": {"name": "a-service"}}])
    );
    assert_eq!(r.body["pageInfo"], json!({}));
}

#[tokio::test]
async fn by_query_total_items_can_be_excluded() {
    let t = seeded_app().await;
    let r = t
        .get("/entities/by-query?filter=kind=group&totalItems=exclude")
        .await;
    assert_eq!(r.body["totalItems"], 0);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let r = t.get("/entities/by-query?filter=kind=group").await;
    assert_eq!(r.body["totalItems"], 2);
}

#[tokio::test]
async fn by_query_excludes_entities_lacking_the_sort_field() {
    let t = seeded_app().await;
    // Only a-service and b-website have tags.
    let r = t
        .get("/entities/by-query?orderField=metadata.tags,asc")
        .await;
    assert_eq!(r.body["totalItems"], 2);
    assert_eq!(
        sorted(names(&r.body["items"])),
        vec!["a-service", "b-website"]
    );
}

#[tokio::test]
async fn by_query_full_text_filter() {
    let t = seeded_app().await;
    let r = t
        .get("/entities/by-query?fullTextFilterTerm=WEB&fullTextFilterFields=metadata.name&orderField=metadata.name")
        .await;
    assert_eq!(names(&r.body["items"]), vec!["b-website"]);
    assert_eq!(r.body["totalItems"], 1);
}

#[tokio::test]
async fn by_query_post_body() {
    let t = seeded_app().await;
    let (status, body) = t
        .post(
            "/entities/by-query",
            json!({
                "query": {"$any": [{"kind": "api"}, {"spec.type": "website"}]},
                "orderBy": [{"field": "metadata.name", "order": "asc"}],
                "fields": ["metadata.name"],
                "limit": 1
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"], json!([{"metadata": {"name": "b-website"}}]));
    assert_eq!(body["totalItems"], 2);
    let next = body["pageInfo"]["nextCursor"].as_str().unwrap().to_string();
    let (_, body) = t
        .post(
            "/entities/by-query",
            json!({"cursor": next, "fields": ["metadata.name"]}),
        )
        .await;
    assert_eq!(body["items"], json!([{"metadata": {"name": "petstore"}}]));

    let (status, body) = t.post("/entities/by-query", json!({"cursor": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn by_query_malformed_cursor_is_a_400() {
    let t = seeded_app().await;
    let r = t.get("/entities/by-query?cursor=bm90LWpzb24").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"]["name"], "InputError");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Malformed cursor: "),
        "{}",
        r.body
    );
    let r = t
        .get("/entities/by-query?orderField=metadata.name,sideways")
        .await;
    assert_eq!(
        r.body["error"]["message"],
        "Invalid order field order, must be asc or desc"
    );
}

// ---- by-refs, by-uid, by-name, ancestry --------------------------------------------------

#[tokio::test]
async fn by_refs_keeps_order_and_nulls() {
    let t = seeded_app().await;
    let (status, body) = t
        .post(
            "/entities/by-refs?fields=metadata.name",
            json!({"entityRefs": ["api:default/petstore", "component:default/nope", "Component:default/A-Service"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"items": [{"metadata": {"name": "petstore"}}, null, {"metadata": {"name": "a-service"}}]})
    );

    // The body query is ANDed with the filter.
    let (_, body) = t
        .post(
            "/entities/by-refs?filter=kind=component",
            json!({"entityRefs": ["api:default/petstore", "component:default/c-lib"], "fields": ["kind"]}),
        )
        .await;
    assert_eq!(body, json!({"items": [null, {"kind": "Component"}]}));

    let (status, body) = t.post("/entities/by-refs", json!({"refs": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().starts_with(
        "Malformed request body (did you remember to specify an application/json content type?)"
    ));
}

#[tokio::test]
async fn entity_lookups_and_their_404_bodies() {
    let t = seeded_app().await;
    let r = t.get("/entities/by-name/component/default/a-service").await;
    assert_eq!(r.status, StatusCode::OK);
    let uid = r.body["metadata"]["uid"].as_str().unwrap().to_string();
    let r = t.get(&format!("/entities/by-uid/{uid}")).await;
    assert_eq!(r.body["metadata"]["name"], "a-service");

    let r = t.get("/entities/by-uid/nope").await;
    assert_eq!(
        r.body,
        error_body(
            "NotFoundError",
            "No entity with uid nope",
            "GET",
            "/entities/by-uid/nope",
            404
        )
    );
    let r = t.get("/entities/by-name/component/default/nope").await;
    assert_eq!(
        r.body,
        error_body(
            "NotFoundError",
            "No entity named 'nope' found, with kind 'component' in namespace 'default'",
            "GET",
            "/entities/by-name/component/default/nope",
            404
        )
    );
    let r = t
        .get("/entities/by-name/component/default/nope/ancestry")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["error"]["message"],
        "No such entity component:default/nope"
    );
}

#[tokio::test]
async fn delete_by_uid_removes_the_entity() {
    let t = seeded_app().await;
    let uid = t.get("/entities/by-name/group/default/team-b").await.body["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let r = t.delete(&format!("/entities/by-uid/{uid}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.body, Value::Null);
    assert_eq!(
        t.get(&format!("/entities/by-uid/{uid}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn ancestry_walks_up_to_the_location() {
    let t = seeded_app().await;
    let r = t
        .get("/entities/by-name/component/default/a-service/ancestry")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["rootEntityRef"], "component:default/a-service");
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", r.body);
    assert_eq!(items[0]["entity"]["metadata"]["name"], "a-service");
    let parent = items[0]["parentEntityRefs"][0].as_str().unwrap();
    assert!(
        parent.starts_with("location:default/generated-"),
        "{parent}"
    );
    assert_eq!(items[1]["entity"]["kind"], "Location");
    assert_eq!(items[1]["parentEntityRefs"], json!([]));
}

// ---- facets ------------------------------------------------------------------------------

#[tokio::test]
async fn facets_count_values() {
    let t = seeded_app().await;
    let r = t
        .get("/entity-facets?facet=kind&filter=kind=component,kind=api")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        json!({"facets": {"kind": [{"value": "Component", "count": 3}, {"value": "API", "count": 1}]}})
    );
    let r = t
        .get("/entity-facets?facet=spec.lifecycle&facet=metadata.tags&filter=kind=component")
        .await;
    assert_eq!(
        r.body["facets"]["spec.lifecycle"],
        json!([{"value": "production", "count": 2}, {"value": "experimental", "count": 1}])
    );
    assert_eq!(
        sorted(
            r.body["facets"]["metadata.tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["value"].as_str().unwrap().to_string())
                .collect()
        ),
        vec!["java", "js"]
    );

    let r = t.get("/entity-facets").await;
    assert_eq!(
        r.body,
        error_body(
            "InputError",
            "Missing facet parameter",
            "GET",
            "/entity-facets",
            400
        )
    );

    let (status, body) = t
        .post(
            "/entity-facets",
            json!({"facets": ["spec.type"], "query": {"kind": "group"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"facets": {"spec.type": [{"value": "team", "count": 2}]}})
    );
}

// ---- locations ---------------------------------------------------------------------------

#[tokio::test]
async fn locations_crud() {
    let t = empty_app().await;
    let (status, created) = t
        .post("/locations", json!({"type": "url", "target": CATALOG_URL}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["entities"], json!([]));
    let location = created["location"].clone();
    let id = location["id"].as_str().unwrap().to_string();
    assert_eq!(location["type"], "url");
    assert_eq!(location["target"], CATALOG_URL);
    assert!(location["entityRef"]
        .as_str()
        .unwrap()
        .starts_with("location:default/generated-"));

    let r = t.get("/locations").await;
    assert_eq!(r.body, json!([{"data": location}]));
    let r = t.get(&format!("/locations/{id}")).await;
    assert_eq!(r.body, location);

    run_until_idle(t.store.as_ref(), &t.pipeline).await.unwrap();
    let r = t
        .get("/locations/by-entity/component/default/a-service")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, location);

    let (status, body) = t
        .post(
            "/locations/by-query",
            json!({"query": {"type": "url"}, "limit": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"items": [location], "totalItems": 1, "pageInfo": {}})
    );

    let r = t.delete(&format!("/locations/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = t.get(&format!("/locations/{id}")).await;
    assert_eq!(
        r.body,
        error_body(
            "NotFoundError",
            &format!("Found no location with ID {id}"),
            "GET",
            &format!("/locations/{id}"),
            404
        )
    );
    // Its entities went with it.
    assert_eq!(
        t.get("/entities/by-name/component/default/a-service")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.delete(&format!("/locations/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn duplicate_locations_conflict_unless_refresh() {
    let t = empty_app().await;
    let input = json!({"type": "url", "target": CATALOG_URL});
    let (_, first) = t.post("/locations", input.clone()).await;
    let r = t.send_json("POST", "/locations", input.clone()).await;
    assert_eq!(
        r.body,
        error_body(
            "ConflictError",
            &format!("Location url:{CATALOG_URL} already exists"),
            "POST",
            "/locations",
            409
        )
    );
    let (status, again) = t.post("/locations?onConflict=refresh", input.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["location"], first["location"]);

    let (status, body) = t.post("/locations?onConflict=sometimes", input).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        "Invalid onConflict parameter \"sometimes\", expected \"reject\" or \"refresh\""
    );
}

#[tokio::test]
async fn default_conflict_strategy_comes_from_config() {
    let mut config = test_config();
    config.catalog.default_location_conflict_strategy =
        Some(greenroom::config::LocationConflictStrategy::Refresh);
    let t = build(config, Arc::new(AllowAllPolicy)).await;
    let input = json!({"type": "url", "target": CATALOG_URL});
    let (_, first) = t.post("/locations", input.clone()).await;
    let (status, again) = t.post("/locations", input).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["location"], first["location"]);
}

#[tokio::test]
async fn location_input_is_checked() {
    let t = empty_app().await;
    let (status, body) = t
        .post(
            "/locations",
            json!({"type": "file", "target": "/etc/x.yaml"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        r#"Registered locations must be of an allowed type ["url"]"#
    );
    let (status, body) = t
        .post(
            "/locations",
            json!({"type": "url", "target": CATALOG_URL, "extra": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Malformed request: "),
        "{body}"
    );
    let (_, body) = t.post("/locations", json!({})).await;
    assert_eq!(body["error"]["message"], "Empty request body");
    let (_, body) = t.post("/locations", json!([1])).await;
    assert_eq!(
        body["error"]["message"],
        "Expected body to be a JSON object"
    );
}

#[tokio::test]
async fn dry_run_processes_without_storing() {
    let t = empty_app().await;
    let (status, body) = t
        .post(
            "/locations?dryRun=true",
            json!({"type": "url", "target": CATALOG_URL}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["exists"], false);
    assert_eq!(body["location"]["id"], format!("url:{CATALOG_URL}"));
    let entities = body["entities"].as_array().unwrap();
    assert_eq!(entities.len(), 7);
    assert!(entities.iter().any(|e| e["kind"] == "Location"));
    assert_eq!(t.get("/locations").await.body, json!([]));

    t.post("/locations", json!({"type": "url", "target": CATALOG_URL}))
        .await;
    let (_, body) = t
        .post(
            "/locations?dryRun=yes",
            json!({"type": "url", "target": CATALOG_URL}),
        )
        .await;
    assert_eq!(body["exists"], true);

    let (status, body) = t
        .post(
            "/locations?dryRun=1",
            json!({"type": "url", "target": "https://example.com/missing.yaml"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["name"], "InputError");
}

#[tokio::test]
async fn readonly_mode_refuses_location_writes() {
    let mut config = test_config();
    config.catalog.readonly = true;
    let t = build(config, Arc::new(AllowAllPolicy)).await;
    let r = t
        .send_json(
            "POST",
            "/locations",
            json!({"type": "url", "target": CATALOG_URL}),
        )
        .await;
    assert_eq!(
        r.body,
        error_body(
            "NotAllowedError",
            "This operation not allowed in readonly mode",
            "POST",
            "/locations",
            403
        )
    );
    assert_eq!(
        t.delete("/locations/some-id").await.status,
        StatusCode::FORBIDDEN
    );
    let r = t
        .send_json(
            "PUT",
            "/locations/some-id",
            json!({"type": "url", "target": CATALOG_URL}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A dry run is a read.
    let (status, _) = t
        .post(
            "/locations?dryRun=true",
            json!({"type": "url", "target": CATALOG_URL}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn location_update_replaces_the_target() {
    let t = empty_app().await;
    let (_, created) = t
        .post("/locations", json!({"type": "url", "target": CATALOG_URL}))
        .await;
    let id = created["location"]["id"].as_str().unwrap().to_string();
    let other = "https://example.com/other.yaml";
    let r = t
        .send_json(
            "PUT",
            &format!("/locations/{id}"),
            json!({"type": "url", "target": other}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["target"], other);
    assert_eq!(r.body["id"], id.as_str(), "the location keeps its id");
    let listed = t.get("/locations").await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["data"]["target"], other);
    assert_eq!(
        t.get(&format!("/locations/{id}")).await.body["target"],
        other
    );
    // Another location's type and target are refused.
    let (_, second) = t
        .post("/locations", json!({"type": "url", "target": CATALOG_URL}))
        .await;
    let second_id = second["location"]["id"].as_str().unwrap().to_string();
    let r = t
        .send_json(
            "PUT",
            &format!("/locations/{second_id}"),
            json!({"type": "url", "target": other}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = t
        .send_json(
            "PUT",
            "/locations/nope",
            json!({"type": "url", "target": other}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

// ---- refresh, validate-entity ------------------------------------------------------------

#[tokio::test]
async fn refresh_schedules_known_entities() {
    let t = seeded_app().await;
    let r = t
        .send_json(
            "POST",
            "/refresh",
            json!({"entityRef": "component:default/a-service"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, Value::Null);
    let r = t
        .send_json(
            "POST",
            "/refresh",
            json!({"entityRef": "component:default/nope"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["error"]["message"],
        "No such entity component:default/nope"
    );
}

#[tokio::test]
async fn validate_entity_returns_errors_shape() {
    let t = empty_app().await;
    let good = json!({
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": "ok"}, "spec": {"type": "service", "owner": "x", "lifecycle": "y"}
    });
    let (status, body) = t
        .post(
            "/validate-entity",
            json!({"entity": good, "location": "url:https://x/y.yaml"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, Value::Null);

    let (status, body) = t
        .post("/validate-entity", json!({"entity": {"kind": "Component", "metadata": {"name": "no api version"}}, "location": "url:https://x/y.yaml"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let errors = body["errors"].as_array().expect("errors array");
    assert!(!errors.is_empty());
    assert!(
        errors
            .iter()
            .all(|e| e["name"].is_string() && e["message"].is_string()),
        "{body}"
    );

    let (status, body) = t
        .post(
            "/validate-entity",
            json!({"entity": good, "location": "file:/x.yaml"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0]["message"],
        "Invalid location ref file:/x.yaml, only 'url:<target>' is supported, e.g. url:https://host/path"
    );
}

// ---- body handling, unknown routes, permissions -------------------------------------------

#[tokio::test]
async fn non_json_body_is_a_400_with_the_error_body() {
    let t = empty_app().await;
    let request = Request::post("/api/catalog/locations")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("type=url"))
        .unwrap();
    let r = t.request(request).await;
    assert_eq!(
        r.body,
        error_body(
            "InputError",
            "Illegal Content-Type",
            "POST",
            "/locations",
            400
        )
    );

    let request = Request::post("/api/catalog/locations")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        t.request(request).await.body["error"]["message"],
        "Content-Type missing"
    );

    let request = Request::post("/api/catalog/locations")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let r = t.request(request).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Malformed request body"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn bodies_over_10_mb_are_refused_with_413() {
    let t = empty_app().await;
    let big = format!(
        "{{\"entityRefs\":[\"{}\"]}}",
        "x".repeat(10 * 1024 * 1024 + 1)
    );
    let request = Request::post("/api/catalog/entities/by-refs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .unwrap();
    let r = t.request(request).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.body["error"]["name"], "PayloadTooLargeError");
    assert_eq!(
        r.body["request"],
        json!({"method": "POST", "url": "/entities/by-refs"})
    );
    assert_eq!(r.body["response"], json!({"statusCode": 413}));
}

#[tokio::test]
async fn unknown_routes_are_404_error_bodies() {
    let t = empty_app().await;
    let r = t.get("/nothing/here").await;
    assert_eq!(
        r.body,
        error_body(
            "NotFoundError",
            "No route for GET /nothing/here",
            "GET",
            "/nothing/here",
            404
        )
    );
    // An existing path with another method is a 404 too, as in Express.
    let r = t
        .request(
            Request::patch("/api/catalog/entities")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["name"], "NotFoundError");
}

#[tokio::test]
async fn denied_permissions_are_403() {
    let t = seeded_with(Arc::new(DenyPolicy(vec![
        "catalog.entity.delete",
        "catalog.location.read",
    ])))
    .await;
    let uid = t.get("/entities/by-name/group/default/team-a").await.body["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let r = t.delete(&format!("/entities/by-uid/{uid}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["name"], "NotAllowedError");
    assert_eq!(
        r.body["error"]["message"],
        "user:development/guest is not allowed to perform catalog.entity.delete"
    );
    assert_eq!(t.get("/locations").await.status, StatusCode::FORBIDDEN);
    // Allowed permissions still work.
    assert_eq!(
        t.get(&format!("/entities/by-uid/{uid}")).await.status,
        StatusCode::OK
    );
}

// ---- OpenAPI -----------------------------------------------------------------------------

#[tokio::test]
async fn openapi_document_is_served_and_every_operation_is_routed() {
    let t = empty_app().await;
    let r = t.get("/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let expected = serde_json::to_value(greenroom::catalog::api::openapi()).unwrap();
    assert_eq!(r.body, expected);

    let paths = expected["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 15);
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{uid}", "x")
                .replace("{kind}", "component")
                .replace("{namespace}", "default")
                .replace("{name}", "x")
                .replace("{id}", "x");
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(format!("/api/catalog{concrete}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let r = t.request(request).await;
            let message = r.body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                !message.starts_with("No route for"),
                "{method} {path} is documented but not routed"
            );
        }
    }
}

// ---- analyze-location, locations/by-query paging -----------------------------------------

#[tokio::test]
async fn analyze_location_marks_registered_files() {
    let t = empty_app().await;
    let input = json!({"location": {"type": "url", "target": CATALOG_URL}});
    let (status, body) = t.post("/analyze-location", input.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let files = body["existingEntityFiles"].as_array().unwrap();
    assert_eq!(files.len(), 6);
    assert!(files
        .iter()
        .all(|f| f["isRegistered"] == false && f["location"]["target"] == CATALOG_URL));
    assert_eq!(body["generateEntities"], json!([]));

    t.post("/locations", json!({"type": "url", "target": CATALOG_URL}))
        .await;
    let (_, body) = t.post("/analyze-location", input).await;
    assert!(
        body["existingEntityFiles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["isRegistered"] == true),
        "{body}"
    );

    let r = t
        .send_json(
            "POST",
            "/analyze-location",
            json!({"location": {"type": "url", "target": "not a url"}}),
        )
        .await;
    assert_eq!(
        r.body,
        error_body(
            "InputError",
            "The given location.target is not a URL",
            "POST",
            "/analyze-location",
            400
        )
    );
}

#[tokio::test]
async fn locations_by_query_pages_with_a_cursor() {
    let t = empty_app().await;
    for i in 0..3 {
        let (status, _) = t
            .post(
                "/locations",
                json!({"type": "url", "target": format!("https://example.com/{i}.yaml")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, page1) = t.post("/locations/by-query", json!({"limit": 2})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page1["totalItems"], 3);
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["pageInfo"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, page2) = t
        .post("/locations/by-query", json!({"limit": 2, "cursor": cursor}))
        .await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert_eq!(page2["pageInfo"], json!({}));
    let ids: std::collections::HashSet<String> = page1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["items"].as_array().unwrap())
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3, "pages overlap");

    let (_, filtered) = t
        .post(
            "/locations/by-query",
            json!({"query": {"target": {"$hasPrefix": "https://example.com/1"}}}),
        )
        .await;
    assert_eq!(filtered["totalItems"], 1);
    let (status, body) = t.post("/locations/by-query", json!({"limit": 0})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = t
        .post("/locations/by-query", json!({"cursor": "%%%"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Malformed cursor: "));
}
