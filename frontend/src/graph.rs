//! The relations graph of an entity page: which entities and edges it shows
//! (a breadth-first walk over `relations`, a level at a time) and where they
//! go (a radial layout around the entity). Plain functions over entity JSON,
//! unit-tested on the host; the page fetches each level with one
//! `POST /entities/by-refs` and draws the result as SVG.

use std::collections::{BTreeMap, BTreeSet};

use crate::entity::relations_where;
use greenroom_model::{Entity, EntityRef};
use serde_json::Value;

/// The most nodes one graph shows; a larger neighbourhood is cut at this size
/// (nearest levels first) and the page says so.
pub const MAX_NODES: usize = 60;
/// Depths the page offers.
pub const DEPTHS: [usize; 3] = [1, 2, 3];

/// Relation pairs drawn as one edge, named by the first of each pair and
/// pointing from its source to its target.
const PAIRS: [(&str, &str); 7] = [
    ("ownedBy", "ownerOf"),
    ("partOf", "hasPart"),
    ("dependsOn", "dependencyOf"),
    ("providesApi", "apiProvidedBy"),
    ("consumesApi", "apiConsumedBy"),
    ("memberOf", "hasMember"),
    ("childOf", "parentOf"),
];

/// Every relation type the graph can show, in the order its filter lists them.
pub fn relation_types() -> Vec<&'static str> {
    PAIRS.iter().map(|(canonical, _)| *canonical).collect()
}

/// The canonical name of a relation and whether it runs the other way.
fn canonical(relation: &str) -> (String, bool) {
    for (forward, inverse) in PAIRS {
        if relation.eq_ignore_ascii_case(forward) {
            return (forward.to_string(), false);
        }
        if relation.eq_ignore_ascii_case(inverse) {
            return (forward.to_string(), true);
        }
    }
    (relation.to_string(), false)
}

