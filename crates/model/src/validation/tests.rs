use super::*;
use serde_json::json;

fn component() -> Value {
    json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "artist-web", "tags": ["java"], "labels": {"tier": "gold"},
            "annotations": {"backstage.io/techdocs-ref": "dir:."},
            "links": [{"url": "https://example.com", "title": "Home"}]},
        "spec": {"type": "website", "lifecycle": "production", "owner": "team-a", "providesApis": ["a"]}
    })
}

fn messages(r: Result<Entity, Vec<ValidationError>>) -> Vec<String> {
    r.unwrap_err().into_iter().map(|e| e.message).collect()
}

fn fields(r: Result<Entity, Vec<ValidationError>>) -> Vec<Option<String>> {
    r.unwrap_err().into_iter().map(|e| e.field).collect()
}

fn with(mut base: Value, pointer: &str, value: Value) -> Value {
    *base.pointer_mut(pointer).unwrap() = value;
    base
}

fn without(mut base: Value, parent: &str, key: &str) -> Value {
    base.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
    base
}

#[test]
fn valid_component_gets_default_namespace_after_name() {
    let e = validate_entity(&component()).unwrap();
    let meta = e["metadata"].as_object().unwrap();
    assert_eq!(meta["namespace"], "default");
    assert_eq!(
        meta.keys().take(2).collect::<Vec<_>>(),
        vec!["name", "namespace"]
    );
    let e = validate_entity(&with(component(), "/metadata/name", json!("x"))).unwrap();
    assert_eq!(e["metadata"]["name"], "x");
}

#[test]
fn explicit_namespace_is_kept() {
    let mut c = component();
    c["metadata"]["namespace"] = json!("prod");
    assert_eq!(
        validate_entity(&c).unwrap()["metadata"]["namespace"],
        "prod"
    );
}

#[test]
fn all_builtin_kinds_validate() {
    let docs = [
        json!({"apiVersion": "backstage.io/v1beta1", "kind": "API", "metadata": {"name": "a"},
            "spec": {"type": "openapi", "lifecycle": "production", "owner": "t", "definition": "openapi: 3.0.0"}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Resource", "metadata": {"name": "db"},
            "spec": {"type": "database", "owner": "t", "dependsOn": ["component:a"]}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "System", "metadata": {"name": "s"}, "spec": {"owner": "t"}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Domain", "metadata": {"name": "d"}, "spec": {"owner": "t"}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "g"},
            "spec": {"type": "team", "children": [], "profile": {"displayName": "G"}}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "u"}, "spec": {"memberOf": []}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Location", "metadata": {"name": "l"},
            "spec": {"targets": ["./a.yaml"], "presence": "optional"}}),
        json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"},
            "spec": {"type": "service", "parameters": [{"title": "x"}],
                "steps": [{"id": "fetch", "action": "fetch:template", "input": {}, "if": true}]}}),
    ];
    for d in docs {
        assert!(
            validate_entity(&d).is_ok(),
            "{d}: {:?}",
            validate_entity(&d)
        );
    }
}

#[test]
fn envelope_errors_stop_validation() {
    assert_eq!(
        messages(validate_entity(&json!([1]))),
        vec!["<root> must be object - type: object"]
    );
    assert_eq!(
        messages(validate_entity(
            &json!({"kind": 3, "metadata": {"name": 1}})
        )),
        vec![
            "<root> must have required property 'apiVersion' - missingProperty: apiVersion",
            "/kind must be string - type: string",
            "/metadata/name must be string - type: string",
        ]
    );
    assert_eq!(
        fields(validate_entity(
            &json!({"apiVersion": "a", "kind": "B", "metadata": {}})
        )),
        vec![Some("metadata.name".to_string())]
    );
    assert_eq!(
        messages(validate_entity(&with(component(), "/spec", json!("x")))),
        vec!["/spec must be object - type: object"]
    );
    assert_eq!(
        messages(validate_entity(&with(
            component(),
            "/metadata/annotations",
            json!({"a/b": 1})
        ))),
        vec!["/metadata/annotations/a~1b must be string - type: string"]
    );
    assert_eq!(
        messages(validate_entity(&with(
            component(),
            "/metadata/links",
            json!([{"title": ""}])
        ))),
        vec![
            "/metadata/links/0 must have required property 'url' - missingProperty: url",
            "/metadata/links/0/title must NOT have fewer than 1 characters - limit: 1",
        ]
    );
}

