//! Multi-document YAML parsing for catalog descriptors (reference section 3.2):
//! every plain-object document is one entity, null documents are skipped, any
//! other root is an error. Parsing is bounded (size, aliases, nesting) so a
//! hostile file cannot exhaust memory.

use serde_json::Value;
use serde_saphyr::{DuplicateKeyPolicy, MergeKeyPolicy, Spanned};

/// Largest descriptor text accepted.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

/// One parsed document and the 1-based line where its root node starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    pub line: usize,
}

fn parse_options() -> serde_saphyr::Options {
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    // Alias expansion is where "billion laughs" documents explode.
    alias_limits.max_total_replayed_events = 100_000;
    alias_limits.max_alias_expansions_per_anchor = 1_000;
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: Some(MAX_DOCUMENT_BYTES),
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_events: 2_000_000,
            max_documents: 10_000,
            max_depth: 64,
        },
        alias_limits: alias_limits,
        // Backstage parses with merge keys off and rejects duplicate keys.
        merge_keys: MergeKeyPolicy::AsOrdinary,
        duplicate_keys: DuplicateKeyPolicy::Error,
        with_snippet: false,
    }
}

/// Parses every document of a descriptor file.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, String> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "Descriptor is too large: {} bytes, the limit is {MAX_DOCUMENT_BYTES} bytes",
            text.len()
        ));
    }
    let docs: Vec<Spanned<Value>> = serde_saphyr::from_multiple_with_options(text, parse_options())
        .map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        let line = usize::try_from(doc.referenced.line()).unwrap_or(0).max(1);
        match doc.value {
            Value::Null => continue,
            Value::Object(_) => out.push(Document {
                value: doc.value,
                line,
            }),
            other => {
                return Err(format!(
                    "Expected object at root, got {}",
                    js_typeof(&other)
                ))
            }
        }
    }
    Ok(out)
}

/// JavaScript's `typeof`, which Backstage prints (arrays are "object").
fn js_typeof(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Null | Value::Array(_) | Value::Object(_) => "object",
    }
}

