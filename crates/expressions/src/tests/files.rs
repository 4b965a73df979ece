//! `fetch:template`: file contents and paths.

use serde_json::json;

use crate::{FileOptions, Renderer};

fn values() -> serde_json::Value {
    json!({
        "values": {"name": "my-svc", "owner": "team-a", "ports": [80, 443]},
        "cookiecutter": {"name": "My Svc", "tags": ["a", "b"]},
    })
}

fn file(content: &str, opts: FileOptions) -> String {
    Renderer::new()
        .render_file(content, &values(), opts)
        .unwrap_or_else(|e| panic!("{content:?} failed: {e}"))
}

#[test]
fn values_render_and_the_last_newline_stays() {
    let out = file(
        "name: ${{ values.name }}\nowner: ${{ values.owner }}\n",
        FileOptions::default(),
    );
    assert_eq!(out, "name: my-svc\nowner: team-a\n");
    let out = file(
        "{% for p in values.ports %}port ${{ p }}\n{% endfor %}",
        FileOptions::default(),
    );
    assert_eq!(out, "port 80\nport 443\n");
}

#[test]
fn raw_blocks_and_plain_braces_are_left_alone() {
    let out = file(
        "{% raw %}${{ not rendered }}{% endraw %} {{ jinja.stays }}",
        FileOptions::default(),
    );
    assert_eq!(out, "${{ not rendered }} {{ jinja.stays }}");
    // Comments vanish.
    assert_eq!(file("a{# note #}b", FileOptions::default()), "ab");
}

#[test]
fn cookiecutter_mode_uses_plain_braces_and_jsonify() {
    let cc = FileOptions {
        cookiecutter_compat: true,
        ..FileOptions::default()
    };
    assert_eq!(file("{{ cookiecutter.name }}", cc), "My Svc");
    assert_eq!(
        file("{{ cookiecutter.tags | jsonify }}", cc),
        r#"["a","b"]"#
    );
    assert_eq!(
        file("{{ cookiecutter.name.lower().replace(' ', '_') }}", cc),
        "my_svc"
    );
    // `${{` is not special here: the `$` is text before a `{{ }}` expression.
    assert_eq!(file("${{ cookiecutter.name }}", cc), "$My Svc");
}

#[test]
fn trim_and_lstrip_blocks_change_whitespace() {
    let template = "<\n  {% if true %}\n  yes\n  {% endif %}\n>\n";
    assert_eq!(
        file(template, FileOptions::default()),
        "<\n  \n  yes\n  \n>\n"
    );
    let trim = FileOptions {
        trim_blocks: true,
        ..FileOptions::default()
    };
    assert_eq!(file(template, trim), "<\n    yes\n  >\n");
    let lstrip = FileOptions {
        lstrip_blocks: true,
        ..FileOptions::default()
    };
    assert_eq!(file(template, lstrip), "<\n\n  yes\n\n>\n");
    let both = FileOptions {
        trim_blocks: true,
        lstrip_blocks: true,
        ..FileOptions::default()
    };
    assert_eq!(file(template, both), "<\n  yes\n>\n");
}

#[test]
fn paths_render_like_contents() {
    let out = Renderer::new()
        .render_path(
            "${{ values.name }}/src/${{ values.name | replace('-', '_') }}.py",
            &values(),
            FileOptions::default(),
        )
        .unwrap();
    assert_eq!(out, "my-svc/src/my_svc.py");
    let cc = FileOptions {
        cookiecutter_compat: true,
        ..FileOptions::default()
    };
    let out = Renderer::new()
        .render_path("{{ cookiecutter.name | lower }}.md", &values(), cc)
        .unwrap();
    assert_eq!(out, "my svc.md");
}

#[test]
fn file_errors_give_the_line() {
    let err = Renderer::new()
        .render_file(
            "ok\nalso ok\n${{ values.name | parseRepoUrl }}\n",
            &values(),
            FileOptions::default(),
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("error at line 3 in template \"${{ values.name | parseRepoUrl }}\""),
        "{msg}"
    );
    assert!(msg.contains("missing repo"), "{msg}");
}