#[test]
fn foreign_root_fields_are_rejected() {
    let mut c = component();
    c["relations"] = json!([]);
    c["status"] = json!({});
    assert_eq!(
        messages(validate_entity(&c)),
        vec!["Unknown field relations", "Unknown field status"]
    );
}

const DOC: &str = "To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md";

#[test]
fn field_format_messages_match_backstage() {
    let r = validate_entity(&with(component(), "/metadata/name", json!("x_")));
    assert_eq!(
        messages(r),
        vec![format!("\"metadata.name\" is not valid; expected a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total but found \"x_\". {DOC}")]
    );
    let r = validate_entity(&with(component(), "/metadata/name", json!("a".repeat(64))));
    assert_eq!(fields(r), vec![Some("metadata.name".to_string())]);

    let mut c = component();
    c["metadata"]["namespace"] = json!("Prod");
    assert_eq!(
        messages(validate_entity(&c)),
        vec![format!("\"metadata.namespace\" is not valid; expected a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total but found \"Prod\". {DOC}")]
    );

    let r = validate_entity(&with(component(), "/metadata/tags", json!(["ok", "Java"])));
    assert_eq!(
        messages(r),
        vec![format!("\"tags.1\" is not valid; expected a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total but found \"Java\". {DOC}")]
    );

    let r = validate_entity(&with(
        component(),
        "/metadata/labels",
        json!({"a/b/c": "x", "ok": "-bad"}),
    ));
    assert_eq!(
        messages(r),
        vec![
            format!("\"labels.a/b/c\" is not valid; expected a valid prefix and/or suffix but found \"a/b/c\". {DOC}"),
            format!("\"labels.ok\" is not valid; expected a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total but found \"-bad\". {DOC}"),
        ]
    );
    let r = validate_entity(&with(component(), "/metadata/labels", json!({"empty": ""})));
    assert!(r.is_ok());

    let r = validate_entity(&with(
        component(),
        "/metadata/annotations",
        json!({"Bad_Prefix/x": "v"}),
    ));
    let errs = r.unwrap_err();
    assert_eq!(
        errs[0].field.as_deref(),
        Some("metadata.annotations.Bad_Prefix/x")
    );
    assert_eq!(
        errs[0].message,
        format!("\"annotations.Bad_Prefix/x\" is not valid; expected a valid prefix and/or suffix but found \"Bad_Prefix/x\". {DOC}")
    );

    let r = validate_entity(&with(
        component(),
        "/metadata/links",
        json!([{"url": "not a url", "icon": " "}]),
    ));
    assert_eq!(
        messages(r),
        vec![
            format!("\"links.0.url\" is not valid; expected a string that is a valid url but found \"not a url\". {DOC}"),
            format!("\"links.0.icon\" is not valid; expected a non empty string but found \" \". {DOC}"),
        ]
    );

    let r = validate_entity(&with(
        component(),
        "/apiVersion",
        json!("backstage.io/v1alpha1/x"),
    ));
    let msgs = messages(r);
    assert_eq!(
        msgs[0],
        format!("\"apiVersion\" is not valid; expected a valid prefix and/or suffix but found \"backstage.io/v1alpha1/x\". {DOC}")
    );
    assert_eq!(
        msgs[1],
        "No processor recognized the entity component:default/artist-web as valid, possibly caused by a foreign kind or apiVersion"
    );

    let r = validate_entity(&with(component(), "/kind", json!("1Component")));
    assert_eq!(
        messages(r)[0],
        format!("\"kind\" is not valid; expected a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total but found \"1Component\". {DOC}")
    );
}

#[test]
fn format_predicates() {
    assert!(is_valid_object_name("a.b-c_d9"));
    assert!(!is_valid_object_name("a..b-") && !is_valid_object_name(""));
    assert!(is_valid_dns_label("a--b") && !is_valid_dns_label("-a") && !is_valid_dns_label("A"));
    assert!(is_valid_api_version("v1") && is_valid_api_version("scaffolder.backstage.io/v1beta3"));
    assert!(!is_valid_api_version("Backstage.io/v1") && !is_valid_api_version("a/v-1"));
    assert!(is_valid_tag("c++") && is_valid_tag("c#") && is_valid_tag("a:b-c"));
    assert!(!is_valid_tag("a--b") && !is_valid_tag(&"a".repeat(64)));
    assert!(is_valid_label_key("backstage.io/techdocs-ref") && !is_valid_label_key("/x"));
    assert!(is_valid_url("https://x.y/z") && !is_valid_url("/relative"));
}

