//! The Overview tab of an entity page: the about card (description, owner,
//! system, domain, type, lifecycle, tags, links, source/view/edit links) and
//! the spec, labels and annotations as they are.

use crate::entity::{
    external_links, location_links, object_fields, spec_ref_link, tags, EntityLink, FieldValue,
};
use greenroom_model::Entity;
use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::Value;

#[component]
pub fn Overview(entity: Entity) -> impl IntoView {
    let metadata = entity.get("metadata").cloned().unwrap_or(Value::Null);
    // An API's definition has its own tab; here it would push everything else down.
    let mut spec = object_fields(entity.get("spec"));
    spec.retain(|(key, _)| key != "definition");
    let labels = object_fields(metadata.get("labels"));
    let annotations = object_fields(metadata.get("annotations"));
    view! {
        <div class="entity-grid">
            <AboutCard entity=entity />
            <FieldsCard heading="Spec" fields=spec empty="This entity has no spec." />
            <FieldsCard heading="Labels" fields=labels empty="No labels." />
            <FieldsCard heading="Annotations" fields=annotations empty="No annotations." />
        </div>
    }
}

#[component]
fn AboutCard(entity: Entity) -> impl IntoView {
    let text = |section: &str, key: &str| {
        entity
            .get(section)
            .and_then(|s| s.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let description = text("metadata", "description");
    let kind = entity
        .get("kind")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut facts: Vec<(&'static str, FactValue)> = Vec::new();
    for (label, field, default_kind) in [
        ("Owner", "owner", "Group"),
        ("System", "system", "System"),
        ("Domain", "domain", "Domain"),
        ("Parent", "parent", "Group"),
    ] {
        if let Some(link) = spec_ref_link(&entity, field, default_kind) {
            facts.push((label, FactValue::Link(link)));
        }
    }
    for (label, key) in [("Type", "type"), ("Lifecycle", "lifecycle")] {
        if let Some(value) = text("spec", key) {
            facts.push((label, FactValue::Text(value)));
        }
    }
    if let Some(email) = entity
        .get("spec")
        .and_then(|s| s.get("profile"))
        .and_then(|p| p.get("email"))
        .and_then(Value::as_str)
    {
        facts.push(("Email", FactValue::Text(email.to_string())));
    }
    let tags = tags(&entity);
    let links = external_links(&entity);
    let source_links = location_links(&entity);
    view! {
        <section class="card about" aria-labelledby="about-heading">
            <h2 id="about-heading">"About"</h2>
            {match description {
                Some(d) if !d.is_empty() => view! { <p class="description">{d}</p> }.into_any(),
                _ => view! { <p class="muted">{format!("This {} has no description.", kind.unwrap_or_default().to_lowercase())}</p> }.into_any(),
            }}
            {(!source_links.is_empty())
                .then(|| {
                    view! {
                        <ul class="source-links" aria-label="Source">
                            {source_links
                                .into_iter()
                                .map(|l| view! { <li><a href=l.url rel="noopener noreferrer" target="_blank">{l.title}</a></li> })
                                .collect_view()}
                        </ul>
                    }
                })}
            <dl class="fields about-facts">
                {facts
                    .into_iter()
                    .map(|(label, value)| {
                        let value = match value {
                            FactValue::Link(link) => view! { <A href=link.href>{link.label}</A> }.into_any(),
                            FactValue::Text(text) => view! { <span>{text}</span> }.into_any(),
                        };
                        view! {
                            <dt>{label}</dt>
                            <dd>{value}</dd>
                        }
                    })
                    .collect_view()}
                {(!tags.is_empty())
                    .then(|| {
                        view! {
                            <dt>"Tags"</dt>
                            <dd>
                                <ul class="tags" aria-label="Tags">
                                    {tags.into_iter().map(|t| view! { <li class="tag">{t}</li> }).collect_view()}
                                </ul>
                            </dd>
                        }
                    })}
            </dl>
            {(!links.is_empty())
                .then(|| {
                    view! {
                        <h3>"Links"</h3>
                        <ul class="link-list">
                            {links
                                .into_iter()
                                .map(|l| view! { <li><a href=l.url rel="noopener noreferrer" target="_blank">{l.title}</a></li> })
                                .collect_view()}
                        </ul>
                    }
                })}
        </section>
    }
}

enum FactValue {
    Link(EntityLink),
    Text(String),
}

#[component]
fn FieldsCard(
    heading: &'static str,
    fields: Vec<(String, FieldValue)>,
    empty: &'static str,
) -> impl IntoView {
    let body = if fields.is_empty() {
        view! { <p class="muted">{empty}</p> }.into_any()
    } else {
        view! {
            <dl class="fields">
                {fields
                    .into_iter()
                    .map(|(key, value)| {
                        let value = match value {
                            FieldValue::Text(text) => view! { <span>{text}</span> }.into_any(),
                            FieldValue::Json(json) => view! { <pre>{json}</pre> }.into_any(),
                        };
                        view! {
                            <dt>{key}</dt>
                            <dd>{value}</dd>
                        }
                    })
                    .collect_view()}
            </dl>
        }
        .into_any()
    };
    view! {
        <section class="card">
            <h2>{heading}</h2>
            {body}
        </section>
    }
}