/// Best-effort 1-based line of a dotted `field` (`spec.owner`,
/// `metadata.annotations.backstage.io/x`, `metadata.tags.1`) inside `doc`.
/// When the full path is not found (e.g. a missing required key) the line of
/// the deepest existing ancestor is returned; None when not even the first
/// segment is found. Block-style YAML only; flow collections stop the descent.
pub fn field_line(text: &str, doc: &Document, field: &str) -> Option<usize> {
    let all: Vec<&str> = text.lines().collect();
    let start = doc.line.checked_sub(1)?;
    if start >= all.len() {
        return None;
    }
    let end = (start + 1..all.len())
        .find(|&i| all[i].starts_with("---") || all[i].starts_with("..."))
        .unwrap_or(all.len());
    let lines: Vec<(usize, String)> = (start..end).map(|i| (i + 1, all[i].to_string())).collect();
    let mut best = None;
    descend(&lines, field, &mut best);
    best
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_item(line: &str, indent: usize) -> bool {
    let t = &line[indent..];
    t == "-" || t.starts_with("- ")
}

/// The mapping key starting at `indent`, and whether a value follows on the line.
fn parse_key(line: &str, indent: usize) -> Option<(String, bool)> {
    let t = &line[indent..];
    let (key, after) = if let Some(q @ ('"' | '\'')) = t.chars().next() {
        let close = t[1..].find(q)? + 1;
        let after = t[close + 1..].trim_start();
        (t[1..close].to_string(), after.strip_prefix(':')?)
    } else {
        let colon = t
            .find(": ")
            .or_else(|| t.strip_suffix(':').map(|s| s.len()))?;
        (t[..colon].trim_end().to_string(), &t[colon + 1..])
    };
    let value = after.trim();
    let inline = !value.is_empty()
        && !value.starts_with('#')
        && !value.starts_with('|')
        && !value.starts_with('>');
    Some((key, inline))
}

fn descend(lines: &[(usize, String)], path: &str, best: &mut Option<usize>) {
    let Some(first) = lines.iter().position(|(_, l)| is_content(l)) else {
        return;
    };
    let indent = indent_of(&lines[first].1);

    if is_item(&lines[first].1, indent) {
        let (segment, rest) = path.split_once('.').unwrap_or((path, ""));
        let Ok(n) = segment.parse::<usize>() else {
            return;
        };
        let starts: Vec<usize> = (first..lines.len())
            .filter(|&i| {
                is_content(&lines[i].1)
                    && indent_of(&lines[i].1) == indent
                    && is_item(&lines[i].1, indent)
            })
            .collect();
        let Some(&s) = starts.get(n) else { return };
        *best = Some(lines[s].0);
        if rest.is_empty() {
            return;
        }
        let e = starts.get(n + 1).copied().unwrap_or(lines.len());
        let mut item = lines[s..e].to_vec();
        // Read the item's first line as if the dash were indentation.
        item[0].1.replace_range(indent..indent + 1, " ");
        descend(&item, rest, best);
        return;
    }

    let mut entries: Vec<(usize, String, bool)> = (first..lines.len())
        .filter(|&i| is_content(&lines[i].1) && indent_of(&lines[i].1) == indent)
        .filter_map(|i| parse_key(&lines[i].1, indent).map(|(k, inline)| (i, k, inline)))
        .filter(|(_, k, _)| {
            path == k
                || (path.starts_with(k.as_str()) && path.as_bytes().get(k.len()) == Some(&b'.'))
        })
        .collect();
    // Keys may contain dots themselves: prefer the longest matching key.
    entries.sort_by_key(|(_, k, _)| std::cmp::Reverse(k.len()));
    let Some((idx, key, inline)) = entries.into_iter().next() else {
        return;
    };
    *best = Some(lines[idx].0);
    if key == path || inline {
        return;
    }
    let rest = &path[key.len() + 1..];
    let end = (idx + 1..lines.len())
        .find(|&i| {
            let l = &lines[i].1;
            is_content(l)
                && (indent_of(l) < indent || (indent_of(l) == indent && !is_item(l, indent)))
        })
        .unwrap_or(lines.len());
    descend(&lines[idx + 1..end], rest, best);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MULTI: &str = "\
# a comment
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: a
  annotations:
    backstage.io/techdocs-ref: dir:.
    \"quoted.key\": x
  tags:
    - java
    - web
spec:
  type: service
  owner: team-a
  steps:
  - id: one
    action: x
  - id: two
    input:
      deep: 1
---
---
kind: Group
metadata:
  name: g
...
";

    #[test]
    fn parses_documents_with_start_lines_and_skips_nulls() {
        let docs = parse_documents(MULTI).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line, 2);
        assert_eq!(docs[0].value["metadata"]["tags"], json!(["java", "web"]));
        assert_eq!(docs[1].line, 23);
        assert_eq!(docs[1].value["kind"], "Group");
        assert_eq!(parse_documents("").unwrap(), vec![]);
        assert_eq!(parse_documents("---\n~\n---\n").unwrap(), vec![]);
    }

    #[test]
    fn non_object_roots_are_rejected() {
        assert_eq!(
            parse_documents("- a\n- b\n").unwrap_err(),
            "Expected object at root, got object"
        );
        assert_eq!(
            parse_documents("kind: A\n---\nhello\n").unwrap_err(),
            "Expected object at root, got string"
        );
        assert_eq!(
            parse_documents("42\n").unwrap_err(),
            "Expected object at root, got number"
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse_documents("kind: A\nmetadata:\n  name: [unclosed\n").unwrap_err();
        assert_eq!(err, "unclosed bracket '[' at line 3, column 9");
        let err = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert!(err.to_lowercase().contains("duplicate"), "{err}");
    }

    #[test]
    fn merge_keys_are_ordinary_keys() {
        let docs = parse_documents("base: &b {x: 1}\nother:\n  <<: *b\n").unwrap();
        assert_eq!(docs[0].value["other"], json!({"<<": {"x": 1}}));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
        let mut prev = "a";
        for n in names {
            bomb.push_str(&format!("{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = n;
        }
        let err = parse_documents(&bomb).unwrap_err();
        assert!(err.to_lowercase().contains("alias"), "{err}");
    }

    #[test]
    fn oversized_text_is_refused() {
        let big = format!("a: \"{}\"\n", "x".repeat(MAX_DOCUMENT_BYTES));
        assert_eq!(
            parse_documents(&big).unwrap_err(),
            format!(
                "Descriptor is too large: {} bytes, the limit is {MAX_DOCUMENT_BYTES} bytes",
                big.len()
            )
        );
    }

    #[test]
    fn field_lines() {
        let docs = parse_documents(MULTI).unwrap();
        let d = &docs[0];
        assert_eq!(field_line(MULTI, d, "kind"), Some(3));
        assert_eq!(field_line(MULTI, d, "metadata.name"), Some(5));
        assert_eq!(
            field_line(MULTI, d, "metadata.annotations.backstage.io/techdocs-ref"),
            Some(7)
        );
        assert_eq!(
            field_line(MULTI, d, "metadata.annotations.quoted.key"),
            Some(8)
        );
        assert_eq!(field_line(MULTI, d, "metadata.tags.1"), Some(11));
        assert_eq!(field_line(MULTI, d, "spec.owner"), Some(14));
        assert_eq!(field_line(MULTI, d, "spec.steps.1.input.deep"), Some(20));
        assert_eq!(field_line(MULTI, d, "spec.steps.0.action"), Some(17));
        // missing leaf → deepest existing ancestor
        assert_eq!(field_line(MULTI, d, "spec.lifecycle"), Some(12));
        assert_eq!(field_line(MULTI, d, "nothing"), None);
        assert_eq!(field_line(MULTI, &docs[1], "metadata.name"), Some(25));
        assert_eq!(field_line(MULTI, &docs[1], "spec"), None);
    }
}
