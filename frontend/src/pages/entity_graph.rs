//! The Relations tab: the entity's neighbourhood as an SVG graph. Each depth
//! is fetched with one `POST /entities/by-refs` (never a request per node);
//! depth and relation types are chosen above the graph. Nodes are links:
//! click, or focus and press Enter, to open that entity. The same relations
//! are listed as text below the graph for screen readers.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::{self, ApiError};
use crate::components::load_view;
use crate::entity::{entity_path, relation_groups, EntityLink};
use crate::graph::{self, Graph, NODE_HEIGHT, NODE_WIDTH};
use greenroom_model::{Entity, EntityRef};
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};

/// Walks the relations from `root` to `depth`, a level per request.
async fn walk(
    root: Entity,
    depth: usize,
    shown: BTreeSet<String>,
) -> Result<(Graph, usize), ApiError> {
    let Some(root_ref) = EntityRef::of_entity(&root) else {
        return Ok((Graph::default(), 0));
    };
    let mut entities = BTreeMap::from([(root_ref.canonical(), root)]);
    let mut seen = BTreeSet::from([root_ref.canonical()]);
    let mut levels = vec![vec![root_ref]];
    let mut requests = 0;
    for _ in 0..depth {
        let next = graph::next_level(
            levels.last().expect("the root level"),
            &entities,
            &mut seen,
            &shown,
        );
        if next.is_empty() {
            break;
        }
        // Nodes past the graph's limit are not drawn, so they are not fetched.
        let drawn: usize = levels.iter().map(Vec::len).sum();
        let wanted: Vec<String> = next
            .iter()
            .take(graph::MAX_NODES.saturating_sub(drawn))
            .map(EntityRef::canonical)
            .collect();
        if !wanted.is_empty() {
            requests += 1;
            for entity in api::fetch_by_refs(wanted).await?.into_iter().flatten() {
                if let Some(r) = EntityRef::of_entity(&entity) {
                    entities.insert(r.canonical(), entity);
                }
            }
        }
        levels.push(next);
    }
    Ok((graph::build(&levels, &entities, &shown), requests))
}

