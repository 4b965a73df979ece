//! Runs the real `greenroom docs build` on a real mkdocs project, starlette's
//! documentation as published on PyPI, and holds the result against mkdocs'
//! own build of the same project: the same pages at the same paths, the same
//! heading anchors, the same number of code blocks, admonitions, collapsible
//! blocks and tab sets per page, every internal link and fragment resolving,
//! and the TechDocs metadata and search index a TechDocs reader needs.
//!
//! The project and the mkdocs reference come from `scripts/docs-fixtures`
//! (`scripts/test` runs it and exports `GREENROOM_FIXTURES_DIR`). With
//! `GREENROOM_SKIP_DOCS_FIXTURES` set outside CI the starlette test prints
//! SKIPPED and passes; otherwise missing fixtures are a failure that says how
//! to make them. The small projects written by the other tests need nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;
use url::Url;

use common::paths::repo_root;

// ---------------------------------------------------------------------------
// Running the builder
// ---------------------------------------------------------------------------

struct Build {
    output: Output,
    stdout: String,
    stderr: String,
}

fn docs_build(project: &Path, out: &Path, extra: &[&str]) -> Build {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_greenroom"))
        .arg("docs")
        .arg("build")
        .arg(project)
        .arg("--output")
        .arg(out)
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the greenroom binary");
    Build {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        output,
    }
}

impl Build {
    fn text(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The starlette version `scripts/docs-fixtures` pins: one place to bump it.
fn starlette_version() -> String {
    let script = repo_root().join("scripts/docs-fixtures");
    let text = std::fs::read_to_string(&script)
        .unwrap_or_else(|e| panic!("read {}: {e}", script.display()));
    text.lines()
        .find_map(|line| line.strip_prefix("STARLETTE_VERSION="))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("{} has no STARLETTE_VERSION= line", script.display()))
}

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("GREENROOM_FIXTURES_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").expect("HOME or GREENROOM_FIXTURES_DIR is set");
            PathBuf::from(home).join(".cache/greenroom/fixtures")
        }
    }
}

struct Fixtures {
    version: String,
    /// The project as published (what greenroom builds).
    project: PathBuf,
    /// mkdocs' build of it.
    reference_site: PathBuf,
    /// The pages of mkdocs' build, relative paths, sorted.
    reference_pages: Vec<String>,
}

impl Fixtures {
    fn docs_dir(&self) -> PathBuf {
        self.project.join("docs")
    }
}

/// The fixtures, or None (after saying so) when the run asked to skip them.
fn fixtures(test: &str) -> Option<Fixtures> {
    if std::env::var_os("GREENROOM_SKIP_DOCS_FIXTURES").is_some() && !in_ci() {
        eprintln!(
            "\nSKIPPED {test}: GREENROOM_SKIP_DOCS_FIXTURES is set (scripts/docs-fixtures could not prepare them)\n"
        );
        return None;
    }
    let version = starlette_version();
    let dir = fixtures_dir();
    let project = dir.join(format!("starlette-{version}"));
    let reference_site = dir.join(format!("starlette-{version}-mkdocs-site"));
    let pages_file = dir.join(format!("starlette-{version}-mkdocs-pages.txt"));
    let pages = std::fs::read_to_string(&pages_file);
    let ready = project.join("mkdocs.yml").is_file() && reference_site.is_dir();
    let pages = match pages {
        Ok(pages) if ready => pages,
        _ => panic!(
            "{test}: the docs fixtures are missing from {} (no {} or no reference build). \
             Run scripts/docs-fixtures (scripts/test does), or set GREENROOM_SKIP_DOCS_FIXTURES=1 \
             outside CI to skip this test.",
            dir.display(),
            pages_file.display()
        ),
    };
    let reference_pages: Vec<String> = pages
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    assert!(
        reference_pages.len() >= 20,
        "{} lists only {} pages",
        pages_file.display(),
        reference_pages.len()
    );
    Some(Fixtures {
        version,
        project,
        reference_site,
        reference_pages,
    })
}

// ---------------------------------------------------------------------------
// Reading HTML. Only our own output and mkdocs' are read, both well-formed
// enough for tag-level regular expressions: no general HTML parser needed.
// ---------------------------------------------------------------------------

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

/// Start tags, so that markup shown as text inside code blocks (escaped
/// `&lt;a href=…`) is not taken for a link.
fn start_tags(html: &str) -> impl Iterator<Item = &str> {
    static TAG: OnceLock<Regex> = OnceLock::new();
    re(&TAG, r"<[a-zA-Z][a-zA-Z0-9-]*(?:\s[^>]*)?>")
        .find_iter(html)
        .map(|m| m.as_str())
}

