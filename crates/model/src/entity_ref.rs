//! Entity references: `[<kind>:][<namespace>/]<name>` (reference section 1.4).

use serde::{Deserialize, Serialize};
use std::fmt;

pub const DEFAULT_NAMESPACE: &str = "default";

/// A fully resolved reference. Fields keep the spelling they were written with;
/// [`EntityRef::canonical`] (also `Display`) is the lower-cased `kind:namespace/name`
/// string used as the identity everywhere (uniqueness is case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntityRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("Entity reference \"{0}\" had missing or empty kind (e.g. did not start with \"component:\" or similar)")]
    MissingKind(String),
    #[error("Entity reference \"{0}\" was not on the form [<kind>:][<namespace>/]<name>")]
    Malformed(String),
}

impl EntityRef {
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        Self {
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// Parses a reference string. `default_kind` applies when the string has no
    /// `kind:` part (None means a kind is required); `default_namespace` when it
    /// has no `namespace/` part (for spec fields: the referring entity's namespace).
    pub fn parse(
        s: &str,
        default_kind: Option<&str>,
        default_namespace: &str,
    ) -> Result<Self, RefError> {
        let s_trim = s.trim();
        let colon = s_trim.find(':');
        let slash = s_trim.find('/');
        let (kind, rest) = match colon {
            Some(c) if slash.is_none_or(|sl| c < sl) => (Some(&s_trim[..c]), &s_trim[c + 1..]),
            _ => (None, s_trim),
        };
        let (namespace, name) = match rest.find('/') {
            Some(sl) => (Some(&rest[..sl]), &rest[sl + 1..]),
            None => (None, rest),
        };
        let kind = match kind {
            Some("") => return Err(RefError::Malformed(s.to_string())),
            Some(k) => k,
            None => default_kind.ok_or_else(|| RefError::MissingKind(s.to_string()))?,
        };
        let namespace = match namespace {
            Some("") => return Err(RefError::Malformed(s.to_string())),
            Some(ns) => ns,
            None => default_namespace,
        };
        if name.is_empty() || name.contains('/') || name.contains(':') && kind.is_empty() {
            return Err(RefError::Malformed(s.to_string()));
        }
        Ok(Self::new(kind, namespace, name))
    }

    /// The lower-cased canonical string `kind:namespace/name`.
    pub fn canonical(&self) -> String {
        format!("{}:{}/{}", self.kind, self.namespace, self.name).to_lowercase()
    }

    /// The reference of an entity document (`metadata.namespace` defaults to `default`).
    /// None when kind or name is missing.
    pub fn of_entity(entity: &crate::Entity) -> Option<Self> {
        let kind = entity.get("kind")?.as_str()?;
        let meta = entity.get("metadata")?.as_object()?;
        let name = meta.get("name")?.as_str()?;
        let ns = meta
            .get("namespace")
            .and_then(|v| v.as_str())
            .unwrap_or(DEFAULT_NAMESPACE);
        Some(Self::new(kind, ns, name))
    }
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_defaults() {
        let r = EntityRef::parse("team-a", Some("Group"), "ns1").unwrap();
        assert_eq!(r.canonical(), "group:ns1/team-a");
        let r = EntityRef::parse("component:Foo", None, "default").unwrap();
        assert_eq!(r.canonical(), "component:default/foo");
        let r = EntityRef::parse("api:other/Petstore", Some("API"), "x").unwrap();
        assert_eq!(
            (r.kind.as_str(), r.namespace.as_str(), r.name.as_str()),
            ("api", "other", "Petstore")
        );
        // a colon after the first slash is part of the name, not a kind separator
        let r = EntityRef::parse("ns/a:b", Some("Component"), "default").unwrap();
        assert_eq!(r.name, "a:b");
    }

    #[test]
    fn rejects_missing_kind_and_empty_parts() {
        assert!(matches!(
            EntityRef::parse("foo", None, "default"),
            Err(RefError::MissingKind(_))
        ));
        assert!(EntityRef::parse(":foo", Some("x"), "default").is_err());
        assert!(EntityRef::parse("a:/foo", Some("x"), "default").is_err());
        assert!(EntityRef::parse("a:ns/", Some("x"), "default").is_err());
    }
}
