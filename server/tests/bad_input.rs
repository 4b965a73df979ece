//! Bad input gets a clear error and changes nothing.
//!
//! Each test starts the real application in process (in-memory SQLite, the
//! background processing engine, the composite URL reader) on a loopback
//! port, serves its catalog files from a small static HTTP server that is on
//! `backend.reading.allow`, and talks to both over HTTP. Every case asserts
//! the exact error the user sees and that nothing else was lost or changed.
//! Processing is asynchronous: conditions are polled with a bounded wait.

mod common;

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::file_host::FileHost;
use greenroom::config::Config;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Upper bound for any asynchronous processing the tests wait for.
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);
const PROCESSING_TYPE: &str = "backstage.io/catalog-processing";
const NAME_FORMAT: &str = "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total";
const FORMAT_DOC: &str = "To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md";

// ---- fixtures ---------------------------------------------------------------------------

fn component(name: &str, description: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  description: {description}\nspec:\n  type: service\n  owner: team-a\n  lifecycle: production\n"
    )
}

fn api(name: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: {name}\nspec:\n  type: openapi\n  owner: team-a\n  lifecycle: production\n  definition: openapi\n"
    )
}

fn group(name: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: {name}\nspec:\n  type: team\n  children: []\n"
    )
}

fn documents(docs: &[String]) -> String {
    docs.join("---\n")
}

// ---- the application under test ---------------------------------------------------------

