//! Backstage's filters and the Nunjucks ones templates use.

use serde_json::json;

use super::{failure, text, value};

#[test]
fn parse_repo_url_on_github() {
    assert_eq!(
        value("${{ parameters.repoUrl | parseRepoUrl }}"),
        json!({"host": "github.com", "owner": "acme", "repo": "svc"})
    );
    assert_eq!(
        value("${{ (parameters.repoUrl | parseRepoUrl).owner }}"),
        json!("acme")
    );
    assert_eq!(
        value("${{ 'github.example.com:8443?owner=acme&repo=/svc/' | parseRepoUrl }}"),
        json!({"host": "github.example.com:8443", "owner": "acme", "repo": "svc"})
    );
}

#[test]
fn parse_repo_url_on_gitlab_with_project() {
    assert_eq!(
        value("${{ 'gitlab.com?owner=group/sub&repo=svc&project=42' | parseRepoUrl }}"),
        json!({"host": "gitlab.com", "owner": "group/sub", "repo": "svc", "project": "42"})
    );
    // On GitLab a project id stands for owner and repo.
    assert_eq!(
        value("${{ 'gitlab.example.com?project=42' | parseRepoUrl }}"),
        json!({"host": "gitlab.example.com", "project": "42"})
    );
    assert_eq!(
        value("${{ 'dev.azure.com?organization=org&project=p&repo=r' | parseRepoUrl }}"),
        json!({"host": "dev.azure.com", "repo": "r", "organization": "org", "project": "p"})
    );
}

#[test]
fn parse_repo_url_errors_name_what_is_missing() {
    let msg = failure("${{ 'github.com?owner=acme' | parseRepoUrl }}");
    assert!(
        msg.contains("parseRepoUrl: invalid repo URL \"github.com?owner=acme\": missing repo"),
        "{msg}"
    );
    let msg = failure("${{ '?owner=acme&repo=svc' | parseRepoUrl }}");
    assert!(msg.contains("has no host"), "{msg}");
    let msg = failure("${{ 42 | parseRepoUrl }}");
    assert!(msg.contains("parseRepoUrl expects a string"), "{msg}");
    // A typed step input reports the same error instead of a value.
    let err = crate::Renderer::new()
        .render_value(&json!("${{ 'github.com' | parseRepoUrl }}"), &super::ctx())
        .unwrap_err();
    assert!(err.to_string().contains("missing repo"), "{err}");
}

#[test]
fn project_slug() {
    assert_eq!(
        value("${{ parameters.repoUrl | projectSlug }}"),
        json!("acme/svc")
    );
    assert_eq!(
        value("${{ 'gitlab.com?owner=group&repo=proj' | projectSlug }}"),
        json!("group/proj")
    );
    let msg = failure("${{ 'gitlab.com?project=42' | projectSlug }}");
    assert!(msg.contains("needs both owner and repo"), "{msg}");
}

#[test]
fn parse_entity_ref() {
    assert_eq!(
        value("${{ parameters.owner | parseEntityRef }}"),
        json!({"kind": "group", "namespace": "default", "name": "platform"})
    );
    assert_eq!(
        value("${{ 'Group:Ops/Team' | parseEntityRef }}"),
        json!({"kind": "Group", "namespace": "Ops", "name": "Team"})
    );
    assert_eq!(
        value("${{ 'team' | parseEntityRef({'defaultKind': 'group'}) }}"),
        json!({"kind": "group", "namespace": "default", "name": "team"})
    );
    assert_eq!(
        value(
            "${{ 'ns/team' | parseEntityRef({'defaultKind': 'group', 'defaultNamespace': 'other'}) }}"
        ),
        json!({"kind": "group", "namespace": "ns", "name": "team"})
    );
    assert_eq!(
        value(
            "${{ 'team' | parseEntityRef({'defaultKind': 'user', 'defaultNamespace': 'other'}) }}"
        ),
        json!({"kind": "user", "namespace": "other", "name": "team"})
    );
    assert_eq!(
        value("${{ {'kind': 'api', 'name': 'pets'} | parseEntityRef }}"),
        json!({"kind": "api", "namespace": "default", "name": "pets"})
    );
    let msg = failure("${{ 'team' | parseEntityRef }}");
    assert!(msg.contains("had missing or empty kind"), "{msg}");
    let msg = failure("${{ 'group:' | parseEntityRef }}");
    assert!(
        msg.contains("was not on the form [<kind>:][<namespace>/]<name>"),
        "{msg}"
    );
}

