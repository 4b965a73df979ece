//! Step inputs, `if:` and `check()`.

use std::sync::Arc;

use serde_json::json;

use super::{ctx, failure, text, value};
use crate::{uses_status_functions, ExprError, Renderer};

#[test]
fn a_single_expression_keeps_its_type() {
    assert_eq!(value("${{ parameters.count }}"), json!(3));
    assert_eq!(value("${{ parameters.ratio }}"), json!(1.5));
    assert_eq!(value("${{ parameters.publish }}"), json!(false));
    assert_eq!(value("${{ parameters.tags }}"), json!(["a", "b"]));
    assert_eq!(
        value("${{ parameters.meta }}"),
        json!({"team": "core", "tier": 1})
    );
    assert_eq!(value("${{ parameters.name }}"), json!("svc"));
    assert_eq!(value("${{ parameters.count + 1 }}"), json!(4));
    assert_eq!(value("${{ parameters.x == 'a' }}"), json!(true));
    // Objects keep their key order.
    let obj = value("${{ {'b': 1, 'a': 2} }}");
    let keys: Vec<&String> = obj.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["b", "a"]);
    // Whitespace around the expression does not turn it into text.
    assert_eq!(value("  ${{ parameters.count }}\n"), json!(3));
    // An expression spread over lines is still one expression.
    assert_eq!(value("${{\n  parameters.tags\n}}"), json!(["a", "b"]));
}

#[test]
fn undefined_and_null_single_expressions_give_null() {
    assert_eq!(value("${{ parameters.missing }}"), json!(null));
    assert_eq!(value("${{ parameters.nothing }}"), json!(null));
    // An empty string is a value, not undefined, as in Backstage.
    assert_eq!(value("${{ parameters.empty }}"), json!(""));
}

#[test]
fn missing_values_chain_like_nunjucks() {
    assert_eq!(value("${{ parameters.a.b.c }}"), json!(null));
    assert_eq!(value("x${{ parameters.a.b.c }}y"), json!("xy"));
    assert_eq!(
        value("${{ nothing.at.all | default('fallback') }}"),
        json!("fallback")
    );
    assert_eq!(text("[${{ steps.nope.output.url }}]"), "[]");
    assert_eq!(
        text("<{% for t in parameters.missing.list %}x{% endfor %}>"),
        "<>"
    );
}

#[test]
fn mixed_strings_render_to_text() {
    assert_eq!(value("repo-${{ parameters.name }}"), json!("repo-svc"));
    assert_eq!(value("${{ parameters.count }} items"), json!("3 items"));
    assert_eq!(
        value("${{ parameters.name }}/${{ parameters.count }}"),
        json!("svc/3")
    );
    // No expression at all: the text comes back as it is.
    assert_eq!(value("plain"), json!("plain"));
    // Text that renders to nothing is Backstage's undefined.
    assert_eq!(
        value("${{ parameters.missing }}${{ parameters.nothing }}"),
        json!(null)
    );
    assert_eq!(value("{% if false %}x{% endif %}"), json!(null));
}

#[test]
fn values_print_like_javascript_inside_text() {
    assert_eq!(text("${{ parameters.tags }}"), "a,b");
    assert_eq!(text("${{ parameters.meta }}"), "[object Object]");
    assert_eq!(
        text("${{ parameters.ready }}/${{ parameters.publish }}"),
        "true/false"
    );
    assert_eq!(
        text("${{ parameters.ratio }} ${{ parameters.whole }}"),
        "1.5 2"
    );
    assert_eq!(text("<${{ parameters.nothing }}>"), "<>");
    assert_eq!(text("${{ [1, [2, 3], none] }}"), "1,2,3,");
}

#[test]
fn nested_values_render_every_string_but_no_key() {
    let input = json!({
        "name": "${{ parameters.name }}",
        "${{ parameters.name }}": "key stays",
        "list": ["${{ parameters.count }}", "n-${{ parameters.count }}", 7, true, null],
        "deep": {"tags": "${{ parameters.tags }}", "gone": "${{ parameters.missing }}"},
        "n": 1.25,
    });
    let out = Renderer::new().render_value(&input, &ctx()).unwrap();
    assert_eq!(
        out,
        json!({
            "name": "svc",
            "${{ parameters.name }}": "key stays",
            "list": [3, "n-3", 7, true, null],
            "deep": {"tags": ["a", "b"], "gone": null},
            "n": 1.25,
        })
    );
    // Key order is kept.
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["name", "${{ parameters.name }}", "list", "deep", "n"]
    );
}

#[test]
fn a_broken_single_expression_falls_back_to_text() {
    // Looks like one expression to the pattern, but is an expression followed by
    // text: rendered as text, as Backstage's fallback does.
    assert_eq!(value("${{ parameters.name }} and }}"), json!("svc and }}"));
}