/// The values of attribute `name` in one start tag, entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    static ATTR: OnceLock<Regex> = OnceLock::new();
    let attr = re(
        &ATTR,
        r#"\s([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))"#,
    );
    attr.captures_iter(tag).find_map(|c| {
        if !c[1].eq_ignore_ascii_case(name) {
            return None;
        }
        let value = c
            .get(2)
            .or(c.get(3))
            .or(c.get(4))
            .map_or("", |m| m.as_str());
        Some(decode_entities(value))
    })
}

fn ids(html: &str) -> BTreeSet<String> {
    start_tags(html)
        .filter_map(|t| attribute(t, "id"))
        .collect()
}

fn has_class(tag: &str, class: &str) -> bool {
    attribute(tag, "class").is_some_and(|c| c.split_whitespace().any(|t| t == class))
}

fn count_class(html: &str, class: &str) -> usize {
    start_tags(html).filter(|t| has_class(t, class)).count()
}

fn count_tag(html: &str, name: &str) -> usize {
    start_tags(html)
        .filter(|t| {
            t[1..]
                .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .count()
}

fn decode_entities(s: &str) -> String {
    static ENTITY: OnceLock<Regex> = OnceLock::new();
    re(&ENTITY, r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);")
        .replace_all(s, |c: &regex::Captures| {
            let name = &c[1];
            let decoded = if let Some(hex) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
            } else if let Some(dec) = name.strip_prefix('#') {
                dec.parse().ok().and_then(char::from_u32)
            } else {
                match name {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    "nbsp" => Some('\u{a0}'),
                    "mdash" => Some('—'),
                    "ndash" => Some('–'),
                    "hellip" => Some('…'),
                    "copy" => Some('©'),
                    "lsquo" => Some('‘'),
                    "rsquo" => Some('’'),
                    "ldquo" => Some('“'),
                    "rdquo" => Some('”'),
                    "laquo" => Some('«'),
                    "raquo" => Some('»'),
                    "middot" => Some('·'),
                    "times" => Some('×'),
                    _ => None,
                }
            };
            decoded.map_or_else(|| c[0].to_string(), String::from)
        })
        .into_owned()
}

/// What a reader sees: tags dropped (block-level ones as a space, inline
/// ones such as a highlighter's spans as nothing), entities decoded,
/// whitespace collapsed.
fn text_of(html: &str) -> String {
    static COMMENT: OnceLock<Regex> = OnceLock::new();
    static TAG: OnceLock<Regex> = OnceLock::new();
    let html = re(&COMMENT, r"(?s)<!--.*?-->").replace_all(html, " ");
    let tag = re(&TAG, r"</?([a-zA-Z][a-zA-Z0-9]*)[^>]*>");
    let stripped = tag.replace_all(&html, |c: &regex::Captures| {
        let inline = [
            "a", "abbr", "b", "code", "em", "i", "img", "kbd", "mark", "small", "span", "strong",
            "sub", "sup",
        ];
        if inline.contains(&c[1].to_ascii_lowercase().as_str()) {
            ""
        } else {
            " "
        }
    });
    decode_entities(&stripped)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The inner HTML of the first element opened by a tag matching `open`,
/// up to the last `</close>` of the document.
fn between<'a>(html: &'a str, open: &Regex, close: &str) -> Option<&'a str> {
    let start = open.find(html)?.end();
    let end = html.rfind(close)?;
    (end >= start).then(|| &html[start..end])
}

