//! Code blocks: syntect tokenises them into `<span class="hl-...">`, and one
//! generated style sheet colours the classes, so pages carry no inline styles
//! (the sanitiser drops `style` attributes anyway).

use std::sync::OnceLock;

use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::{SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

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
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, syntaxes(), CLASS_STYLE);
    for line in LinesWithEndings::from(code) {
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    Some(generator.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_languages_get_classes_and_unknown_ones_none() {
        let html = highlight("def f(x):\n    return \"<b>\"\n", "python").unwrap();
        assert!(html.contains("class=\"hl-"), "{html}");
        assert!(html.contains("&lt;b&gt;"), "code text is escaped: {html}");
        assert!(highlight("x = 1\n", "py").is_some());
        assert!(highlight("a: 1\n", "yml").is_some());
        assert!(highlight("x\n", "no-such-language").is_none());
        assert!(highlight("x\n", "").is_none());
    }
}
