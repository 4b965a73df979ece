//! What can go wrong when a template is checked or rendered.
//!
//! Every message quotes the part of the template at fault, because the person who
//! reads it is a template author looking at a failed task or a rejected template,
//! not at this process.

use minijinja::ErrorKind;

/// Longest quoted piece of template in an error message.
const SNIPPET_CHARS: usize = 120;

/// A template that could not be checked or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    /// The template does not parse.
    #[error("syntax error at line {line}, column {column} in template {snippet:?}: {message}")]
    Syntax {
        /// The line of the template at fault.
        snippet: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// What the parser expected or found.
        message: String,
    },
    /// The render ran out of fuel: a loop, recursion or value too big for the budget.
    #[error(
        "template {snippet:?} exceeded its evaluation budget of {fuel} fuel \
         (a loop, recursion or value too big to evaluate)"
    )]
    Budget {
        /// The template (or its line at fault).
        snippet: String,
        /// The budget that ran out.
        fuel: u64,
    },
    /// The render produced more text than the cap allows.
    #[error("template {snippet:?} rendered more than {limit} bytes of output")]
    OutputTooLarge {
        /// The template.
        snippet: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// Macro calls nested deeper than the recursion limit.
    #[error("template {snippet:?} nests macro calls too deeply (recursion limit reached)")]
    TooDeep {
        /// The line of the template at fault.
        snippet: String,
    },
    /// Evaluation failed: a filter refused its input, a value had the wrong type, etc.
    #[error("error at line {line} in template {snippet:?}: {message}")]
    Render {
        /// The line of the template at fault.
        snippet: String,
        /// 1-based line of the error (1 when unknown).
        line: usize,
        /// What went wrong.
        message: String,
    },
}

/// Turns an engine error into an [`ExprError`] that quotes `source`.
///
/// `output_exceeded` is true when the output sink refused a write because of the
/// cap: the engine only sees a failed write.
pub(crate) fn from_engine(
    err: &minijinja::Error,
    source: &str,
    fuel: u64,
    output_cap: usize,
    output_exceeded: bool,
) -> ExprError {
    if output_exceeded {
        return ExprError::OutputTooLarge {
            snippet: snippet(source, None),
            limit: output_cap,
        };
    }
    let line = err.line();
    let snippet = snippet(source, line);
    let message = message(err);
    match err.kind() {
        ErrorKind::SyntaxError | ErrorKind::BadEscape => {
            let column = err.range().map(|r| column_of(source, r.start)).unwrap_or(1);
            ExprError::Syntax {
                snippet,
                line: line.unwrap_or(1),
                column,
                message: explain_syntax(&message),
            }
        }
        ErrorKind::OutOfFuel => ExprError::Budget { snippet, fuel },
        ErrorKind::InvalidOperation if err.detail() == Some("recursion limit exceeded") => {
            ExprError::TooDeep { snippet }
        }
        _ => ExprError::Render {
            snippet,
            line: line.unwrap_or(1),
            message,
        },
    }
}

/// The engine's words for what went wrong, without its location suffix (the
/// snippet and line say that better).
fn message(err: &minijinja::Error) -> String {
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}

/// Statements that would load another template exist in Jinja but not here; say so
/// instead of leaving the author with "unknown statement".
fn explain_syntax(message: &str) -> String {
    for statement in ["include", "import", "extends", "from", "block"] {
        if message.ends_with(&format!("unknown statement {statement}")) {
            return format!(
                "{message} (templates cannot include, import or extend other templates)"
            );
        }
    }
    message.to_string()
}

/// The line `line` of `source` (or its start), cut to a readable length.
pub(crate) fn snippet(source: &str, line: Option<usize>) -> String {
    let text = match line {
        Some(n) if n > 0 => source.lines().nth(n - 1).unwrap_or(source),
        _ => source,
    };
    let text = text.trim();
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if text.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// 1-based character column of byte `offset` in `source`.
fn column_of(source: &str, offset: usize) -> usize {
    let offset = offset.min(source.len());
    let Some(prefix) = source.get(..offset) else {
        return 1;
    };
    let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
    prefix[line_start..].chars().count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_quotes_the_line_and_cuts_long_ones() {
        assert_eq!(snippet("a\n  b  \nc", Some(2)), "b");
        assert_eq!(snippet("abc", None), "abc");
        let long = "x".repeat(200);
        let s = snippet(&long, Some(1));
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn column_counts_characters_from_the_line_start() {
        assert_eq!(column_of("ab\ncdé", 3), 1);
        assert_eq!(column_of("ab\ncdéf", 7), 4);
        assert_eq!(column_of("abc", 0), 1);
    }
}
