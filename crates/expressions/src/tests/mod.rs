//! Behaviour tests of the public API, grouped by what a template author relies on.

mod files;
mod filters;
mod hostile;
mod render;

use serde_json::{json, Value as Json};

use crate::Renderer;

/// A context shaped like the scaffolder's: parameters, step outputs, the user.
fn ctx() -> Json {
    json!({
        "parameters": {
            "name": "svc",
            "count": 3,
            "ratio": 1.5,
            "whole": 2.0,
            "publish": false,
            "ready": true,
            "x": "a",
            "zero": 0,
            "strFalse": "false",
            "empty": "",
            "nothing": null,
            "tags": ["a", "b"],
            "noTags": [],
            "meta": {"team": "core", "tier": 1},
            "repoUrl": "github.com?owner=acme&repo=svc",
            "owner": "group:default/platform",
        },
        "steps": {
            "publish": {"output": {"remoteUrl": "https://github.com/acme/svc"}}
        },
        "user": {"entity": {"metadata": {"name": "jane"}}},
    })
}

/// Renders one string the way a step input is rendered.
fn value(template: &str) -> Json {
    Renderer::new()
        .render_value(&json!(template), &ctx())
        .unwrap_or_else(|e| panic!("{template:?} failed: {e}"))
}

/// Renders one string to text.
fn text(template: &str) -> String {
    Renderer::new()
        .render_str(template, &ctx())
        .unwrap_or_else(|e| panic!("{template:?} failed: {e}"))
}

/// The error of a template that must fail, as its message.
fn failure(template: &str) -> String {
    match Renderer::new().render_str(template, &ctx()) {
        Ok(out) => panic!("{template:?} should fail, rendered {out:?}"),
        Err(e) => e.to_string(),
    }
}
