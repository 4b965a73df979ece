//! `/catalog`: the entity table, one server-side page at a time, with filters
//! (kind, type, owner, lifecycle, tag, namespace, with counts from
//! `/entity-facets`), a text filter, sortable columns and a page size. All of it
//! lives in the address, so reload, back and shared links show the same page.

use std::collections::BTreeMap;

use crate::api::{self, EntitiesPage, FacetCount};
use crate::catalog_query::{CatalogQuery, Facet, FACETS, KIND, PAGE_SIZES, SORT_COLUMNS};
use crate::components::{load_view, mark_once, ErrorBox, SummaryRow};
use crate::entity::EntitySummary;
use crate::shell::page_title;
use leptos::prelude::*;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

/// The `performance.mark` set when the catalog table first shows rows (read by
/// the UI benchmark).
pub const FIRST_ROWS_MARK: &str = "greenroom:catalog-rows";

/// How long the text filter waits after the last keystroke before it asks.
const TEXT_DEBOUNCE_MS: u64 = 300;

type Facets = BTreeMap<String, Vec<FacetCount>>;

#[component]
pub fn CatalogPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| CatalogQuery::from_params(|k| p.get(k))));

    page_title(move || match query.with(|q| q.kind.clone()) {
        Some(kind) => format!("{kind} · Software catalog"),
        None => "Software catalog".to_string(),
    });
    let facets_url = Memo::new(move |_| query.with(|q| q.facets_url(false)));
    let facets = LocalResource::new(move || api::fetch_facets(facets_url.get()));
    // Owner and tag suggestions wait until one of those boxes has the focus.
    let suggest = RwSignal::new(false);
    let suggestions_url = Memo::new(move |_| query.with(|q| q.facets_url(true)));
    let suggestions = LocalResource::new(move || {
        let wanted = suggest.get();
        let url = suggestions_url.get();
        async move {
            if wanted {
                api::fetch_facets(url).await
            } else {
                Ok(Facets::new())
            }
        }
    });
    let entities_url = Memo::new(move |_| query.with(CatalogQuery::entities_url));
    let page = LocalResource::new(move || async move {
        api::get_json::<EntitiesPage>(&entities_url.get()).await
    });

    view! {
        <section class="page catalog">
            <h1>"Software catalog"</h1>
            <Filters query=query facets=facets suggestions=suggestions suggest=suggest />
            {load_view(page, "entities", move |page| view! { <EntityTable page=page query=query.get_untracked() /> })}
        </section>
    }
}

/// Navigates to another catalog query. Made while the component is created:
/// the router is found through the component's context, which event handlers
/// and timers do not have.
fn navigator() -> impl Fn(CatalogQuery) + Clone + Send + Sync + 'static {
    let navigate = use_navigate();
    move |to: CatalogQuery| navigate(&to.path(), NavigateOptions::default())
}

/// The filter bar. The controls stay in the document while results load, so
/// focus stays where the user left it.
#[component]
fn Filters(
    query: Memo<CatalogQuery>,
    facets: LocalResource<Result<Facets, api::ApiError>>,
    suggestions: LocalResource<Result<Facets, api::ApiError>>,
    suggest: RwSignal<bool>,
) -> impl IntoView {
    let values = move |facet: Facet| -> Vec<FacetCount> {
        let source = if facet.open_ended {
            suggestions
        } else {
            facets
        };
        match source.get() {
            Some(Ok(facets)) => facets.get(facet.field).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    };
    let status = move || match facets.get() {
        None => view! { <span class="muted" role="status">"Loading filters…"</span> }.into_any(),
        Some(Err(error)) => view! { <ErrorBox error=error /> }.into_any(),
        Some(Ok(_)) => ().into_any(),
    };
    view! {
        <form class="filters" role="search" aria-label="Filter the catalog" on:submit=|ev| ev.prevent_default()>
            <TextFilter query=query />
            <FacetSelect facet=KIND query=query values=Signal::derive(move || values(KIND)) />
            {FACETS
                .into_iter()
                .map(|facet| {
                    let values = Signal::derive(move || values(facet));
                    if facet.open_ended {
                        view! { <FacetInput facet=facet query=query values=values suggest=suggest /> }.into_any()
                    } else {
                        view! { <FacetSelect facet=facet query=query values=values /> }.into_any()
                    }
                })
                .collect_view()}
            <PageSize query=query />
            {move || {
                query
                    .with(CatalogQuery::is_filtered)
                    .then(|| {
                        let clear = CatalogQuery {
                            limit: query.with(|q| q.limit),
                            ..CatalogQuery::default()
                        };
                        view! { <a class="clear-filters" href=clear.path()>"Clear filters"</a> }
                    })
            }}
            {status}
        </form>
    }
}

fn current(query: Memo<CatalogQuery>, facet: Facet) -> Option<String> {
    query.with(|q| {
        if facet.param == KIND.param {
            q.kind.clone()
        } else {
            q.filter(facet.param).map(str::to_string)
        }
    })
}

#[component]
fn FacetSelect(
    facet: Facet,
    query: Memo<CatalogQuery>,
    values: Signal<Vec<FacetCount>>,
) -> impl IntoView {
    let go = navigator();
    let id = format!("filter-{}", facet.param);
    let on_change = move |ev| {
        let value = event_target_value(&ev);
        go(query
            .get_untracked()
            .with_filter(facet.param, Some(value).filter(|v| !v.is_empty())));
    };
    let options = move || {
        let selected = current(query, facet);
        let mut values = values.get();
        values.sort_by_key(|f| f.value.to_lowercase());
        // A value from the address that has no entities still shows as chosen.
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
                let is_selected = selected.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(&f.value));
                view! { <option value=f.value.clone() selected=is_selected>{format!("{} ({})", f.value, f.count)}</option> }
            })
            .collect_view()
    };
    let all = format!("All {}", plural(facet.label));
    view! {
        <div class="filter">
            <label for=id.clone()>{facet.label}</label>
            <select id=id name=facet.param on:change=on_change>
                <option value="" selected=move || current(query, facet).is_none()>{all}</option>
                {options}
            </select>
        </div>
    }
}