#[test]
fn javascript_and_python_string_methods_work() {
    assert_eq!(value("${{ parameters.name.toUpperCase() }}"), json!("SVC"));
    assert_eq!(value("${{ 'a-b-c'.split('-') }}"), json!(["a", "b", "c"]));
    assert_eq!(value("${{ 'a-b-a'.replace('a', 'x') }}"), json!("x-b-a"));
    assert_eq!(value("${{ parameters.tags.includes('b') }}"), json!(true));
    assert_eq!(value("${{ parameters.name.upper() }}"), json!("SVC"));
    assert_eq!(value("${{ parameters.name.startswith('s') }}"), json!(true));
}

#[test]
fn syntax_errors_quote_the_template() {
    let err = Renderer::new()
        .render_value(&json!("${{ parameters.name + }}"), &ctx())
        .unwrap_err();
    match &err {
        ExprError::Syntax { snippet, line, .. } => {
            assert_eq!(snippet, "${{ parameters.name + }}");
            assert_eq!(*line, 1);
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(
        err.to_string().contains("\"${{ parameters.name + }}\""),
        "{err}"
    );
    let msg = failure("{% if parameters.x %}open");
    assert!(msg.starts_with("syntax error at line 1"), "{msg}");
}

#[test]
fn if_conditions_follow_backstage_truthiness() {
    let r = Renderer::new();
    let c = ctx();
    let truthy = |v: serde_json::Value| r.is_truthy(&v, &c).unwrap();
    assert!(truthy(json!(true)));
    assert!(!truthy(json!(false)));
    assert!(!truthy(json!("${{ parameters.publish }}")));
    assert!(truthy(json!("${{ parameters.ready }}")));
    assert!(truthy(json!("${{ parameters.x == 'a' }}")));
    assert!(!truthy(json!("${{ parameters.x == 'b' }}")));
    assert!(!truthy(json!(
        "${{ parameters.x != 'a' and parameters.ready }}"
    )));
    assert!(!truthy(json!("${{ parameters.missing }}")));
    assert!(!truthy(json!("${{ parameters.zero }}")));
    assert!(!truthy(json!("${{ parameters.noTags }}")));
    assert!(truthy(json!("${{ parameters.tags }}")));
    assert!(truthy(json!("${{ parameters.meta }}")));
    // JavaScript: a non-empty string is true, even "false".
    assert!(truthy(json!("${{ parameters.strFalse }}")));
    assert!(truthy(json!("false")));
    assert!(!truthy(json!("")));
}

#[test]
fn status_functions() {
    let r = Renderer::new();
    let failed = json!({"parameters": {"publish": false}, "__status": {"failed": true}});
    let fine = json!({"parameters": {"publish": false}});
    assert!(r.is_truthy(&json!("${{ always() }}"), &fine).unwrap());
    assert!(!r.is_truthy(&json!("${{ failure() }}"), &fine).unwrap());
    assert!(r.is_truthy(&json!("${{ failure() }}"), &failed).unwrap());
    assert!(r
        .is_truthy(&json!("${{ failure() or parameters.publish }}"), &failed)
        .unwrap());
    assert!(!r.is_truthy(&json!("${{ not always() }}"), &fine).unwrap());

    assert!(uses_status_functions("${{ always() }}"));
    assert!(uses_status_functions("${{ failure () and parameters.x }}"));
    assert!(!uses_status_functions("${{ parameters.always }}"));
    assert!(!uses_status_functions("${{ alwaysOn() }}"));
    assert!(!uses_status_functions("${{ parameters.publish }}"));
}

#[test]
fn check_lists_the_variables_a_template_reads() {
    let vars = Renderer::new()
        .check(
            "${{ parameters.name }}-${{ steps.publish.output.remoteUrl }}\
             {% if always() %}${{ user.entity.metadata.name | upper }}{% endif %}\
             {% set local = 1 %}${{ local }}${{ range(3) | length }}\
             {% for t in parameters.tags %}${{ t }}{% endfor %}",
        )
        .unwrap();
    assert_eq!(
        vars,
        [
            "parameters.name",
            "parameters.tags",
            "steps.publish.output.remoteUrl",
            "user.entity.metadata.name",
        ]
    );
    assert_eq!(
        Renderer::new().check("no expressions").unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn check_reports_syntax_errors_with_position() {
    let err = Renderer::new()
        .check("first line\n  ${{ parameters.name | }}")
        .unwrap_err();
    assert_eq!(
        err,
        ExprError::Syntax {
            snippet: "${{ parameters.name | }}".into(),
            line: 2,
            column: 25,
            message: "syntax error: unexpected end of variable block, expected identifier".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "syntax error at line 2, column 25 in template \"${{ parameters.name | }}\": \
         syntax error: unexpected end of variable block, expected identifier"
    );
    let err = Renderer::new().check("{% for x in y %}").unwrap_err();
    assert!(matches!(err, ExprError::Syntax { .. }), "{err:?}");
}

#[test]
fn a_renderer_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Renderer>();
    let r = Arc::new(Renderer::new());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let r = Arc::clone(&r);
            std::thread::spawn(move || {
                r.render_value(&json!("${{ n * 2 }}"), &json!({ "n": i }))
                    .unwrap()
            })
        })
        .collect();
    let out: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(out, [json!(0), json!(2), json!(4), json!(6)]);
}
