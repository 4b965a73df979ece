//! The permission matrix: every route of the router's table, called by an
//! anonymous caller, a member of the owning team, a member of another team
//! and an admin, under an ownership policy; each gets the status the matrix
//! expects. The route table is the router's own (`greenroom::route_table`),
//! so a new route without a row here fails the test, and a state-changing
//! route that checks no permission fails it unless it is a sign-in step.

mod common;

use std::collections::BTreeMap;

use common::server::{config, Server, DEMO_CATALOG};
use greenroom::routes::Access;
use greenroom_store::Principal;
use serde_json::{json, Value};

const POLICY: &str = r#"
roles:
  admin: [group:default/team-platform]
rules:
  - name: admins
    roles: [admin]
    permissions: ["*"]
  - name: owners-manage-their-entities
    permissions: [catalog.entity.delete, catalog.entity.refresh]
    conditions: { rule: IS_ENTITY_OWNER }
  - name: own-tasks
    permissions: [scaffolder.task.read, scaffolder.task.cancel]
    conditions: { rule: IS_TASK_OWNER }
  - name: read-own-and-shared-kinds
    permissions: [catalog.entity.read]
    conditions:
      anyOf:
        - { rule: IS_ENTITY_OWNER }
        - { rule: IS_ENTITY_KIND, params: { kinds: [API, Group, User, Template, System, Domain, Location] } }
  - name: members
    permissions:
      - catalog.location.read
      - catalog.entity.validate
      - catalog.location.analyze
      - search.query
      - scaffolder.template.parameter.read
      - scaffolder.action.read
      - scaffolder.task.create
      - greenroom.permission.explain
"#;

const TEMPLATE: &str = r#"
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: matrix-template
spec:
  owner: team-payments
  type: service
  parameters: []
  steps:
    - id: log
      name: Log
      action: debug:log
      input: { message: matrix }
"#;

/// State-changing routes that need no permission: the steps of signing in
/// and out, and asking the policy about oneself.
const PUBLIC_WRITES: &[&str] = &[
    "POST /api/auth/ldap/login",
    "POST /api/auth/{provider}/handler/frame",
    "POST /api/auth/{provider}/refresh",
    "POST /api/auth/{provider}/logout",
    "POST /api/permission/authorize",
];

const ANON: usize = 0;
const OWNER: usize = 1;
const OTHER: usize = 2;
const ADMIN: usize = 3;
const CALLERS: [&str; 4] = ["anonymous", "owner-team", "other-team", "admin"];

/// One row: the route as the table names it, the concrete request, and the
/// status each caller (anonymous, owner team, other team, admin) gets.
struct Row {
    route: &'static str,
    path: String,
    body: Option<Value>,
    expect: [u16; 4],
}

fn row(route: &'static str, path: impl Into<String>, body: Option<Value>, expect: [u16; 4]) -> Row {
    Row {
        route,
        path: path.into(),
        body,
        expect,
    }
}

struct Fixture {
    uid: String,
    location: String,
    task: String,
}

