//! Entity validation (reference sections 1.1-1.5).

use serde::{Deserialize, Serialize};

/// One validation or processing error, in Backstage's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationError {
    /// Backstage error name, e.g. `InputError`.
    pub name: String,
    /// Dotted path of the offending field (`metadata.name`, `spec.owner`), when known.
    pub field: Option<String>,
    pub message: String,
}

impl ValidationError {
    pub fn input(field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            name: "InputError".into(),
            field: field.map(str::to_string),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}