struct App {
    base: String,
    client: reqwest::Client,
    shutdown: CancellationToken,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl App {
    /// Starts Greenroom reading only from `fixtures`, with catalog rules that
    /// allow Component, API and Location.
    async fn start(fixtures: &FileHost) -> Self {
        let config = Config::from_value(json!({
            "backend": {
                "baseUrl": "http://127.0.0.1",
                "database": {"client": "better-sqlite3", "connection": ":memory:"},
                "reading": {"allow": [{"host": fixtures.host()}]},
            },
            "catalog": {"rules": [{"allow": ["Component", "API", "Location"]}]},
        }))
        .expect("valid test configuration");
        let state = greenroom::connect(config).await.expect("connect");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api/catalog", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(greenroom::run(
            state,
            listener,
            shutdown.clone(),
            std::path::PathBuf::from("dist"),
        ));
        Self {
            base,
            client: reqwest::Client::new(),
            shutdown,
            server: Some(server),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get_json(&self, path: &str) -> Value {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Registers a `url` location; returns the ref of its generated Location entity.
    async fn register(&self, target: &str) -> String {
        let response = self
            .post_json("/locations", &json!({"type": "url", "target": target}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "register {target}");
        let body: Value = response.json().await.unwrap();
        body["location"]["entityRef"]
            .as_str()
            .expect("entityRef in the registration response")
            .to_string()
    }

    async fn dry_run(&self, target: &str) -> reqwest::Response {
        self.post_json(
            "/locations?dryRun=true",
            &json!({"type": "url", "target": target}),
        )
        .await
    }

    async fn refresh(&self, entity_ref: &str) {
        let response = self
            .post_json("/refresh", &json!({"entityRef": entity_ref}))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "refresh {entity_ref}");
    }

    /// The entity as the API serves it, or None on 404.
    async fn entity(&self, entity_ref: &str) -> Option<Value> {
        let (kind, rest) = entity_ref.split_once(':').unwrap();
        let (namespace, name) = rest.split_once('/').unwrap();
        let response = self
            .client
            .get(self.url(&format!("/entities/by-name/{kind}/{namespace}/{name}")))
            .send()
            .await
            .unwrap();
        match response.status() {
            StatusCode::OK => Some(response.json().await.unwrap()),
            StatusCode::NOT_FOUND => None,
            other => panic!("GET {entity_ref}: unexpected {other}"),
        }
    }

    async fn entities(&self) -> Vec<Value> {
        let list = self.get_json("/entities").await;
        list.as_array().expect("an array of entities").clone()
    }

    async fn locations(&self) -> Value {
        self.get_json("/locations").await
    }

    /// Waits until `entity_ref` is served and `check` accepts it.
    async fn wait_entity(
        &self,
        entity_ref: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let current = self.entity(entity_ref).await;
            if let Some(entity) = current.as_ref().filter(|e| check(e)) {
                return entity.clone();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last seen: {current:#?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the entity is served without processing errors.
    async fn wait_clean(&self, entity_ref: &str) -> Value {
        self.wait_entity(entity_ref, &format!("{entity_ref} processed"), |e| {
            status_items(e).is_empty()
        })
        .await
    }

    /// Waits until the entity shows exactly these processing errors (name, message).
    async fn wait_errors(&self, entity_ref: &str, expected: &[(&str, &str)]) -> Value {
        let expected: Vec<Value> = expected
            .iter()
            .map(|(name, message)| error_item(name, message))
            .collect();
        self.wait_entity(
            entity_ref,
            &format!("{entity_ref} with errors {expected:?}"),
            |e| status_items(e) == expected,
        )
        .await
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Polls `probe` until it yields a value, failing after [`WAIT`].
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

fn status_items(entity: &Value) -> Vec<Value> {
    entity["status"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// One `status.items` entry as the stitcher writes processing errors.
fn error_item(name: &str, message: &str) -> Value {
    json!({
        "type": PROCESSING_TYPE,
        "level": "error",
        "message": format!("{name}: {message}"),
        "error": {"name": name, "message": message},
    })
}

/// Asserts a Backstage error body and returns its message.
async fn assert_error(
    response: reqwest::Response,
    status: StatusCode,
    name: &str,
    method: &str,
    url: &str,
) -> String {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["name"], name, "{body}");
    assert_eq!(
        body["request"],
        json!({"method": method, "url": url}),
        "{body}"
    );
    assert_eq!(
        body["response"],
        json!({"statusCode": status.as_u16()}),
        "{body}"
    );
    body["error"]["message"]
        .as_str()
        .expect("error.message is a string")
        .to_string()
}

fn name_error(name: &str) -> String {
    format!(
        "\"metadata.name\" is not valid; expected {NAME_FORMAT} but found \"{name}\". {FORMAT_DOC}"
    )
}

/// Everything a client can see of the catalog: entities (sorted by ref) and locations.
async fn snapshot(app: &App) -> (Vec<Value>, Value) {
    let mut entities = app.entities().await;
    entities.sort_by_key(entity_ref);
    (entities, app.locations().await)
}

fn entity_ref(entity: &Value) -> String {
    format!(
        "{}:{}/{}",
        entity["kind"].as_str().unwrap_or_default().to_lowercase(),
        entity["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default"),
        entity["metadata"]["name"].as_str().unwrap_or_default()
    )
}

/// A catalog with one good location (`good.yaml`: component `good` and API
/// `good-api`), fully processed.
async fn with_good_location(fixtures: &FileHost, app: &App) -> String {
    fixtures.set(
        "good.yaml",
        documents(&[component("good", "the good one"), api("good-api")]),
    );
    let location = app.register(&fixtures.url("good.yaml")).await;
    app.wait_clean(&location).await;
    app.wait_clean("component:default/good").await;
    app.wait_clean("api:default/good-api").await;
    location
}

// ---- 1. malformed YAML -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_yaml_is_refused_by_dry_run_and_reported_on_its_location() {
    let fixtures = FileHost::start(HashMap::new()).await;
    let app = App::start(&fixtures).await;
    with_good_location(&fixtures, &app).await;
    let good_before = app.entity("component:default/good").await.unwrap();

    fixtures.set(
        "broken.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: [unclosed\n",
    );
    let broken_url = fixtures.url("broken.yaml");
    let yaml_prefix = format!("YAML error at url:{broken_url}, ");

    // A dry run reads the file and refuses it; nothing is stored.
    let before = snapshot(&app).await;
    let message = assert_error(
        app.dry_run(&broken_url).await,
        StatusCode::BAD_REQUEST,
        "InputError",
        "POST",
        "/locations?dryRun=true",
    )
    .await;
    // The parser's reason and position, after Backstage's prefix.
    assert_eq!(
        message,
        format!("{yaml_prefix}unclosed bracket '[' at line 4, column 9")
    );
    assert_eq!(snapshot(&app).await, before);

    // A real registration is accepted (as in Backstage) and its Location
    // entity carries the parse error; nothing else changes.
    let location = app.register(&broken_url).await;
    let failed = app
        .wait_entity(&location, "the YAML error on the location", |e| {
            !status_items(e).is_empty()
        })
        .await;
    let items = status_items(&failed);
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["type"], PROCESSING_TYPE);
    assert_eq!(items[0]["level"], "error");
    assert_eq!(items[0]["error"]["name"], "InputError");
    assert_eq!(items[0]["error"]["message"], message.as_str());
    assert_eq!(items[0]["message"], format!("InputError: {message}"));
    assert_eq!(
        app.entity("component:default/good").await.unwrap(),
        good_before
    );
    assert_eq!(app.entities().await.len(), before.0.len() + 1);

    // Fixing the file and asking for a refresh recovers.
    fixtures.set("broken.yaml", component("repaired", "fixed"));
    app.refresh(&location).await;
    app.wait_clean("component:default/repaired").await;
    app.wait_clean(&location).await;
    assert_eq!(
        app.entity("component:default/good").await.unwrap(),
        good_before
    );
}

// ---- 2. invalid entity name ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_name_is_reported_on_that_entity_and_siblings_are_stitched() {
    let fixtures = FileHost::start(HashMap::new()).await;
    let app = App::start(&fixtures).await;
    fixtures.set(
        "mixed.yaml",
        documents(&[
            component("first-sibling", "valid"),
            component("invalid_name_", "trailing underscore"),
            api("second-sibling"),
        ]),
    );
    let location = app.register(&fixtures.url("mixed.yaml")).await;

    app.wait_clean("component:default/first-sibling").await;
    app.wait_clean("api:default/second-sibling").await;
    // The invalid entity is shown as read, with Backstage's exact message.
    let invalid = app
        .wait_errors(
            "component:default/invalid_name_",
            &[("InputError", &name_error("invalid_name_"))],
        )
        .await;
    assert_eq!(invalid["spec"]["owner"], "team-a");
    // Its parent location processed fine: the error belongs to the entity.
    let parent = app.wait_clean(&location).await;
    assert_eq!(status_items(&parent), Vec::<Value>::new());
    assert_eq!(app.entities().await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_tag_names_are_refused_by_name_validation() {
    let fixtures = FileHost::start(HashMap::new()).await;
    let app = App::start(&fixtures).await;
    let hostile = "<script>alert(1)<";
    fixtures.set(
        "xss.yaml",
        documents(&[
            component("neighbour", "valid"),
            component(&format!("'{hostile}'"), "hostile"),
        ]),
    );
    app.register(&fixtures.url("xss.yaml")).await;
    app.wait_clean("component:default/neighbour").await;
    let listed = eventually("the hostile entity with its error", || async {
        app.entities()
            .await
            .into_iter()
            .find(|e| e["metadata"]["name"] == hostile && !status_items(e).is_empty())
    })
    .await;
    assert_eq!(
        status_items(&listed),
        vec![error_item("InputError", &name_error(hostile))]
    );

    // POST /validate-entity refuses it synchronously with the same message.
    let response = app
        .post_json(
            "/validate-entity",
            &json!({
                "location": fixtures.url("xss.yaml").replace("http://", "url:http://"),
                "entity": {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "Component",
                    "metadata": {"name": "<script>alert(1)</script>"},
                    "spec": {"type": "service", "owner": "team-a", "lifecycle": "production"},
                },
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors array")
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, vec![name_error("<script>alert(1)</script>")]);
}

// ---- 3. duplicate entity ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_entity_keeps_the_first_locations_version() {
    let fixtures = FileHost::start(HashMap::new()).await;
    let app = App::start(&fixtures).await;
    let first_url = fixtures.url("first.yaml");
    let second_url = fixtures.url("second.yaml");
    fixtures.set(
        "first.yaml",
        documents(&[
            component("shared", "from-first"),
            component("only-first", "a"),
        ]),
    );
    fixtures.set(
        "second.yaml",
        documents(&[
            component("shared", "from-second"),
            component("only-second", "b"),
        ]),
    );

    let first = app.register(&first_url).await;
    app.wait_clean(&first).await;
    let shared_before = app.wait_clean("component:default/shared").await;
    app.wait_clean("component:default/only-first").await;

    let second = app.register(&second_url).await;
    app.wait_clean(&second).await;
    app.wait_clean("component:default/only-second").await;
    // The second location's processing has been written (its other child is
    // stitched): the conflicting version was refused, the first one kept.
    let assert_first_kept = |shared: Value| {
        assert_eq!(shared["metadata"]["description"], "from-first");
        assert_eq!(
            shared["metadata"]["annotations"]["backstage.io/managed-by-location"],
            format!("url:{first_url}")
        );
        assert_eq!(shared["metadata"]["uid"], shared_before["metadata"]["uid"]);
    };
    assert_first_kept(app.entity("component:default/shared").await.unwrap());

    // Reprocessing the second location changes nothing either.
    fixtures.set(
        "second.yaml",
        documents(&[
            component("shared", "from-second"),
            component("only-second", "b"),
            component("second-again", "c"),
        ]),
    );
    app.refresh(&second).await;
    app.wait_clean("component:default/second-again").await;
    assert_first_kept(app.entity("component:default/shared").await.unwrap());
    // No entity lost: two locations, shared, only-first, only-second, second-again.
    let mut refs: Vec<String> = app.entities().await.iter().map(entity_ref).collect();
    refs.sort();
    let mut expected = vec![
        first.clone(),
        second.clone(),
        "component:default/only-first".to_string(),
        "component:default/only-second".to_string(),
        "component:default/second-again".to_string(),
        "component:default/shared".to_string(),
    ];
    expected.sort();
    assert_eq!(refs, expected);
}

// ---- 4. kind not allowed by catalog.rules ----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disallowed_kind_fails_the_location_and_keeps_what_it_had() {
    let fixtures = FileHost::start(HashMap::new()).await;
    let app = App::start(&fixtures).await;
    let url = fixtures.url("team.yaml");
    fixtures.set(
        "team.yaml",
        documents(&[component("team-service", "v1"), api("team-api")]),
    );
    let location = app.register(&url).await;
    app.wait_clean(&location).await;
    let service_before = app.wait_clean("component:default/team-service").await;
    let api_before = app.wait_clean("api:default/team-api").await;
    let before = app.entities().await.len();

    // The file now also emits a Group, which the rules do not allow: the whole
    // result of the location fails (as in Backstage), so the new description
    // is not applied and the Group is not added.
    fixtures.set(
        "team.yaml",
        documents(&[
            component("team-service", "v2"),
            api("team-api"),
            group("team-a"),
        ]),
    );
    // A dry run names the refused entity.
    let message = assert_error(
        app.dry_run(&url).await,
        StatusCode::BAD_REQUEST,
        "InputError",
        "POST",
        "/locations?dryRun=true",
    )
    .await;
    let not_allowed = format!(
        "Entity group:default/team-a at url:{url}, originated at url:{url}, is not of an allowed kind for that location"
    );
    assert_eq!(message, not_allowed);

    app.refresh(&location).await;
    app.wait_errors(&location, &[("NotAllowedError", &not_allowed)])
        .await;
    assert_eq!(app.entity("group:default/team-a").await, None);
    assert_eq!(
        app.entity("component:default/team-service").await.unwrap(),
        service_before
    );
    assert_eq!(
        app.entity("api:default/team-api").await.unwrap(),
        api_before
    );
    assert_eq!(app.entities().await.len(), before);

    // A location whose first read already contains a Group yields nothing but
    // the error on its Location entity.
    fixtures.set(
        "new-team.yaml",
        documents(&[component("newcomer", "x"), group("team-b")]),
    );
    let new_url = fixtures.url("new-team.yaml");
    let newcomer_location = app.register(&new_url).await;
    app.wait_errors(
        &newcomer_location,
        &[(
            "NotAllowedError",
            &format!("Entity group:default/team-b at url:{new_url}, originated at url:{new_url}, is not of an allowed kind for that location"),
        )],
    )
    .await;
    assert_eq!(app.entity("component:default/newcomer").await, None);
    assert_eq!(app.entity("group:default/team-b").await, None);
    assert_eq!(app.entities().await.len(), before + 1);
}

// ---- 5. host not allowed ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_on_a_host_that_is_not_allowed_is_refused() {
    let fixtures = FileHost::start(HashMap::new()).await;
    let app = App::start(&fixtures).await;
    with_good_location(&fixtures, &app).await;
    let before = snapshot(&app).await;
    let target = "http://not-allowed.invalid:8080/catalog-info.yaml";
    let expected = format!(
        "Unable to read url, NotAllowedError: Reading from '{target}' is not allowed. You may need to configure an integration for the target host 'not-allowed.invalid:8080', or add it to the configured list of allowed hosts at 'backend.reading.allow'"
    );

    let message = assert_error(
        app.dry_run(target).await,
        StatusCode::BAD_REQUEST,
        "InputError",
        "POST",
        "/locations?dryRun=true",
    )
    .await;
    assert_eq!(message, expected);
    assert_eq!(snapshot(&app).await, before);

    let message = assert_error(
        app.post_json("/locations", &json!({"type": "url", "target": target}))
            .await,
        StatusCode::BAD_REQUEST,
        "InputError",
        "POST",
        "/locations",
    )
    .await;
    assert_eq!(message, expected);
    assert_eq!(snapshot(&app).await, before);
}

// ---- 6. bodies that are not JSON -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_json_are_refused() {
    let fixtures = FileHost::start(HashMap::new()).await;
    let app = App::start(&fixtures).await;
    with_good_location(&fixtures, &app).await;
    let before = snapshot(&app).await;
    let location_body = json!({"type": "url", "target": fixtures.url("other.yaml")}).to_string();
    let post = |path: &str, content_type: &str, body: String| {
        app.client
            .post(app.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let message = assert_error(
        post("/locations", "text/plain", location_body.clone())
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "InputError",
        "POST",
        "/locations",
    )
    .await;
    assert_eq!(message, "Illegal Content-Type");

    let message = assert_error(
        post(
            "/locations",
            "application/json",
            "{\"type\": \"url\",".into(),
        )
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
        "InputError",
        "POST",
        "/locations",
    )
    .await;
    assert!(
        message.starts_with("Malformed request body: EOF while parsing"),
        "{message}"
    );

    let message = assert_error(
        post("/locations", "application/json", "[]".into())
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "InputError",
        "POST",
        "/locations",
    )
    .await;
    assert_eq!(message, "Expected body to be a JSON object");

    let malformed =
        "Malformed request body (did you remember to specify an application/json content type?), ";
    let message = assert_error(
        post(
            "/entities/by-refs",
            "application/json",
            "not json at all".into(),
        )
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
        "InputError",
        "POST",
        "/entities/by-refs",
    )
    .await;
    assert!(
        message.starts_with(&format!("{malformed}expected ident")),
        "{message}"
    );

    // A body not sent as JSON counts as `{}`, which lacks `entityRefs`.
    let message = assert_error(
        post(
            "/entities/by-refs",
            "text/plain",
            json!({"entityRefs": ["component:default/good"]}).to_string(),
        )
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
        "InputError",
        "POST",
        "/entities/by-refs",
    )
    .await;
    assert_eq!(message, format!("{malformed}missing field `entityRefs`"));

    assert_eq!(snapshot(&app).await, before);
}

// ---- 7. oversized documents and unknown fields -----------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_over_ten_megabytes_are_refused() {
    let fixtures = FileHost::start(HashMap::new()).await;
    let app = App::start(&fixtures).await;
    with_good_location(&fixtures, &app).await;
    let before = snapshot(&app).await;

    let huge = json!({
        "location": format!("url:{}", fixtures.url("huge.yaml")),
        "entity": {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "huge", "description": "x".repeat(10 * 1024 * 1024 + 1)},
            "spec": {"type": "service", "owner": "team-a", "lifecycle": "production"},
        },
    });
    let message = assert_error(
        app.post_json("/validate-entity", &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLargeError",
        "POST",
        "/validate-entity",
    )
    .await;
    assert_eq!(message, "request entity too large");

    let padded = json!({
        "type": "url",
        "target": fixtures.url("padded.yaml"),
        "padding": "x".repeat(10 * 1024 * 1024 + 1),
    });
    let message = assert_error(
        app.post_json("/locations", &padded).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLargeError",
        "POST",
        "/locations",
    )
    .await;
    assert_eq!(message, "request entity too large");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_file_over_five_megabytes_is_reported_on_its_location() {
    let fixtures = FileHost::start(HashMap::new()).await;
    let app = App::start(&fixtures).await;
    with_good_location(&fixtures, &app).await;
    let good_before = app.entity("component:default/good").await.unwrap();

    let mut big = component("big", "big");
    big.push_str("# ");
    big.push_str(&"x".repeat(6 * 1024 * 1024));
    big.push('\n');
    let size = big.len();
    fixtures.set("big.yaml", big);
    let url = fixtures.url("big.yaml");
    let location = app.register(&url).await;
    app.wait_errors(
        &location,
        &[(
            "InputError",
            &format!(
                "YAML error at url:{url}, Descriptor is too large: {size} bytes, the limit is 5242880 bytes"
            ),
        )],
    )
    .await;
    assert_eq!(app.entity("component:default/big").await, None);
    assert_eq!(
        app.entity("component:default/good").await.unwrap(),
        good_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fields_in_a_location_body_are_refused() {
    let fixtures = FileHost::start(HashMap::new()).await;
    let app = App::start(&fixtures).await;
    with_good_location(&fixtures, &app).await;
    let before = snapshot(&app).await;
    fixtures.set("extra.yaml", component("extra", "x"));

    for path in ["/locations", "/locations?dryRun=true"] {
        let message = assert_error(
            app.post_json(
                path,
                &json!({"type": "url", "target": fixtures.url("extra.yaml"), "extra": true}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "InputError",
            "POST",
            path,
        )
        .await;
        assert!(
            message.starts_with("Malformed request: unknown field `extra`, expected one of `type`, `target`, `presence`"),
            "{message}"
        );
    }
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(app.entity("component:default/extra").await, None);
}