fn rows(f: &Fixture) -> Vec<Row> {
    let entity = "component/default/invoice-renderer";
    let uid = &f.uid;
    let loc = &f.location;
    let task = &f.task;
    let entity_ref = json!({"entityRef": "component:default/invoice-renderer"});
    let valid_entity = json!({"entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": "x"}, "spec": {"type": "service", "lifecycle": "production", "owner": "team-web"}},
        "location": "url:http://127.0.0.1:9/catalog-info.yaml"});
    vec![
        // Catalog: reads narrowed to what the caller owns (plus shared kinds).
        row(
            "GET /api/catalog/entities",
            "/api/catalog/entities?filter=kind=component",
            None,
            [401, 200, 200, 200],
        ),
        row(
            "GET /api/catalog/entities/by-query",
            "/api/catalog/entities/by-query?limit=5",
            None,
            [401, 200, 200, 200],
        ),
        row(
            "POST /api/catalog/entities/by-query",
            "/api/catalog/entities/by-query",
            Some(json!({"limit": 5})),
            [401, 200, 200, 200],
        ),
        row(
            "GET /api/catalog/entities/by-uid/{uid}",
            format!("/api/catalog/entities/by-uid/{uid}"),
            None,
            [401, 200, 404, 200],
        ),
        row(
            "GET /api/catalog/entities/by-name/{kind}/{namespace}/{name}",
            format!("/api/catalog/entities/by-name/{entity}"),
            None,
            [401, 200, 404, 200],
        ),
        row(
            "GET /api/catalog/entities/by-name/{kind}/{namespace}/{name}/ancestry",
            format!("/api/catalog/entities/by-name/{entity}/ancestry"),
            None,
            [401, 200, 404, 200],
        ),
        row(
            "POST /api/catalog/entities/by-refs",
            "/api/catalog/entities/by-refs",
            Some(json!({"entityRefs": ["component:default/invoice-renderer"]})),
            [401, 200, 200, 200],
        ),
        row(
            "GET /api/catalog/entity-facets",
            "/api/catalog/entity-facets?facet=kind",
            None,
            [401, 200, 200, 200],
        ),
        row(
            "POST /api/catalog/entity-facets",
            "/api/catalog/entity-facets",
            Some(json!({"facets": ["kind"]})),
            [401, 200, 200, 200],
        ),
        row(
            "GET /api/catalog/locations",
            "/api/catalog/locations",
            None,
            [401, 200, 200, 200],
        ),
        row(
            "POST /api/catalog/locations",
            "/api/catalog/locations",
            Some(json!({"type": "url", "target": "http://127.0.0.1:9/matrix-new.yaml"})),
            [401, 403, 403, 201],
        ),
        row(
            "POST /api/catalog/locations/by-query",
            "/api/catalog/locations/by-query",
            Some(json!({})),
            [401, 200, 200, 200],
        ),
        row(
            "GET /api/catalog/locations/{id}",
            format!("/api/catalog/locations/{loc}"),
            None,
            [401, 200, 200, 200],
        ),
        row(
            "PUT /api/catalog/locations/{id}",
            format!("/api/catalog/locations/{loc}"),
            Some(json!({"type": "url", "target": "http://127.0.0.1:9/matrix-moved.yaml"})),
            [401, 403, 403, 200],
        ),
        // The component came from a configured location, not a registered one.
        row(
            "GET /api/catalog/locations/by-entity/{kind}/{namespace}/{name}",
            format!("/api/catalog/locations/by-entity/{entity}"),
            None,
            [401, 404, 404, 404],
        ),
        row(
            "POST /api/catalog/refresh",
            "/api/catalog/refresh",
            Some(entity_ref),
            [401, 200, 403, 200],
        ),
        row(
            "POST /api/catalog/validate-entity",
            "/api/catalog/validate-entity",
            Some(valid_entity),
            [401, 200, 200, 200],
        ),
        row(
            "POST /api/catalog/analyze-location",
            "/api/catalog/analyze-location",
            Some(json!({"location": {"type": "url", "target": "http://127.0.0.1:9/x.yaml"}})),
            [401, 500, 500, 500],
        ),
        row(
            "GET /api/catalog/openapi.json",
            "/api/catalog/openapi.json",
            None,
            [200, 200, 200, 200],
        ),
        // Scaffolder: tasks are their creator's (and the admins').
        row(
            "GET /api/scaffolder/v2/templates/{namespace}/{kind}/{name}/parameter-schema",
            "/api/scaffolder/v2/templates/default/template/matrix-template/parameter-schema",
            None,
            [401, 200, 200, 200],
        ),
        row(
            "GET /api/scaffolder/v2/actions",
            "/api/scaffolder/v2/actions",
            None,
            [401, 200, 200, 200],
        ),
        row(
            "POST /api/scaffolder/v2/tasks",
            "/api/scaffolder/v2/tasks",
            Some(json!({"templateRef": "template:default/matrix-template", "values": {}})),
            [401, 201, 201, 201],
        ),
        row(
            "GET /api/scaffolder/v2/tasks",
            "/api/scaffolder/v2/tasks",
            None,
            [401, 200, 200, 200],
        ),
        row(
            "GET /api/scaffolder/v2/tasks/{id}",
            format!("/api/scaffolder/v2/tasks/{task}"),
            None,
            [401, 200, 404, 200],
        ),
        row(
            "GET /api/scaffolder/v2/tasks/{id}/eventstream",
            format!("/api/scaffolder/v2/tasks/{task}/eventstream"),
            None,
            [401, 200, 404, 200],
        ),
        row(
            "GET /api/scaffolder/v2/tasks/{id}/events",
            format!("/api/scaffolder/v2/tasks/{task}/events"),
            None,
            [401, 200, 404, 200],
        ),
        // The task has ended: cancelling it is a conflict for those who may.
        row(
            "POST /api/scaffolder/v2/tasks/{id}/cancel",
            format!("/api/scaffolder/v2/tasks/{task}/cancel"),
            None,
            [401, 409, 404, 409],
        ),
        row(
            "POST /api/scaffolder/v2/tasks/{id}/retry",
            format!("/api/scaffolder/v2/tasks/{task}/retry"),
            None,
            [401, 409, 404, 409],
        ),
        row(
            "POST /api/scaffolder/v2/dry-run",
            "/api/scaffolder/v2/dry-run",
            Some(
                json!({"template": serde_yaml_value(TEMPLATE), "values": {}, "directoryContents": []}),
            ),
            [401, 403, 403, 200],
        ),
        // Search and docs.
        row(
            "GET /api/search/query",
            "/api/search/query?term=invoice",
            None,
            [401, 200, 200, 200],
        ),
        row(
            "GET /api/techdocs/metadata/techdocs/{namespace}/{kind}/{name}",
            "/api/techdocs/metadata/techdocs/default/component/invoice-renderer",
            None,
            [401, 404, 404, 404],
        ),
        // The component has no docs: readers learn that (400, 200 with an error
        // event); the other team learns nothing (404).
        row(
            "GET /api/techdocs/metadata/entity/{namespace}/{kind}/{name}",
            "/api/techdocs/metadata/entity/default/component/invoice-renderer",
            None,
            [401, 400, 404, 400],
        ),
        row(
            "GET /api/techdocs/sync/{namespace}/{kind}/{name}",
            "/api/techdocs/sync/default/component/invoice-renderer",
            None,
            [401, 200, 404, 200],
        ),
        row(
            "GET /api/techdocs/static/docs/{namespace}/{kind}/{name}",
            "/api/techdocs/static/docs/default/component/invoice-renderer",
            None,
            [401, 404, 404, 404],
        ),
        row(
            "GET /api/techdocs/static/docs/{namespace}/{kind}/{name}/",
            "/api/techdocs/static/docs/default/component/invoice-renderer/",
            None,
            [401, 404, 404, 404],
        ),
        row(
            "GET /api/techdocs/static/docs/{namespace}/{kind}/{name}/{*path}",
            "/api/techdocs/static/docs/default/component/invoice-renderer/index.html",
            None,
            [401, 404, 404, 404],
        ),
        // Sign-in: public steps, personal things for the signed-in.
        row(
            "GET /api/auth/providers",
            "/api/auth/providers",
            None,
            [200, 200, 200, 200],
        ),
        row(
            "GET /api/auth/session",
            "/api/auth/session",
            None,
            [401, 200, 200, 200],
        ),
        row(
            "GET /api/auth/.well-known/jwks.json",
            "/api/auth/.well-known/jwks.json",
            None,
            [200, 200, 200, 200],
        ),
        row(
            "GET /api/auth/.well-known/openid-configuration",
            "/api/auth/.well-known/openid-configuration",
            None,
            [200, 200, 200, 200],
        ),
        row(
            "GET /api/auth/v1/userinfo",
            "/api/auth/v1/userinfo",
            None,
            [401, 200, 200, 200],
        ),
        // LDAP is not configured here; without the XHR header the route refuses first.
        row(
            "POST /api/auth/ldap/login",
            "/api/auth/ldap/login",
            Some(json!({"username": "x", "password": "y"})),
            [401, 401, 401, 401],
        ),
        row(
            "GET /api/auth/{provider}/start",
            "/api/auth/github/start",
            None,
            [404, 404, 404, 404],
        ),
        row(
            "GET /api/auth/{provider}/handler/frame",
            "/api/auth/github/handler/frame",
            None,
            [404, 404, 404, 404],
        ),
        row(
            "POST /api/auth/{provider}/handler/frame",
            "/api/auth/github/handler/frame",
            None,
            [404, 404, 404, 404],
        ),
        row(
            "GET /api/auth/{provider}/refresh",
            "/api/auth/github/refresh",
            None,
            [401, 401, 401, 401],
        ),
        row(
            "POST /api/auth/{provider}/refresh",
            "/api/auth/gitlab/refresh",
            None,
            [401, 401, 401, 401],
        ),
        row(
            "POST /api/auth/{provider}/logout",
            "/api/auth/guest/logout",
            None,
            [401, 401, 401, 401],
        ),
        row(
            "GET /api/auth/tokens",
            "/api/auth/tokens",
            None,
            [401, 200, 200, 200],
        ),
        row(
            "POST /api/auth/tokens",
            "/api/auth/tokens",
            Some(json!({"name": "matrix", "expiresInDays": 1})),
            [401, 201, 201, 201],
        ),
        row(
            "DELETE /api/auth/tokens/{id}",
            "/api/auth/tokens/not-a-token",
            None,
            [401, 404, 404, 404],
        ),
        // Permissions and audit.
        row(
            "POST /api/permission/authorize",
            "/api/permission/authorize",
            Some(
                json!({"items": [{"id": "1", "permission": {"type": "basic", "name": "catalog.location.create", "attributes": {}}}]}),
            ),
            [200, 200, 200, 200],
        ),
        row(
            "POST /api/permission/explain",
            "/api/permission/explain",
            Some(json!({"permission": "catalog.location.create"})),
            [401, 200, 200, 200],
        ),
        row(
            "GET /api/audit/events",
            "/api/audit/events",
            None,
            [401, 403, 403, 200],
        ),
        // Destructive last: the owner's delete takes the entity away.
        row(
            "DELETE /api/catalog/locations/{id}",
            format!("/api/catalog/locations/{loc}"),
            None,
            [401, 403, 403, 204],
        ),
        row(
            "DELETE /api/catalog/entities/by-uid/{uid}",
            format!("/api/catalog/entities/by-uid/{uid}"),
            None,
            [401, 204, 403, 204],
        ),
    ]
}