/// The rendered Markdown of one of our pages (the contract's article).
fn our_content(html: &str) -> Option<&str> {
    static OPEN: OnceLock<Regex> = OnceLock::new();
    between(
        html,
        re(&OPEN, r#"<article\b[^>]*\bid="gr-docs-content"[^>]*>"#),
        "</article>",
    )
}

/// The rendered Markdown of one of mkdocs-material's pages.
fn mkdocs_content(html: &str) -> Option<&str> {
    static OPEN: OnceLock<Regex> = OnceLock::new();
    between(
        html,
        re(
            &OPEN,
            r#"<article\b[^>]*\bclass="md-content__inner[^"]*"[^>]*>"#,
        ),
        "</article>",
    )
}

/// Each element `<name …>…</name>` (not nested in its own kind) whose start
/// tag carries `class`, as (start tag, inner HTML).
fn elements_with_class<'a>(html: &'a str, name: &str, class: &str) -> Vec<(&'a str, &'a str)> {
    let open = Regex::new(&format!(r"<{name}\b[^>]*>")).expect("valid regex");
    let close = format!("</{name}>");
    open.find_iter(html)
        .filter(|m| has_class(m.as_str(), class))
        .filter_map(|m| {
            let end = html[m.end()..].find(&close)?;
            Some((m.as_str(), &html[m.end()..m.end() + end]))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Files of a built site
// ---------------------------------------------------------------------------

/// Every file under `root`, as `/`-separated paths relative to it.
fn files_under(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.insert(parts.join("/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

/// The HTML pages rendered from Markdown: every `.html` file of the output
/// except those copied as they are from the docs directory.
fn rendered_pages(out: &Path, docs_dir: &Path) -> BTreeSet<String> {
    files_under(out)
        .into_iter()
        .filter(|p| p.ends_with(".html") && !docs_dir.join(p).is_file())
        .collect()
}

/// `theme.custom_dir` of a project's mkdocs.yml, as a path.
fn theme_custom_dir(project: &Path) -> Option<PathBuf> {
    let config = read(&project.join("mkdocs.yml"));
    let line = Regex::new(r#"(?m)^\s+custom_dir:\s*["']?([^"'\s#]+)"#).unwrap();
    line.captures(&config).map(|c| project.join(&c[1]))
}

/// `requests/index.html` → `requests/`, `index.html` → `` (mkdocs' page URLs).
fn page_url(page: &str) -> String {
    page.strip_suffix("index.html").unwrap_or(page).to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// Checks on a built site: each returns what is wrong, so that one run of the
// builder reports every problem at once.
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    fn fail(&mut self, what: String) {
        self.0.push(what);
    }

    fn assert_none(self, context: &str) {
        if !self.0.is_empty() {
            let shown: Vec<&String> = self.0.iter().take(60).collect();
            panic!(
                "{context}: {} problem(s)\n  - {}{}",
                self.0.len(),
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  - "),
                if self.0.len() > shown.len() {
                    "\n  - …"
                } else {
                    ""
                }
            );
        }
    }
}

/// The link targets of one page that stay inside the site, as
/// (attribute, value) pairs.
fn internal_links(html: &str) -> Vec<(&'static str, String)> {
    static SCHEME: OnceLock<Regex> = OnceLock::new();
    let scheme = re(&SCHEME, r"^[a-zA-Z][a-zA-Z0-9+.-]*:");
    let mut links = Vec::new();
    for tag in start_tags(html) {
        for name in ["href", "src"] {
            let Some(value) = attribute(tag, name) else {
                continue;
            };
            let value = value.trim().to_string();
            if value.is_empty()
                || value.starts_with('#')
                || value.starts_with("//")
                || scheme.is_match(&value)
            {
                continue;
            }
            links.push((name, value));
        }
    }
    links
}

/// Every relative `href`/`src` of every page points at a file of the site,
/// and a fragment pointing into a page names an `id` there.
fn check_links(out: &Path, pages: &BTreeSet<String>, problems: &mut Problems) -> usize {
    let base = Url::parse("http://site.invalid/").expect("valid base");
    let mut id_cache: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut checked = 0;
    for page in pages {
        let html = read(&out.join(page));
        let page_url = base.join(page).expect("page URL");
        for (attr, link) in internal_links(&html) {
            checked += 1;
            let Ok(target) = page_url.join(&link) else {
                problems.fail(format!("{page}: {attr}=\"{link}\" is not a valid URL"));
                continue;
            };
            if target.host_str() != Some("site.invalid") {
                continue;
            }
            let decoded = percent_encoding::percent_decode_str(target.path())
                .decode_utf8_lossy()
                .into_owned();
            let mut path = decoded.trim_start_matches('/').to_string();
            if path.is_empty() || path.ends_with('/') {
                path.push_str("index.html");
            } else if out.join(&path).is_dir() {
                path.push_str("/index.html");
            }
            if !out.join(&path).is_file() {
                problems.fail(format!(
                    "{page}: {attr}=\"{link}\" points at {path}, which the build did not produce"
                ));
                continue;
            }
            let fragment = target.fragment().unwrap_or("");
            if attr == "href" && !fragment.is_empty() && path.ends_with(".html") {
                let fragment = percent_encoding::percent_decode_str(fragment)
                    .decode_utf8_lossy()
                    .into_owned();
                let target_ids = id_cache
                    .entry(path.clone())
                    .or_insert_with(|| ids(&read(&out.join(&path))));
                problems.check(target_ids.contains(&fragment), || {
                    format!("{page}: href=\"{link}\" names #{fragment}, but {path} has no element with that id")
                });
            }
        }
    }
    checked
}

/// The heading anchors mkdocs gave the Markdown headings of a page (not
/// those of the API reference mkdocstrings generates, which a native build
/// cannot produce).
fn mkdocs_heading_ids(content: &str) -> BTreeSet<String> {
    start_tags(content)
        .filter(|t| {
            let name = t[1..]
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or("");
            matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6") && !has_class(t, "doc-heading")
        })
        .filter_map(|t| attribute(t, "id"))
        .collect()
}

/// The words a reader sees in rendered content: an image reads as its `alt`
/// text (mkdocs draws emoji shortcodes as images of the emoji), heading
/// permalinks (`¶`) and emoji presentation selectors are left out.
fn reader_words(content: &str) -> Vec<String> {
    static SKIP: OnceLock<Regex> = OnceLock::new();
    static IMG: OnceLock<Regex> = OnceLock::new();
    let content = re(&SKIP, r"(?s)<(script|style)\b.*?</(script|style)>").replace_all(content, " ");
    let content = re(&IMG, r"<img\b[^>]*>").replace_all(&content, |c: &regex::Captures| {
        attribute(&c[0], "alt")
            .map(|alt| html_escape(&alt))
            .unwrap_or_default()
    });
    text_of(&content)
        .replace(['¶', '\u{fe0f}'], "")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Where two word sequences first part, with a few words around it.
fn first_difference(expected: &[String], actual: &[String]) -> Option<String> {
    let at = expected.iter().zip(actual).position(|(a, b)| a != b);
    let at = match at {
        Some(at) => at,
        None if expected.len() == actual.len() => return None,
        None => expected.len().min(actual.len()),
    };
    let around = |words: &[String]| {
        let from = at.saturating_sub(6);
        let to = (at + 6).min(words.len());
        words[from..to].join(" ")
    };
    Some(format!(
        "at word {at} of {}: mkdocs has \"…{}…\", greenroom has \"…{}…\" ({} words)",
        expected.len(),
        around(expected),
        around(actual),
        actual.len()
    ))
}

/// Counts of the block constructs a page's Markdown produced.
fn block_counts(content: &str) -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("code blocks (<pre>)", count_tag(content, "pre")),
        ("tables (<table>)", count_tag(content, "table")),
        (
            "admonitions (class admonition)",
            count_class(content, "admonition"),
        ),
        (
            "collapsible blocks (<details>)",
            count_tag(content, "details"),
        ),
        (
            "content tab sets (class tabbed-set)",
            count_class(content, "tabbed-set"),
        ),
    ])
}

/// The Markdown file a page was rendered from: `a/index.html` comes from
/// `a.md` or from `a/index.md`.
fn source_of(docs_dir: &Path, page: &str) -> Option<PathBuf> {
    let dir = page.strip_suffix("index.html")?.trim_end_matches('/');
    let candidates = if dir.is_empty() {
        vec!["index.md".to_string()]
    } else {
        vec![format!("{dir}.md"), format!("{dir}/index.md")]
    };
    candidates
        .into_iter()
        .map(|c| docs_dir.join(c))
        .find(|p| p.is_file())
}

// ---------------------------------------------------------------------------
// The starlette documentation
// ---------------------------------------------------------------------------

#[test]
fn starlette_docs_build_like_mkdocs() {
    let test = "starlette_docs_build_like_mkdocs";
    let Some(fx) = fixtures(test) else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("site");
    let build = docs_build(&fx.project, &out, &[]);
    assert_eq!(
        build.output.status.code(),
        Some(0),
        "greenroom docs build of starlette {} failed\n{}",
        fx.version,
        build.text()
    );
    if !build.stderr.trim().is_empty() {
        eprintln!("greenroom docs build warnings:\n{}", build.stderr);
    }

    let mut problems = Problems::default();
    let docs_dir = fx.docs_dir();

    // The summary line names the page count.
    let summary = Regex::new(r"(?m)^built (\d+) pages in [0-9.]+ ms to ").unwrap();
    match summary.captures(&build.stdout) {
        Some(c) => problems.check(c[1] == fx.reference_pages.len().to_string(), || {
            format!(
                "the summary says {} pages, mkdocs built {}",
                &c[1],
                fx.reference_pages.len()
            )
        }),
        None => problems.fail(format!(
            "stdout has no `built N pages in X ms to OUT` line: {:?}",
            build.stdout
        )),
    }

    // The same pages at the same paths as mkdocs (use_directory_urls).
    let pages = rendered_pages(&out, &docs_dir);
    let reference: BTreeSet<String> = fx.reference_pages.iter().cloned().collect();
    let missing: Vec<&String> = reference.difference(&pages).collect();
    let extra: Vec<&String> = pages.difference(&reference).collect();
    problems.check(missing.is_empty() && extra.is_empty(), || {
        format!("pages differ from mkdocs': missing {missing:?}, extra {extra:?}")
    });

    // Files mkdocs copied from the docs directory are copied byte for byte,
    // except the theme's Jinja templates (starlette keeps its `custom_dir` in
    // docs/): mkdocs copies them only because they sit there, and they are
    // no content.
    let theme_dir = theme_custom_dir(&fx.project);
    let mut static_files = 0;
    for rel in files_under(&docs_dir) {
        let in_theme_dir = theme_dir
            .as_ref()
            .is_some_and(|t| docs_dir.join(&rel).starts_with(t));
        if rel.ends_with(".md") || in_theme_dir {
            continue;
        }
        let source = std::fs::read(docs_dir.join(&rel)).expect("read docs file");
        if std::fs::read(fx.reference_site.join(&rel)).ok().as_ref() != Some(&source) {
            continue;
        }
        static_files += 1;
        problems.check(std::fs::read(out.join(&rel)).ok() == Some(source), || {
            format!("{rel} is not copied as it is (mkdocs copies it)")
        });
    }
    assert!(
        static_files >= 5,
        "expected starlette's images and CSS among the static files, found {static_files}"
    );

    // Every page is a full document with the rendered content in its article,
    // and per page the same heading anchors and block constructs as mkdocs.
    let mut contents: BTreeMap<String, String> = BTreeMap::new();
    for page in pages.intersection(&reference) {
        let html = read(&out.join(page));
        problems.check(
            html.trim_start()
                .to_ascii_lowercase()
                .starts_with("<!doctype html"),
            || format!("{page} does not start with <!DOCTYPE html>"),
        );
        let Some(content) = our_content(&html) else {
            problems.fail(format!("{page} has no <article id=\"gr-docs-content\">"));
            continue;
        };
        let theirs = read(&fx.reference_site.join(page));
        let theirs = mkdocs_content(&theirs)
            .unwrap_or_else(|| panic!("mkdocs' {page} has no md-content article"));
        let our_ids = ids(content);
        let missing_ids: Vec<String> = mkdocs_heading_ids(theirs)
            .difference(&our_ids)
            .cloned()
            .collect();
        problems.check(missing_ids.is_empty(), || {
            format!("{page}: heading anchors of mkdocs missing: {missing_ids:?}")
        });
        // mkdocstrings renders API references into these pages with blocks and
        // text of its own; the others must match construct for construct and
        // word for word.
        let source = source_of(&docs_dir, page)
            .map(|p| read(&p))
            .unwrap_or_default();
        if !source.lines().any(|l| l.trim_start().starts_with(":::")) {
            let (ours, mkdocs) = (block_counts(content), block_counts(theirs));
            for (what, n) in &ours {
                problems.check(mkdocs[what] == *n, || {
                    format!("{page}: {n} {what}, mkdocs has {}", mkdocs[what])
                });
            }
            if let Some(difference) =
                first_difference(&reader_words(theirs), &reader_words(content))
            {
                problems.fail(format!(
                    "{page}: the text differs from mkdocs' {difference}"
                ));
            }
        }
        contents.insert(page.clone(), content.to_string());
    }
    let content = |page: &str| contents.get(page).map(String::as_str).unwrap_or("");

    // Headings: requests.md's title.
    let h1 = Regex::new(r"(?s)<h1\b[^>]*>(.*?)</h1>").unwrap();
    let title = h1
        .captures(content("requests/index.html"))
        .map(|c| text_of(&c[1]));
    problems.check(
        title.as_deref().is_some_and(|t| t.contains("Requests")),
        || format!("requests/index.html: no <h1> with \"Requests\" (found {title:?})"),
    );

    // Code blocks, highlighted: the first example of requests.md.
    let pre = Regex::new(r"(?s)<pre\b[^>]*>(.*?)</pre>").unwrap();
    let blocks: Vec<String> = pre
        .captures_iter(content("requests/index.html"))
        .map(|c| c[1].to_string())
        .collect();
    let example = blocks
        .iter()
        .find(|b| text_of(b).contains("from starlette.requests import Request"));
    problems.check(example.is_some_and(|b| b.contains("<span class=")), || {
        format!(
            "requests/index.html: no highlighted <pre> block (with <span class=…>) holding \
             `from starlette.requests import Request`; blocks: {:?}",
            blocks
                .iter()
                .map(|b| b.chars().take(160).collect::<String>())
                .collect::<Vec<_>>()
        )
    });

    // `!!! note` in authentication.md.
    let notes = elements_with_class(content("authentication/index.html"), "div", "admonition");
    problems.check(
        notes.iter().any(|(tag, inner)| {
            has_class(tag, "note") && text_of(inner).contains("parameter is not supported with WebSockets")
        }),
        || format!("authentication/index.html: no <div class=\"admonition note\"> with its text; found {notes:?}"),
    );

    // `??? info "Compression of streaming responses"` in middleware.md.
    let details = Regex::new(r"(?s)<details\b([^>]*)>\s*<summary\b[^>]*>(.*?)</summary>").unwrap();
    let summaries: Vec<(String, String)> = details
        .captures_iter(content("middleware/index.html"))
        .map(|c| (format!("<details{}>", &c[1]), text_of(&c[2])))
        .collect();
    problems.check(
        summaries
            .iter()
            .any(|(tag, s)| has_class(tag, "info") && s == "Compression of streaming responses"),
        || format!("middleware/index.html: no <details class=\"info\"> titled \"Compression of streaming responses\"; found {summaries:?}"),
    );

    // `=== "✅ Do"` / `=== "❌ Don't"` in middleware.md: one tab set holding
    // both labels and both code examples.
    let middleware = content("middleware/index.html");
    let label = Regex::new(r"(?s)<label\b[^>]*>(.*?)</label>").unwrap();
    let labels: Vec<String> = label
        .captures_iter(middleware)
        .map(|c| text_of(&c[1]))
        .collect();
    let tab_blocks = elements_with_class(middleware, "div", "tabbed-block");
    problems.check(
        count_class(middleware, "tabbed-set") == 1
            && labels == ["✅ Do", "❌ Don't"]
            && tab_blocks.len() == 2
            && text_of(tab_blocks[0].1).contains("class MockResponseBodyMiddleware"),
        || {
            format!(
                "middleware/index.html: expected one tab set (class tabbed-set) with the labels \"✅ Do\" and \"❌ Don't\" \
                 and two tab blocks (class tabbed-block) holding the examples; found {} sets, labels {labels:?}, {} blocks",
                count_class(middleware, "tabbed-set"),
                tab_blocks.len()
            )
        },
    );

    // Links between pages are rewritten as mkdocs does.
    problems.check(
        middleware.contains(r#"href="../requests/#headers""#),
        || {
            "middleware/index.html: the link to requests.md#headers is not ../requests/#headers"
                .into()
        },
    );
    let checked = check_links(&out, &pages, &mut problems);
    assert!(
        checked > 100,
        "only {checked} internal links found in {} pages",
        pages.len()
    );

    // techdocs_metadata.json.
    let all_files = files_under(&out);
    match std::fs::read(out.join("techdocs_metadata.json"))
        .map(|b| serde_json::from_slice::<Value>(&b))
    {
        Ok(Ok(meta)) => {
            problems.check(meta["site_name"] == "Starlette", || {
                format!("techdocs_metadata.json: site_name is {}", meta["site_name"])
            });
            let listed: Option<BTreeSet<String>> = meta["files"].as_array().map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect()
            });
            match listed {
                Some(listed) => {
                    let unlisted: Vec<&String> = all_files
                        .iter()
                        .filter(|f| *f != "techdocs_metadata.json" && !listed.contains(*f))
                        .collect();
                    let absent: Vec<&String> = listed.difference(&all_files).collect();
                    problems.check(unlisted.is_empty() && absent.is_empty(), || {
                        format!("techdocs_metadata.json: files does not list {unlisted:?}; lists absent {absent:?}")
                    });
                }
                None => {
                    problems.fail("techdocs_metadata.json: files is not an array of paths".into())
                }
            }
        }
        Ok(Err(e)) => problems.fail(format!("techdocs_metadata.json is not JSON: {e}")),
        Err(e) => problems.fail(format!("techdocs_metadata.json: {e}")),
    }

    // search/search_index.json, mkdocs' lunr format: an entry per page and
    // per section, each section pointing at an anchor of its page.
    match std::fs::read(out.join("search/search_index.json"))
        .map(|b| serde_json::from_slice::<Value>(&b))
    {
        Ok(Ok(index)) => {
            problems.check(index["config"].is_object(), || {
                "search_index.json: no config object".into()
            });
            let docs = index["docs"].as_array().cloned().unwrap_or_default();
            problems.check(docs.len() > fx.reference_pages.len(), || {
                format!(
                    "search_index.json: {} docs entries for {} pages",
                    docs.len(),
                    fx.reference_pages.len()
                )
            });
            let mut page_locations = BTreeSet::new();
            for doc in &docs {
                let fields_ok = ["location", "title", "text"]
                    .iter()
                    .all(|k| doc[k].is_string());
                problems.check(fields_ok, || {
                    format!("search_index.json: entry without string location/title/text: {doc}")
                });
                let Some(location) = doc["location"].as_str() else {
                    continue;
                };
                match location.split_once('#') {
                    None => {
                        page_locations.insert(location.to_string());
                    }
                    Some((page, anchor)) => {
                        let file = out.join(format!("{page}index.html"));
                        let found = file.is_file() && ids(&read(&file)).contains(anchor);
                        problems.check(found, || {
                            format!(
                                "search_index.json: {location} names no element of a built page"
                            )
                        });
                    }
                }
            }
            let expected: BTreeSet<String> =
                fx.reference_pages.iter().map(|p| page_url(p)).collect();
            problems.check(page_locations == expected, || {
                format!(
                    "search_index.json: the page entries (no #) differ from the pages: missing {:?}, extra {:?}",
                    expected.difference(&page_locations).collect::<Vec<_>>(),
                    page_locations.difference(&expected).collect::<Vec<_>>()
                )
            });
            let requests = docs.iter().find(|d| d["location"] == "requests/");
            problems.check(requests.is_some_and(|d| d["title"] == "Requests"), || {
                format!("search_index.json: the requests/ entry is {requests:?}")
            });
        }
        Ok(Err(e)) => problems.fail(format!("search_index.json is not JSON: {e}")),
        Err(e) => problems.fail(format!("search/search_index.json: {e}")),
    }

    eprintln!(
        "starlette {}: {} pages, {static_files} copied files, {checked} internal links checked",
        fx.version,
        pages.len()
    );
    problems.assert_none(&format!("greenroom docs build of starlette {}", fx.version));
}

// ---------------------------------------------------------------------------
// Small projects written by the tests
// ---------------------------------------------------------------------------

fn write(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
    std::fs::write(&path, content).expect("write file");
}

/// A PNG signature and an IHDR chunk start: enough bytes to tell a copy
/// from a rewrite.
const IMAGE: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// A project using what starlette's documentation does not: a table, an
/// image, nested sections and links between them.
fn small_project(root: &Path) {
    write(root, "mkdocs.yml", b"site_name: Small\n");
    write(
        root,
        "docs/index.md",
        "# Home\n\n\
         | Name | Port |\n\
         |------|-----:|\n\
         | api  | 8080 |\n\
         | web  | 3000 |\n\n\
         See [setup](guide/setup.md#install-it) and [about](about.md).\n\n\
         ![logo](img/logo.png)\n"
            .as_bytes(),
    );
    write(
        root,
        "docs/about.md",
        b"# About\n\nBack [home](index.md).\n",
    );
    write(
        root,
        "docs/guide/index.md",
        b"# Guide\n\nStart with [setup](setup.md).\n",
    );
    write(
        root,
        "docs/guide/setup.md",
        b"# Setup\n\n## Install it\n\nRead [about](../about.md#about) first.\n",
    );
    write(root, "docs/img/logo.png", IMAGE);
}

#[test]
fn tables_images_and_links_follow_the_mkdocs_layout() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let project = tmp.path().join("project");
    small_project(&project);
    let out = tmp.path().join("site");
    let build = docs_build(&project, &out, &["--strict"]);
    assert_eq!(build.output.status.code(), Some(0), "{}", build.text());
    assert!(
        build.stdout.contains("built 4 pages in "),
        "{}",
        build.text()
    );

    let pages = rendered_pages(&out, &project.join("docs"));
    let expected: BTreeSet<String> = [
        "index.html",
        "about/index.html",
        "guide/index.html",
        "guide/setup/index.html",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(pages, expected);
    assert_eq!(std::fs::read(out.join("img/logo.png")).unwrap(), IMAGE);

    let home = read(&out.join("index.html"));
    let home = our_content(&home).expect("content article").to_string();
    let table = Regex::new(r"(?s)<table\b.*?</table>").unwrap();
    let table = table
        .find(&home)
        .map(|m| m.as_str())
        .unwrap_or_else(|| panic!("no <table> in {home}"));
    assert_eq!(count_tag(table, "th"), 2, "{table}");
    assert_eq!(count_tag(table, "td"), 4, "{table}");
    assert_eq!(text_of(table), "Name Port api 8080 web 3000");
    let header = Regex::new(r"(?s)<thead\b.*?</thead>").unwrap();
    assert!(
        header
            .find(table)
            .is_some_and(|m| text_of(m.as_str()) == "Name Port"),
        "the header row is not a <thead>: {table}"
    );

    let hrefs: Vec<String> = start_tags(&home)
        .filter_map(|t| attribute(t, "href"))
        .collect();
    assert!(
        hrefs.contains(&"guide/setup/#install-it".to_string()),
        "{hrefs:?}"
    );
    assert!(hrefs.contains(&"about/".to_string()), "{hrefs:?}");
    let srcs: Vec<String> = start_tags(&home)
        .filter_map(|t| attribute(t, "src"))
        .collect();
    assert!(srcs.contains(&"img/logo.png".to_string()), "{srcs:?}");

    let setup = read(&out.join("guide/setup/index.html"));
    let setup = our_content(&setup).expect("content article");
    assert!(ids(setup).contains("install-it"), "{setup}");
    assert!(setup.contains(r#"href="../../about/#about""#), "{setup}");

    let mut problems = Problems::default();
    check_links(&out, &pages, &mut problems);
    problems.assert_none("links of the small project");
}

#[test]
fn a_broken_link_is_a_warning_and_an_error_when_strict() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let project = tmp.path().join("project");
    write(&project, "mkdocs.yml", b"site_name: Broken\n");
    write(
        &project,
        "docs/index.md",
        b"# Home\n\nSee [the missing page](missing.md).\n",
    );

    let lenient = docs_build(&project, &tmp.path().join("lenient"), &[]);
    assert_eq!(lenient.output.status.code(), Some(0), "{}", lenient.text());
    assert!(
        lenient.stderr.contains("missing.md"),
        "no warning naming missing.md\n{}",
        lenient.text()
    );

    let strict = docs_build(&project, &tmp.path().join("strict"), &["--strict"]);
    assert_eq!(strict.output.status.code(), Some(1), "{}", strict.text());
    assert!(strict.stderr.contains("missing.md"), "{}", strict.text());
}

#[test]
fn a_directory_without_a_mkdocs_project_fails_with_a_clear_message() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let project = tmp.path().join("project");
    // Neither mkdocs.yml nor docs/ (for which a configuration would be made up).
    write(&project, "README.md", b"# Home\n");
    let build = docs_build(&project, &tmp.path().join("site"), &[]);
    assert_eq!(build.output.status.code(), Some(1), "{}", build.text());
    assert!(build.stderr.contains("mkdocs.yml"), "{}", build.text());
    assert!(!tmp.path().join("site/index.html").exists());
}

// ---------------------------------------------------------------------------
// The helpers above decide what passes: they are tested on their own.
// ---------------------------------------------------------------------------

#[test]
fn html_helpers_read_tags_attributes_and_text() {
    let html = r#"<p class="a admonition-title">x</p><div class="admonition note" id='n1'><a href="../b/#c&amp;d">B &amp; C</a></div><pre><code>&lt;a href="no"&gt;</code></pre>"#;
    assert_eq!(count_class(html, "admonition"), 1);
    assert_eq!(ids(html), BTreeSet::from(["n1".to_string()]));
    assert_eq!(
        internal_links(html),
        vec![("href", "../b/#c&d".to_string())]
    );
    assert_eq!(
        text_of("<p>Don&#39;t &#x2705; &lt;x&gt;</p>"),
        "Don't ✅ <x>"
    );
    assert_eq!(count_tag("<pre><preview><PRE class=x>", "pre"), 2);
    let links = internal_links(
        r##"<a href="https://x/"><a href="mailto:a@b"><img src="data:x"><a href="#top"><a href="//cdn/x"><img src="/img/a.svg#only-light">"##,
    );
    assert_eq!(links, vec![("src", "/img/a.svg#only-light".to_string())]);
    assert_eq!(page_url("index.html"), "");
    assert_eq!(page_url("a/b/index.html"), "a/b/");
    let tmp = tempfile::tempdir().expect("temp dir");
    let docs = tmp.path();
    write(docs, "index.md", b"");
    write(docs, "early-hints.md", b"");
    write(docs, "a/index.md", b"");
    assert_eq!(source_of(docs, "index.html"), Some(docs.join("index.md")));
    assert_eq!(
        source_of(docs, "early-hints/index.html"),
        Some(docs.join("early-hints.md"))
    );
    assert_eq!(
        source_of(docs, "a/index.html"),
        Some(docs.join("a/index.md"))
    );
    assert_eq!(source_of(docs, "b/index.html"), None);
}

#[test]
fn the_link_check_finds_missing_files_and_anchors() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path();
    write(out, "index.html", br#"<a href="a/#there">ok</a><a href="a/#nowhere">bad anchor</a><a href="b/">missing</a><img src="img/x.png"><a href="a">dir</a>"#);
    write(out, "a/index.html", br#"<h2 id="there">There</h2>"#);
    write(out, "img/x.png", IMAGE);
    let pages = BTreeSet::from(["index.html".to_string(), "a/index.html".to_string()]);
    let mut problems = Problems::default();
    assert_eq!(check_links(out, &pages, &mut problems), 5);
    assert_eq!(problems.0.len(), 2, "{:?}", problems.0);
    assert!(problems.0[0].contains("#nowhere"), "{:?}", problems.0);
    assert!(problems.0[1].contains("b/index.html"), "{:?}", problems.0);
}
