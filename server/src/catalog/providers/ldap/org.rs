//! Turns LDAP entries into User and Group entities the way Backstage's LDAP
//! org provider does, including nested groups: a group's `member` values may
//! name users or other groups, and membership is resolved by DN.

use std::collections::{BTreeSet, HashMap};

use greenroom_model::Entity;
use serde_json::{json, Map, Value};

use super::config::{GroupMap, UserMap};

pub(super) const ANNOTATION_RDN: &str = "backstage.io/ldap-rdn";
pub(super) const ANNOTATION_UUID: &str = "backstage.io/ldap-uuid";
pub(super) const ANNOTATION_DN: &str = "backstage.io/ldap-dn";
const ANNOTATION_LOCATION: &str = "backstage.io/managed-by-location";
const ANNOTATION_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";
/// OpenLDAP's operational attribute holding a stable id for each entry.
pub(super) const UUID_ATTRIBUTE: &str = "entryUUID";
/// `spec.type` of a group whose type attribute is missing.
const DEFAULT_GROUP_TYPE: &str = "team";

/// One search result: its DN and its text attributes. Attribute names are
/// case-insensitive in LDAP, so they are stored lower-cased.
#[derive(Debug, Clone)]
pub(super) struct LdapEntry {
    pub(super) dn: String,
    attrs: HashMap<String, Vec<String>>,
}

impl LdapEntry {
    pub(super) fn new(dn: String, attrs: HashMap<String, Vec<String>>) -> Self {
        let attrs = attrs
            .into_iter()
            .map(|(name, values)| (name.to_ascii_lowercase(), values))
            .collect();
        Self { dn, attrs }
    }

    fn all(&self, attribute: &str) -> &[String] {
        self.attrs
            .get(&attribute.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The first non-empty value of `attribute`.
    fn first(&self, attribute: &str) -> Option<&str> {
        self.all(attribute)
            .iter()
            .map(String::as_str)
            .find(|v| !v.trim().is_empty())
    }
}

/// A DN in a form where two spellings of the same DN compare equal:
/// `uid=Dave, ou=People,dc=example,dc=org` and `uid=dave,ou=people,dc=example,dc=org`
/// name the same entry (the naming attributes in practice match case-insensitively).
pub(super) fn normalize_dn(dn: &str) -> String {
    let mut rdns = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(escaped) = chars.next() {
                    current.push(escaped);
                }
            }
            ',' => rdns.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    rdns.push(current);
    rdns.iter()
        .map(|rdn| match rdn.split_once('=') {
            Some((attr, value)) => format!("{}={}", attr.trim(), value.trim()),
            None => rdn.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
        .to_lowercase()
}

/// A valid entity name from a directory value: characters outside
/// `[A-Za-z0-9-_.]` become `-`, runs of separators collapse to their first,
/// separators are trimmed from both ends, and the result is at most 63
/// characters. `None` when nothing usable is left.
pub(super) fn entity_name(value: &str) -> Option<String> {
    let is_separator = |c: char| matches!(c, '-' | '_' | '.');
    let mut name = String::with_capacity(value.len());
    for c in value.chars() {
        let c = if c.is_ascii_alphanumeric() || is_separator(c) {
            c
        } else {
            '-'
        };
        if is_separator(c) && (name.is_empty() || name.ends_with(is_separator)) {
            continue;
        }
        name.push(c);
    }
    name.truncate(63);
    let name = name.trim_end_matches(is_separator);
    (!name.is_empty()).then(|| name.to_string())
}

struct Member<'a, M> {
    entry: &'a LdapEntry,
    map: &'a M,
    name: String,
}

/// Keeps entries that yield a name, once per DN and once per name (the
/// first wins; a later duplicate is logged and left out, since two entities
/// with one name would make the whole provider run fail).
fn named<'a, M>(
    kind: &str,
    entries: &'a [(LdapEntry, &'a M)],
    name_attribute: impl Fn(&M) -> &str,
) -> Vec<Member<'a, M>> {
    let mut seen_dns = BTreeSet::new();
    let mut seen_names = BTreeSet::new();
    let mut out = Vec::new();
    for &(ref entry, map) in entries {
        if !seen_dns.insert(normalize_dn(&entry.dn)) {
            continue;
        }
        let attribute = name_attribute(map);
        let Some(name) = entry.first(attribute).and_then(entity_name) else {
            tracing::warn!(dn = %entry.dn, attribute, "LDAP {kind} without a usable name; skipped");
            continue;
        };
        if !seen_names.insert(name.to_ascii_lowercase()) {
            tracing::warn!(dn = %entry.dn, name, "LDAP {kind} name already taken; skipped");
            continue;
        }
        out.push(Member { entry, map, name });
    }
    out
}

