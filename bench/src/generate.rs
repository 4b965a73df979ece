//! Generates a realistic, valid catalog of any size and writes it as
//! multi-document YAML files plus one Location file that lists them.
//!
//! Every entity is a pure function of `(plan, index)`: files can be written
//! one chunk at a time without holding the whole catalog in memory, and tests
//! can compare what was written with what the plan says.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// Smallest catalog for which every kind gets at least one entity.
pub const MIN_ENTITIES: usize = 10;

const API_VERSION: &str = "backstage.io/v1alpha1";
/// Name of the organisation's root group; also the GitHub org in slugs.
const ROOT_GROUP: &str = "bench-org";
/// Fan-out of the group tree (each department has up to this many children).
const GROUP_FAN_OUT: usize = 6;

const NOUNS: &[&str] = &[
    "orders",
    "payments",
    "invoices",
    "shipping",
    "catalog",
    "search",
    "checkout",
    "pricing",
    "inventory",
    "accounts",
    "identity",
    "notifications",
    "reviews",
    "recommendations",
    "returns",
    "loyalty",
    "fraud",
    "ledger",
    "reporting",
    "media",
    "gateway",
    "scheduler",
    "billing",
    "quotes",
    "tracking",
    "warehouse",
    "routing",
    "support",
    "onboarding",
    "audit",
    "consent",
    "analytics",
];
const TEAM_WORDS: &[&str] = &[
    "atlas", "beacon", "comet", "delta", "ember", "falcon", "glacier", "harbor", "ion", "juniper",
    "kestrel", "lumen", "meridian", "nova", "orbit", "pioneer", "quartz", "raven", "summit",
    "tundra",
];
const FIRST_NAMES: &[&str] = &[
    "amara", "jonas", "priya", "mateo", "hannah", "kwame", "yuki", "sofia", "liam", "noor",
    "elena", "tariq", "ines", "oskar", "leila", "david", "mei", "arjun", "chloe", "emeka",
];
const LAST_NAMES: &[&str] = &[
    "okafor",
    "lindqvist",
    "raman",
    "fernandez",
    "becker",
    "mensah",
    "tanaka",
    "rossi",
    "obrien",
    "haddad",
    "novak",
    "silva",
    "kowalski",
    "dubois",
    "nakamura",
    "petrov",
    "andersen",
    "garcia",
];
const TAGS: &[&str] = &[
    "rust",
    "java",
    "kotlin",
    "go",
    "python",
    "typescript",
    "react",
    "grpc",
    "rest",
    "kafka",
    "postgres",
    "redis",
    "pci",
    "gdpr",
    "internal",
    "customer-facing",
    "c++",
    "k8s:prod",
];
const COMPONENT_LIFECYCLES: &[(&str, u32)] =
    &[("production", 70), ("experimental", 20), ("deprecated", 10)];
const COMPONENT_TYPES: &[(&str, u32)] = &[("service", 60), ("website", 15), ("library", 25)];
/// Resource types rotate by index so every type is present and
/// `cluster` resources can be found by index arithmetic.
const RESOURCE_TYPES: &[(&str, &str)] = &[
    ("database", "db"),
    ("s3-bucket", "bucket"),
    ("kafka-topic", "topic"),
    ("kubernetes-cluster", "cluster"),
    ("cache", "cache"),
];
const CLUSTER_SLOT: usize = 3;

/// How many entities of each kind a catalog of `total` entities holds, and
/// the seed that makes it reproducible. Kinds are laid out in this order in
/// the global index space: groups, users, domains, systems, resources, APIs,
/// components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogPlan {
    pub seed: u64,
    pub groups: usize,
    pub users: usize,
    pub domains: usize,
    pub systems: usize,
    pub resources: usize,
    pub apis: usize,
    pub components: usize,
    /// When set, only the last this-many groups of the tree (its leaf
    /// teams in a large catalog) own entities and have members, so one
    /// team owns a known share of the catalog. None: every group but the
    /// root (the default).
    pub owner_groups: Option<usize>,
}

/// Which kind a global index falls in, with the index inside that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Group(usize),
    User(usize),
    Domain(usize),
    System(usize),
    Resource(usize),
    Api(usize),
    Component(usize),
}

