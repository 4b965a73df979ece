//! The block extensions of mkdocs sites that CommonMark has no syntax for:
//! admonitions (`!!! note "Title"`), collapsible details (`??? note`, `???+`),
//! content tabs (`=== "Tab"`), mkdocstrings directives (`::: package.module`) and
//! `[TOC]`. Each block's indented body is rendered as Markdown on its own, and the
//! block is replaced by a placeholder paragraph that [`substitute`] swaps for the
//! block's HTML after CommonMark has run.

use std::sync::OnceLock;

use regex::Regex;

use crate::markdown::{escape, PageContext};

/// Blocks nested deeper than this are left as text: it bounds recursion on
/// hostile input, and no real page nests admonitions this deep.
const MAX_DEPTH: usize = 16;

/// Where `[TOC]` stood; the site builder puts the table of contents there once the
/// page's headings are known. Harmless if an author writes it by hand.
pub const TOC_MARKER: &str = "<div class=\"gr-toc-placeholder\"></div>";

struct Marker {
    indent: usize,
    kind: MarkerKind,
}

enum MarkerKind {
    Admonition {
        collapsible: Option<bool>,
        classes: Vec<String>,
        title: Option<String>,
    },
    Tab {
        label: String,
        new_set: bool,
    },
    ApiReference {
        identifier: String,
    },
    Toc,
}