#[component]
pub fn RelationsGraph(entity: Entity) -> impl IntoView {
    let depth = RwSignal::new(1_usize);
    let shown = RwSignal::new(BTreeSet::<String>::new());
    let root = entity.clone();
    let result = LocalResource::new(move || walk(root.clone(), depth.get(), shown.get()));
    let on_depth = move |ev| {
        if let Ok(d) = event_target_value(&ev).parse::<usize>() {
            depth.set(d);
        }
    };
    let groups = relation_groups(&entity);
    view! {
        <section class="card graph-card" aria-labelledby="graph-heading">
            <h2 id="graph-heading">"Relations"</h2>
            <div class="graph-controls">
                <div class="filter">
                    <label for="graph-depth">"Depth"</label>
                    <select id="graph-depth" on:change=on_depth>
                        {graph::DEPTHS
                            .into_iter()
                            .map(|d| view! { <option value=d.to_string() selected=move || depth.get() == d>{d.to_string()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <fieldset class="relation-types">
                    <legend>"Relation types"</legend>
                    {graph::relation_types()
                        .into_iter()
                        .map(|t| {
                            let id = format!("relation-{t}");
                            let checked = move || shown.with(|s| s.is_empty() || s.contains(t));
                            let on_change = move |_| {
                                shown.update(|s| {
                                    if s.is_empty() {
                                        *s = graph::relation_types().into_iter().map(str::to_string).collect();
                                    }
                                    if !s.remove(t) {
                                        s.insert(t.to_string());
                                    }
                                    // Every type shown is the same as no filter.
                                    if s.len() == graph::relation_types().len() {
                                        s.clear();
                                    }
                                });
                            };
                            let label_for = id.clone();
                            view! {
                                <label for=label_for class="check">
                                    <input type="checkbox" id=id prop:checked=checked on:change=on_change />
                                    {t}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
            </div>
            {load_view(result, "relations", |(graph, requests)| view! { <GraphView graph=graph requests=requests /> })}
            <details class="relation-list">
                <summary>"Relations as a list"</summary>
                <RelationList groups=groups />
            </details>
        </section>
    }
}

#[component]
fn GraphView(graph: Graph, requests: usize) -> impl IntoView {
    if graph.nodes.len() <= 1 {
        return view! { <p class="muted" role="status">"This entity has no relations of the chosen types."</p> }.into_any();
    }
    let navigate = use_navigate();
    let focused = RwSignal::new(None::<String>);
    let position: BTreeMap<String, (f64, f64)> = graph
        .nodes
        .iter()
        .map(|n| (n.key.clone(), (n.x, n.y)))
        .collect();
    let summary = format!(
        "{} entities and {} relations{}, fetched in {} request{}",
        graph.nodes.len(),
        graph.edges.len(),
        if graph.cut > 0 {
            format!(" ({} more not shown)", graph.cut)
        } else {
            String::new()
        },
        requests,
        if requests == 1 { "" } else { "s" },
    );
    let edges = graph
        .edges
        .iter()
        .filter_map(|edge| {
            let (x1, y1) = *position.get(&edge.from)?;
            let (x2, y2) = *position.get(&edge.to)?;
            // End the line at the target box's border, where the arrow head goes.
            let (ex, ey) = box_border(x2, y2, x1, y1);
            let (from, to) = (edge.from.clone(), edge.to.clone());
            let active = move || focused.with(|f| f.as_deref().is_some_and(|k| k == from || k == to));
            Some(view! {
                <g class="edge" class:active=active>
                    <line x1=x1 y1=y1 x2=ex y2=ey marker-end="url(#arrow)" />
                    <text x=(x1 + x2) / 2.0 y=(y1 + y2) / 2.0 - 4.0 text-anchor="middle">{edge.label.clone()}</text>
                </g>
            })
        })
        .collect_view();
    let nodes = graph
        .nodes
        .iter()
        .map(|node| {
            let href = entity_path(&node.entity_ref);
            let label = graph::label(node);
            let kind = node.entity_ref.kind.to_lowercase();
            let accessible = format!(
                "{} {}{}",
                node.entity_ref.kind,
                node.title.clone().unwrap_or_else(|| node.entity_ref.name.clone()),
                if node.found { "" } else { " (not in the catalog)" }
            );
            let class = format!(
                "node kind-{kind}{}{}",
                if node.depth == 0 { " root" } else { "" },
                if node.found { "" } else { " missing" }
            );
            let (x, y) = (node.x - NODE_WIDTH / 2.0, node.y - NODE_HEIGHT / 2.0);
            let key_focus = node.key.clone();
            let key_hover = node.key.clone();
            let open = {
                let navigate = navigate.clone();
                let href = href.clone();
                move || navigate(&format!("{href}?tab=relations"), Default::default())
            };
            let open_on_key = open.clone();
            view! {
                <g
                    class=class
                    role="link"
                    tabindex="0"
                    aria-label=accessible
                    data-ref=node.key.clone()
                    on:click=move |_| open()
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            open_on_key();
                        }
                    }
                    on:focus=move |_| focused.set(Some(key_focus.clone()))
                    on:mouseenter=move |_| focused.set(Some(key_hover.clone()))
                    on:blur=move |_| focused.set(None)
                    on:mouseleave=move |_| focused.set(None)
                >
                    <rect x=x y=y width=NODE_WIDTH height=NODE_HEIGHT rx="6" />
                    <text x=node.x y=node.y - 4.0 text-anchor="middle" class="node-kind">{kind.clone()}</text>
                    <text x=node.x y=node.y + 13.0 text-anchor="middle" class="node-name">{label}</text>
                </g>
            }
        })
        .collect_view();
    let view_box = format!("0 0 {:.0} {:.0}", graph.width, graph.height);
    view! {
        <p class="muted graph-summary" role="status">{summary}</p>
        <div class="graph-wrap">
            <svg
                class="relations-graph"
                viewBox=view_box
                width=format!("{:.0}", graph.width)
                role="group"
                aria-label="Relations graph"
            >
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" />
                    </marker>
                </defs>
                <g class="edges">{edges}</g>
                <g class="nodes">{nodes}</g>
            </svg>
        </div>
    }
    .into_any()
}

/// Where the line from `(fx, fy)` to the centre `(x, y)` of a node box meets
/// the box's border.
fn box_border(x: f64, y: f64, fx: f64, fy: f64) -> (f64, f64) {
    let (dx, dy) = (fx - x, fy - y);
    if dx == 0.0 && dy == 0.0 {
        return (x, y);
    }
    let scale_x = if dx != 0.0 {
        (NODE_WIDTH / 2.0) / dx.abs()
    } else {
        f64::INFINITY
    };
    let scale_y = if dy != 0.0 {
        (NODE_HEIGHT / 2.0) / dy.abs()
    } else {
        f64::INFINITY
    };
    let scale = scale_x.min(scale_y).min(1.0);
    (x + dx * scale, y + dy * scale)
}

#[component]
fn RelationList(groups: Vec<(String, Vec<EntityLink>)>) -> impl IntoView {
    if groups.is_empty() {
        return view! { <p class="muted">"No relations."</p> }.into_any();
    }
    view! {
        <dl class="fields">
            {groups
                .into_iter()
                .map(|(kind, links)| {
                    view! {
                        <dt>{kind}</dt>
                        <dd>
                            <ul class="link-list">
                                {links
                                    .into_iter()
                                    .map(|link| {
                                        if link.href.is_empty() {
                                            view! { <li>{link.label}</li> }.into_any()
                                        } else {
                                            view! { <li><A href=link.href>{link.label}</A></li> }.into_any()
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </dd>
                    }
                })
                .collect_view()}
        </dl>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::box_border;
    use crate::graph::{NODE_HEIGHT, NODE_WIDTH};

    #[test]
    fn lines_end_on_the_box_border() {
        // From straight left: the left edge's midpoint.
        assert_eq!(
            box_border(100.0, 100.0, 0.0, 100.0),
            (100.0 - NODE_WIDTH / 2.0, 100.0)
        );
        // From straight above: the top edge.
        assert_eq!(
            box_border(100.0, 100.0, 100.0, 0.0),
            (100.0, 100.0 - NODE_HEIGHT / 2.0)
        );
        assert_eq!(box_border(5.0, 5.0, 5.0, 5.0), (5.0, 5.0));
    }
}