impl CatalogPlan {
    /// Splits `total` into ~2% groups, 8% users, 2% domains, 5% systems,
    /// 13% resources, 15% APIs and the rest (~55%) components.
    pub fn new(total: usize, seed: u64) -> Result<Self, String> {
        if total < MIN_ENTITIES {
            return Err(format!(
                "--entities must be at least {MIN_ENTITIES} so that every kind is represented, got {total}"
            ));
        }
        let share = |percent: usize| (total * percent / 100).max(1);
        let (groups, users, domains, systems) = (share(2), share(8), share(2), share(5));
        let (resources, apis) = (share(13), share(15));
        let components = total - (groups + users + domains + systems + resources + apis);
        Ok(Self {
            seed,
            groups,
            users,
            domains,
            systems,
            resources,
            apis,
            components,
            owner_groups: None,
        })
    }

    /// Owners (and users' memberships) spread over the last `groups` groups
    /// only; 0 keeps the default spread over every group but the root.
    pub fn with_owner_groups(mut self, groups: usize) -> Self {
        self.owner_groups = (groups > 0).then_some(groups);
        self
    }

    /// The group indices that own entities and have members.
    pub fn owner_group_range(&self) -> std::ops::Range<usize> {
        if self.groups <= 1 {
            return 0..1;
        }
        match self.owner_groups {
            Some(n) => self.groups - n.min(self.groups - 1)..self.groups,
            None => 1..self.groups,
        }
    }

    /// Global index of component `i` (components come last).
    pub fn component_index(&self, i: usize) -> usize {
        self.total() - self.components + i
    }

    /// Global index of user `i` (users follow the groups).
    pub fn user_index(&self, i: usize) -> usize {
        self.groups + i
    }

    pub fn total(&self) -> usize {
        self.groups
            + self.users
            + self.domains
            + self.systems
            + self.resources
            + self.apis
            + self.components
    }

    pub fn slot(&self, index: usize) -> Slot {
        let mut i = index;
        for (count, make) in [
            (self.groups, Slot::Group as fn(usize) -> Slot),
            (self.users, Slot::User),
            (self.domains, Slot::Domain),
            (self.systems, Slot::System),
            (self.resources, Slot::Resource),
            (self.apis, Slot::Api),
        ] {
            if i < count {
                return make(i);
            }
            i -= count;
        }
        Slot::Component(i)
    }

    /// The entity at global `index` (`0..total()`).
    pub fn entity(&self, index: usize) -> Value {
        // One RNG per entity, derived from the seed and the index, so any
        // entity can be produced without generating the ones before it.
        let mut rng =
            StdRng::seed_from_u64(self.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        match self.slot(index) {
            Slot::Group(i) => self.group(i),
            Slot::User(i) => self.user(i, &mut rng),
            Slot::Domain(i) => self.domain(i, &mut rng),
            Slot::System(i) => self.system(i, &mut rng),
            Slot::Resource(i) => self.resource(i, &mut rng),
            Slot::Api(i) => self.api(i, &mut rng),
            Slot::Component(i) => self.component(i, &mut rng),
        }
    }

    pub fn group_name(&self, i: usize) -> String {
        if i == 0 {
            ROOT_GROUP.to_string()
        } else {
            format!("team-{}-{i}", TEAM_WORDS[i % TEAM_WORDS.len()])
        }
    }

    pub fn user_name(&self, i: usize) -> String {
        let first = FIRST_NAMES[i % FIRST_NAMES.len()];
        let last = LAST_NAMES[(i / FIRST_NAMES.len()) % LAST_NAMES.len()];
        format!("{first}.{last}-{i}")
    }

    pub fn domain_name(&self, i: usize) -> String {
        format!("{}-domain-{i}", NOUNS[i % NOUNS.len()])
    }

    pub fn system_name(&self, i: usize) -> String {
        format!("{}-platform-{i}", NOUNS[(i * 7) % NOUNS.len()])
    }

    pub fn resource_name(&self, i: usize) -> String {
        let (_, suffix) = RESOURCE_TYPES[i % RESOURCE_TYPES.len()];
        format!("{}-{suffix}-{i}", NOUNS[(i * 3) % NOUNS.len()])
    }

    pub fn api_name(&self, i: usize) -> String {
        format!("{}-api-{i}", NOUNS[(i * 5) % NOUNS.len()])
    }

    pub fn component_name(&self, i: usize) -> String {
        let suffix = match self.component_type(i) {
            "website" => "web",
            "library" => "lib",
            _ => "service",
        };
        format!("{}-{suffix}-{i}", NOUNS[(i * 11) % NOUNS.len()])
    }

    /// Component types depend only on the index so names can encode them.
    fn component_type(&self, i: usize) -> &'static str {
        let mut rng = StdRng::seed_from_u64(self.seed.wrapping_add(i as u64).rotate_left(17));
        weighted(&mut rng, COMPONENT_TYPES)
    }

