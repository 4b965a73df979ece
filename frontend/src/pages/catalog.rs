//! `/catalog`: the entity table with a kind filter and cursor paging. The kind
//! and cursor live in the address (`?kind=...&cursor=...`) so reload, back and
//! shared links show the same page.

use crate::api::{self, encode_component, EntitiesPage, FacetCount};
use crate::components::{load_view, ErrorBox, HeaderRow};
use crate::entity::EntitySummary;
use crate::shell::page_title;
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

/// The catalog page address for a kind filter and an optional cursor.
pub fn catalog_path(kind: Option<&str>, cursor: Option<&str>) -> String {
    let mut params = Vec::new();
    if let Some(kind) = kind {
        params.push(format!("kind={}", encode_component(kind)));
    }
    if let Some(cursor) = cursor {
        params.push(format!("cursor={}", encode_component(cursor)));
    }
    if params.is_empty() {
        "/catalog".to_string()
    } else {
        format!("/catalog?{}", params.join("&"))
    }
}

#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let kind = Memo::new(move |_| query.with(|q| q.get("kind").filter(|k| !k.is_empty())));
    let cursor = Memo::new(move |_| query.with(|q| q.get("cursor").filter(|c| !c.is_empty())));

    page_title(move || match kind.get() {
        Some(kind) => format!("{kind} · Software catalog"),
        None => "Software catalog".to_string(),
    });
    let kinds = LocalResource::new(api::fetch_kinds);
    let page = LocalResource::new(move || api::fetch_entities(kind.get(), cursor.get()));

    view! {
        <section class="page catalog">
            <h1>"Software catalog"</h1>
            <div class="toolbar">
                <KindFilter kinds=kinds selected=kind />
            </div>
            {load_view(page, "entities", move |page| view! { <EntityTable page=page kind=kind.get_untracked() /> })}
        </section>
    }
}

/// The kind select; choosing a kind starts again at the first page.
#[component]
fn KindFilter(
    kinds: LocalResource<Result<Vec<FacetCount>, api::ApiError>>,
    selected: Memo<Option<String>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let on_change = move |ev| {
        let value = event_target_value(&ev);
        let kind = (!value.is_empty()).then_some(value.as_str());
        navigate(&catalog_path(kind, None), NavigateOptions::default());
    };
    let options = move || match kinds.get() {
        Some(Ok(kinds)) => kinds
            .into_iter()
            .map(|facet| {
                let value = facet.value.clone();
                let is_selected = selected
                    .get()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&value));
                view! {
                    <option value=value selected=is_selected>
                        {format!("{} ({})", facet.value, facet.count)}
                    </option>
                }
            })
            .collect_view()
            .into_any(),
        _ => ().into_any(),
    };
    let status = move || match kinds.get() {
        None => view! { <span class="muted" role="status">"Loading kinds…"</span> }.into_any(),
        Some(Err(error)) => view! { <ErrorBox error=error /> }.into_any(),
        Some(Ok(_)) => ().into_any(),
    };
    view! {
        <label for="kind-filter">"Kind"</label>
        <select id="kind-filter" name="kind" on:change=on_change>
            <option value="" selected=move || selected.get().is_none()>"All kinds"</option>
            {options}
        </select>
        {status}
    }
}

#[component]
fn EntityTable(page: EntitiesPage, kind: Option<String>) -> impl IntoView {
    let rows: Vec<EntitySummary> = page.items.iter().map(EntitySummary::of).collect();
    let count = rows.len();
    let total = page.total_items;
    let next = page
        .page_info
        .next_cursor
        .map(|c| catalog_path(kind.as_deref(), Some(&c)));
    let prev = page
        .page_info
        .prev_cursor
        .map(|c| catalog_path(kind.as_deref(), Some(&c)));
    if rows.is_empty() {
        return view! { <p class="empty">"No entities match this filter."</p> }.into_any();
    }
    view! {
        <p class="muted summary">{format!("Showing {count} of {total} entities")}</p>
        <div class="table-wrap">
            <table class="entities">
                <HeaderRow columns=&["Name", "Kind", "Type", "Owner", "Lifecycle", "Description"] />
                <tbody>
                    {rows.into_iter().map(|row| view! { <EntityRow row=row /> }).collect_view()}
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

#[component]
fn EntityRow(row: EntitySummary) -> impl IntoView {
    let name = match row.href {
        Some(href) => view! { <A href=href>{row.display_name}</A> }.into_any(),
        None => view! { <span>{row.display_name}</span> }.into_any(),
    };
    let owner = match row.owner {
        Some(link) => view! { <A href=link.href>{link.label}</A> }.into_any(),
        None => view! { <span>{row.owner_text}</span> }.into_any(),
    };
    view! {
        <tr>
            <td>{name}</td>
            <td>{row.kind}</td>
            <td>{row.spec_type}</td>
            <td>{owner}</td>
            <td>{row.lifecycle}</td>
            <td class="description">{row.description}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::catalog_path;

    #[test]
    fn catalog_paths_carry_kind_and_cursor() {
        assert_eq!(catalog_path(None, None), "/catalog");
        assert_eq!(
            catalog_path(Some("Component"), None),
            "/catalog?kind=Component"
        );
        assert_eq!(catalog_path(None, Some("a=b")), "/catalog?cursor=a%3Db");
        assert_eq!(
            catalog_path(Some("API"), Some("xyz")),
            "/catalog?kind=API&cursor=xyz"
        );
    }
}