fn serde_yaml_value(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("template YAML")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn token(server: &Server, user: &str, group: &str) -> String {
    server
        .auth
        .tokens
        .issue(&Principal {
            user_entity_ref: format!("user:default/{user}"),
            ownership_refs: vec![
                format!("user:default/{user}"),
                format!("group:default/{group}"),
            ],
        })
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_caller_as_the_policy_says() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(&template, TEMPLATE).unwrap();
    let mut cfg = config(&[DEMO_CATALOG]);
    cfg["catalog"]["locations"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "file", "target": template.to_string_lossy()}));
    // Locations on a closed local port: registered, never read.
    cfg["backend"]["reading"] = json!({"allow": [{"host": "127.0.0.1:9"}]});
    cfg["auth"] = json!({"providers": {"guest": {}}});
    cfg["permission"] = json!({"enabled": true, "policyFile": policy.to_string_lossy()});
    let server = Server::start(cfg, Vec::new()).await;
    let client = http();
    let tokens = [
        None,
        Some(token(&server, "hannah.becker", "team-payments").await),
        Some(token(&server, "yuki.tanaka", "team-web").await),
        Some(token(&server, "liam.obrien", "team-platform").await),
    ];
    let admin = tokens[ADMIN].clone().unwrap();
    let owner = tokens[OWNER].clone().unwrap();

    // Fixtures: the owning team's component, a throw-away location, and a
    // task the owner ran (ended by the time the matrix runs).
    let entity: Value = client
        .get(server.url("/api/catalog/entities/by-name/component/default/invoice-renderer"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(entity["spec"]["owner"], "team-payments");
    let location: Value = client
        .post(server.url("/api/catalog/locations"))
        .bearer_auth(&admin)
        .json(&json!({"type": "url", "target": "http://127.0.0.1:9/matrix.yaml"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task: Value = client
        .post(server.url("/api/scaffolder/v2/tasks"))
        .bearer_auth(&owner)
        .json(&json!({"templateRef": "template:default/matrix-template", "values": {}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task_id = task["id"].as_str().expect("task created").to_string();
    for _ in 0..100 {
        let t: Value = client
            .get(server.url(&format!("/api/scaffolder/v2/tasks/{task_id}")))
            .bearer_auth(&owner)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if t["status"] == "completed" || t["status"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let fixture = Fixture {
        uid: entity["metadata"]["uid"].as_str().unwrap().to_string(),
        location: location["location"]["id"]
            .as_str()
            .expect("location created")
            .to_string(),
        task: task_id,
    };

    // The table and the matrix must cover each other.
    let table: BTreeMap<String, Access> = greenroom::route_table()
        .into_iter()
        .map(|r| (format!("{} {}", r.method, r.path), r.access))
        .collect();
    let rows = rows(&fixture);
    let covered: Vec<&str> = rows.iter().map(|r| r.route).collect();
    let missing: Vec<&String> = table
        .keys()
        .filter(|k| !covered.contains(&k.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the permission matrix: {missing:?}"
    );
    for r in &covered {
        assert!(
            table.contains_key(*r),
            "the matrix names a route the router does not have: {r}"
        );
    }
    for (route, access) in &table {
        let writes = !route.starts_with("GET ");
        if writes && matches!(access, Access::Public) {
            assert!(
                PUBLIC_WRITES.contains(&route.as_str()),
                "{route} changes state without a permission check"
            );
        }
    }

    // Anonymous first, the admin last, so the owner's delete runs before the admin's.
    let mut failures = Vec::new();
    for r in &rows {
        let method: reqwest::Method = r.route.split(' ').next().unwrap().parse().unwrap();
        for caller in [ANON, OTHER, OWNER, ADMIN] {
            let mut request = client.request(method.clone(), server.url(&r.path));
            if let Some(t) = &tokens[caller] {
                request = request.bearer_auth(t);
            }
            if let Some(body) = &r.body {
                request = request.json(body);
            }
            let status = request.send().await.unwrap().status().as_u16();
            if status != r.expect[caller] {
                failures.push(format!(
                    "{} as {}: expected {}, got {status}",
                    r.route, CALLERS[caller], r.expect[caller]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "permission matrix mismatches:\n{}",
        failures.join("\n")
    );
}