    /// Parent of group `i` in a tree of fan-out [`GROUP_FAN_OUT`].
    fn group_parent(&self, i: usize) -> Option<usize> {
        (i > 0).then(|| (i - 1) / GROUP_FAN_OUT)
    }

    fn group_children(&self, i: usize) -> Vec<usize> {
        let first = i * GROUP_FAN_OUT + 1;
        (first..first + GROUP_FAN_OUT)
            .filter(|c| *c < self.groups)
            .collect()
    }

    fn random_team(&self, rng: &mut StdRng) -> String {
        // Prefer non-root groups as owners; the root only owns when alone.
        let i = if self.groups > 1 {
            rng.gen_range(self.owner_group_range())
        } else {
            0
        };
        self.group_name(i)
    }

    fn group(&self, i: usize) -> Value {
        let name = self.group_name(i);
        let children: Vec<String> = self
            .group_children(i)
            .into_iter()
            .map(|c| self.group_name(c))
            .collect();
        let group_type = match (i, children.is_empty()) {
            (0, _) => "organization",
            (_, false) => "department",
            (_, true) => "team",
        };
        let title = title_case(&name);
        let mut spec = json!({
            "type": group_type,
            "profile": {"displayName": title, "email": format!("{name}@bench-org.example")},
        });
        if let Some(parent) = self.group_parent(i) {
            spec["parent"] = json!(self.group_name(parent));
        }
        spec["children"] = json!(children);
        envelope("Group", &name, &format!("The {title} group."), spec)
    }

    fn user(&self, i: usize, rng: &mut StdRng) -> Value {
        let name = self.user_name(i);
        let mut member_of = vec![self.random_team(rng)];
        if rng.gen_bool(0.2) {
            let second = self.random_team(rng);
            if !member_of.contains(&second) {
                member_of.push(second);
            }
        }
        let display = title_case(name.split('-').next().unwrap_or(&name));
        json!({
            "apiVersion": API_VERSION,
            "kind": "User",
            "metadata": {"name": name},
            "spec": {
                "profile": {"displayName": display, "email": format!("{name}@bench-org.example")},
                "memberOf": member_of,
            },
        })
    }

    fn domain(&self, i: usize, rng: &mut StdRng) -> Value {
        let name = self.domain_name(i);
        let spec = json!({"owner": self.random_team(rng)});
        envelope(
            "Domain",
            &name,
            "Business domain grouping related systems.",
            spec,
        )
    }

    fn system(&self, i: usize, rng: &mut StdRng) -> Value {
        let name = self.system_name(i);
        let spec = json!({
            "owner": self.random_team(rng),
            "domain": self.domain_name(rng.gen_range(0..self.domains)),
        });
        envelope(
            "System",
            &name,
            "A set of components and APIs delivering one capability.",
            spec,
        )
    }

    fn resource(&self, i: usize, rng: &mut StdRng) -> Value {
        let name = self.resource_name(i);
        let (resource_type, _) = RESOURCE_TYPES[i % RESOURCE_TYPES.len()];
        let mut spec = json!({
            "type": resource_type,
            "owner": self.random_team(rng),
            "system": self.system_name(rng.gen_range(0..self.systems)),
        });
        // Data stores run on a cluster when the catalog has one.
        let clusters = self
            .resources
            .saturating_sub(CLUSTER_SLOT)
            .div_ceil(RESOURCE_TYPES.len());
        if resource_type != "kubernetes-cluster" && clusters > 0 && rng.gen_bool(0.5) {
            let cluster = rng.gen_range(0..clusters) * RESOURCE_TYPES.len() + CLUSTER_SLOT;
            spec["dependsOn"] = json!([format!("resource:{}", self.resource_name(cluster))]);
        }
        let mut entity = envelope("Resource", &name, &format!("A {resource_type}."), spec);
        entity["metadata"]["tags"] = json!(random_tags(rng, 1));
        entity
    }

