//! Filters that Backstage templates use and the engine does not provide (or
//! provides with other semantics).
//!
//! Backstage's own filters (`parseRepoUrl`, `parseEntityRef`, `pick`,
//! `projectSlug`) follow the scaffolder's documented behaviour; `dump`, `jsonify`
//! and `safe` follow Nunjucks. Errors name the filter and quote its input so the
//! template author sees which value was wrong.

use minijinja::value::{Serde, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};
use serde::Serialize;
use std::cell::Cell;

use crate::limits::CappedWriter;

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// The parts of a repository location as the scaffolder's repository picker writes
/// it: `host?owner=..&repo=..` plus `organization`, `workspace` and `project` for
/// the hosts that need them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepoSpec {
    /// Host, with the port when one is given.
    pub host: String,
    /// Owner (user, organisation or group path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Repository name. Absent only for a GitLab location given by project id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Azure DevOps organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Bitbucket Cloud workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Bitbucket or Azure project, or a GitLab project id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// Parses a repository location such as `github.com?owner=acme&repo=svc`.
///
/// Backstage picks the required parameters by the integration configured for the
/// host. This crate has no integration configuration, so the host's kind is taken
/// from its name (`gitlab`, `bitbucket`, `dev.azure.com`, `gitea`, `gerrit`,
/// otherwise GitHub-like) and the same parameters are required as Backstage does
/// for that kind.
pub fn parse_repo_url(input: &str) -> Result<RepoSpec, String> {
    let parsed = url::Url::parse(&format!("https://{input}")).map_err(|e| match e {
        url::ParseError::EmptyHost => format!("invalid repo URL {input:?}: it has no host"),
        e => format!("invalid repo URL {input:?}: {e}"),
    })?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) if !h.is_empty() => format!("{h}:{p}"),
        (Some(h), None) if !h.is_empty() => h.to_string(),
        _ => return Err(format!("invalid repo URL {input:?}: it has no host")),
    };
    let param = |name: &str| -> Option<String> {
        parsed
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim_matches('/').to_string())
    };
    let spec = RepoSpec {
        owner: param("owner"),
        repo: param("repo"),
        organization: param("organization"),
        workspace: param("workspace"),
        project: param("project"),
        host,
    };
    let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    let mut required: Vec<(&str, &Option<String>)> = Vec::new();
    let h = spec.host.to_ascii_lowercase();
    if h.contains("bitbucket") {
        if h == "bitbucket.org" || h == "www.bitbucket.org" {
            required.push(("workspace", &spec.workspace));
        }
        required.push(("project", &spec.project));
        required.push(("repo", &spec.repo));
    } else if h.contains("dev.azure.com") || h.contains("visualstudio.com") {
        required.push(("project", &spec.project));
        required.push(("repo", &spec.repo));
    } else if h.contains("gitlab") {
        // A project id stands for owner and repo.
        if !present(&spec.project) {
            required.push(("owner", &spec.owner));
            required.push(("repo", &spec.repo));
        }
    } else if h.contains("gitea") || h.contains("gerrit") {
        required.push(("repo", &spec.repo));
    } else {
        required.push(("repo", &spec.repo));
        required.push(("owner", &spec.owner));
    }
    for (name, value) in required {
        if !present(value) {
            return Err(format!("invalid repo URL {input:?}: missing {name}"));
        }
    }
    Ok(spec)
}

/// `parseRepoUrl`: a repository location to `{host, owner, repo, ...}`.
pub(crate) fn parse_repo_url_filter(value: &Value) -> Result<Value, Error> {
    let input = value.as_str().ok_or_else(|| {
        invalid(format!(
            "parseRepoUrl expects a string, got {}",
            value.kind()
        ))
    })?;
    let spec = parse_repo_url(input).map_err(|m| invalid(format!("parseRepoUrl: {m}")))?;
    Ok(Value::from(Serde(&spec)))
}

/// `projectSlug`: a repository location to `owner/repo`.
pub(crate) fn project_slug(value: &Value) -> Result<Value, Error> {
    let input = value.as_str().ok_or_else(|| {
        invalid(format!(
            "projectSlug expects a string, got {}",
            value.kind()
        ))
    })?;
    let spec = parse_repo_url(input).map_err(|m| invalid(format!("projectSlug: {m}")))?;
    match (spec.owner, spec.repo) {
        (Some(owner), Some(repo)) => Ok(Value::from(format!("{owner}/{repo}"))),
        _ => Err(invalid(format!(
            "projectSlug: repo URL {input:?} needs both owner and repo"
        ))),
    }
}