#[test]
fn unknown_kind_or_api_version() {
    let r = validate_entity(&with(component(), "/kind", json!("Widget")));
    let errs = r.unwrap_err();
    assert_eq!(
        errs,
        vec![ValidationError::input(
            Some("kind"),
            "No processor recognized the entity widget:default/artist-web as valid, possibly caused by a foreign kind or apiVersion"
        )]
    );
    // Kind enums are exact: the lower-case spelling is not a Component.
    assert!(validate_entity(&with(component(), "/kind", json!("component"))).is_err());
    let t = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Template", "metadata": {"name": "t"},
        "spec": {"type": "x", "steps": []}});
    assert_eq!(
        messages(validate_entity(&t)),
        vec!["No processor recognized the entity template:default/t as valid, possibly caused by a foreign kind or apiVersion"]
    );
}

#[test]
fn spec_errors_are_per_field_and_all_collected() {
    let c = without(component(), "/spec", "owner");
    let c = with(c, "/spec/type", json!(""));
    let c = with(c, "/spec/providesApis", json!(["ok", 3]));
    let errs = validate_entity(&c).unwrap_err();
    assert_eq!(
        errs.iter()
            .map(|e| (e.field.clone().unwrap(), e.message.clone()))
            .collect::<Vec<_>>(),
        vec![
            (
                "spec.owner".to_string(),
                "/spec must have required property 'owner' - missingProperty: owner".to_string()
            ),
            (
                "spec.type".to_string(),
                "/spec/type must NOT have fewer than 1 characters - limit: 1".to_string()
            ),
            (
                "spec.providesApis.1".to_string(),
                "/spec/providesApis/1 must be string - type: string".to_string()
            ),
        ]
    );
    let no_spec = without(component(), "", "spec");
    assert_eq!(
        messages(validate_entity(&no_spec)),
        vec!["<root> must have required property 'spec' - missingProperty: spec"]
    );
    let api = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "API", "metadata": {"name": "a"},
        "spec": {"type": "openapi", "lifecycle": "production", "owner": "t"}});
    assert_eq!(
        messages(validate_entity(&api)),
        vec!["/spec must have required property 'definition' - missingProperty: definition"]
    );
    let group = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "g"},
        "spec": {"type": "team", "profile": {"email": ""}}});
    assert_eq!(
        messages(validate_entity(&group)),
        vec![
            "/spec must have required property 'children' - missingProperty: children",
            "/spec/profile/email must NOT have fewer than 1 characters - limit: 1",
        ]
    );
    let loc = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Location", "metadata": {"name": "l"},
        "spec": {"presence": "maybe", "targets": "x"}});
    assert_eq!(
        messages(validate_entity(&loc)),
        vec![
            "/spec/targets must be array - type: array",
            "/spec/presence must be equal to one of the allowed values - allowedValues: required,optional",
        ]
    );
    let tpl = json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"},
        "spec": {"type": "service", "parameters": "x", "steps": [{"id": "a"}, {"action": "x", "if": 3}]}});
    assert_eq!(
        messages(validate_entity(&tpl)),
        vec![
            "/spec/parameters must be object,array - type: object,array",
            "/spec/steps/0 must have required property 'action' - missingProperty: action",
            "/spec/steps/1/if must be string,boolean - type: string,boolean",
        ]
    );
}

#[test]
fn errors_from_several_stages_are_collected_in_chain_order() {
    let mut c = without(component(), "/spec", "lifecycle");
    c["metadata"]["name"] = json!("bad name");
    c["extra"] = json!(1);
    let errs = validate_entity(&c).unwrap_err();
    assert_eq!(
        errs.iter()
            .map(|e| e.field.clone().unwrap())
            .collect::<Vec<_>>(),
        vec!["extra", "metadata.name", "spec.lifecycle"]
    );
    assert_eq!(errs[0].to_string(), "InputError: Unknown field extra");
}