    fn api(&self, i: usize, rng: &mut StdRng) -> Value {
        let name = self.api_name(i);
        let (api_type, definition) = match i % 10 {
            8 => ("asyncapi", asyncapi_definition(&name)),
            9 => ("grpc", grpc_definition(i)),
            _ => ("openapi", openapi_definition(&name, i)),
        };
        let spec = json!({
            "type": api_type,
            "lifecycle": weighted(rng, COMPONENT_LIFECYCLES),
            "owner": self.random_team(rng),
            "system": self.system_name(rng.gen_range(0..self.systems)),
            "definition": definition,
        });
        let mut entity = envelope("API", &name, &format!("The {name} interface."), spec);
        entity["metadata"]["tags"] = json!(random_tags(rng, 2));
        entity
    }

    fn component(&self, i: usize, rng: &mut StdRng) -> Value {
        let name = self.component_name(i);
        let component_type = self.component_type(i);
        // API j is provided by component j mod components: every API has
        // exactly one provider.
        let provides: Vec<String> = (i..self.apis)
            .step_by(self.components)
            .map(|a| self.api_name(a))
            .collect();
        let mut consumes: Vec<String> = (0..rng.gen_range(0..=3))
            .map(|_| self.api_name(rng.gen_range(0..self.apis)))
            .collect();
        consumes.sort();
        consumes.dedup();
        let mut depends_on: Vec<String> = (0..rng.gen_range(0..=2))
            .map(|_| {
                format!(
                    "resource:{}",
                    self.resource_name(rng.gen_range(0..self.resources))
                )
            })
            .collect();
        if self.components > 1 {
            for _ in 0..rng.gen_range(0..=2) {
                let other = (i + rng.gen_range(1..self.components)) % self.components;
                depends_on.push(format!("component:{}", self.component_name(other)));
            }
        }
        depends_on.sort();
        depends_on.dedup();
        let mut spec = json!({
            "type": component_type,
            "lifecycle": weighted(rng, COMPONENT_LIFECYCLES),
            "owner": self.random_team(rng),
            "system": self.system_name(rng.gen_range(0..self.systems)),
        });
        for (field, refs) in [
            ("providesApis", provides),
            ("consumesApis", consumes),
            ("dependsOn", depends_on),
        ] {
            if !refs.is_empty() {
                spec[field] = json!(refs);
            }
        }
        let mut entity = envelope(
            "Component",
            &name,
            &format!("A {component_type} in the {} area.", NOUNS[i % NOUNS.len()]),
            spec,
        );
        let metadata = &mut entity["metadata"];
        metadata["tags"] = json!(random_tags(rng, 3));
        metadata["annotations"] = json!({
            "github.com/project-slug": format!("{ROOT_GROUP}/{name}"),
            "backstage.io/techdocs-ref": "dir:.",
        });
        metadata["links"] = json!([{
            "url": format!("https://grafana.bench-org.example/d/{name}"),
            "title": "Dashboard",
            "icon": "dashboard",
        }]);
        entity
    }
}

fn envelope(kind: &str, name: &str, description: &str, spec: Value) -> Value {
    json!({
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "title": title_case(name), "description": description},
        "spec": spec,
    })
}

fn weighted(rng: &mut StdRng, choices: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total);
    for (value, weight) in choices {
        if pick < *weight {
            return value;
        }
        pick -= weight;
    }
    choices[choices.len() - 1].0
}

fn random_tags(rng: &mut StdRng, max: usize) -> Vec<&'static str> {
    let count = rng.gen_range(1..=max);
    let mut tags: Vec<&str> = TAGS.choose_multiple(rng, count).copied().collect();
    tags.sort_unstable();
    tags
}

