//! `/docs`: every documented entity (those with the
//! `backstage.io/techdocs-ref` annotation) in a table, linked to its docs,
//! with filters by kind and owner and a text filter. All of it lives in the
//! address, so reload, back and shared links show the same list.

use std::collections::BTreeMap;

use crate::api::{self, EntitiesPage, FacetCount};
use crate::components::{load_view, HeaderRow};
use crate::entity::{EntityLink, EntitySummary};
use crate::shell::page_title;
use crate::techdocs::{DocsQuery, DocsTarget};
use greenroom_model::EntityRef;
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

/// How long the text filter waits after the last keystroke before it asks.
const TEXT_DEBOUNCE_MS: u64 = 300;

type Facets = BTreeMap<String, Vec<FacetCount>>;

#[component]
pub fn DocsExplorerPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| DocsQuery::from_params(|k| p.get(k))));
    page_title(|| "Documentation".to_string());
    let facets = LocalResource::new(|| api::fetch_facets(DocsQuery::facets_url()));
    let entities_url = Memo::new(move |_| query.with(DocsQuery::entities_url));
    let page = LocalResource::new(move || async move {
        api::get_json::<EntitiesPage>(&entities_url.get()).await
    });
    view! {
        <section class="page docs-explorer">
            <h1>"Documentation"</h1>
            <p class="lead">"The TechDocs of every documented entity in the catalog."</p>
            <form class="filters" role="search" aria-label="Filter the documentation" on:submit=|ev| ev.prevent_default()>
                <TextFilter query=query />
                <FacetSelect param="kind" facet="kind" label="Kind" all="All kinds" query=query facets=facets />
                <FacetSelect param="owner" facet="spec.owner" label="Owner" all="All owners" query=query facets=facets />
                {move || {
                    query
                        .with(DocsQuery::is_filtered)
                        .then(|| view! { <a class="clear-filters" href="/docs">"Clear filters"</a> })
                }}
            </form>
            {load_view(page, "documentation", move |page| view! { <DocsTable page=page query=query.get_untracked() /> })}
        </section>
    }
}

fn navigator() -> impl Fn(DocsQuery) + Clone + Send + Sync + 'static {
    let navigate = use_navigate();
    move |to: DocsQuery| navigate(&to.path(), NavigateOptions::default())
}

#[component]
fn FacetSelect(
    param: &'static str,
    facet: &'static str,
    label: &'static str,
    all: &'static str,
    query: Memo<DocsQuery>,
    facets: LocalResource<Result<Facets, api::ApiError>>,
) -> impl IntoView {
    let go = navigator();
    let id = format!("docs-filter-{param}");
    let chosen = move || {
        query.with(|q| match param {
            "kind" => q.kind.clone(),
            _ => q.owner.clone(),
        })
    };
    let on_change = move |ev| {
        go(query
            .get_untracked()
            .with_filter(param, &event_target_value(&ev)))
    };
    let options = move || {
        let selected = chosen();
        let mut values: Vec<FacetCount> = match facets.get() {
            Some(Ok(facets)) => facets.get(facet).cloned().unwrap_or_default(),
            _ => Vec::new(),
        };
        values.sort_by_key(|f| f.value.to_lowercase());
        if let Some(chosen) = &selected {
            if !values.iter().any(|f| f.value.eq_ignore_ascii_case(chosen)) {
                values.push(FacetCount {
                    value: chosen.clone(),
                    count: 0,
                });
            }
        }
        values
            .into_iter()
            .map(|f| {
                let is_selected = selected
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&f.value));
                view! { <option value=f.value.clone() selected=is_selected>{format!("{} ({})", f.value, f.count)}</option> }
            })
            .collect_view()
    };
    view! {
        <div class="filter">
            <label for=id.clone()>{label}</label>
            <select id=id name=param on:change=on_change>
                <option value="" selected=move || chosen().is_none()>{all}</option>
                {options}
            </select>
        </div>
    }
}

#[component]
fn TextFilter(query: Memo<DocsQuery>) -> impl IntoView {
    let go = navigator();
    let pending: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let go = go.clone();
        let handle = set_timeout_with_handle(
            move || {
                if query.with_untracked(|q| q.text.as_deref().unwrap_or("") != text.trim()) {
                    go(query.get_untracked().with_text(&text));
                }
            },
            std::time::Duration::from_millis(TEXT_DEBOUNCE_MS),
        )
        .ok();
        pending.set_value(handle);
    };
    on_cleanup(move || {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
    });
    view! {
        <div class="filter text-filter">
            <label for="docs-filter-text">"Filter by name"</label>
            <input
                id="docs-filter-text"
                name="q"
                type="search"
                autocomplete="off"
                placeholder="Name or title"
                prop:value=move || query.with(|q| q.text.clone().unwrap_or_default())
                on:input=on_input
            />
        </div>
    }
}

#[component]
fn DocsTable(page: EntitiesPage, query: DocsQuery) -> impl IntoView {
    if page.items.is_empty() {
        return if query.is_filtered() {
            view! {
                <p class="empty" role="status">"No documented entities match these filters."</p>
                <p><a href="/docs">"Clear filters"</a></p>
            }
            .into_any()
        } else {
            view! {
                <div class="empty" role="status">
                    <p>"No entity has documentation yet."</p>
                    <p>
                        "To publish an entity's docs, add the annotation "
                        <code>"backstage.io/techdocs-ref: dir:."</code>
                        " to its catalog-info.yaml, next to an mkdocs.yml and a docs folder."
                    </p>
                </div>
            }
            .into_any()
        };
    }
    let count = page.items.len();
    let total = page.total_items;
    let rows = page
        .items
        .iter()
        .map(|entity| {
            let summary = EntitySummary::of(entity);
            let docs = DocsTarget::of_entity(entity).map(|t| t.reader_path("", None));
            let entry = EntityRef::of_entity(entity).map(|r| EntityLink::to(&r));
            view! { <DocsRow summary=summary docs=docs entry=entry /> }
        })
        .collect_view();
    let next = page
        .page_info
        .next_cursor
        .map(|c| query.at_cursor(&c).path());
    let prev = page
        .page_info
        .prev_cursor
        .map(|c| query.at_cursor(&c).path());
    view! {
        <p class="muted summary" role="status">{format!("Showing {count} of {total} documented entities")}</p>
        <div class="table-wrap">
            <table class="entities docs-table">
                <caption class="visually-hidden">"Documented entities"</caption>
                <HeaderRow columns=&["Document", "Description", "Owner", "Kind", "Type"] />
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href rel="prev">"← Previous page"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
fn DocsRow(
    summary: EntitySummary,
    docs: Option<String>,
    entry: Option<EntityLink>,
) -> impl IntoView {
    let name = match docs {
        Some(href) => view! { <A href=href>{summary.display_name}</A> }.into_any(),
        None => view! { <span>{summary.display_name}</span> }.into_any(),
    };
    let owner = match summary.owner {
        Some(link) => view! { <A href=link.href>{link.label}</A> }.into_any(),
        None => view! { <span>{summary.owner_text}</span> }.into_any(),
    };
    // The catalog entry, by its reference (`component:name`).
    let entry = entry.map(|link| {
        view! { <br /><A href=link.href attr:class="entity-ref">{link.label}</A> }
    });
    view! {
        <tr>
            <td class="name">{name}{entry}</td>
            <td class="description">{summary.description}</td>
            <td>{owner}</td>
            <td>{summary.kind}</td>
            <td>{summary.spec_type}</td>
        </tr>
    }
}
