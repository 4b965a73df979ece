//! `/catalog/:namespace/:kind/:name`: one entity, in tabs (`?tab=...` keeps
//! the tab in the address): Overview, Relations (graph), Dependencies and APIs,
//! Children (Systems, Domains, Groups, Users), Definition (APIs), Docs
//! (entities with TechDocs; `&page=` names the page) and Raw.
//! Processing errors (`status.items`) show above every tab. Beside the title:
//! Star, and for those allowed to, Refresh and Unregister.

use crate::api::{self, ApiError, CATALOG_API};
use crate::components::{load_view, ErrorBox, Modal};
use crate::entity::{decode_param, humanize_ref, namespace_of, status_problems};
use crate::pages::api_definition::ApiDefinition;
use crate::pages::docs_reader::DocsTab;
use crate::pages::entity_graph::RelationsGraph;
use crate::pages::entity_lists::{ChildrenTab, DependenciesTab};
use crate::pages::entity_overview::Overview;
use crate::permissions::{use_permission, CATALOG_ENTITY_DELETE, CATALOG_ENTITY_REFRESH};
use crate::prefs::{self, SavedEntity};
use crate::shell::page_title;
use greenroom_model::{Entity, EntityRef};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Relations,
    Dependencies,
    Children,
    Definition,
    Docs,
    Raw,
}

impl Tab {
    const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Relations,
        Tab::Dependencies,
        Tab::Children,
        Tab::Definition,
        Tab::Docs,
        Tab::Raw,
    ];

    fn param(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Relations => "relations",
            Tab::Dependencies => "dependencies",
            Tab::Children => "children",
            Tab::Definition => "definition",
            Tab::Docs => "docs",
            Tab::Raw => "raw",
        }
    }

    /// The tab's name on an entity of `kind` (`documented`: it has TechDocs),
    /// or `None` when the entity has no such tab.
    fn label(self, kind: &str, documented: bool) -> Option<&'static str> {
        let kind = kind.to_ascii_lowercase();
        match self {
            Tab::Overview => Some("Overview"),
            Tab::Relations => Some("Relations"),
            Tab::Dependencies => match kind.as_str() {
                "component" | "system" => Some("Dependencies and APIs"),
                "api" => Some("Providers and consumers"),
                "resource" => Some("Dependencies"),
                _ => None,
            },
            Tab::Children => match kind.as_str() {
                "system" => Some("Parts"),
                "domain" => Some("Systems"),
                "group" => Some("Members and ownership"),
                "user" => Some("Groups and ownership"),
                _ => None,
            },
            Tab::Definition => (kind == "api").then_some("Definition"),
            Tab::Docs => documented.then_some("Docs"),
            Tab::Raw => Some("Raw"),
        }
    }

    fn from_param(param: Option<&str>) -> Tab {
        Tab::ALL
            .into_iter()
            .find(|t| Some(t.param()) == param)
            .unwrap_or(Tab::Overview)
    }
}

#[component]
pub fn EntityPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let target = Memo::new(move |_| {
        params.with(|p| {
            let param = |key: &str| decode_param(&p.get(key).unwrap_or_default());
            (param("kind"), param("namespace"), param("name"))
        })
    });
    let tab = Memo::new(move |_| query.with(|q| Tab::from_param(q.get("tab").as_deref())));
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
            {load_view(entity, "entity", move |entity| view! { <EntityView entity=entity tab=tab /> })}
        </section>
    }
}

fn text_of(entity: &Entity, section: &str, key: &str) -> String {
    crate::entity::entity_str(entity, section, key)
        .unwrap_or_default()
        .to_string()
}

