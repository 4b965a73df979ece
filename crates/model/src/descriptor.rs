//! Whole-file descriptor validation for `greenroom catalog validate` and the
//! browser validator: parse every document, run the ingestion checks and the
//! relation emission on each, and point every problem at a line.

use crate::relations::emit_relations;
use crate::validation::validate_entity;
use crate::yaml::{field_line, parse_documents, Document};
use crate::{Entity, EntityRef};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One problem found in a descriptor file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// 1-based line, when it could be located.
    pub line: Option<usize>,
    /// Dotted field path, when the problem is about one field.
    pub field: Option<String>,
    /// Canonical ref of the entity the problem belongs to, when it has one.
    pub entity_ref: Option<String>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(r) = &self.entity_ref {
            write!(f, "{r}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Validates every document of a descriptor file. Returns the entities that
/// passed (with defaults applied) and a diagnostic per problem, in file order.
pub fn validate_descriptor(text: &str) -> (Vec<Entity>, Vec<Diagnostic>) {
    let documents = match parse_documents(text) {
        Ok(docs) => docs,
        Err(message) => {
            let line = line_in_message(&message);
            return (
                vec![],
                vec![Diagnostic {
                    line,
                    field: None,
                    entity_ref: None,
                    message,
                }],
            );
        }
    };
    let mut entities = Vec::new();
    let mut diagnostics = Vec::new();
    for doc in &documents {
        let entity_ref = doc
            .value
            .as_object()
            .and_then(EntityRef::of_entity)
            .map(|r| r.canonical());
        let errors = match validate_entity(&doc.value) {
            Ok(entity) => match emit_relations(&entity) {
                Ok(_) => {
                    entities.push(entity);
                    continue;
                }
                Err(errors) => errors,
            },
            Err(errors) => errors,
        };
        for error in errors {
            diagnostics.push(Diagnostic {
                line: locate(text, doc, error.field.as_deref()),
                field: error.field,
                entity_ref: entity_ref.clone(),
                message: error.message,
            });
        }
    }
    (entities, diagnostics)
}

fn locate(text: &str, doc: &Document, field: Option<&str>) -> Option<usize> {
    field
        .and_then(|f| field_line(text, doc, f))
        .or(Some(doc.line))
}

/// The parser reports positions as `... at line N, column M`.
fn line_in_message(message: &str) -> Option<usize> {
    let rest = &message[message.find("line ")? + 5..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: good-one
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: bad name
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ownerless
spec:
  type: service
  lifecycle: production
  dependsOn:
    - no-kind
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
";

    #[test]
    fn reports_each_problem_with_its_line() {
        let (entities, diagnostics) = validate_descriptor(FILE);
        let names: Vec<&str> = entities
            .iter()
            .map(|e| e["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["good-one", "team-a"]);
        assert_eq!(entities[0]["metadata"]["namespace"], "default");
        assert_eq!(
            diagnostics,
            vec![
                Diagnostic {
                    line: Some(13),
                    field: Some("metadata.name".into()),
                    entity_ref: Some("component:default/bad name".into()),
                    message: "\"metadata.name\" is not valid; expected a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total but found \"bad name\". To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md".into(),
                },
                Diagnostic {
                    line: Some(23),
                    field: Some("spec.owner".into()),
                    entity_ref: Some("component:default/ownerless".into()),
                    message: "/spec must have required property 'owner' - missingProperty: owner".into(),
                },
            ]
        );
        assert_eq!(
            diagnostics[1].to_string(),
            "line 23: component:default/ownerless: /spec must have required property 'owner' - missingProperty: owner"
        );
    }

    #[test]
    fn relation_errors_are_reported_once_the_entity_is_valid() {
        let text = FILE.replace(
            "  lifecycle: production\n  dependsOn",
            "  lifecycle: production\n  owner: x\n  dependsOn",
        );
        let (entities, diagnostics) = validate_descriptor(&text);
        assert_eq!(entities.len(), 2);
        assert_eq!(
            diagnostics[1],
            Diagnostic {
                line: Some(27),
                field: Some("spec.dependsOn".into()),
                entity_ref: Some("component:default/ownerless".into()),
                message: "Entity reference \"no-kind\" had missing or empty kind (e.g. did not start with \"component:\" or similar)".into(),
            }
        );
    }

    #[test]
    fn yaml_syntax_error_is_one_located_diagnostic() {
        let (entities, diagnostics) =
            validate_descriptor("kind: Component\nmetadata:\n  name: [oops\n");
        assert!(entities.is_empty());
        assert_eq!(
            diagnostics,
            vec![Diagnostic {
                line: Some(3),
                field: None,
                entity_ref: None,
                message: "unclosed bracket '[' at line 3, column 9".into()
            }]
        );
    }

    #[test]
    fn non_object_document_and_unknown_kind() {
        let (_, d) = validate_descriptor("- a\n");
        assert_eq!(d[0].message, "Expected object at root, got object");
        assert_eq!(d[0].line, None);
        let (_, d) = validate_descriptor("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n");
        assert_eq!(d[0].line, Some(2));
        assert_eq!(
            d[0].message,
            "No processor recognized the entity pod:default/p as valid, possibly caused by a foreign kind or apiVersion"
        );
    }
}
