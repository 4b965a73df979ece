//! A small tokenizer for protobuf and GraphQL SDL, enough to colour keywords,
//! types, strings, comments, numbers and punctuation. The spans it yields cover
//! the input exactly, so concatenating them gives back the source.

/// Source longer than this is shown without colours.
pub const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Protobuf,
    GraphQl,
    /// Anything else: shown as plain text.
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenClass {
    /// Names, whitespace and anything unrecognised.
    Text,
    Keyword,
    /// Built-in scalar types.
    Type,
    String,
    Comment,
    Number,
    Punctuation,
}

impl TokenClass {
    /// The CSS class a token is wrapped in; plain text is not wrapped.
    pub fn css_class(self) -> Option<&'static str> {
        match self {
            TokenClass::Text => None,
            TokenClass::Keyword => Some("tok-keyword"),
            TokenClass::Type => Some("tok-type"),
            TokenClass::String => Some("tok-string"),
            TokenClass::Comment => Some("tok-comment"),
            TokenClass::Number => Some("tok-number"),
            TokenClass::Punctuation => Some("tok-punct"),
        }
    }
}

const PROTO_KEYWORDS: &[&str] = &[
    "syntax",
    "edition",
    "package",
    "import",
    "option",
    "message",
    "enum",
    "service",
    "rpc",
    "returns",
    "stream",
    "repeated",
    "optional",
    "required",
    "oneof",
    "map",
    "reserved",
    "extensions",
    "extend",
    "to",
    "max",
    "weak",
    "public",
    "group",
    "true",
    "false",
];
const PROTO_TYPES: &[&str] = &[
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
    "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
];
const GRAPHQL_KEYWORDS: &[&str] = &[
    "type",
    "interface",
    "union",
    "enum",
    "input",
    "scalar",
    "schema",
    "extend",
    "directive",
    "implements",
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "repeatable",
    "true",
    "false",
    "null",
];
const GRAPHQL_TYPES: &[&str] = &["Int", "Float", "String", "Boolean", "ID"];

/// Splits `source` into classed spans; adjacent plain text is merged.
pub fn tokenize(language: Language, source: &str) -> Vec<(TokenClass, &str)> {
    if language == Language::Plain || source.len() > MAX_HIGHLIGHT_BYTES {
        return if source.is_empty() {
            Vec::new()
        } else {
            vec![(TokenClass::Text, source)]
        };
    }
    let bytes = source.as_bytes();
    let graphql = language == Language::GraphQl;
    // (class, start, end) byte ranges; adjacent plain text is merged.
    let mut spans: Vec<(TokenClass, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let rest = &bytes[i..];
        let class = if graphql && rest.starts_with(b"\"\"\"") {
            i = find(bytes, i + 3, b"\"\"\"").map_or(bytes.len(), |end| end + 3);
            TokenClass::String
        } else if b == b'"' || (!graphql && b == b'\'') {
            i = string_end(bytes, i);
            TokenClass::String
        } else if (graphql && b == b'#') || (!graphql && rest.starts_with(b"//")) {
            i = line_end(bytes, i);
            TokenClass::Comment
        } else if !graphql && rest.starts_with(b"/*") {
            i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |end| end + 2);
            TokenClass::Comment
        } else if b.is_ascii_digit() {
            i = word_end(bytes, i);
            TokenClass::Number
        } else if is_word_byte(b) {
            i = word_end(bytes, i);
            let word = &source[start..i];
            classify(graphql, word, next_significant(bytes, i))
        } else if graphql && b == b'@' && bytes.get(i + 1).is_some_and(|&n| is_word_byte(n)) {
            // Directives: `@deprecated`.
            i = word_end(bytes, i + 1);
            TokenClass::Keyword
        } else if b.is_ascii_punctuation() {
            i += 1;
            TokenClass::Punctuation
        } else {
            // Whitespace and control characters (always ASCII here).
            i += 1;
            TokenClass::Text
        };
        match spans.last_mut() {
            Some((TokenClass::Text, _, end)) if class == TokenClass::Text => *end = i,
            _ => spans.push((class, start, i)),
        }
    }
    spans
        .into_iter()
        .map(|(class, start, end)| (class, &source[start..end]))
        .collect()
}

fn classify(graphql: bool, word: &str, next: Option<u8>) -> TokenClass {
    let (keywords, types) = if graphql {
        (GRAPHQL_KEYWORDS, GRAPHQL_TYPES)
    } else {
        (PROTO_KEYWORDS, PROTO_TYPES)
    };
    // A word followed by `:` or `(` (GraphQL) or `=` (protobuf) is a field or
    // argument name, even when it is spelled like a keyword (`type: String`).
    let is_name = match next {
        Some(b':' | b'(') => graphql,
        Some(b'=') => !graphql && word != "syntax" && word != "edition",
        _ => false,
    };
    if is_name {
        TokenClass::Text
    } else if keywords.contains(&word) {
        TokenClass::Keyword
    } else if types.contains(&word) {
        TokenClass::Type
    } else {
        TokenClass::Text
    }
}

