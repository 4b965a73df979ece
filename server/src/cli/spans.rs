//! Source lines of values in a multi-document YAML file, so `--against` can
//! point at the exact line of `spec.owner` or `spec.providesApis[1]`.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

/// One YAML document: its JSON value and the line of every value in it, keyed
/// by path (`spec.owner`, `spec.dependsOn[0]`).
pub struct SpannedDocument {
    pub value: Value,
    pub start_line: usize,
    lines: HashMap<String, usize>,
}

impl SpannedDocument {
    /// The line of the value at `path`, or the document's first line.
    pub fn line_of(&self, path: &str) -> usize {
        self.lines.get(path).copied().unwrap_or(self.start_line)
    }
}

/// Parses every document of `text`.
pub fn parse_documents(text: &str) -> Result<Vec<SpannedDocument>, String> {
    let docs: Vec<Spanned<Node>> = serde_saphyr::from_multiple(text).map_err(|e| e.to_string())?;
    Ok(docs
        .into_iter()
        .map(|doc| {
            let mut lines = HashMap::new();
            let start_line = line(&doc);
            let value = flatten(doc, String::new(), &mut lines);
            SpannedDocument {
                value,
                start_line,
                lines,
            }
        })
        .collect())
}

fn line<T>(spanned: &Spanned<T>) -> usize {
    usize::try_from(spanned.referenced.line()).unwrap_or(0)
}

fn flatten(node: Spanned<Node>, path: String, lines: &mut HashMap<String, usize>) -> Value {
    lines.insert(path.clone(), line(&node));
    match node.value {
        Node::Scalar(v) => v,
        Node::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| flatten(item, format!("{path}[{i}]"), lines))
                .collect(),
        ),
        Node::Map(entries) => {
            let mut map = Map::new();
            for (key, item) in entries {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                map.insert(key, flatten(item, child, lines));
            }
            Value::Object(map)
        }
    }
}

/// A YAML node whose children keep their own spans.
enum Node {
    Scalar(Value),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(String, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Number(v.into())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Number(v.into())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(
            Number::from_f64(v)
                .map(Value::Number)
                .unwrap_or(Value::Null),
        ))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Value::String(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Scalar(Value::String(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<KeyString>()? {
            entries.push((key.0, map.next_value::<Spanned<Node>>()?));
        }
        Ok(Node::Map(entries))
    }
}

/// Map keys as strings (YAML allows `1: x` or `true: x`; JSON keys are strings).
struct KeyString(String);

impl<'de> Deserialize<'de> for KeyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Node::deserialize(d)? {
            Node::Scalar(Value::String(s)) => Ok(KeyString(s)),
            Node::Scalar(other) => Ok(KeyString(other.to_string())),
            _ => Err(de::Error::custom("mapping keys must be scalars")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_nested_values_across_documents() {
        let text = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\nspec:\n  owner: team-a\n  providesApis:\n    - one\n    - two\n---\nkind: API\nmetadata: {name: b}\nspec:\n  owner: team-b\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].value["spec"]["providesApis"][1], "two");
        assert_eq!(docs[0].line_of("spec.owner"), 6);
        assert_eq!(docs[0].line_of("spec.providesApis[0]"), 8);
        assert_eq!(docs[0].line_of("spec.providesApis[1]"), 9);
        assert_eq!(docs[1].line_of("spec.owner"), 14);
        assert_eq!(docs[1].line_of("spec.nothing"), docs[1].start_line);
    }
}