fn title_case(name: &str) -> String {
    name.split(['-', '.'])
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn openapi_definition(name: &str, i: usize) -> String {
    let resource = NOUNS[(i * 5) % NOUNS.len()];
    format!(
        "openapi: 3.0.3\n\
         info:\n  title: {name}\n  version: 1.{minor}.0\n\
         paths:\n  /{resource}:\n    get:\n      operationId: list{op}\n      responses:\n        '200':\n          description: A page of {resource}\n\
         \x20 /{resource}/{{id}}:\n    get:\n      operationId: get{op}\n      parameters:\n        - name: id\n          in: path\n          required: true\n          schema:\n            type: string\n      responses:\n        '200':\n          description: One item\n        '404':\n          description: Not found\n",
        minor = i % 10,
        op = title_case(resource).replace(' ', ""),
    )
}

fn asyncapi_definition(name: &str) -> String {
    format!(
        "asyncapi: 2.6.0\ninfo:\n  title: {name}\n  version: 1.0.0\nchannels:\n  {name}.v1:\n    subscribe:\n      message:\n        payload:\n          type: object\n          properties:\n            id:\n              type: string\n"
    )
}

fn grpc_definition(i: usize) -> String {
    format!(
        "syntax = \"proto3\";\npackage bench.v{i};\nservice Service{i} {{\n  rpc Get(GetRequest) returns (GetResponse);\n}}\nmessage GetRequest {{ string id = 1; }}\nmessage GetResponse {{ string id = 1; string payload = 2; }}\n"
    )
}

/// What [`write_catalog`] produced.
#[derive(Debug)]
pub struct WrittenCatalog {
    /// The Location entity file to register.
    pub location_file: PathBuf,
    pub entity_files: Vec<PathBuf>,
    pub bytes: u64,
}

/// Writes `plan` into `dir` as `entities-NNNNN.yaml` files of at most
/// `per_file` documents each, plus `catalog-location.yaml`: a Location entity
/// whose `spec.targets` are the entity files, relative to it.
pub fn write_catalog(
    dir: &Path,
    plan: &CatalogPlan,
    per_file: usize,
) -> anyhow::Result<WrittenCatalog> {
    anyhow::ensure!(per_file > 0, "entities per file must be at least 1");
    let mut entity_files = Vec::new();
    let mut bytes = 0u64;
    let total = plan.total();
    for (chunk, start) in (0..total).step_by(per_file).enumerate() {
        let mut text = String::new();
        for index in start..(start + per_file).min(total) {
            if index > start {
                text.push_str("---\n");
            }
            text.push_str(&to_yaml(&plan.entity(index))?);
        }
        let path = dir.join(format!("entities-{:05}.yaml", chunk + 1));
        std::fs::write(&path, &text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        bytes += text.len() as u64;
        entity_files.push(path);
    }
    let targets: Vec<String> = entity_files
        .iter()
        .map(|p| format!("./{}", p.file_name().unwrap_or_default().to_string_lossy()))
        .collect();
    let location = json!({
        "apiVersion": API_VERSION,
        "kind": "Location",
        "metadata": {"name": "bench-catalog", "description": format!("{total} generated entities")},
        "spec": {"targets": targets},
    });
    let location_file = dir.join("catalog-location.yaml");
    let text = to_yaml(&location)?;
    std::fs::write(&location_file, &text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", location_file.display()))?;
    bytes += text.len() as u64;
    Ok(WrittenCatalog {
        location_file,
        entity_files,
        bytes,
    })
}

fn to_yaml(value: &Value) -> anyhow::Result<String> {
    let mut text = serde_saphyr::to_string(value)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Writes a short summary of a plan, e.g. for the benchmark's header.
pub fn describe(plan: &CatalogPlan) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{} entities: {} groups, {} users, {} domains, {} systems, {} components, {} APIs, {} resources",
        plan.total(),
        plan.groups,
        plan.users,
        plan.domains,
        plan.systems,
        plan.components,
        plan.apis,
        plan.resources
    );
    if let Some(n) = plan.owner_groups {
        let range = plan.owner_group_range();
        let _ = write!(
            out,
            "; owners and memberships spread over {} teams (requested {n})",
            range.len()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_entities;
    use std::collections::HashMap;

    fn all(plan: &CatalogPlan) -> Vec<Value> {
        (0..plan.total()).map(|i| plan.entity(i)).collect()
    }

    fn count_kinds(entities: &[Value]) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for e in entities {
            *counts
                .entry(e["kind"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        counts
    }

    #[test]
    fn plan_splits_kinds_by_share() {
        let plan = CatalogPlan::new(100_000, 1).unwrap();
        assert_eq!(
            (plan.groups, plan.users, plan.domains, plan.systems),
            (2_000, 8_000, 2_000, 5_000)
        );
        assert_eq!(
            (plan.resources, plan.apis, plan.components),
            (13_000, 15_000, 55_000)
        );
        assert_eq!(plan.total(), 100_000);
    }

    #[test]
    fn plan_keeps_every_kind_at_the_minimum_size() {
        let plan = CatalogPlan::new(MIN_ENTITIES, 1).unwrap();
        assert_eq!(plan.total(), MIN_ENTITIES);
        for count in [
            plan.groups,
            plan.users,
            plan.domains,
            plan.systems,
            plan.resources,
            plan.apis,
            plan.components,
        ] {
            assert!(count >= 1, "{plan:?}");
        }
    }

    #[test]
    fn plan_rejects_catalogs_too_small_for_every_kind() {
        let err = CatalogPlan::new(MIN_ENTITIES - 1, 1).unwrap_err();
        assert!(err.contains("at least 10"), "{err}");
    }

    #[test]
    fn slots_follow_the_kind_layout() {
        let plan = CatalogPlan::new(1_000, 1).unwrap();
        assert_eq!(plan.slot(0), Slot::Group(0));
        assert_eq!(plan.slot(plan.groups), Slot::User(0));
        let first_component = plan.total() - plan.components;
        assert_eq!(plan.slot(first_component - 1), Slot::Api(plan.apis - 1));
        assert_eq!(
            plan.slot(plan.total() - 1),
            Slot::Component(plan.components - 1)
        );
    }

    #[test]
    fn generated_catalogs_are_valid_and_closed() {
        for total in [MIN_ENTITIES, 37, 1_000, 5_000] {
            let plan = CatalogPlan::new(total, 7).unwrap();
            let entities = all(&plan);
            let problems = check_entities(&entities);
            assert!(
                problems.is_empty(),
                "N={total}: {:?}",
                &problems[..problems.len().min(10)]
            );
            let counts = count_kinds(&entities);
            assert_eq!(counts["Group"], plan.groups);
            assert_eq!(counts["User"], plan.users);
            assert_eq!(counts["Domain"], plan.domains);
            assert_eq!(counts["System"], plan.systems);
            assert_eq!(counts["Resource"], plan.resources);
            assert_eq!(counts["API"], plan.apis);
            assert_eq!(counts["Component"], plan.components);
        }
    }

    #[test]
    fn generated_catalog_uses_the_realistic_shapes() {
        let plan = CatalogPlan::new(5_000, 3).unwrap();
        let entities = all(&plan);
        let components: Vec<&Value> = entities
            .iter()
            .filter(|e| e["kind"] == "Component")
            .collect();
        for t in ["service", "website", "library"] {
            assert!(components.iter().any(|c| c["spec"]["type"] == t), "no {t}");
        }
        let with = |field: &str| {
            components
                .iter()
                .filter(|c| c["spec"].get(field).is_some())
                .count()
        };
        assert!(with("consumesApis") > components.len() / 2);
        assert!(with("dependsOn") > components.len() / 2);
        let depends: Vec<&str> = components
            .iter()
            .flat_map(|c| c["spec"]["dependsOn"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        assert!(depends.iter().any(|d| d.starts_with("resource:")));
        assert!(depends.iter().any(|d| d.starts_with("component:")));
        let api_types: Vec<&str> = entities
            .iter()
            .filter(|e| e["kind"] == "API")
            .map(|a| a["spec"]["type"].as_str().unwrap())
            .collect();
        for t in ["openapi", "asyncapi", "grpc"] {
            assert!(api_types.contains(&t), "no {t} API");
        }
    }

    #[test]
    fn every_api_has_exactly_one_provider() {
        let plan = CatalogPlan::new(2_000, 5).unwrap();
        let mut providers: HashMap<String, usize> = HashMap::new();
        for e in all(&plan).iter().filter(|e| e["kind"] == "Component") {
            for api in e["spec"]["providesApis"].as_array().into_iter().flatten() {
                *providers
                    .entry(api.as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        assert_eq!(providers.len(), plan.apis);
        assert!(providers.values().all(|n| *n == 1));
    }

    #[test]
    fn group_tree_parents_and_children_agree() {
        let plan = CatalogPlan::new(10_000, 1).unwrap();
        let groups: Vec<Value> = (0..plan.groups).map(|i| plan.entity(i)).collect();
        assert!(groups[0]["spec"].get("parent").is_none());
        assert_eq!(groups[0]["spec"]["type"], "organization");
        for (i, group) in groups.iter().enumerate() {
            for child in group["spec"]["children"].as_array().unwrap() {
                let c = groups
                    .iter()
                    .find(|g| g["metadata"]["name"] == *child)
                    .unwrap();
                assert_eq!(c["spec"]["parent"], groups[i]["metadata"]["name"]);
            }
        }
        assert!(groups
            .iter()
            .skip(1)
            .all(|g| g["spec"]["parent"].is_string()));
    }

    #[test]
    fn generation_is_reproducible_per_seed() {
        let a = CatalogPlan::new(500, 11).unwrap();
        let b = CatalogPlan::new(500, 11).unwrap();
        let c = CatalogPlan::new(500, 12).unwrap();
        assert_eq!(all(&a), all(&b));
        assert_ne!(all(&a), all(&c));
    }

    #[test]
    fn owner_groups_limit_owners_and_memberships_to_the_last_teams() {
        let default = CatalogPlan::new(5_000, 3).unwrap();
        assert_eq!(default.owner_group_range(), 1..default.groups);
        let plan = CatalogPlan::new(5_000, 3).unwrap().with_owner_groups(20);
        assert_eq!(plan.owner_group_range(), plan.groups - 20..plan.groups);
        let owners: Vec<String> = plan
            .owner_group_range()
            .map(|i| plan.group_name(i))
            .collect();
        let entities = all(&plan);
        assert_eq!(check_entities(&entities), Vec::<String>::new());
        let mut seen = std::collections::BTreeSet::new();
        for e in &entities {
            let mut refs: Vec<&str> = e["spec"]["owner"].as_str().into_iter().collect();
            if e["kind"] == "User" {
                refs.extend(
                    e["spec"]["memberOf"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|g| g.as_str().unwrap()),
                );
            }
            for r in refs {
                assert!(owners.iter().any(|o| o == r), "{r} is not an owner team");
                seen.insert(r.to_string());
            }
        }
        assert_eq!(seen.len(), 20, "every owner team is used");
        // Asking for more groups than there are keeps the root out.
        let small = CatalogPlan::new(1_000, 3)
            .unwrap()
            .with_owner_groups(10_000);
        assert_eq!(small.owner_group_range(), 1..small.groups);
        assert_eq!(
            CatalogPlan::new(1_000, 3).unwrap().with_owner_groups(0),
            CatalogPlan::new(1_000, 3).unwrap()
        );
        assert_eq!(plan.component_index(0), plan.total() - plan.components);
        assert_eq!(plan.slot(plan.user_index(2)), Slot::User(2));
    }

    #[test]
    fn written_files_hold_exactly_the_plan() {
        let dir = tempfile::tempdir().unwrap();
        let plan = CatalogPlan::new(1_000, 9).unwrap();
        let written = write_catalog(dir.path(), &plan, 300).unwrap();
        assert_eq!(written.entity_files.len(), 4);
        let mut read_back = Vec::new();
        for file in &written.entity_files {
            let text = std::fs::read_to_string(file).unwrap();
            read_back.extend(serde_saphyr::from_multiple::<Value>(&text).unwrap());
        }
        assert_eq!(read_back, all(&plan));
        let location: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&written.location_file).unwrap())
                .unwrap();
        assert_eq!(location["kind"], "Location");
        let targets: Vec<&str> = location["spec"]["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(
            targets,
            [
                "./entities-00001.yaml",
                "./entities-00002.yaml",
                "./entities-00003.yaml",
                "./entities-00004.yaml"
            ]
        );
        assert!(check_entities(&[location]).is_empty());
    }

    #[test]
    fn zero_entities_per_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let plan = CatalogPlan::new(100, 1).unwrap();
        let err = write_catalog(dir.path(), &plan, 0).unwrap_err();
        assert!(err.to_string().contains("at least 1"), "{err}");
    }
}