/// `(relation type, target ref)` of an entity's relations, keeping only the
/// types in `shown` (all when empty).
pub fn relations_of(entity: &Entity, shown: &BTreeSet<String>) -> Vec<(String, EntityRef)> {
    relations_where(entity, |kind| {
        shown.is_empty() || shown.contains(&canonical(kind).0)
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub key: String,
    pub entity_ref: EntityRef,
    /// `metadata.title` when the entity was fetched and has one.
    pub title: Option<String>,
    /// Distance from the page's entity.
    pub depth: usize,
    /// False when the ref names no entity in the catalog.
    pub found: bool,
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Nodes left out because of [`MAX_NODES`].
    pub cut: usize,
    pub width: f64,
    pub height: f64,
}

/// Builds the graph from the walk's results: `levels[0]` is the page's entity,
/// `levels[d]` the refs first reached at depth `d`, and `entities` every
/// entity fetched (by `EntityRef::canonical`).
pub fn build(
    levels: &[Vec<EntityRef>],
    entities: &BTreeMap<String, Entity>,
    shown: &BTreeSet<String>,
) -> Graph {
    let mut nodes: Vec<Node> = Vec::new();
    let mut cut = 0;
    for (depth, level) in levels.iter().enumerate() {
        for entity_ref in level {
            if nodes.len() >= MAX_NODES {
                cut += 1;
                continue;
            }
            let key = entity_ref.canonical();
            let entity = entities.get(&key);
            nodes.push(Node {
                key,
                entity_ref: entity_ref.clone(),
                title: entity
                    .and_then(|e| e.get("metadata"))
                    .and_then(|m| m.get("title"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                depth,
                found: entity.is_some(),
                x: 0.0,
                y: 0.0,
            });
        }
    }
    let keys: BTreeSet<&str> = nodes.iter().map(|n| n.key.as_str()).collect();
    let mut edges = BTreeSet::new();
    for node in &nodes {
        let Some(entity) = entities.get(&node.key) else {
            continue;
        };
        for (relation, target) in relations_of(entity, shown) {
            let target = target.canonical();
            if !keys.contains(target.as_str()) || target == node.key {
                continue;
            }
            let (label, reversed) = canonical(&relation);
            let (from, to) = if reversed {
                (target, node.key.clone())
            } else {
                (node.key.clone(), target)
            };
            edges.insert(Edge { from, to, label });
        }
    }
    let mut graph = Graph {
        nodes,
        edges: edges.into_iter().collect(),
        cut,
        width: 0.0,
        height: 0.0,
    };
    layout(&mut graph);
    graph
}

/// Node box size in the SVG's units; the page draws boxes this size.
pub const NODE_WIDTH: f64 = 190.0;
pub const NODE_HEIGHT: f64 = 44.0;
const MARGIN: f64 = 24.0;
/// Space between rings, and the least distance between node centres on a ring.
const RING_GAP: f64 = 120.0;
const NODE_SPACING: f64 = NODE_WIDTH + 20.0;

/// A radial layout: the page's entity in the middle, each depth on its own
/// ring, a ring wide enough that its nodes do not overlap, and each node near
/// the nodes that led to it (nodes are ordered by their parent's angle).
fn layout(graph: &mut Graph) {
    let max_depth = graph.nodes.iter().map(|n| n.depth).max().unwrap_or(0);
    let mut radius = 0.0_f64;
    let mut angle_of: BTreeMap<String, f64> = BTreeMap::new();
    for depth in 0..=max_depth {
        let mut ring: Vec<usize> = (0..graph.nodes.len())
            .filter(|&i| graph.nodes[i].depth == depth)
            .collect();
        if depth == 0 {
            for &i in &ring {
                angle_of.insert(graph.nodes[i].key.clone(), 0.0);
            }
            continue;
        }
        // The angle of a node's nearest parent orders the ring.
        let parent_angle = |key: &str| -> f64 {
            graph
                .edges
                .iter()
                .filter_map(|e| {
                    if e.from == key {
                        angle_of.get(&e.to)
                    } else if e.to == key {
                        angle_of.get(&e.from)
                    } else {
                        None
                    }
                })
                .copied()
                .fold(f64::NAN, f64::min)
        };
        let mut keyed: Vec<(f64, usize)> = ring
            .iter()
            .map(|&i| (parent_angle(&graph.nodes[i].key), i))
            .collect();
        keyed.sort_by(|a, b| {
            a.0.partial_cmp(&b.0)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(graph.nodes[a.1].key.cmp(&graph.nodes[b.1].key))
        });
        ring = keyed.into_iter().map(|(_, i)| i).collect();
        let count = ring.len() as f64;
        // Wide enough for the nodes along the circumference, and outside the last ring.
        let needed = count * NODE_SPACING / std::f64::consts::TAU;
        radius = (radius + RING_GAP)
            .max(needed)
            .max(if depth == 1 { 180.0 } else { 0.0 });
        for (slot, &i) in ring.iter().enumerate() {
            let angle = std::f64::consts::TAU * slot as f64 / count - std::f64::consts::FRAC_PI_2;
            // Stretched sideways: boxes are wider than tall.
            graph.nodes[i].x = radius * 1.4 * angle.cos();
            graph.nodes[i].y = radius * angle.sin();
            angle_of.insert(graph.nodes[i].key.clone(), angle);
        }
    }
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    for node in &graph.nodes {
        min_x = min_x.min(node.x);
        max_x = max_x.max(node.x);
        min_y = min_y.min(node.y);
        max_y = max_y.max(node.y);
    }
    let (dx, dy) = (
        MARGIN + NODE_WIDTH / 2.0 - min_x,
        MARGIN + NODE_HEIGHT / 2.0 - min_y,
    );
    for node in &mut graph.nodes {
        node.x += dx;
        node.y += dy;
    }
    graph.width = max_x - min_x + NODE_WIDTH + 2.0 * MARGIN;
    graph.height = max_y - min_y + NODE_HEIGHT + 2.0 * MARGIN;
}

/// The refs of the next level: targets of `level`'s relations not seen yet.
pub fn next_level(
    level: &[EntityRef],
    entities: &BTreeMap<String, Entity>,
    seen: &mut BTreeSet<String>,
    shown: &BTreeSet<String>,
) -> Vec<EntityRef> {
    let mut next = Vec::new();
    for entity_ref in level {
        let Some(entity) = entities.get(&entity_ref.canonical()) else {
            continue;
        };
        for (_, target) in relations_of(entity, shown) {
            if seen.insert(target.canonical()) {
                next.push(target);
            }
        }
    }
    next
}

/// A node's label: its title, else its name, shortened to fit its box.
pub fn label(node: &Node) -> String {
    const MAX: usize = 24;
    let text = node.title.as_deref().unwrap_or(&node.entity_ref.name);
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let short: String = text.chars().take(MAX - 1).collect();
        format!("{short}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(kind: &str, name: &str, relations: &[(&str, &str)]) -> (String, Entity) {
        let relations: Vec<Value> = relations
            .iter()
            .map(|(t, target)| json!({"type": t, "targetRef": target}))
            .collect();
        let value = json!({
            "kind": kind,
            "metadata": {"name": name, "namespace": "default"},
            "relations": relations,
        });
        let Value::Object(map) = value else {
            unreachable!()
        };
        (EntityRef::new(kind, "default", name).canonical(), map)
    }

    fn walk(
        root: EntityRef,
        entities: &BTreeMap<String, Entity>,
        depth: usize,
    ) -> Vec<Vec<EntityRef>> {
        let shown = BTreeSet::new();
        let mut seen = BTreeSet::from([root.canonical()]);
        let mut levels = vec![vec![root]];
        for _ in 0..depth {
            let next = next_level(levels.last().unwrap(), entities, &mut seen, &shown);
            if next.is_empty() {
                break;
            }
            levels.push(next);
        }
        levels
    }

    fn catalog() -> BTreeMap<String, Entity> {
        BTreeMap::from([
            entity(
                "Component",
                "shop",
                &[
                    ("ownedBy", "group:default/team-a"),
                    ("providesApi", "api:default/shop-api"),
                    ("dependsOn", "resource:default/db"),
                ],
            ),
            entity(
                "Group",
                "team-a",
                &[
                    ("ownerOf", "component:default/shop"),
                    ("hasMember", "user:default/ann"),
                ],
            ),
            entity(
                "API",
                "shop-api",
                &[("apiProvidedBy", "component:default/shop")],
            ),
            entity("User", "ann", &[("memberOf", "group:default/team-a")]),
        ])
    }

    #[test]
    fn inverse_relations_become_one_edge() {
        let entities = catalog();
        let levels = walk(EntityRef::new("Component", "default", "shop"), &entities, 1);
        let graph = build(&levels, &entities, &BTreeSet::new());
        assert_eq!(graph.nodes.len(), 4, "shop, team-a, shop-api, db");
        let edges: Vec<(&str, &str, &str)> = graph
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str(), e.label.as_str()))
            .collect();
        assert_eq!(
            edges,
            vec![
                (
                    "component:default/shop",
                    "api:default/shop-api",
                    "providesApi"
                ),
                ("component:default/shop", "group:default/team-a", "ownedBy"),
                ("component:default/shop", "resource:default/db", "dependsOn"),
            ]
        );
        // The resource is not in the catalog: shown, but marked.
        let db = graph
            .nodes
            .iter()
            .find(|n| n.entity_ref.name == "db")
            .unwrap();
        assert!(!db.found);
    }

    #[test]
    fn deeper_walks_reach_further_and_stop_when_nothing_is_new() {
        let entities = catalog();
        let root = EntityRef::new("Component", "default", "shop");
        let two = walk(root.clone(), &entities, 2);
        assert_eq!(two.len(), 3);
        assert_eq!(two[2], vec![EntityRef::new("user", "default", "ann")]);
        let three = walk(root, &entities, 3);
        assert_eq!(three.len(), 3, "nothing new at depth 3");
    }

    #[test]
    fn the_relation_filter_limits_the_walk() {
        let entities = catalog();
        let shown = BTreeSet::from(["ownedBy".to_string()]);
        let mut seen = BTreeSet::new();
        let next = next_level(
            &[EntityRef::new("Component", "default", "shop")],
            &entities,
            &mut seen,
            &shown,
        );
        assert_eq!(next, vec![EntityRef::new("group", "default", "team-a")]);
    }

    #[test]
    fn nodes_on_a_ring_do_not_overlap_and_fit_the_canvas() {
        let mut relations = Vec::new();
        let names: Vec<String> = (0..40).map(|i| format!("c{i:02}")).collect();
        for name in &names {
            relations.push(("ownerOf", format!("component:default/{name}")));
        }
        let rels: Vec<(&str, &str)> = relations.iter().map(|(t, r)| (*t, r.as_str())).collect();
        let entities = BTreeMap::from([entity("Group", "big", &rels)]);
        let levels = walk(EntityRef::new("Group", "default", "big"), &entities, 1);
        let graph = build(&levels, &entities, &BTreeSet::new());
        assert_eq!(graph.nodes.len(), 41);
        for (i, a) in graph.nodes.iter().enumerate() {
            assert!(a.x - NODE_WIDTH / 2.0 >= 0.0 && a.x + NODE_WIDTH / 2.0 <= graph.width);
            assert!(a.y - NODE_HEIGHT / 2.0 >= 0.0 && a.y + NODE_HEIGHT / 2.0 <= graph.height);
            for b in &graph.nodes[i + 1..] {
                let apart = (a.x - b.x).abs() >= NODE_WIDTH || (a.y - b.y).abs() >= NODE_HEIGHT;
                assert!(apart, "{} and {} overlap", a.key, b.key);
            }
        }
    }

    #[test]
    fn large_neighbourhoods_are_cut() {
        let names: Vec<String> = (0..100)
            .map(|i| format!("component:default/c{i}"))
            .collect();
        let rels: Vec<(&str, &str)> = names.iter().map(|r| ("ownerOf", r.as_str())).collect();
        let entities = BTreeMap::from([entity("Group", "huge", &rels)]);
        let levels = walk(EntityRef::new("Group", "default", "huge"), &entities, 1);
        let graph = build(&levels, &entities, &BTreeSet::new());
        assert_eq!(graph.nodes.len(), MAX_NODES);
        assert_eq!(graph.cut, 101 - MAX_NODES);
    }

    #[test]
    fn long_labels_are_shortened() {
        let node = Node {
            key: String::new(),
            entity_ref: EntityRef::new("Component", "default", "a-very-long-component-name-indeed"),
            title: None,
            depth: 0,
            found: true,
            x: 0.0,
            y: 0.0,
        };
        assert_eq!(label(&node), "a-very-long-component-n…");
    }
}