/// The User and Group entities for the given search results.
/// `location` becomes the managed-by(-origin)-location annotations.
pub(super) fn org_entities(
    users: &[(LdapEntry, &UserMap)],
    groups: &[(LdapEntry, &GroupMap)],
    location: &str,
) -> Vec<Entity> {
    let users = named("user", users, |m| &m.name);
    let groups = named("group", groups, |m| &m.name);

    let group_by_dn: HashMap<String, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (normalize_dn(&g.entry.dn), i))
        .collect();
    let user_by_dn: HashMap<String, usize> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (normalize_dn(&u.entry.dn), i))
        .collect();

    let mut user_groups = vec![BTreeSet::new(); users.len()];
    let mut children = vec![BTreeSet::new(); groups.len()];
    let mut parents = vec![BTreeSet::new(); groups.len()];
    let mut link = |parent: usize, child: usize| {
        if parent != child {
            children[parent].insert(child);
            parents[child].insert(parent);
        }
    };
    for (g, group) in groups.iter().enumerate() {
        // `member` values name users and groups alike; DNs of neither (a
        // placeholder member, an entry outside the searches) are ignored.
        for dn in group.entry.all(&group.map.members) {
            let dn = normalize_dn(dn);
            if let Some(&u) = user_by_dn.get(&dn) {
                user_groups[u].insert(g);
            } else if let Some(&child) = group_by_dn.get(&dn) {
                link(g, child);
            }
        }
        // Directories with a memberOf overlay also list parents on the group.
        for dn in group.entry.all(&group.map.member_of) {
            if let Some(&parent) = group_by_dn.get(&normalize_dn(dn)) {
                link(parent, g);
            }
        }
    }
    for (u, user) in users.iter().enumerate() {
        for dn in user.entry.all(&user.map.member_of) {
            if let Some(&g) = group_by_dn.get(&normalize_dn(dn)) {
                user_groups[u].insert(g);
            }
        }
    }

    let names = |set: &BTreeSet<usize>| -> Vec<Value> {
        let mut names: Vec<&str> = set.iter().map(|&i| groups[i].name.as_str()).collect();
        names.sort_unstable();
        names.into_iter().map(Value::from).collect()
    };

    let mut out = Vec::with_capacity(users.len() + groups.len());
    for (u, user) in users.iter().enumerate() {
        let (entry, map) = (user.entry, user.map);
        let mut spec = Map::new();
        spec.insert(
            "profile".into(),
            profile(
                entry,
                Some(map.display_name.as_str()),
                map.email.as_deref(),
                map.picture.as_deref(),
            ),
        );
        spec.insert("memberOf".into(), Value::Array(names(&user_groups[u])));
        out.push(entity(
            "User",
            &user.name,
            entry,
            &map.rdn,
            map.description.as_deref(),
            spec,
            location,
        ));
    }
    for (g, group) in groups.iter().enumerate() {
        let (entry, map) = (group.entry, group.map);
        let mut spec = Map::new();
        let group_type = entry.first(&map.group_type).unwrap_or(DEFAULT_GROUP_TYPE);
        spec.insert("type".into(), group_type.into());
        spec.insert(
            "profile".into(),
            profile(
                entry,
                Some(map.display_name.as_str()),
                map.email.as_deref(),
                map.picture.as_deref(),
            ),
        );
        // Backstage's Group has one parent; with several the choice would
        // be arbitrary, so none is recorded (the parents still list it as a child).
        if let [parent] = names(&parents[g]).as_slice() {
            spec.insert("parent".into(), parent.clone());
        }
        spec.insert("children".into(), Value::Array(names(&children[g])));
        out.push(entity(
            "Group",
            &group.name,
            entry,
            &map.rdn,
            Some(map.description.as_str()),
            spec,
            location,
        ));
    }
    out
}

