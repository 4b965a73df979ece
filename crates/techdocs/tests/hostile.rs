//! Hostile Markdown renders safely or is refused with a clear error: the
//! builder's output never carries script, event handlers, `javascript:` URLs or
//! frames, whatever a repository's docs contain.

use std::path::Path;

use greenroom_techdocs::{build_site, BuildOptions, BuiltSite, DocsError};

fn project(pages: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("mkdocs.yml"), "site_name: Hostile\n").unwrap();
    for (name, text) in pages {
        let path = dir.path().join("docs").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn build(dir: &Path) -> Result<BuiltSite, DocsError> {
    build_site(dir, &BuildOptions::default())
}

fn page<'a>(site: &'a BuiltSite, file: &str) -> &'a str {
    std::str::from_utf8(
        site.files
            .get(file)
            .unwrap_or_else(|| panic!("{file} missing")),
    )
    .unwrap()
}

/// The rendered content of a page (the part that came from Markdown).
fn content(html: &str) -> &str {
    let start = html.find("<article").unwrap();
    let end = html.find("</article>").unwrap();
    &html[start..end]
}

/// No element may carry script: checked on the tags themselves, since text that
/// merely mentions `<script>` is escaped and harmless.
fn assert_clean(html: &str) {
    let tags = regex::Regex::new(r"<[a-zA-Z][^>]*>").unwrap();
    let handler = regex::Regex::new(r#"(?i)\son[a-z]+\s*="#).unwrap();
    for tag in tags
        .find_iter(html)
        .map(|m| m.as_str().to_ascii_lowercase())
    {
        let name: String = tag[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let forbidden = [
            "script", "iframe", "object", "embed", "style", "form", "meta", "base", "svg", "math",
            "link", "frame",
        ];
        assert!(
            !forbidden.contains(&name.as_str()),
            "<{name}> survived in:\n{html}"
        );
        assert!(!handler.is_match(&tag), "an event handler survived: {tag}");
        for bad in [
            "javascript:",
            "vbscript:",
            "data:text/html",
            "srcdoc",
            "style=",
            "xlink:href",
        ] {
            assert!(!tag.contains(bad), "'{bad}' survived in {tag}");
        }
    }
}

#[test]
fn script_tags_event_handlers_and_javascript_links_are_removed() {
    let dir = project(&[(
        "index.md",
        r#"# Welcome

<script>alert('raw')</script>

<img src="x.png" onerror="alert('img')">
<p onmouseover="alert('p')" style="position:fixed">hover</p>

[click](javascript:alert('md-link'))

[mixed case](JaVaScRiPt:alert(1))

[entity](&#106;avascript:alert(1))

<a href="javascript&colon;alert(1)">colon entity</a>

![image](javascript:alert('img-md'))

<iframe src="https://evil.example" srcdoc="<script>alert(1)</script>"></iframe>
<object data="x.swf"></object><embed src="x.swf">
<form action="https://evil.example"><input type="password" name="p"></form>
<svg><script>alert('svg')</script></svg>
<math><mi xlink:href="javascript:alert(1)">x</mi></math>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>
<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example">
<style>body { display: none }</style>

```html
<script>alert('this is code, shown as text')</script>
```

Safe text stays.

<SCRIPT SRC="https://evil.example/x.js"></SCRIPT>
"#,
    )]);
    let site = build(dir.path()).unwrap();
    let html = content(page(&site, "index.html"));
    assert_clean(html);
    assert!(html.contains("Safe text stays."), "{html}");
    assert!(
        html.contains("hover"),
        "the text of a stripped element is kept: {html}"
    );
    assert!(
        html.contains("this is code, shown as text") && html.contains("&lt;/"),
        "code blocks keep script as text: {html}"
    );
    assert!(
        html.contains(">click</a>") && html.contains(">mixed case</a>"),
        "links keep their text: {html}"
    );
    assert!(!html.contains("type=\"password\""), "{html}");
}

#[test]
fn hostile_content_inside_extension_blocks_is_cleaned_too() {
    let dir = project(&[(
        "index.md",
        "# T\n\n!!! note \"<img src=x onerror=alert(1)>\"\n    <script>alert(2)</script>\n\n=== \"<b onclick=x>tab</b>\"\n    <iframe src=x></iframe>\n\n??? warning \"x\\\" onmouseover=\\\"alert(3)\"\n    [a](javascript:alert(4))\n",
    )]);
    let site = build(dir.path()).unwrap();
    assert_clean(content(page(&site, "index.html")));
}

#[test]
fn a_five_megabyte_page_is_refused_with_a_clear_error() {
    let big = "word ".repeat(5 * 1024 * 1024 / 5 + 1);
    let dir = project(&[("index.md", "# Small\n"), ("huge.md", &big)]);
    let err = build(dir.path()).unwrap_err();
    assert!(matches!(err, DocsError::PageTooLarge { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("huge.md")
            && message.contains("5.0 MB")
            && message.contains("limited to 2.0 MB"),
        "{message}"
    );
}

#[test]
fn deeply_nested_lists_and_quotes_render_without_crashing() {
    let mut lists = String::from("# Deep\n\n");
    for depth in 0..500 {
        lists.push_str(&"  ".repeat(depth));
        lists.push_str("- item\n");
    }
    let quotes = format!("# Quotes\n\n{} deep\n", ">".repeat(20_000));
    let brackets = format!(
        "# Brackets\n\n{}x{}\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let emphasis = format!(
        "# Emphasis\n\n{}x{}\n",
        "*".repeat(50_000),
        "*".repeat(50_000)
    );
    let dir = project(&[
        ("index.md", &lists),
        ("quotes.md", &quotes),
        ("brackets.md", &brackets),
        ("emphasis.md", &emphasis),
    ]);
    // A thread with a modest stack, as the server's blocking pool has: deep
    // nesting must not overflow it.
    let path = dir.path().to_path_buf();
    let site = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || build(&path))
        .unwrap()
        .join()
        .expect("the build did not crash")
        .unwrap();
    assert!(page(&site, "index.html").contains("<li>"));
    assert!(page(&site, "quotes/index.html").contains("deep"));
    assert!(page(&site, "brackets/index.html").contains("x"));
}

#[test]
fn links_that_leave_the_docs_are_reported_not_followed() {
    let dir = project(&[(
        "index.md",
        "# I\n\n[secret](../../../etc/passwd) [missing](nope.md) [anchor](#nowhere)\n",
    )]);
    let site = build(dir.path()).unwrap();
    assert_eq!(site.warnings.len(), 3, "{:?}", site.warnings);
    assert!(
        site.warnings[0].contains("'../../../etc/passwd' points to nothing"),
        "{:?}",
        site.warnings
    );
    assert!(
        site.warnings[2].contains("'#nowhere' is not on the index page"),
        "{:?}",
        site.warnings
    );
}

#[cfg(unix)]
#[test]
fn symbolic_links_out_of_the_project_are_not_published() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
    std::fs::write(outside.path().join("secret.md"), "# Secret\n").unwrap();
    let dir = project(&[("index.md", "# I\n")]);
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        dir.path().join("docs/secret.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.md"),
        dir.path().join("docs/secret.md"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("docs/linked")).unwrap();
    let site = build(dir.path()).unwrap();
    assert!(
        site.files
            .keys()
            .all(|k| !k.contains("secret") && !k.starts_with("linked")),
        "{:?}",
        site.files.keys()
    );

    std::fs::write(
        dir.path().join("mkdocs.yml"),
        "site_name: X\ndocs_dir: ../\n",
    )
    .unwrap();
    let err = build(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("docs_dir '../' must be a folder inside the project"),
        "{err}"
    );
}

#[test]
fn malformed_configuration_is_a_clear_error() {
    let dir = project(&[("index.md", "# I\n")]);
    std::fs::write(dir.path().join("mkdocs.yml"), "site_name: [unclosed\n").unwrap();
    let err = build(dir.path()).unwrap_err().to_string();
    assert!(
        err.starts_with("mkdocs configuration: mkdocs.yml:"),
        "{err}"
    );
    std::fs::write(dir.path().join("mkdocs.yml"), "nav: []\n").unwrap();
    let err = build(dir.path()).unwrap_err().to_string();
    assert!(err.contains("`site_name` is required"), "{err}");
    std::fs::write(dir.path().join("docs/bad.md"), [0xff, 0xfe, 0x00]).unwrap();
    std::fs::write(dir.path().join("mkdocs.yml"), "site_name: S\n").unwrap();
    let err = build(dir.path()).unwrap_err().to_string();
    assert_eq!(err, "bad.md is not UTF-8 text");
}
