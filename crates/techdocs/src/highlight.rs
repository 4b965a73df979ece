//! Code blocks: syntect tokenises them, and each token becomes at most one flat
//! `<span class="hl-...">` of a small set of classes (keyword, string,
//! comment, ...) that the site's style sheet colours. Flat spans keep pages
//! about as small as Pygments' output; syntect's own HTML nests a span per
//! scope and doubles the size of code-heavy pages.

use std::sync::OnceLock;

use syntect::easy::ScopeRangeIterator;
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

use crate::markdown::escape_into;

/// Scope prefixes and the class they get, most specific first; a token takes
/// the class of its innermost scope that has one.
const CLASSES: &[(&str, &str)] = &[
    ("comment", "hl-comment"),
    ("string", "hl-string"),
    ("constant.numeric", "hl-number"),
    ("constant", "hl-constant"),
    ("variable.language", "hl-constant"),
    ("keyword", "hl-keyword"),
    ("storage", "hl-keyword"),
    ("entity.name.tag", "hl-tag"),
    ("entity.other.attribute-name", "hl-attr"),
    ("entity.name.function", "hl-function"),
    ("support.function", "hl-function"),
    ("entity.name", "hl-name"),
    ("support.type", "hl-type"),
    ("support.class", "hl-type"),
    ("entity.other.inherited-class", "hl-type"),
    ("variable.parameter", "hl-param"),
    ("markup.heading", "hl-keyword"),
    ("markup.bold", "hl-strong"),
    ("markup.italic", "hl-emphasis"),
    ("meta.decorator", "hl-function"),
];

fn class_scopes() -> &'static [(Scope, &'static str)] {
    static SCOPES: OnceLock<Vec<(Scope, &'static str)>> = OnceLock::new();
    SCOPES.get_or_init(|| {
        CLASSES
            .iter()
            .map(|(prefix, class)| (Scope::new(prefix).expect("valid scope"), *class))
            .collect()
    })
}

fn class_of(stack: &ScopeStack) -> Option<&'static str> {
    let scopes = class_scopes();
    stack.as_slice().iter().rev().find_map(|scope| {
        scopes
            .iter()
            .find(|(prefix, _)| prefix.is_prefix_of(*scope))
            .map(|(_, class)| *class)
    })
}

/// Larger blocks are shown without colours: tokenising is the slowest part of a
/// build, and a generated dump of that size is not read for its colours.
const MAX_HIGHLIGHTED_BYTES: usize = 64 * 1024;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Loads the syntax definitions ahead of the first code block (they take a few
/// milliseconds to decompress), so page rendering threads do not wait on it.
pub fn warm_up() {
    syntaxes();
}

fn find_syntax(lang: &str) -> Option<&'static SyntaxReference> {
    let set = syntaxes();
    let lang = lang.to_ascii_lowercase();
    let alias = match lang.as_str() {
        "py" | "python3" | "pycon" => "python",
        "sh" | "shell" | "console" | "shell-session" | "zsh" => "bash",
        "yml" => "yaml",
        "js" | "jsx" | "mjs" => "javascript",
        "ts" | "tsx" | "typescript" => "javascript",
        "jinja" | "jinja2" | "html+jinja" | "htmldjango" | "vue" => "html",
        "rs" => "rust",
        "golang" => "go",
        "dockerfile" | "docker" => "bash",
        "jsonc" | "json5" => "json",
        "md" => "markdown",
        "c++" => "cpp",
        "cs" | "c#" => "c#",
        other => other,
    };
    set.find_syntax_by_token(alias)
}

/// The highlighted inner HTML of a code block (what goes inside `<code>`), or
/// `None` when the language is unknown or the block too large.
pub fn highlight(code: &str, lang: &str) -> Option<String> {
    if code.len() > MAX_HIGHLIGHTED_BYTES || lang.is_empty() {
        return None;
    }
    let syntax = find_syntax(lang)?;
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut out = String::with_capacity(code.len() * 2);
    let mut open: Option<&str> = None;
    for line in LinesWithEndings::from(code) {
        let ops = state.parse_line(line, syntaxes()).ok()?;
        for (range, op) in ScopeRangeIterator::new(&ops, line) {
            stack.apply(op).ok()?;
            if range.is_empty() {
                continue;
            }
            let class = class_of(&stack);
            if class != open {
                if open.is_some() {
                    out.push_str("</span>");
                }
                if let Some(class) = class {
                    out.push_str("<span class=\"");
                    out.push_str(class);
                    out.push_str("\">");
                }
                open = class;
            }
            escape_into(&mut out, &line[range]);
        }
    }
    if open.is_some() {
        out.push_str("</span>");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_languages_get_classes_and_unknown_ones_none() {
        let html = highlight("def f(x):\n    return \"<b>\"\n", "python").unwrap();
        assert!(
            html.contains("<span class=\"hl-keyword\">def</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"hl-string\">&quot;&lt;b&gt;&quot;</span>"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;"), "code text is escaped: {html}");
        assert!(highlight("x = 1\n", "py").is_some());
        assert!(highlight("a: 1\n", "yml").is_some());
        assert!(highlight("x\n", "no-such-language").is_none());
        assert!(highlight("x\n", "").is_none());
    }
}