#[test]
fn pick() {
    assert_eq!(
        value("${{ parameters.owner | parseEntityRef | pick('name') }}"),
        json!("platform")
    );
    assert_eq!(
        value("${{ parameters | pick('meta.team') }}"),
        json!("core")
    );
    assert_eq!(value("${{ parameters | pick('tags[1]') }}"), json!("b"));
    assert_eq!(
        value("${{ parameters | pick('meta.nope.deeper') }}"),
        json!(null)
    );
}

#[test]
fn dump_and_jsonify_are_json_stringify() {
    assert_eq!(
        value("${{ parameters.meta | dump }}"),
        json!(r#"{"team":"core","tier":1}"#)
    );
    assert_eq!(
        value("${{ parameters.tags | dump(2) }}"),
        json!("[\n  \"a\",\n  \"b\"\n]")
    );
    assert_eq!(value("${{ parameters.name | dump }}"), json!("\"svc\""));
    assert_eq!(
        value("${{ parameters.meta | jsonify }}"),
        json!(r#"{"team":"core","tier":1}"#)
    );
    assert_eq!(text("<${{ parameters.missing | dump }}>"), "<>");
    assert_eq!(text("${{ '<&>' | dump }}"), "\"<&>\"");
}

#[test]
fn safe_passes_values_through() {
    assert_eq!(value("${{ parameters.tags | safe }}"), json!(["a", "b"]));
    assert_eq!(text("${{ '<b>' | safe }}"), "<b>");
}

#[test]
fn nunjucks_builtins() {
    assert_eq!(value("${{ 'a-b-c' | replace('-', '_') }}"), json!("a_b_c"));
    assert_eq!(value("${{ 'MiXed' | lower }}"), json!("mixed"));
    assert_eq!(value("${{ 'MiXed' | upper }}"), json!("MIXED"));
    assert_eq!(value("${{ '  pad  ' | trim }}"), json!("pad"));
    assert_eq!(value("${{ parameters.tags | join(', ') }}"), json!("a, b"));
    assert_eq!(
        value("${{ parameters.missing | default('dflt') }}"),
        json!("dflt")
    );
    assert_eq!(
        value("${{ parameters.name | default('dflt') }}"),
        json!("svc")
    );
    // Nunjucks keeps null unless the second argument asks for falsy values too.
    assert_eq!(
        value("${{ parameters.nothing | default('dflt') }}"),
        json!(null)
    );
    assert_eq!(
        value("${{ parameters.empty | default('dflt', true) }}"),
        json!("dflt")
    );
    assert_eq!(value("${{ parameters.tags | length }}"), json!(2));
    assert_eq!(value("${{ parameters.name | length }}"), json!(3));
    assert_eq!(value("${{ parameters.missing | length }}"), json!(0));
    assert_eq!(value("${{ parameters.tags | first }}"), json!("a"));
    assert_eq!(value("${{ parameters.tags | last }}"), json!("b"));
    assert_eq!(
        value("${{ 'hello WORLD' | capitalize }}"),
        json!("Hello world")
    );
    assert_eq!(
        value("${{ 'hello big world' | title }}"),
        json!("Hello Big World")
    );
    assert_eq!(value("${{ 'a b' | urlencode }}"), json!("a%20b"));
}

#[test]
fn unknown_filters_are_errors() {
    let msg = failure("${{ parameters.name | nosuchfilter }}");
    assert!(msg.contains("unknown filter"), "{msg}");
}