/// Identifier bytes; every non-ASCII byte counts, so spans never split a
/// multi-byte character.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len()
        && (is_word_byte(bytes[i])
            || (bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
    {
        i += 1;
    }
    i
}

fn next_significant(bytes: &[u8], i: usize) -> Option<u8> {
    bytes[i..]
        .iter()
        .copied()
        .find(|b| *b != b' ' && *b != b'\t')
}

/// The end of a quoted string starting at `i`: after the closing quote, or at
/// the end of the line for an unterminated one.
fn string_end(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' if j + 1 < bytes.len() && bytes[j + 1] != b'\n' => j += 2,
            b'\n' => return j,
            b if b == quote => return j + 1,
            _ => j += 1,
        }
    }
    bytes.len()
}

fn line_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| i + p)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenClass::*;

    fn classes(language: Language, source: &str) -> Vec<(TokenClass, &str)> {
        tokenize(language, source)
            .into_iter()
            .map(|(c, t)| (c, if c == Text { t.trim() } else { t }))
            .filter(|(_, t)| !t.is_empty())
            .collect()
    }

    fn joined(tokens: &[(TokenClass, &str)]) -> std::string::String {
        tokens.iter().map(|(_, t)| *t).collect()
    }

    #[test]
    fn protobuf_tokens() {
        let source = "syntax = \"proto3\";\n// A service\nservice S {\n  rpc Get(Req) returns (stream Resp);\n}\nmessage M { repeated string ids = 1; /* ok */ double max = 2; }\n";
        let tokens = classes(Language::Protobuf, source);
        assert_eq!(
            &tokens[..4],
            [
                (Keyword, "syntax"),
                (Punctuation, "="),
                (String, "\"proto3\""),
                (Punctuation, ";")
            ]
        );
        assert!(tokens.contains(&(Comment, "// A service")));
        assert!(tokens.contains(&(Keyword, "rpc")));
        assert!(tokens.contains(&(Keyword, "returns")));
        assert!(tokens.contains(&(Keyword, "stream")));
        assert!(tokens.contains(&(Type, "string")));
        assert!(tokens.contains(&(Number, "1")));
        assert!(tokens.contains(&(Comment, "/* ok */")));
        assert!(tokens.contains(&(Type, "double")));
        // `max` before `=` is a field name, not the `max` of `reserved 1 to max`.
        assert!(tokens.contains(&(Text, "max")));
        assert_eq!(joined(&tokenize(Language::Protobuf, source)), source);
    }

    #[test]
    fn graphql_tokens() {
        let source = "\"\"\"\nDocs \"quoted\"\n\"\"\"\ntype Query {\n  # a comment\n  shipment(id: ID!, first: Int = 50): Shipment @deprecated(reason: \"old\")\n  type: String\n}\n";
        let tokens = classes(Language::GraphQl, source);
        assert_eq!(tokens[0], (String, "\"\"\"\nDocs \"quoted\"\n\"\"\""));
        assert_eq!(tokens[1], (Keyword, "type"));
        assert!(tokens.contains(&(Comment, "# a comment")));
        assert!(tokens.contains(&(Type, "ID")));
        assert!(tokens.contains(&(Type, "Int")));
        assert!(tokens.contains(&(Number, "50")));
        assert!(tokens.contains(&(Keyword, "@deprecated")));
        assert!(tokens.contains(&(String, "\"old\"")));
        assert!(tokens.contains(&(Punctuation, "!")));
        // A field called `type` stays a name.
        assert!(tokens.contains(&(Text, "type")));
        assert_eq!(joined(&tokenize(Language::GraphQl, source)), source);
    }

    #[test]
    fn plain_text_is_one_span_and_text_is_merged() {
        assert_eq!(tokenize(Language::Plain, "a 'b' 1"), [(Text, "a 'b' 1")]);
        assert!(tokenize(Language::Plain, "").is_empty());
        assert_eq!(tokenize(Language::GraphQl, "foo bar"), [(Text, "foo bar")]);
        let big = "message M {}\n".repeat(MAX_HIGHLIGHT_BYTES / 13 + 1);
        assert_eq!(tokenize(Language::Protobuf, &big).len(), 1);
    }

    #[test]
    fn unterminated_and_odd_input_never_panics_and_round_trips() {
        let samples = [
            "\"unterminated",
            "'x\\",
            "\"\\",
            "/* open comment",
            "\"\"\"open block",
            "\"\"\"",
            "//",
            "#",
            "@",
            "@@x",
            "1.2.3e5x",
            "ünïcödé 名前 = \"字\"; // コメント",
            "\u{0}\u{1}\t\r\n",
            "a\"b\nc\"",
            "🙂{🙂}",
        ];
        for sample in samples {
            for language in [Language::Protobuf, Language::GraphQl, Language::Plain] {
                let tokens = tokenize(language, sample);
                assert_eq!(joined(&tokens), sample, "{language:?} {sample:?}");
                assert!(tokens.iter().all(|(_, t)| !t.is_empty()));
            }
        }
        // An unterminated string stops at the end of its line.
        let tokens = classes(Language::Protobuf, "\"open\nmessage");
        assert_eq!(tokens, [(String, "\"open"), (Keyword, "message")]);
    }

    #[test]
    fn every_class_but_text_has_a_css_class() {
        assert_eq!(Text.css_class(), None);
        for class in [Keyword, Type, String, Comment, Number, Punctuation] {
            assert!(class.css_class().unwrap().starts_with("tok-"));
        }
    }
}