#[component]
fn EntityView(entity: Entity, tab: Memo<Tab>) -> impl IntoView {
    let name = text_of(&entity, "metadata", "name");
    let title = Some(text_of(&entity, "metadata", "title"))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| name.clone());
    let kind = entity
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let namespace = namespace_of(&entity).to_string();
    let entity_ref = EntityRef::new(&kind, &namespace, &name);
    let saved = SavedEntity {
        entity_ref: entity_ref.canonical(),
        title: title.clone(),
        kind: kind.clone(),
        href: crate::entity::entity_path(&entity_ref),
    };
    // Remembered for the home page's "Recently visited".
    {
        let saved = saved.clone();
        Effect::new(move |_| {
            let recent = prefs::load::<Vec<SavedEntity>>(prefs::RECENT_KEY);
            prefs::save(
                prefs::RECENT_KEY,
                &prefs::with_visit(recent, saved.clone(), prefs::MAX_RECENT),
            );
        });
    }
    let saved_href = saved.href.clone();
    let uid = crate::entity::entity_str(&entity, "metadata", "uid").map(str::to_string);
    let problems = status_problems(&entity);
    let subtitle = format!("{} · {}", kind, humanize_ref(&entity_ref));
    let documented = crate::techdocs::has_docs(&entity);
    let tabs: Vec<(Tab, &'static str)> = Tab::ALL
        .into_iter()
        .filter_map(|t| t.label(&kind, documented).map(|label| (t, label)))
        .collect();
    let shown = Memo::new({
        let tabs = tabs.clone();
        move |_| {
            let tab = tab.get();
            if tabs.iter().any(|(t, _)| *t == tab) {
                tab
            } else {
                Tab::Overview
            }
        }
    });
    let panel = move || {
        let entity = entity.clone();
        match shown.get() {
            Tab::Overview => view! { <Overview entity=entity /> }.into_any(),
            Tab::Relations => view! { <RelationsGraph entity=entity /> }.into_any(),
            Tab::Dependencies => view! { <DependenciesTab entity=entity /> }.into_any(),
            Tab::Children => view! { <ChildrenTab entity=entity /> }.into_any(),
            Tab::Definition => view! { <ApiDefinition entity=entity /> }.into_any(),
            Tab::Docs => view! { <DocsTab entity=entity /> }.into_any(),
            Tab::Raw => {
                let json = serde_json::to_string_pretty(&entity).unwrap_or_default();
                view! {
                    <section class="card raw">
                        <h2>"Raw entity (JSON)"</h2>
                        <pre tabindex="0" aria-label="The entity as the catalog API returns it">{json}</pre>
                    </section>
                }
                .into_any()
            }
        }
    };
    view! {
        <header class="entity-header">
            <div class="title-row">
                <h1>{title.clone()}</h1>
                <StarButton saved=saved />
                <EntityActions entity_ref=entity_ref.canonical() uid=uid title=title />
            </div>
            <p class="muted">{subtitle}</p>
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
        <TabList tabs=tabs shown=shown base=saved_href />
        <div class="tab-panel" role="tabpanel" id="entity-tab-panel" aria-labelledby=move || format!("tab-{}", shown.get().param())>
            {panel}
        </div>
    }
}