/// Owners and tags: a text box with the known values as suggestions.
#[component]
fn FacetInput(
    facet: Facet,
    query: Memo<CatalogQuery>,
    values: Signal<Vec<FacetCount>>,
    suggest: RwSignal<bool>,
) -> impl IntoView {
    let go = navigator();
    let id = format!("filter-{}", facet.param);
    let list = format!("{id}-values");
    let on_change = move |ev| {
        let value = event_target_value(&ev);
        go(query.get_untracked().with_filter(facet.param, Some(value)));
    };
    view! {
        <div class="filter">
            <label for=id.clone()>{facet.label}</label>
            <input
                id=id
                name=facet.param
                type="text"
                list=list.clone()
                autocomplete="off"
                placeholder=format!("Any {}", facet.label.to_lowercase())
                prop:value=move || current(query, facet).unwrap_or_default()
                on:focus=move |_| suggest.set(true)
                on:change=on_change
            />
            <datalist id=list>
                {move || {
                    values
                        .get()
                        .into_iter()
                        .map(|f| view! { <option value=f.value.clone()>{format!("{} ({})", f.value, f.count)}</option> })
                        .collect_view()
                }}
            </datalist>
        </div>
    }
}

/// Filters by name and title as the user types (after a short pause).
#[component]
fn TextFilter(query: Memo<CatalogQuery>) -> impl IntoView {
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
    view! {
        <div class="filter text-filter">
            <label for="filter-text">"Filter by name"</label>
            <input
                id="filter-text"
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
fn PageSize(query: Memo<CatalogQuery>) -> impl IntoView {
    let go = navigator();
    let on_change = move |ev| {
        let limit = event_target_value(&ev).parse().unwrap_or_default();
        go(query.get_untracked().with_limit(limit));
    };
    view! {
        <div class="filter">
            <label for="page-size">"Rows per page"</label>
            <select id="page-size" name="limit" on:change=on_change>
                {PAGE_SIZES
                    .into_iter()
                    .map(|size| {
                        view! {
                            <option value=size.to_string() selected=move || query.with(|q| q.limit == size)>
                                {size.to_string()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

fn plural(label: &str) -> String {
    match label {
        "Owner" | "Tag" | "Type" | "Kind" => format!("{}s", label.to_lowercase()),
        "Lifecycle" => "lifecycles".into(),
        "Namespace" => "namespaces".into(),
        other => other.to_lowercase(),
    }
}

#[component]
fn EntityTable(page: EntitiesPage, query: CatalogQuery) -> impl IntoView {
    let rows: Vec<EntitySummary> = page.items.iter().map(EntitySummary::of).collect();
    let count = rows.len();
    let total = page.total_items;
    let next = page
        .page_info
        .next_cursor
        .map(|c| query.at_cursor(&c).path());
    let prev = page
        .page_info
        .prev_cursor
        .map(|c| query.at_cursor(&c).path());
    if rows.is_empty() {
        return view! {
            <p class="empty" role="status">
                {if query.is_filtered() { "No entities match these filters." } else { "The catalog is empty." }}
            </p>
        }
        .into_any();
    }
    // Runs after this view is in the document: the moment the first rows show.
    Effect::new(|_| mark_once(FIRST_ROWS_MARK));
    let sorted = query.sort_column();
    let headers = SORT_COLUMNS
        .into_iter()
        .map(|column| {
            let active = column.param == sorted.param;
            let aria_sort = match (active, query.descending) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            };
            let arrow = match aria_sort {
                "ascending" => " ▲",
                "descending" => " ▼",
                _ => "",
            };
            let href = query.sorted_by(column.param).path();
            let hint = if active && !query.descending { "descending" } else { "ascending" };
            view! {
                <th scope="col" aria-sort=aria_sort>
                    <a class="sort" href=href title=format!("Sort by {} ({hint})", column.label.to_lowercase())>
                        {column.label}
                        <span aria-hidden="true">{arrow}</span>
                    </a>
                </th>
            }
        })
        .collect_view();
    view! {
        <p class="muted summary" role="status">{format!("Showing {count} of {total} entities")}</p>
        <div class="table-wrap">
            <table class="entities">
                <caption class="visually-hidden">"Entities; column headers sort the table"</caption>
                <thead>
                    <tr>
                        {headers}
                        <th scope="col">"Description"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <SummaryRow row=row /> }).collect_view()}
                </tbody>
            </table>
        </div>
        // Plain anchors (the router still handles the click): `<A>` would mark
        // every /catalog link as the current page.
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href rel="prev">"← Previous page"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
        </nav>
    }
    .into_any()
}
