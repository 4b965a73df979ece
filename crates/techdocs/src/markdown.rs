//! One page's Markdown to HTML: CommonMark with tables, footnotes, task lists,
//! strikethrough and definition lists (pulldown-cmark), the mkdocs block
//! extensions ([`crate::blocks`]), heading anchors with mkdocs' ids, highlighted
//! code and attribute lists (`{ .md-button }`) dropped rather than shown. The
//! result is not yet safe: [`crate::sanitize`] runs on it afterwards.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, TextMergeStream,
};
use regex::Regex;

use crate::{blocks, highlight};

/// What rendering one page accumulates: placeholders of extension blocks, and
/// the heading ids in use (ids are unique across the page, blocks included).
pub struct PageContext {
    prefix: String,
    placeholders: Vec<(String, String)>,
    /// Highlighted code blocks, kept out of the sanitiser (see [`PageContext::code_slot`]).
    code: Vec<(String, String)>,
    ids: HashMap<String, usize>,
    counter: usize,
}

impl PageContext {
    pub fn new(source: &str) -> Self {
        // Derived from the page so a build is reproducible, and unguessable enough
        // that no page contains its own placeholders.
        let mut hasher = DefaultHasher::new();
        source.hash(&mut hasher);
        PageContext {
            prefix: format!("GRBLOCK{:016x}N", hasher.finish()),
            placeholders: Vec::new(),
            code: Vec::new(),
            ids: HashMap::new(),
            counter: 0,
        }
    }

    pub fn placeholder(&mut self, html: String) -> String {
        let token = format!("{}{}X", self.prefix, self.placeholders.len());
        self.placeholders.push((token.clone(), html));
        token
    }

    /// Code blocks are HTML this crate wrote from escaped text, so they skip
    /// the sanitiser (which would spend most of a build re-parsing their spans):
    /// a slot stands in for each and [`PageContext::fill_code_slots`] puts them back.
    pub fn code_slot(&mut self, html: String) -> String {
        let token = format!("{}C{}X", self.prefix, self.code.len());
        let slot = format!("<div class=\"gr-code\">{token}</div>");
        self.code.push((slot.clone(), html));
        slot
    }

    /// Puts the code blocks into sanitised HTML.
    pub fn fill_code_slots(&self, html: String) -> String {
        let mut out = html;
        for (slot, code) in self.code.iter().rev() {
            out = out.replacen(slot.as_str(), code, 1);
        }
        out
    }

    pub fn token_prefix(&self) -> &str {
        &self.prefix
    }

    pub fn placeholders(&self) -> impl Iterator<Item = (&String, &String)> {
        self.placeholders.iter().rev().map(|(t, h)| (t, h))
    }

    pub fn next_id(&mut self) -> usize {
        self.counter += 1;
        self.counter
    }

    /// A heading id unique on the page, as Python-Markdown's toc extension makes
    /// them: `id`, then `id_1`, `id_2`, ...
    fn unique_id(&mut self, wanted: String) -> String {
        let seen = self.ids.entry(wanted.clone()).or_insert(0);
        *seen += 1;
        if *seen == 1 && !wanted.is_empty() {
            return wanted;
        }
        let mut n = *seen - usize::from(!wanted.is_empty());
        loop {
            let candidate = format!("{wanted}_{n}");
            if !self.ids.contains_key(&candidate) {
                self.ids.insert(candidate.clone(), 1);
                return candidate;
            }
            n += 1;
        }
    }
}

