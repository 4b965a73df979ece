//! API definitions (`spec.definition` of API entities) turned into view models:
//! OpenAPI and AsyncAPI documents into operations and channels, gRPC, GraphQL
//! and anything else into (highlighted) source. Plain functions over text,
//! unit-tested on the host; `pages::api_definition` only lays the results out.
//!
//! Anyone who can register an entity writes these documents, so every walk is
//! bounded: the YAML parser has its own depth and alias budget, `$ref` chains
//! have a cycle guard, schema summaries a depth and size budget, and every list
//! a length cap. Nothing here panics on any input.

pub mod asyncapi;
pub mod highlight;
pub mod openapi;
pub mod schema;

use serde_json::Value;
use std::fmt;

use crate::yaml::{self, YamlError};

/// Largest definition that is parsed; bigger ones are shown as raw text only.
pub const MAX_DEFINITION_BYTES: usize = 2 * 1024 * 1024;

/// Longest list (properties, enum values, parameters, responses, messages...)
/// kept from one place of a document; the rest is counted, not shown.
pub const MAX_LIST: usize = 50;

/// The kinds of definition an API entity declares in `spec.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiType {
    OpenApi,
    AsyncApi,
    Grpc,
    GraphQl,
    Other,
}

impl ApiType {
    /// Reads `spec.type`, ignoring case as Backstage's API docs do.
    pub fn of(spec_type: &str) -> Self {
        match spec_type.trim().to_ascii_lowercase().as_str() {
            "openapi" => ApiType::OpenApi,
            "asyncapi" => ApiType::AsyncApi,
            "grpc" => ApiType::Grpc,
            "graphql" => ApiType::GraphQl,
            _ => ApiType::Other,
        }
    }

    /// A stable lower-case name, used as `data-api-type` in the page.
    pub fn slug(self) -> &'static str {
        match self {
            ApiType::OpenApi => "openapi",
            ApiType::AsyncApi => "asyncapi",
            ApiType::Grpc => "grpc",
            ApiType::GraphQl => "graphql",
            ApiType::Other => "other",
        }
    }
}

/// Why a definition could not be shown as a structured document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub message: String,
    /// 1-based line of the problem in the definition text, when known.
    pub line: Option<u64>,
}

impl DefinitionError {
    fn new(message: impl Into<String>) -> Self {
        DefinitionError {
            message: message.into(),
            line: None,
        }
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            // The parser's own messages usually say where already.
            Some(line) if !self.message.contains(" line ") => {
                write!(f, "{} (line {line})", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

/// A definition ready to be laid out.
#[derive(Debug, Clone, PartialEq)]
pub enum Definition {
    OpenApi(openapi::OpenApiDoc),
    AsyncApi(asyncapi::AsyncApiDoc),
    /// Shown as source text, tokenized with [`highlight::tokenize`].
    Source(highlight::Language),
}

/// `info` of an OpenAPI or AsyncAPI document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    pub title: String,
    pub version: String,
    pub description: String,
}

/// One server an API is reachable at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Server {
    /// The key of an AsyncAPI server; empty for OpenAPI.
    pub name: String,
    pub url: String,
    pub protocol: String,
    pub description: String,
}

/// Parses `text` as the kind of definition `api_type` declares.
pub async fn parse_definition(
    api_type: ApiType,
    text: &str,
) -> Result<Definition, DefinitionError> {
    match api_type {
        ApiType::OpenApi => openapi::parse(&parse_document(text).await?).map(Definition::OpenApi),
        ApiType::AsyncApi => {
            asyncapi::parse(&parse_document(text).await?).map(Definition::AsyncApi)
        }
        ApiType::Grpc => Ok(Definition::Source(highlight::Language::Protobuf)),
        ApiType::GraphQl => Ok(Definition::Source(highlight::Language::GraphQl)),
        ApiType::Other => Ok(Definition::Source(highlight::Language::Plain)),
    }
}

/// Parses a YAML or JSON document whose root must be a mapping (the result
/// is always a `Value::Object`). JSON is read here; YAML by the catalog's own
/// bounded parser (depth, alias and size budgets) in the YAML module, which
/// is fetched on first use.
pub async fn parse_document(text: &str) -> Result<Value, DefinitionError> {
    if text.trim().is_empty() {
        return Err(DefinitionError::new("This API has no definition."));
    }
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(DefinitionError::new(format!(
            "The definition is too large to show as a document ({} bytes; the limit is {MAX_DEFINITION_BYTES} bytes).",
            text.len()
        )));
    }
    if text.trim_start().starts_with('{') {
        if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
            return Ok(value);
        }
    }
    match yaml::parse_documents(text).await {
        Ok(mut documents) => match documents.len() {
            0 => Err(DefinitionError::new("This API has no definition.")),
            _ => Ok(documents.swap_remove(0)),
        },
        Err(YamlError::Invalid(message)) if message.starts_with("Expected object at root") => {
            Err(DefinitionError::new(format!(
                "The definition is {}, not a YAML or JSON mapping.",
                root_kind(text)
            )))
        }
        Err(YamlError::Invalid(message)) => {
            let message = first_line(&message);
            Err(DefinitionError {
                line: line_of(message),
                message: format!("The definition is not valid YAML or JSON: {message}"),
            })
        }
        Err(YamlError::Unavailable(message)) => Err(DefinitionError::new(message)),
    }
}

