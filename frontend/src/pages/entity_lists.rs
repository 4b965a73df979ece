//! Entity page tabs that list other entities:
//! - Dependencies and APIs: the entities behind the page entity's relations
//!   (provided and consumed APIs, dependencies, dependents), one
//!   `POST /entities/by-refs` for all of them;
//! - Children: for Systems, Domains, Groups and Users, the entities that point
//!   at it (parts, systems, members, sub-groups, owned entities), one
//!   `/entities/by-query` per list, so a group that owns thousands of entities
//!   still costs one page.

use std::collections::BTreeMap;

use crate::api::{self, encode_component, ApiError, EntitiesPage, CATALOG_API};
use crate::components::{load_view, SummaryTable};
use crate::entity::{humanize_ref, relation_targets, SUMMARY_FIELDS};
use greenroom_model::{Entity, EntityRef};
use leptos::prelude::*;
use serde_json::Value;

/// How many entities a Children list shows; the heading gives the total.
const CHILDREN_LIMIT: u32 = 100;

/// The relation lists of the Dependencies tab for an entity of `kind`:
/// `(heading, relation type)`.
fn dependency_sections(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind.to_ascii_lowercase().as_str() {
        "component" | "system" => &[
            ("Provided APIs", "providesApi"),
            ("Consumed APIs", "consumesApi"),
            ("Depends on", "dependsOn"),
            ("Depended on by", "dependencyOf"),
        ],
        "api" => &[
            ("Provided by", "apiProvidedBy"),
            ("Consumed by", "apiConsumedBy"),
        ],
        "resource" => &[
            ("Depends on", "dependsOn"),
            ("Depended on by", "dependencyOf"),
        ],
        _ => &[],
    }
}

fn kind_of(entity: &Entity) -> String {
    entity
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[component]
pub fn DependenciesTab(entity: Entity) -> impl IntoView {
    let sections = dependency_sections(&kind_of(&entity));
    let types: Vec<&str> = sections.iter().map(|(_, t)| *t).collect();
    let targets = relation_targets(&entity, &types);
    let refs: Vec<String> = {
        let mut refs: Vec<String> = targets.iter().map(|(_, r)| r.canonical()).collect();
        refs.sort();
        refs.dedup();
        refs
    };
    let fetched = LocalResource::new(move || {
        let refs = refs.clone();
        async move {
            let entities = api::fetch_by_refs(refs.clone()).await?;
            Ok::<_, ApiError>(
                refs.into_iter()
                    .zip(entities)
                    .filter_map(|(r, e)| Some((r, e?)))
                    .collect::<BTreeMap<String, Entity>>(),
            )
        }
    });
    let render = move |found: BTreeMap<String, Entity>| {
        sections
            .iter()
            .map(|(heading, relation)| {
                let refs: Vec<&EntityRef> = targets
                    .iter()
                    .filter(|(t, _)| t.eq_ignore_ascii_case(relation))
                    .map(|(_, r)| r)
                    .collect();
                let entities: Vec<Entity> = refs
                    .iter()
                    .filter_map(|r| found.get(&r.canonical()).cloned())
                    .collect();
                let missing: Vec<String> = refs
                    .iter()
                    .filter(|r| !found.contains_key(&r.canonical()))
                    .map(|r| humanize_ref(r))
                    .collect();
                let body = if refs.is_empty() {
                    view! { <p class="muted">"None."</p> }.into_any()
                } else {
                    view! {
                        {(!entities.is_empty()).then(|| view! { <SummaryTable entities=entities caption=*heading /> })}
                        {(!missing.is_empty())
                            .then(|| {
                                view! {
                                    <p class="warning">
                                        "Not in the catalog: "
                                        {missing.join(", ")}
                                    </p>
                                }
                            })}
                    }
                    .into_any()
                };
                view! {
                    <section class="card" data-relation=*relation>
                        <h2>{format!("{heading} ({})", refs.len())}</h2>
                        {body}
                    </section>
                }
            })
            .collect_view()
    };
    view! { <div class="entity-lists">{load_view(fetched, "related entities", render)}</div> }
}

/// The Children lists for an entity of `kind` named `target` (a canonical
/// ref): `(heading, filter expression)`.
fn children_sections(kind: &str, target: &str) -> Vec<(&'static str, String)> {
    match kind.to_ascii_lowercase().as_str() {
        "system" => vec![(
            "Components, APIs and resources",
            format!("relations.partOf={target}"),
        )],
        "domain" => vec![("Systems", format!("relations.partOf={target}"))],
        "group" => vec![
            (
                "Sub-groups",
                format!("kind=group,relations.childOf={target}"),
            ),
            ("Members", format!("kind=user,relations.memberOf={target}")),
            ("Owned entities", format!("relations.ownedBy={target}")),
        ],
        "user" => vec![
            ("Groups", format!("kind=group,relations.hasMember={target}")),
            ("Owned entities", format!("relations.ownedBy={target}")),
        ],
        _ => Vec::new(),
    }
}

fn children_url(filter: &str) -> String {
    format!(
        "{CATALOG_API}/entities/by-query?limit={CHILDREN_LIMIT}&fields={SUMMARY_FIELDS}\
         &orderField=metadata.name%2Casc&filter={}",
        encode_component(filter)
    )
}

#[component]
pub fn ChildrenTab(entity: Entity) -> impl IntoView {
    let target = EntityRef::of_entity(&entity)
        .map(|r| r.canonical())
        .unwrap_or_default();
    children_sections(&kind_of(&entity), &target)
        .into_iter()
        .map(|(heading, filter)| {
            let url = children_url(&filter);
            let page = LocalResource::new(move || {
                let url = url.clone();
                async move { api::get_json::<EntitiesPage>(&url).await }
            });
            let render = move |page: EntitiesPage| {
                let shown = page.items.len();
                let total = page.total_items;
                if shown == 0 {
                    return view! { <h2>{format!("{heading} (0)")}</h2><p class="muted">"None."</p> }.into_any();
                }
                view! {
                    <h2>{format!("{heading} ({total})")}</h2>
                    {(total as usize > shown).then(|| view! { <p class="muted">{format!("The first {shown}, by name.")}</p> })}
                    <SummaryTable entities=page.items caption=heading />
                }
                .into_any()
            };
            view! { <section class="card" data-list=heading>{load_view(page, "entities", render)}</section> }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apis_list_providers_and_consumers() {
        let sections = dependency_sections("API");
        assert_eq!(
            sections,
            &[
                ("Provided by", "apiProvidedBy"),
                ("Consumed by", "apiConsumedBy")
            ]
        );
        assert!(dependency_sections("Group").is_empty());
    }

    #[test]
    fn group_children_are_queries_on_inverse_relations() {
        let sections = children_sections("Group", "group:default/team-a");
        assert_eq!(
            sections[1],
            (
                "Members",
                "kind=user,relations.memberOf=group:default/team-a".to_string()
            )
        );
        assert_eq!(
            children_url(&sections[2].1),
            "/api/catalog/entities/by-query?limit=100&fields=kind,metadata.name,metadata.namespace,\
             metadata.title,metadata.description,spec.type,spec.owner,spec.lifecycle&orderField=metadata.name%2Casc&filter=relations.ownedBy%3Dgroup%3Adefault%2Fteam-a"
        );
        assert!(children_sections("Component", "component:default/x").is_empty());
    }
}