/// `parseEntityRef`: `kind:namespace/name`, `namespace/name` or `name` (or an
/// object with those fields) to `{kind, namespace, name}`, with optional
/// `{defaultKind, defaultNamespace}`. The namespace defaults to `default`; a kind
/// must come from the reference or from `defaultKind`. Case is kept as given.
pub(crate) fn parse_entity_ref(value: &Value, context: Option<Value>) -> Result<Value, Error> {
    let opt = |v: &Value, key: &str| -> Option<String> {
        v.get_attr(key)
            .ok()
            .and_then(|x| x.as_str().map(str::to_string))
            .filter(|s| !s.is_empty())
    };
    let (default_kind, default_namespace) = match &context {
        Some(c) if c.kind() == ValueKind::Map => {
            (opt(c, "defaultKind"), opt(c, "defaultNamespace"))
        }
        _ => (None, None),
    };
    let default_namespace = default_namespace.unwrap_or_else(|| "default".to_string());
    let shown = value.to_string();
    let (kind, namespace, name) = match value.kind() {
        ValueKind::String => {
            let r = value.as_str().unwrap_or_default();
            if r.is_empty() {
                return Err(invalid(
                    "parseEntityRef: entity reference must not be empty".into(),
                ));
            }
            let (k, ns, n) = split_ref(r).ok_or_else(|| {
                invalid(format!(
                    "parseEntityRef: entity reference {r:?} was not on the form [<kind>:][<namespace>/]<name>"
                ))
            })?;
            (
                k.map(str::to_string),
                ns.map(str::to_string),
                Some(n.to_string()),
            )
        }
        ValueKind::Map => (
            opt(value, "kind"),
            opt(value, "namespace"),
            opt(value, "name"),
        ),
        _ => {
            return Err(invalid(format!(
                "parseEntityRef expects a string or an object, got {}",
                value.kind()
            )))
        }
    };
    let kind = kind.or(default_kind).ok_or_else(|| {
        invalid(format!(
            "parseEntityRef: entity reference {shown:?} had missing or empty kind \
             (e.g. did not start with \"component:\" or similar)"
        ))
    })?;
    let namespace = namespace.unwrap_or(default_namespace);
    let name = name.ok_or_else(|| {
        invalid(format!(
            "parseEntityRef: entity reference {shown:?} had missing or empty name"
        ))
    })?;
    Ok(Value::from(Serde(serde_json::json!({
        "kind": kind,
        "namespace": namespace,
        "name": name,
    }))))
}

/// Splits `[kind:][namespace/]name` the way Backstage does: a `/` before the first
/// `:` means there is no kind. `None` when a present part is empty.
fn split_ref(r: &str) -> Option<(Option<&str>, Option<&str>, &str)> {
    let slash = r.find('/');
    let colon = r.find(':').filter(|c| slash.is_none_or(|s| *c < s));
    let kind = colon.map(|c| &r[..c]);
    let rest_start = colon.map_or(0, |c| c + 1);
    let namespace = slash.map(|s| &r[rest_start..s]);
    let name = &r[slash.map_or(rest_start, |s| s + 1)..];
    if kind == Some("") || namespace == Some("") || name.is_empty() {
        return None;
    }
    Some((kind, namespace, name))
}

/// `pick(obj, "path")`: lodash's `get`, a property by dotted path with `[n]`
/// indexes (`a.b[0].c`). Missing steps give undefined.
pub(crate) fn pick(value: &Value, path: &str) -> Value {
    let mut current = value.clone();
    for segment in path_segments(path) {
        let next = match segment.parse::<usize>() {
            Ok(i) if current.kind() == ValueKind::Seq => current.get_item_by_index(i),
            _ => current.get_attr(segment),
        };
        current = match next {
            Ok(v) if !v.is_undefined() => v,
            _ => return Value::UNDEFINED,
        };
    }
    current
}

/// `a.b[0]["c"]` to `["a", "b", "0", "c"]`.
fn path_segments(path: &str) -> Vec<&str> {
    path.split(['.', '[', ']'])
        .map(|s| s.trim_matches(['"', '\'']))
        .filter(|s| !s.is_empty())
        .collect()
}

/// `dump` (and `jsonify`): `JSON.stringify(value, null, indent)`. Undefined stays
/// undefined, so it prints as nothing. The JSON text counts against the output cap
/// and pays fuel for the serialisation walk.
pub(crate) fn dump(
    state: &State,
    value: &Value,
    indent: Option<Value>,
    max_bytes: usize,
) -> Result<Value, Error> {
    if value.is_undefined() {
        return Ok(Value::UNDEFINED);
    }
    let indent = match indent {
        None => String::new(),
        Some(v) if v.is_none() || v.is_undefined() => String::new(),
        // JSON.stringify caps the indent at ten.
        Some(v) if v.kind() == ValueKind::Number => {
            " ".repeat(i64::try_from(v).unwrap_or(0).clamp(0, 10) as usize)
        }
        Some(v) => v.as_str().unwrap_or_default().chars().take(10).collect(),
    };
    let mut out = CappedWriter::new(max_bytes);
    let budget = JsonBudget::new(max_bytes);
    let value = Nested::new(value, &budget);
    let written = if indent.is_empty() {
        serde_json::to_writer(&mut out, &value)
    } else {
        let fmt = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        value.serialize(&mut ser)
    };
    if out.exceeded || budget.exceeded() {
        return Err(invalid(format!(
            "dump: the JSON text exceeds {max_bytes} bytes"
        )));
    }
    written.map_err(|e| invalid(format!("dump: {e}")))?;
    // Serialising walks the whole value; charge a quarter of a fuel per byte.
    state.consume_fuel(out.buf.len() as u64 / 4)?;
    let text = String::from_utf8(out.buf).map_err(|e| invalid(format!("dump: {e}")))?;
    Ok(Value::from(text))
}