fn marker(line: &str) -> Option<Marker> {
    static ADMONITION: OnceLock<Regex> = OnceLock::new();
    static TAB: OnceLock<Regex> = OnceLock::new();
    static API: OnceLock<Regex> = OnceLock::new();
    let admonition = ADMONITION.get_or_init(|| {
        Regex::new(r#"^(!!!|\?\?\?\+?) ?([\w-]+(?: +[\w-]+)*)? *(?:"(.*)")? *$"#)
            .expect("valid regex")
    });
    let tab = TAB.get_or_init(|| Regex::new(r#"^===([!+]*) +"(.*)" *$"#).expect("valid regex"));
    let api = API.get_or_init(|| Regex::new(r"^::: +([\w.:-]+) *$").expect("valid regex"));

    let indent = indentation(line)?;
    let rest = line.trim_start();
    let kind = if let Some(caps) = admonition.captures(rest) {
        let collapsible = match &caps[1] {
            "!!!" => None,
            "???" => Some(false),
            _ => Some(true),
        };
        let classes: Vec<String> = caps.get(2).map_or_else(
            || vec!["note".to_string()],
            |m| {
                m.as_str()
                    .split(' ')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect()
            },
        );
        let title = match caps.get(3) {
            Some(t) if t.as_str().is_empty() => None,
            Some(t) => Some(t.as_str().to_string()),
            None => Some(capitalize(&classes[0])),
        };
        MarkerKind::Admonition {
            collapsible,
            classes,
            title,
        }
    } else if let Some(caps) = tab.captures(rest) {
        MarkerKind::Tab {
            label: caps[2].to_string(),
            new_set: caps[1].contains('!'),
        }
    } else if let Some(caps) = api.captures(rest) {
        MarkerKind::ApiReference {
            identifier: caps[1].to_string(),
        }
    } else if rest.trim_end() == "[TOC]" {
        MarkerKind::Toc
    } else {
        return None;
    };
    Some(Marker { indent, kind })
}

/// Leading spaces (a tab counts as 4); `None` for a blank line.
fn indentation(line: &str) -> Option<usize> {
    let mut width = 0;
    for c in line.chars() {
        match c {
            ' ' => width += 1,
            '\t' => width += 4 - width % 4,
            _ => return Some(width),
        }
    }
    None
}

fn dedent(line: &str, width: usize) -> &str {
    let mut taken = 0;
    for (i, c) in line.char_indices() {
        if taken >= width {
            return &line[i..];
        }
        match c {
            ' ' => taken += 1,
            '\t' => taken += 4 - taken % 4,
            _ => return &line[i..],
        }
    }
    ""
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Fenced code state, so markers inside code blocks stay code.
struct Fence {
    ch: char,
    len: usize,
}

fn fence_open(line: &str) -> Option<Fence> {
    let rest = line.trim_start();
    let ch = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = rest.chars().take_while(|c| *c == ch).count();
    (len >= 3).then_some(Fence { ch, len })
}

fn closes(fence: &Fence, line: &str) -> bool {
    let rest = line.trim();
    rest.chars().take_while(|c| *c == fence.ch).count() >= fence.len
        && rest.chars().all(|c| c == fence.ch)
}

/// Replaces the extension blocks of `source` by placeholders whose HTML is kept
/// in `ctx`. Bodies are rendered through `render` (the whole Markdown pipeline).
pub fn expand(source: &str, ctx: &mut PageContext, depth: usize) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::with_capacity(source.len() + 64);
    let mut fence: Option<Fence> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(open) = &fence {
            if closes(open, line) {
                fence = None;
            }
            push_line(&mut out, line);
            i += 1;
            continue;
        }
        if let Some(open) = fence_open(line) {
            fence = Some(open);
            push_line(&mut out, line);
            i += 1;
            continue;
        }
        let found = if depth < MAX_DEPTH {
            marker(line)
        } else {
            None
        };
        let Some(found) = found else {
            push_line(&mut out, line);
            i += 1;
            continue;
        };
        let indent = " ".repeat(found.indent);
        match found.kind {
            MarkerKind::Toc => {
                let token = ctx.placeholder(TOC_MARKER.to_string());
                push_block(&mut out, &indent, &token);
                i += 1;
            }
            MarkerKind::Tab { .. } => {
                let (html, next) = tab_set(&lines, i, ctx, depth);
                let token = ctx.placeholder(html);
                push_block(&mut out, &indent, &token);
                i = next;
            }
            MarkerKind::Admonition {
                collapsible,
                classes,
                title,
            } => {
                let (body, next) = body(&lines, i + 1, found.indent);
                let inner = crate::markdown::render_fragment(&body, ctx, depth + 1);
                let class = classes
                    .iter()
                    .map(|c| escape(c))
                    .collect::<Vec<_>>()
                    .join(" ");
                let html = match collapsible {
                    None => {
                        let title = title
                            .map(|t| format!("<p class=\"admonition-title\">{}</p>", escape(&t)))
                            .unwrap_or_default();
                        format!("<div class=\"admonition {class}\">{title}{inner}</div>")
                    }
                    Some(open) => {
                        let title = escape(&title.unwrap_or_else(|| capitalize(&classes[0])));
                        let open = if open { " open" } else { "" };
                        format!("<details class=\"{class}\"{open}><summary>{title}</summary>{inner}</details>")
                    }
                };
                let token = ctx.placeholder(html);
                push_block(&mut out, &indent, &token);
                i = next;
            }
            MarkerKind::ApiReference { identifier } => {
                // The indented lines are mkdocstrings' options, not content.
                let (_, next) = body(&lines, i + 1, found.indent);
                let html = format!(
                    "<div class=\"admonition abstract doc-api-reference\"><p class=\"admonition-title\">API reference: \
                     <code>{id}</code></p><p>mkdocstrings generates this section from the Python sources of \
                     <code>{id}</code>; Greenroom does not run Python, so it is left out.</p></div>",
                    id = escape(&identifier)
                );
                let token = ctx.placeholder(html);
                push_block(&mut out, &indent, &token);
                i = next;
            }
        }
    }
    out
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}

/// A placeholder paragraph on its own, so it neither joins the paragraph above
/// nor swallows the one below.
fn push_block(out: &mut String, indent: &str, token: &str) {
    out.push('\n');
    out.push_str(indent);
    out.push_str(token);
    out.push_str("\n\n");
}

/// The body of the block whose marker is indented by `indent`: the following
/// lines indented at least 4 more (blank lines included), dedented. Returns the
/// body and the index of the first line after it.
fn body(lines: &[&str], start: usize, indent: usize) -> (String, usize) {
    let mut end = start;
    let mut last_content = start;
    while end < lines.len() {
        match indentation(lines[end]) {
            None => end += 1,
            Some(width) if width >= indent + 4 => {
                end += 1;
                last_content = end;
            }
            Some(_) => break,
        }
    }
    let mut body = String::new();
    for line in &lines[start..last_content] {
        body.push_str(dedent(line, indent + 4));
        body.push('\n');
    }
    (body, last_content)
}

/// A set of content tabs (pymdownx.tabbed, alternate style): consecutive `===`
/// blocks at one indentation, separated by blank lines only. Radio inputs and
/// labels switch tabs without script.
fn tab_set(lines: &[&str], start: usize, ctx: &mut PageContext, depth: usize) -> (String, usize) {
    let set = ctx.next_id();
    let indent = indentation(lines[start]).unwrap_or(0);
    let mut tabs: Vec<(String, String)> = Vec::new();
    let mut i = start;
    while let Some(Marker {
        kind: MarkerKind::Tab { label, new_set },
        indent: at,
    }) = marker(lines[i])
    {
        if at != indent || (new_set && !tabs.is_empty()) {
            break;
        }
        let (body, next) = body(lines, i + 1, indent);
        tabs.push((
            label,
            crate::markdown::render_fragment(&body, ctx, depth + 1),
        ));
        i = next;
        let mut peek = i;
        while peek < lines.len() && indentation(lines[peek]).is_none() {
            peek += 1;
        }
        if peek >= lines.len()
            || !matches!(
                marker(lines[peek]),
                Some(Marker {
                    kind: MarkerKind::Tab { .. },
                    ..
                })
            )
        {
            break;
        }
        i = peek;
    }
    let mut inputs = String::new();
    let mut labels = String::new();
    let mut blocks = String::new();
    for (n, (label, html)) in tabs.iter().enumerate() {
        let id = format!("__tabbed_{set}_{}", n + 1);
        let checked = if n == 0 { " checked" } else { "" };
        inputs.push_str(&format!(
            "<input id=\"{id}\" name=\"__tabbed_{set}\" type=\"radio\"{checked}>"
        ));
        labels.push_str(&format!("<label for=\"{id}\">{}</label>", escape(label)));
        blocks.push_str(&format!("<div class=\"tabbed-block\">{html}</div>"));
    }
    let html = format!(
        "<div class=\"tabbed-set tabbed-alternate\" data-tabs=\"{set}:{count}\">{inputs}<div class=\"tabbed-labels\">{labels}</div><div class=\"tabbed-content\">{blocks}</div></div>",
        count = tabs.len()
    );
    (html, i)
}

/// Swaps the placeholders in rendered `html` for their blocks' HTML.
pub fn substitute(html: String, ctx: &PageContext) -> String {
    if !html.contains(ctx.token_prefix()) {
        return html;
    }
    let mut out = html;
    for (token, block) in ctx.placeholders() {
        let paragraph = format!("<p>{token}</p>");
        if out.contains(&paragraph) {
            out = out.replace(&paragraph, block);
        } else {
            out = out.replace(token.as_str(), block);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_recognised() {
        assert!(matches!(
            marker("!!! warning \"Experimental API\"").unwrap().kind,
            MarkerKind::Admonition { collapsible: None, ref title, .. } if title.as_deref() == Some("Experimental API")
        ));
        assert!(matches!(
            marker("    ??? abstract \"API Reference\"").unwrap(),
            Marker {
                indent: 4,
                kind: MarkerKind::Admonition {
                    collapsible: Some(false),
                    ..
                }
            }
        ));
        assert!(matches!(
            marker("???+ note").unwrap().kind,
            MarkerKind::Admonition {
                collapsible: Some(true),
                ..
            }
        ));
        assert!(matches!(
            marker("!!! note \"\"").unwrap().kind,
            MarkerKind::Admonition { title: None, .. }
        ));
        assert!(
            matches!(marker("=== \"✅ Do\"").unwrap().kind, MarkerKind::Tab { ref label, .. } if label == "✅ Do")
        );
        assert!(matches!(
            marker("::: starlette.applications.Starlette").unwrap().kind,
            MarkerKind::ApiReference { .. }
        ));
        assert!(matches!(marker("[TOC]").unwrap().kind, MarkerKind::Toc));
        assert!(marker("!!!!").is_none());
        assert!(marker("text !!! note").is_none());
        assert!(marker("").is_none());
    }

    #[test]
    fn bodies_end_at_the_first_line_indented_less() {
        let lines = ["!!! note", "    one", "", "    two", "", "after"];
        let (text, next) = body(&lines, 1, 0);
        assert_eq!(text, "one\n\ntwo\n");
        assert_eq!(next, 4);
    }
}