/// What a non-mapping root is, for the message (the parser only says "object").
fn root_kind(text: &str) -> &'static str {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && *l != "---")
        .unwrap_or_default();
    if first.starts_with('-') || first.starts_with('[') {
        "a list"
    } else {
        "a single value"
    }
}

/// The line a parser message names ("... at line 3, column 10").
fn line_of(message: &str) -> Option<u64> {
    let rest = &message[message.find("line ")? + 5..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|&l| l > 0)
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or_default().trim()
}

/// A scalar as text (numbers and booleans too: `version: 1.0` is common).
pub(crate) fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

pub(crate) fn field(value: &Value, key: &str) -> String {
    text(value.get(key))
}

pub(crate) fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}

pub(crate) fn info_of(doc: &Value) -> Info {
    let info = doc.get("info").unwrap_or(&Value::Null);
    Info {
        title: field(info, "title"),
        version: field(info, "version"),
        description: field(info, "description"),
    }
}

/// The entries of a mapping in document order (nothing for other values).
pub(crate) fn entries(value: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    value.and_then(Value::as_object).into_iter().flatten()
}

/// A note for the reader when `total` entries were capped at `shown`.
pub(crate) fn capped_note(total: usize, shown: usize, what: &str) -> Option<String> {
    (total > shown).then(|| format!("Only the first {shown} of {total} {what} are shown."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn api_types_ignore_case() {
        assert_eq!(ApiType::of("OpenAPI"), ApiType::OpenApi);
        assert_eq!(ApiType::of(" asyncapi "), ApiType::AsyncApi);
        assert_eq!(ApiType::of("grpc"), ApiType::Grpc);
        assert_eq!(ApiType::of("GraphQL"), ApiType::GraphQl);
        assert_eq!(ApiType::of("trpc"), ApiType::Other);
        assert_eq!(ApiType::of(""), ApiType::Other);
        assert_eq!(ApiType::GraphQl.slug(), "graphql");
    }

    #[test]
    fn yaml_and_json_documents_parse() {
        let yaml = block_on(parse_document("openapi: 3.0.0\nresponses:\n  200: ok\n")).unwrap();
        assert_eq!(yaml["openapi"], "3.0.0");
        // Unquoted numeric keys (status codes) become string keys.
        assert_eq!(yaml["responses"]["200"], "ok");
        let json = block_on(parse_document(r#"{"openapi": "3.1.0", "paths": {}}"#)).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
    }

    #[test]
    fn syntax_errors_name_their_line() {
        let error = block_on(parse_document(
            "openapi: 3.0.0\ninfo:\n  title: [unclosed\n",
        ))
        .unwrap_err();
        assert!(
            error
                .message
                .starts_with("The definition is not valid YAML or JSON"),
            "{error}"
        );
        assert!(error.line.is_some(), "{error:?}");
        assert!(!error.message.contains('\n'));
        assert!(error.to_string().contains("line 3"), "{error}");
        let bare = DefinitionError {
            message: "Odd".into(),
            line: Some(7),
        };
        assert_eq!(bare.to_string(), "Odd (line 7)");
    }

    #[test]
    fn empty_scalar_and_list_roots_are_refused() {
        assert_eq!(
            block_on(parse_document("  \n")).unwrap_err().message,
            "This API has no definition."
        );
        assert!(block_on(parse_document("just a string"))
            .unwrap_err()
            .message
            .contains("a single value"));
        assert!(block_on(parse_document("- a\n- b\n"))
            .unwrap_err()
            .message
            .contains("a list"));
        assert_eq!(
            block_on(parse_document("~")).unwrap_err().message,
            "This API has no definition."
        );
        assert_eq!(line_of("bad at line 12, column 3"), Some(12));
        assert_eq!(line_of("no position"), None);
    }

    #[test]
    fn oversized_and_hostile_documents_fail_cleanly() {
        let huge = "a: b\n".repeat(MAX_DEFINITION_BYTES / 5 + 1);
        assert!(block_on(parse_document(&huge))
            .unwrap_err()
            .message
            .contains("too large"));

        // Nesting far beyond the parser's depth budget.
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        assert!(block_on(parse_document(&deep)).is_err());
        let deep_map = (0..3000).fold(String::new(), |acc, i| {
            format!("{acc}{}k{i}:\n", "  ".repeat(i))
        });
        assert!(block_on(parse_document(&deep_map)).is_err());

        // "Billion laughs": aliases expanding exponentially.
        let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            laughs.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(block_on(parse_document(&laughs)).is_err());

        // Binary garbage and lone tabs do not panic.
        for junk in [
            "\u{0}\u{1}\u{2}",
            "\t\t- :\n:",
            "{{{{",
            "'",
            "key: \"unterminated",
            "a: &x *x",
        ] {
            let _ = block_on(parse_document(junk));
        }
    }

    #[test]
    fn declared_types_pick_the_parser() {
        assert!(matches!(
            block_on(parse_definition(ApiType::Grpc, "syntax = \"proto3\";")),
            Ok(Definition::Source(highlight::Language::Protobuf))
        ));
        assert!(matches!(
            block_on(parse_definition(ApiType::Other, "anything")),
            Ok(Definition::Source(highlight::Language::Plain))
        ));
        // An AsyncAPI document declared as OpenAPI is not silently accepted.
        let error = block_on(parse_definition(
            ApiType::OpenApi,
            "asyncapi: 2.6.0\nchannels: {}\n",
        ))
        .unwrap_err();
        assert!(error.message.contains("OpenAPI"), "{error}");
        let error = block_on(parse_definition(
            ApiType::AsyncApi,
            "openapi: 3.0.0\npaths: {}\n",
        ))
        .unwrap_err();
        assert!(error.message.contains("AsyncAPI"), "{error}");
    }

    #[test]
    fn scalars_read_as_text() {
        let v: Value = serde_json::json!({"a": 1.5, "b": true, "c": " x ", "d": [1]});
        assert_eq!(field(&v, "a"), "1.5");
        assert_eq!(field(&v, "b"), "true");
        assert_eq!(field(&v, "c"), "x");
        assert_eq!(field(&v, "d"), "");
        assert_eq!(field(&v, "missing"), "");
        assert_eq!(capped_note(3, 3, "x"), None);
        assert_eq!(
            capped_note(70, 50, "operations").as_deref(),
            Some("Only the first 50 of 70 operations are shown.")
        );
    }
}