/// What a value's JSON text may still spend, checked before a long string is
/// copied (scanning a 100 MB string only to drop it at the cap would take seconds).
pub(crate) struct JsonBudget {
    remaining: Cell<usize>,
    exceeded: Cell<bool>,
}

impl JsonBudget {
    pub(crate) fn new(max_bytes: usize) -> Self {
        JsonBudget {
            remaining: Cell::new(max_bytes),
            exceeded: Cell::new(false),
        }
    }

    /// Whether a string was refused for want of budget.
    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded.get()
    }
}

/// Serialises a value like its own `Serialize` does, but refuses nesting deeper
/// than [`MAX_NESTING`](crate::js::MAX_NESTING) instead of recursing without
/// bound, and strings longer than the [`JsonBudget`] allows.
pub(crate) struct Nested<'a> {
    pub(crate) value: &'a Value,
    pub(crate) depth: usize,
    pub(crate) budget: &'a JsonBudget,
}

impl<'a> Nested<'a> {
    pub(crate) fn new(value: &'a Value, budget: &'a JsonBudget) -> Self {
        Nested {
            value,
            depth: 0,
            budget,
        }
    }

    fn child(&self, value: &'a Value) -> Nested<'a> {
        Nested {
            value,
            depth: self.depth + 1,
            budget: self.budget,
        }
    }
}

impl Serialize for Nested<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap, SerializeSeq};
        if self.depth > crate::js::MAX_NESTING {
            return Err(S::Error::custom(format!(
                "value nests deeper than {} levels",
                crate::js::MAX_NESTING
            )));
        }
        let value = self.value;
        match value.kind() {
            ValueKind::Seq | ValueKind::Iterable => {
                let items = value.try_iter().map_err(S::Error::custom)?;
                let mut seq = serializer.serialize_seq(None)?;
                for item in items {
                    seq.serialize_element(&self.child(&item))?;
                }
                seq.end()
            }
            ValueKind::Map => {
                let keys = value.try_iter().map_err(S::Error::custom)?;
                let mut map = serializer.serialize_map(None)?;
                for key in keys {
                    let item = value.get_item(&key).map_err(S::Error::custom)?;
                    map.serialize_entry(&key.to_string(), &self.child(&item))?;
                }
                map.end()
            }
            ValueKind::String => {
                let len = value.as_str().map_or(0, str::len);
                let remaining = self.budget.remaining.get();
                if len > remaining {
                    self.budget.exceeded.set(true);
                    return Err(S::Error::custom("the JSON text is too large"));
                }
                self.budget.remaining.set(remaining - len);
                value.serialize(serializer)
            }
            _ => value.serialize(serializer),
        }
    }
}

/// `safe`: marks text as safe in Nunjucks. Output is never escaped here, so the
/// value passes through unchanged (and keeps its type).
pub(crate) fn safe(value: Value) -> Value {
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_ref_splitting_matches_backstage() {
        assert_eq!(
            split_ref("group:ns/team"),
            Some((Some("group"), Some("ns"), "team"))
        );
        assert_eq!(split_ref("ns/team"), Some((None, Some("ns"), "team")));
        assert_eq!(split_ref("team"), Some((None, None, "team")));
        // A slash before the colon: the rest is the name.
        assert_eq!(split_ref("ns/a:b"), Some((None, Some("ns"), "a:b")));
        assert_eq!(split_ref(":x"), None);
        assert_eq!(split_ref("k:/x"), None);
        assert_eq!(split_ref("k:ns/"), None);
    }

    #[test]
    fn path_segments_read_dots_and_brackets() {
        assert_eq!(path_segments("a.b[0]['c']"), ["a", "b", "0", "c"]);
        assert_eq!(path_segments("name"), ["name"]);
    }

    #[test]
    fn repo_url_requirements_follow_the_host_kind() {
        let spec = parse_repo_url("github.com?owner=acme&repo=svc").unwrap();
        assert_eq!(spec.host, "github.com");
        assert_eq!(spec.owner.as_deref(), Some("acme"));
        assert_eq!(spec.repo.as_deref(), Some("svc"));
        let err = parse_repo_url("github.com?repo=svc").unwrap_err();
        assert!(err.contains("missing owner"), "{err}");
        let spec = parse_repo_url("gitlab.example.com:8443?project=42").unwrap();
        assert_eq!(spec.host, "gitlab.example.com:8443");
        assert_eq!(spec.project.as_deref(), Some("42"));
        assert_eq!(spec.repo, None);
        let err = parse_repo_url("bitbucket.org?project=P&repo=r").unwrap_err();
        assert!(err.contains("missing workspace"), "{err}");
        let spec = parse_repo_url("dev.azure.com?organization=o&project=p&repo=r").unwrap();
        assert_eq!(spec.organization.as_deref(), Some("o"));
        assert!(parse_repo_url("?repo=x").unwrap_err().contains("no host"));
    }
}