fn profile(
    entry: &LdapEntry,
    display_name: Option<&str>,
    email: Option<&str>,
    picture: Option<&str>,
) -> Value {
    let mut profile = Map::new();
    for (key, attribute) in [
        ("displayName", display_name),
        ("email", email),
        ("picture", picture),
    ] {
        if let Some(value) = attribute.and_then(|a| entry.first(a)) {
            profile.insert(key.into(), value.into());
        }
    }
    Value::Object(profile)
}

fn entity(
    kind: &str,
    name: &str,
    entry: &LdapEntry,
    rdn_attribute: &str,
    description_attribute: Option<&str>,
    spec: Map<String, Value>,
    location: &str,
) -> Entity {
    let mut annotations = Map::new();
    annotations.insert(ANNOTATION_DN.into(), entry.dn.clone().into());
    if let Some(rdn) = entry.first(rdn_attribute) {
        annotations.insert(ANNOTATION_RDN.into(), rdn.into());
    }
    if let Some(uuid) = entry.first(UUID_ATTRIBUTE) {
        annotations.insert(ANNOTATION_UUID.into(), uuid.into());
    }
    annotations.insert(ANNOTATION_LOCATION.into(), location.into());
    annotations.insert(ANNOTATION_ORIGIN_LOCATION.into(), location.into());
    let mut metadata = Map::new();
    metadata.insert("name".into(), name.into());
    if let Some(description) = description_attribute.and_then(|a| entry.first(a)) {
        metadata.insert("description".into(), description.into());
    }
    metadata.insert("annotations".into(), Value::Object(annotations));
    let value = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": metadata,
        "spec": spec,
    });
    match value {
        Value::Object(entity) => entity,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str, attrs: &[(&str, &[&str])]) -> LdapEntry {
        LdapEntry::new(
            dn.into(),
            attrs
                .iter()
                .map(|(k, vs)| (k.to_string(), vs.iter().map(|v| v.to_string()).collect()))
                .collect(),
        )
    }

    fn by_name<'a>(entities: &'a [Entity], kind: &str, name: &str) -> &'a Entity {
        entities
            .iter()
            .find(|e| e["kind"] == kind && e["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in {entities:#?}"))
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(entity_name("alice").as_deref(), Some("alice"));
        assert_eq!(entity_name("Alice.Smith").as_deref(), Some("Alice.Smith"));
        assert_eq!(entity_name("ev*il").as_deref(), Some("ev-il"));
        assert_eq!(
            entity_name("Team Rocket (EU)").as_deref(),
            Some("Team-Rocket-EU")
        );
        assert_eq!(entity_name("--a__b--").as_deref(), Some("a_b"));
        assert_eq!(entity_name("***"), None);
        assert_eq!(entity_name(&"x".repeat(70)).unwrap().len(), 63);
        for name in ["ev-il", "Team-Rocket-EU", "a_b"] {
            assert!(greenroom_model::validation::is_valid_object_name(name));
        }
    }

    #[test]
    fn dns_compare_regardless_of_case_and_spacing() {
        assert_eq!(
            normalize_dn("uid=Dave, ou=People,dc=Example , dc=org"),
            normalize_dn("uid=dave,ou=people,dc=example,dc=org")
        );
        // An escaped comma stays part of the value.
        assert_eq!(
            normalize_dn(r"cn=Doe\, Jane,dc=org"),
            r"cn=doe\, jane,dc=org"
        );
        assert_ne!(normalize_dn("cn=a,dc=org"), normalize_dn("cn=b,dc=org"));
    }

    #[test]
    fn nested_groups_and_memberships() {
        let users_map = UserMap::default();
        let groups_map = GroupMap {
            group_type: "businessCategory".into(),
            email: Some("mail".into()),
            ..GroupMap::default()
        };
        let users = vec![
            (
                entry(
                    "uid=alice,ou=people,dc=example,dc=org",
                    &[
                        ("uid", &["alice"]),
                        ("cn", &["Alice Anderson"]),
                        ("mail", &["alice@example.org"]),
                        ("entryUUID", &["1111-aaaa"]),
                    ],
                ),
                &users_map,
            ),
            (
                entry(
                    "uid=dave,ou=people,dc=example,dc=org",
                    &[
                        ("uid", &["dave"]),
                        ("cn", &["Dave"]),
                        // A memberOf overlay's view; unioned with `member`.
                        ("memberOf", &["cn=admins,ou=groups,dc=example,dc=org"]),
                    ],
                ),
                &users_map,
            ),
        ];
        let groups = vec![
            (
                entry(
                    "cn=engineering,ou=groups,dc=example,dc=org",
                    &[
                        ("cn", &["engineering"]),
                        ("businessCategory", &["department"]),
                        ("mail", &["eng@example.org"]),
                        (
                            "member",
                            &[
                                "cn=backend,ou=groups,dc=example,dc=org",
                                "uid=Dave, ou=People,dc=example,dc=org",
                                "cn=nobody,dc=example,dc=org",
                            ],
                        ),
                    ],
                ),
                &groups_map,
            ),
            (
                entry(
                    "cn=backend,ou=groups,dc=example,dc=org",
                    &[
                        ("cn", &["backend"]),
                        ("description", &["Backend team"]),
                        ("member", &["uid=alice,ou=people,dc=example,dc=org"]),
                    ],
                ),
                &groups_map,
            ),
            (
                entry(
                    "cn=admins,ou=groups,dc=example,dc=org",
                    &[
                        ("cn", &["admins"]),
                        ("member", &["cn=backend,ou=groups,dc=example,dc=org"]),
                    ],
                ),
                &groups_map,
            ),
        ];
        let out = org_entities(&users, &groups, "ldap://ldap.example.org:389");
        assert_eq!(out.len(), 5);

        let alice = by_name(&out, "User", "alice");
        assert_eq!(alice["apiVersion"], "backstage.io/v1alpha1");
        assert_eq!(
            alice["spec"],
            json!({
                "profile": {"displayName": "Alice Anderson", "email": "alice@example.org"},
                "memberOf": ["backend"]
            })
        );
        let annotations = &alice["metadata"]["annotations"];
        assert_eq!(
            annotations[ANNOTATION_DN],
            "uid=alice,ou=people,dc=example,dc=org"
        );
        assert_eq!(annotations[ANNOTATION_RDN], "alice");
        assert_eq!(annotations[ANNOTATION_UUID], "1111-aaaa");
        assert_eq!(
            annotations[ANNOTATION_LOCATION],
            "ldap://ldap.example.org:389"
        );
        assert_eq!(
            annotations[ANNOTATION_ORIGIN_LOCATION],
            "ldap://ldap.example.org:389"
        );

        let dave = by_name(&out, "User", "dave");
        assert_eq!(dave["spec"]["memberOf"], json!(["admins", "engineering"]));
        assert!(dave["metadata"]["annotations"]
            .get(ANNOTATION_UUID)
            .is_none());

        let engineering = by_name(&out, "Group", "engineering");
        assert_eq!(
            engineering["spec"],
            json!({
                "type": "department",
                "profile": {"displayName": "engineering", "email": "eng@example.org"},
                "children": ["backend"]
            })
        );
        // backend has two parents: both list it as a child, neither is `parent`.
        let backend = by_name(&out, "Group", "backend");
        assert_eq!(backend["spec"]["type"], "team");
        assert_eq!(backend["metadata"]["description"], "Backend team");
        assert!(backend["spec"].get("parent").is_none());
        let admins = by_name(&out, "Group", "admins");
        assert_eq!(admins["spec"]["children"], json!(["backend"]));
        assert!(admins["spec"].get("parent").is_none());

        // With only one parent, it is recorded.
        let out = org_entities(&users, &groups[..2], "ldap://h");
        assert_eq!(
            by_name(&out, "Group", "backend")["spec"]["parent"],
            "engineering"
        );
        for entity in &out {
            greenroom_model::validate_entity(&Value::Object(entity.clone()))
                .unwrap_or_else(|e| panic!("{entity:#?} is invalid: {e:?}"));
        }
    }

    #[test]
    fn unnamed_and_duplicate_entries_are_skipped() {
        let map = UserMap::default();
        let users = vec![
            (entry("uid=a,dc=org", &[("uid", &["a"])]), &map),
            // The same entry again (overlapping searches).
            (entry("UID=a, dc=org", &[("uid", &["a"])]), &map),
            // Another entry whose name collides.
            (entry("uid=A,ou=x,dc=org", &[("uid", &["A"])]), &map),
            (entry("uid=none,dc=org", &[("cn", &["No uid"])]), &map),
        ];
        let out = org_entities(&users, &[], "ldap://h");
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0]["metadata"]["annotations"][ANNOTATION_DN],
            "uid=a,dc=org"
        );
    }
}
