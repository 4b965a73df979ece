//! `/catalog/:namespace/:kind/:name`: one entity's metadata, spec and relations,
//! with its processing errors (`status.items`) shown first.

use crate::api;
use crate::components::load_view;
use crate::entity::{
    decode_param, external_links, namespace_of, object_fields, relation_groups, status_problems,
    tags, FieldValue,
};
use crate::shell::page_title;
use greenroom_model::Entity;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};
use serde_json::Value;

#[component]
pub fn EntityPage() -> impl IntoView {
    let params = use_params_map();
    let target = Memo::new(move |_| {
        params.with(|p| {
            let param = |key: &str| decode_param(&p.get(key).unwrap_or_default());
            (param("kind"), param("namespace"), param("name"))
        })
    });
    page_title(move || target.with(|(_, _, name)| name.clone()));
    let entity = LocalResource::new(move || {
        let (kind, namespace, name) = target.get();
        api::fetch_entity(kind, namespace, name)
    });
    view! {
        <section class="page entity">
            <nav class="breadcrumbs" aria-label="Breadcrumbs">
                <a href="/catalog">"Catalog"</a>
            </nav>
            {load_view(entity, "entity", |entity| view! { <EntityDetails entity=entity /> })}
        </section>
    }
}

#[component]
fn EntityDetails(entity: Entity) -> impl IntoView {
    let metadata = entity.get("metadata").cloned().unwrap_or(Value::Null);
    let text = |key: &str| {
        metadata
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let name = text("name");
    let title = Some(text("title"))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| name.clone());
    let description = text("description");
    let kind = entity
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let api_version = entity
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let namespace = namespace_of(&entity).to_string();
    let problems = status_problems(&entity);
    let spec = object_fields(entity.get("spec"));
    let labels = object_fields(metadata.get("labels"));
    let annotations = object_fields(metadata.get("annotations"));
    let relations = relation_groups(&entity);
    let links = external_links(&entity);
    let tags = tags(&entity);

    view! {
        <header class="entity-header">
            <h1>{title}</h1>
            <p class="muted">{format!("{kind} · {namespace}/{name} · {api_version}")}</p>
            {(!description.is_empty()).then(|| view! { <p class="description">{description}</p> })}
            {(!tags.is_empty())
                .then(|| {
                    view! {
                        <ul class="tags" aria-label="Tags">
                            {tags.into_iter().map(|t| view! { <li class="tag">{t}</li> }).collect_view()}
                        </ul>
                    }
                })}
        </header>
        {(!problems.is_empty())
            .then(|| {
                view! {
                    <section class="entity-problems" role="alert" aria-labelledby="problems-heading">
                        <h2 id="problems-heading">"Processing problems"</h2>
                        <p>"The catalog could not fully process this entity. What is shown below may be out of date."</p>
                        <ul>
                            {problems
                                .into_iter()
                                .map(|p| {
                                    view! {
                                        <li class=format!("problem level-{}", p.level)>
                                            <strong>{format!("{} ({})", p.name, p.level)}</strong>
                                            ": "
                                            {p.message}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </section>
                }
            })}
        <div class="entity-grid">
            <FieldsCard heading="Spec" fields=spec empty="This entity has no spec." />
            <RelationsCard relations=relations />
            {(!links.is_empty())
                .then(|| {
                    view! {
                        <section class="card">
                            <h2>"Links"</h2>
                            <ul class="link-list">
                                {links
                                    .into_iter()
                                    .map(|l| {
                                        view! {
                                            <li>
                                                <a href=l.url rel="noopener noreferrer" target="_blank">{l.title}</a>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </section>
                    }
                })}
            <FieldsCard heading="Labels" fields=labels empty="No labels." />
            <FieldsCard heading="Annotations" fields=annotations empty="No annotations." />
        </div>
    }
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

#[component]
fn RelationsCard(relations: Vec<(String, Vec<crate::entity::EntityLink>)>) -> impl IntoView {
    let body = if relations.is_empty() {
        view! { <p class="muted">"No relations."</p> }.into_any()
    } else {
        view! {
            <dl class="fields">
                {relations
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
                                                view! {
                                                    <li>
                                                        <A href=link.href>{link.label}</A>
                                                    </li>
                                                }
                                                    .into_any()
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
    };
    view! {
        <section class="card">
            <h2>"Relations"</h2>
            {body}
        </section>
    }
}