/// The tabs, as links (each tab has its address) with the ARIA tab roles;
/// Left/Right/Home/End move between them as in any tab list.
#[component]
fn TabList(tabs: Vec<(Tab, &'static str)>, shown: Memo<Tab>, base: String) -> impl IntoView {
    let navigate = use_navigate();
    let order: Vec<Tab> = tabs.iter().map(|(t, _)| *t).collect();
    let base_for_keys = base.clone();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let current = order
            .iter()
            .position(|t| *t == shown.get_untracked())
            .unwrap_or(0);
        let last = order.len().saturating_sub(1);
        let next = match ev.key().as_str() {
            "ArrowRight" => {
                if current == last {
                    0
                } else {
                    current + 1
                }
            }
            "ArrowLeft" => {
                if current == 0 {
                    last
                } else {
                    current - 1
                }
            }
            "Home" => 0,
            "End" => last,
            _ => return,
        };
        ev.prevent_default();
        let tab = order[next];
        navigate(
            &format!("{base_for_keys}?tab={}", tab.param()),
            Default::default(),
        );
        if let Some(element) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&format!("tab-{}", tab.param())))
        {
            use wasm_bindgen::JsCast;
            if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
                let _ = element.focus();
            }
        }
    };
    view! {
        <nav class="tabs" role="tablist" aria-label="Entity sections" on:keydown=on_keydown>
            {tabs
                .into_iter()
                .map(|(tab, label)| {
                    let selected = move || shown.get() == tab;
                    view! {
                        <a
                            role="tab"
                            id=format!("tab-{}", tab.param())
                            href=format!("{base}?tab={}", tab.param())
                            aria-selected=move || selected().to_string()
                            aria-controls="entity-tab-panel"
                            tabindex=move || if selected() { "0" } else { "-1" }
                            class:active=selected
                        >
                            {label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// Stars or unstars the entity for the home page's "Starred" list.
#[component]
fn StarButton(saved: SavedEntity) -> impl IntoView {
    let key = saved.entity_ref.clone();
    let starred = RwSignal::new(prefs::is_starred(
        &prefs::load::<Vec<SavedEntity>>(prefs::STARRED_KEY),
        &key,
    ));
    let toggle = move |_| {
        let list = prefs::load::<Vec<SavedEntity>>(prefs::STARRED_KEY);
        let list = prefs::with_star_toggled(list, saved.clone());
        starred.set(prefs::is_starred(&list, &key));
        prefs::save(prefs::STARRED_KEY, &list);
    };
    view! {
        <button type="button" class="star" aria-pressed=move || starred.get().to_string() on:click=toggle>
            <span aria-hidden="true">{move || if starred.get() { "★ " } else { "☆ " }}</span>
            {move || if starred.get() { "Starred" } else { "Star" }}
        </button>
    }
}

/// Refresh (asks the catalog to process the entity again soon) and
/// Unregister (removes it, after a confirmation), each shown only to those
/// allowed to, and disabled until the permission answer is in.
#[component]
fn EntityActions(entity_ref: String, uid: Option<String>, title: String) -> impl IntoView {
    let can_refresh = use_permission(CATALOG_ENTITY_REFRESH, Some(entity_ref.clone()));
    let can_delete = use_permission(CATALOG_ENTITY_DELETE, Some(entity_ref.clone()));
    let refreshing = RwSignal::new(false);
    let refreshed = RwSignal::new(None::<Result<(), ApiError>>);
    let confirm = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let delete_error = RwSignal::new(None::<ApiError>);
    // Set once the entity is gone: the page then goes back to the catalog.
    let gone = RwSignal::new(false);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if gone.get() {
            navigate("/catalog", Default::default());
        }
    });
    let has_uid = uid.is_some();

    let on_refresh = move |_| {
        if refreshing.get_untracked() {
            return;
        }
        refreshing.set(true);
        refreshed.set(None);
        let body = serde_json::json!({ "entityRef": entity_ref.clone() });
        leptos::task::spawn_local(async move {
            let outcome = match api::post(&format!("{CATALOG_API}/refresh")).json(&body) {
                Ok(request) => api::send_ok(request).await,
                Err(e) => Err(ApiError::Decode(e.to_string())),
            };
            refreshing.set(false);
            refreshed.set(Some(outcome));
        });
    };
    let on_unregister = move |_| {
        let Some(uid) = uid.clone() else {
            return;
        };
        deleting.set(true);
        delete_error.set(None);
        leptos::task::spawn_local(async move {
            let url = format!(
                "{CATALOG_API}/entities/by-uid/{}",
                api::encode_component(&uid)
            );
            let outcome = match api::build(api::delete(&url)) {
                Ok(request) => api::send_ok(request).await,
                Err(e) => Err(e),
            };
            deleting.set(false);
            match outcome {
                Ok(()) => {
                    confirm.set(false);
                    gone.set(true);
                }
                Err(e) => delete_error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="entity-actions">
            <button
                type="button"
                id="entity-refresh"
                class="entity-refresh"
                hidden=move || can_refresh.get() == Some(false)
                disabled=move || can_refresh.get().is_none() || refreshing.get()
                on:click=on_refresh
            >
                {move || if refreshing.get() { "Refreshing…" } else { "Refresh" }}
            </button>
            <button
                type="button"
                id="entity-unregister"
                class="entity-unregister"
                hidden=move || can_delete.get() == Some(false) || !has_uid
                disabled=move || can_delete.get().is_none()
                on:click=move |_| confirm.set(true)
            >
                "Unregister"
            </button>
        </div>
        <div class="entity-action-status" role="status">
            {move || match refreshed.get() {
                Some(Ok(())) => view! { <p>"Refresh scheduled: the catalog processes this entity again shortly. Reload the page to see the result."</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorBox error=error /> }.into_any(),
                None => ().into_any(),
            }}
        </div>
        <Modal open=confirm id="unregister-dialog" labelled_by="unregister-heading">
            <h2 id="unregister-heading">{format!("Unregister {title}?")}</h2>
            <p>
                "It is removed from the catalog now. If a registered location still lists it, it comes back when that location is next processed: remove it from its catalog file too."
            </p>
            <div role="alert">{move || delete_error.get().map(|e| view! { <ErrorBox error=e /> })}</div>
            <div class="form-actions">
                <button
                    type="button"
                    id="confirm-unregister"
                    class="danger"
                    disabled=move || deleting.get()
                    on:click=on_unregister
                >
                    {move || if deleting.get() { "Unregistering…" } else { "Unregister" }}
                </button>
                <button type="button" on:click=move |_| confirm.set(false)>"Cancel"</button>
            </div>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::Tab;

    #[test]
    fn tabs_depend_on_the_kind() {
        let labels = |kind: &str| -> Vec<&str> {
            Tab::ALL
                .into_iter()
                .filter_map(|t| t.label(kind, false))
                .collect()
        };
        assert_eq!(
            labels("Component"),
            ["Overview", "Relations", "Dependencies and APIs", "Raw"]
        );
        assert_eq!(
            labels("API"),
            [
                "Overview",
                "Relations",
                "Providers and consumers",
                "Definition",
                "Raw"
            ]
        );
        assert_eq!(
            labels("Group"),
            ["Overview", "Relations", "Members and ownership", "Raw"]
        );
        assert_eq!(labels("Location"), ["Overview", "Relations", "Raw"]);
    }

    #[test]
    fn documented_entities_have_a_docs_tab() {
        let labels: Vec<&str> = Tab::ALL
            .into_iter()
            .filter_map(|t| t.label("Component", true))
            .collect();
        assert_eq!(
            labels,
            [
                "Overview",
                "Relations",
                "Dependencies and APIs",
                "Docs",
                "Raw"
            ]
        );
        assert_eq!(Tab::from_param(Some("docs")), Tab::Docs);
    }

    #[test]
    fn unknown_tabs_open_the_overview() {
        assert_eq!(Tab::from_param(Some("relations")), Tab::Relations);
        assert_eq!(Tab::from_param(Some("<script>")), Tab::Overview);
        assert_eq!(Tab::from_param(None), Tab::Overview);
    }
}