/// mkdocs' (Python-Markdown toc) slug: lower case, punctuation removed, runs of
/// spaces and hyphens become one hyphen. Letters outside ASCII are dropped, as
/// its ASCII folding drops those it cannot decompose.
pub fn slugify(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || c.is_whitespace())
        .collect();
    let mut slug = String::with_capacity(kept.len());
    let mut pending_dash = false;
    for c in kept.trim().chars() {
        if c == '-' || c.is_whitespace() {
            pending_dash = true;
        } else {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c.to_ascii_lowercase());
        }
    }
    slug
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Appends `text` to `out` with `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// Renders Markdown (with the block extensions) to unsanitised HTML.
pub fn render_fragment(source: &str, ctx: &mut PageContext, depth: usize) -> String {
    let expanded = blocks::expand(source, ctx, depth);
    let html = commonmark(&expanded, ctx);
    blocks::substitute(html, ctx)
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_DEFINITION_LIST
}

/// A heading being collected: level, explicit id, classes, inline events.
type OpenHeading<'a> = (
    HeadingLevel,
    Option<CowStr<'a>>,
    Vec<CowStr<'a>>,
    Vec<Event<'a>>,
);

fn commonmark(text: &str, ctx: &mut PageContext) -> String {
    let mut events: Vec<Event> = Vec::new();
    let mut heading: Option<OpenHeading> = None;
    let mut code: Option<(String, String)> = None;
    for event in TextMergeStream::new(Parser::new_ext(text, options())) {
        if let Some((_, body)) = code.as_mut() {
            match event {
                Event::Text(t) => body.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    let (info, body) = code.take().expect("inside a code block");
                    let html = code_block(&info, &body);
                    let slot = if html.starts_with("<pre class=\"mermaid\">") {
                        html
                    } else {
                        ctx.code_slot(html)
                    };
                    events.push(Event::Html(slot.into()));
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::Heading {
                level, id, classes, ..
            }) => heading = Some((level, id, classes, Vec::new())),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, id, classes, inner)) = heading.take() {
                    events.push(Event::Html(
                        heading_html(level, id, &classes, inner, ctx).into(),
                    ));
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((info, String::new()));
            }
            Event::Text(t) => {
                let t = emoji(strip_attribute_lists(t));
                match heading.as_mut() {
                    Some((.., inner)) => inner.push(Event::Text(t)),
                    None => events.push(Event::Text(t)),
                }
            }
            other => match heading.as_mut() {
                Some((.., inner)) => inner.push(other),
                None => events.push(other),
            },
        }
    }
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

fn heading_html(
    level: HeadingLevel,
    id: Option<CowStr>,
    classes: &[CowStr],
    inner: Vec<Event>,
    ctx: &mut PageContext,
) -> String {
    let mut text = String::new();
    for event in &inner {
        if let Event::Text(t) | Event::Code(t) = event {
            text.push_str(t);
        }
    }
    let id = ctx.unique_id(id.map(|i| i.to_string()).unwrap_or_else(|| slugify(&text)));
    let mut content = String::new();
    pulldown_cmark::html::push_html(&mut content, inner.into_iter());
    let class = if classes.is_empty() {
        String::new()
    } else {
        format!(" class=\"{}\"", escape(&classes.join(" ")))
    };
    format!(
        "<{level} id=\"{id}\"{class}>{content}<a class=\"headerlink\" href=\"#{id}\" title=\"Permanent link\">¶</a></{level}>\n",
        id = escape(&id)
    )
}

/// A fenced block: `lang title="file.py" hl_lines="2"` or `{ .lang }` as
/// pymdownx.superfences writes it; mermaid stays text for the browser to draw.
fn code_block(info: &str, body: &str) -> String {
    static TITLE: OnceLock<Regex> = OnceLock::new();
    let title_re = TITLE.get_or_init(|| Regex::new(r#"title="([^"]*)""#).expect("valid regex"));
    let lang = info
        .trim()
        .trim_start_matches('{')
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_start_matches('.')
        .trim_end_matches('}')
        .to_string();
    if lang == "mermaid" {
        return format!(
            "<pre class=\"mermaid\"><code>{}</code></pre>\n",
            escape(body)
        );
    }
    let title = title_re
        .captures(info)
        .map(|c| format!("<span class=\"filename\">{}</span>", escape(&c[1])))
        .unwrap_or_default();
    let code = highlight::highlight(body, &lang).unwrap_or_else(|| escape(body));
    let class = if lang.is_empty() {
        String::new()
    } else {
        format!(" class=\"language-{}\"", escape(&lang))
    };
    format!("<div class=\"highlight\">{title}<pre><code{class}>{code}</code></pre></div>\n")
}

/// Emoji shortcodes (`:arrow_right:`, pymdownx.emoji) become the emoji itself;
/// unknown ones (`:material-check:`, a theme's icons) stay as written.
fn emoji(text: CowStr) -> CowStr {
    static CODE: OnceLock<Regex> = OnceLock::new();
    if !text.contains(':') {
        return text;
    }
    let code = CODE.get_or_init(|| Regex::new(r":([a-z0-9_+-]+):").expect("valid regex"));
    match code.replace_all(&text, |caps: &regex::Captures| {
        emojis::get_by_shortcode(&caps[1])
            .map_or_else(|| caps[0].to_string(), |e| e.as_str().to_string())
    }) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(s) => CowStr::from(s),
    }
}

/// Drops attribute lists (`{ .md-button }`, `{: #id .class key="v" }`) from text:
/// they style mkdocs-material output and would otherwise show up as text.
fn strip_attribute_lists(text: CowStr) -> CowStr {
    static ATTRS: OnceLock<Regex> = OnceLock::new();
    if !text.contains('{') {
        return text;
    }
    let attrs = ATTRS.get_or_init(|| {
        let item = r#"(?:[.#][\w-]+|[\w-]+=(?:"[^"]*"|'[^']*'|[^\s}]+))"#;
        Regex::new(&format!(r"\{{:?\s*{item}(?:\s+{item})*\s*\}}")).expect("valid regex")
    });
    match attrs.replace_all(&text, "") {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(s) => CowStr::from(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(md: &str) -> String {
        let mut ctx = PageContext::new(md);
        let html = render_fragment(md, &mut ctx, 0);
        ctx.fill_code_slots(html)
    }

    #[test]
    fn slugs_match_mkdocs() {
        assert_eq!(slugify("Query Parameters"), "query-parameters");
        assert_eq!(slugify("  The `Request` class!  "), "the-request-class");
        assert_eq!(slugify("a - b -- c"), "a-b-c");
        assert_eq!(slugify("Über café"), "ber-caf");
        assert_eq!(slugify("snake_case"), "snake_case");
    }

    #[test]
    fn headings_get_unique_ids_and_anchors() {
        let html = render("# Title\n\n## Setup\n\n## Setup\n\n## Custom {#mine}\n\n## !!!\n");
        assert!(
            html.contains("<h1 id=\"title\">Title<a class=\"headerlink\" href=\"#title\""),
            "{html}"
        );
        assert!(
            html.contains("<h2 id=\"setup\">") && html.contains("<h2 id=\"setup_1\">"),
            "{html}"
        );
        assert!(html.contains("<h2 id=\"mine\">"), "{html}");
        assert!(html.contains("<h2 id=\"_1\">"), "{html}");
    }

    #[test]
    fn extensions_render() {
        let html = render(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\nTerm\n: Definition\n\nText[^1].\n\n[^1]: Note.\n\n~~old~~\n",
        );
        for part in [
            "<table>",
            "<td>1</td>",
            "type=\"checkbox\"",
            "<dl>",
            "<dt>Term</dt>",
            "<dd>",
            "footnote",
            "<del>old</del>",
        ] {
            assert!(html.contains(part), "{part} missing in {html}");
        }
    }

    #[test]
    fn admonitions_details_and_tabs_nest_and_render_markdown() {
        let html = render(
            "Intro\n!!! warning \"Careful **now**\"\n    Body with `code`.\n\n    !!! tip\n        Nested.\n\n??? info \"More\"\n    Hidden.\n\n???+ note\n    Open.\n\n=== \"✅ Do\"\n\n    ```python\n    x = 1\n    ```\n\n=== \"❌ Don't\"\n\n    No.\n\nAfter.\n",
        );
        assert!(html.contains("<div class=\"admonition warning\"><p class=\"admonition-title\">Careful **now**</p><p>Body with <code>code</code>.</p>"), "{html}");
        assert!(html.contains("<div class=\"admonition tip\"><p class=\"admonition-title\">Tip</p><p>Nested.</p>\n</div>"), "{html}");
        assert!(
            html.contains(
                "<details class=\"info\"><summary>More</summary><p>Hidden.</p>\n</details>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<details class=\"note\" open><summary>Note</summary>"),
            "{html}"
        );
        assert!(html.contains("<label for=\"__tabbed_1_1\">✅ Do</label><label for=\"__tabbed_1_2\">❌ Don&#39;t</label>"), "{html}");
        assert!(html.contains("class=\"language-python\""), "{html}");
        assert!(
            html.contains("<p>After.</p>") && html.contains("<p>Intro</p>"),
            "{html}"
        );
        assert!(!html.contains("GRBLOCK"), "{html}");
    }

    #[test]
    fn markers_inside_code_stay_code() {
        let html = render("```\n!!! note\n    not an admonition\n```\n");
        assert!(
            html.contains("!!! note") && !html.contains("class=\"admonition"),
            "{html}"
        );
    }

    #[test]
    fn mkdocstrings_directives_become_a_note_and_their_options_vanish() {
        let html = render("??? abstract \"API Reference\"\n    ::: starlette.applications.Starlette\n        options:\n            heading_level: 3\n\nText\n");
        assert!(
            html.contains("<code>starlette.applications.Starlette</code>"),
            "{html}"
        );
        assert!(!html.contains("heading_level"), "{html}");
    }

    #[test]
    fn code_fences_keep_titles_and_mermaid() {
        let html = render(
            "```python title=\"app.py\"\nprint(1)\n```\n\n```mermaid\ngraph TD; A-->B\n```\n",
        );
        assert!(
            html.contains("<span class=\"filename\">app.py</span>"),
            "{html}"
        );
        assert!(
            html.contains("<pre class=\"mermaid\"><code>graph TD; A--&gt;B\n</code></pre>"),
            "{html}"
        );
    }

    #[test]
    fn emoji_shortcodes_become_emoji() {
        let html = render(
            "(`requests` :arrow_right: `httpx`) :tada: :material-check: 10:30:00\n\n`:tada:`\n",
        );
        assert!(
            html.contains("</code> ➡\u{fe0f} <code>") && html.contains("🎉"),
            "{html}"
        );
        assert!(
            html.contains(":material-check:")
                && html.contains("10:30:00")
                && html.contains("<code>:tada:</code>"),
            "{html}"
        );
    }

    #[test]
    fn attribute_lists_are_dropped() {
        let html =
            render("[Start](a.md){ .md-button .md-button--primary }\n\nKeep {braces} here.\n");
        assert!(!html.contains("md-button"), "{html}");
        assert!(html.contains("Keep {braces} here."), "{html}");
    }

    #[test]
    fn nesting_past_the_limit_stays_text() {
        let mut md = String::new();
        for depth in 0..40 {
            md.push_str(&" ".repeat(depth * 4));
            md.push_str("!!! note\n");
        }
        md.push_str(&" ".repeat(160));
        md.push_str("deep\n");
        let html = render(&md);
        assert!(
            html.matches("class=\"admonition note\"").count() <= 17,
            "{}",
            html.len()
        );
    }
}
