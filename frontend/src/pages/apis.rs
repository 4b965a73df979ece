//! `/api-docs`: the catalog's APIs in a table with a type filter and cursor
//! paging. The type and cursor live in the address (`?type=...&cursor=...`) so
//! reload, back and shared links show the same page.

use crate::api::{self, encode_component, get_json, ApiError, EntitiesPage, FacetCount};
use crate::components::{load_view, ErrorBox};
use crate::entity::{spec_ref_link, EntityLink, EntitySummary, SUMMARY_FIELDS};
use crate::pages::api_definition::{el, header_row, render, El, Node};
use crate::shell::page_title;
use greenroom_model::Entity;
use leptos::prelude::*;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};
use std::collections::BTreeMap;

/// How many APIs one page asks for.
pub const PAGE_SIZE: u32 = 50;

const TYPE_FACET: &str = "spec.type";

/// The APIs page address for a type filter and an optional cursor.
pub fn apis_path(spec_type: Option<&str>, cursor: Option<&str>) -> String {
    let mut params = Vec::new();
    if let Some(spec_type) = spec_type {
        params.push(format!("type={}", encode_component(spec_type)));
    }
    if let Some(cursor) = cursor {
        params.push(format!("cursor={}", encode_component(cursor)));
    }
    if params.is_empty() {
        "/api-docs".to_string()
    } else {
        format!("/api-docs?{}", params.join("&"))
    }
}

/// The catalog filter for APIs, of one type or all.
pub fn api_filter(spec_type: Option<&str>) -> String {
    match spec_type {
        Some(t) => format!("kind=api,{TYPE_FACET}={t}"),
        None => "kind=api".to_string(),
    }
}

/// `/entities/by-query` for one page of APIs. A cursor already encodes the
/// filter and order of the listing it came from, so it is sent on its own.
pub fn apis_url(spec_type: Option<&str>, cursor: Option<&str>) -> String {
    let mut url = format!(
        "/api/catalog/entities/by-query?limit={PAGE_SIZE}&fields={SUMMARY_FIELDS},spec.system"
    );
    match cursor {
        Some(cursor) => {
            url.push_str("&cursor=");
            url.push_str(&encode_component(cursor));
        }
        None => {
            url.push_str("&orderField=metadata.name,asc&filter=");
            url.push_str(&encode_component(&api_filter(spec_type)));
        }
    }
    url
}

/// `/entity-facets` for the types of APIs.
pub fn api_types_url() -> String {
    format!(
        "/api/catalog/entity-facets?facet={}&filter={}",
        encode_component(TYPE_FACET),
        encode_component(&api_filter(None))
    )
}

async fn fetch_apis(
    spec_type: Option<String>,
    cursor: Option<String>,
) -> Result<EntitiesPage, ApiError> {
    get_json(&apis_url(spec_type.as_deref(), cursor.as_deref())).await
}

type Facets = BTreeMap<String, Vec<FacetCount>>;

/// One row of the APIs table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRow {
    pub summary: EntitySummary,
    /// `spec.system` as written, and its page when it is a valid reference.
    pub system: String,
    pub system_link: Option<EntityLink>,
}

impl ApiRow {
    pub fn of(entity: &Entity) -> Self {
        let system = entity
            .get("spec")
            .and_then(|s| s.get("system"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string();
        ApiRow {
            summary: EntitySummary::of(entity),
            system_link: spec_ref_link(entity, "system", "System"),
            system,
        }
    }
}

#[component]
pub fn ApisPage() -> impl IntoView {
    let query = use_query_map();
    let spec_type = Memo::new(move |_| query.with(|q| q.get("type").filter(|t| !t.is_empty())));
    let cursor = Memo::new(move |_| query.with(|q| q.get("cursor").filter(|c| !c.is_empty())));

    page_title(move || match spec_type.get() {
        Some(t) => format!("{t} · APIs"),
        None => "APIs".to_string(),
    });
    let types = LocalResource::new(|| api::fetch_facets(api_types_url()));
    let page = LocalResource::new(move || fetch_apis(spec_type.get(), cursor.get()));

    view! {
        <section class="page apis">
            <h1>"APIs"</h1>
            <div class="toolbar">
                <TypeFilter types=types selected=spec_type />
            </div>
            {load_view(page, "APIs", move |page| {
                render(Node::Element(api_list_tree(&page, spec_type.get_untracked().as_deref())))
            })}
        </section>
    }
}

/// The type select; choosing a type starts again at the first page.
#[component]
fn TypeFilter(
    types: LocalResource<Result<Facets, ApiError>>,
    selected: Memo<Option<String>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let on_change = move |ev| {
        let value = event_target_value(&ev);
        let spec_type = (!value.is_empty()).then_some(value.as_str());
        navigate(&apis_path(spec_type, None), NavigateOptions::default());
    };
    let options = move || match types.get() {
        Some(Ok(mut facets)) => facets
            .remove(TYPE_FACET)
            .unwrap_or_default()
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
    let status = move || match types.get() {
        None => view! { <span class="muted" role="status">"Loading types…"</span> }.into_any(),
        Some(Err(error)) => view! { <ErrorBox error=error /> }.into_any(),
        Some(Ok(_)) => ().into_any(),
    };
    view! {
        <label for="api-type-filter">"Type"</label>
        <select id="api-type-filter" name="type" on:change=on_change>
            <option value="" selected=move || selected.get().is_none()>"All types"</option>
            {options}
        </select>
        {status}
    }
}

/// The table of one page of APIs with its pager, as a tree. Links are plain
/// anchors; the router still handles their clicks.
pub fn api_list_tree(page: &EntitiesPage, spec_type: Option<&str>) -> El {
    let list = el("div").class("api-list");
    if page.items.is_empty() {
        return list.child(el("p").class("empty").text("No APIs match this filter."));
    }
    let count = page.items.len();
    let total = page.total_items;
    let summary = if total > 0 {
        format!("Showing {count} of {total} APIs")
    } else {
        format!("Showing {count} APIs")
    };
    let rows = page
        .items
        .iter()
        .map(|e| api_row_tree(ApiRow::of(e)))
        .collect();
    let mut pager = el("nav").class("pager").attr("aria-label", "Pages");
    let info = &page.page_info;
    if let Some(cursor) = &info.prev_cursor {
        pager = pager
            .child(link(apis_path(spec_type, Some(cursor)), "← Previous page").attr("rel", "prev"));
    }
    if let Some(cursor) = &info.next_cursor {
        pager = pager
            .child(link(apis_path(spec_type, Some(cursor)), "Next page →").attr("rel", "next"));
    }
    list.child(el("p").class("muted summary").text(summary))
        .child(
            el("div").class("table-wrap").child(
                el("table")
                    .class("entities apis")
                    .child(
                        el("caption")
                            .class("visually-hidden")
                            .text("APIs in the catalog"),
                    )
                    .child(header_row(&[
                        "Name",
                        "Type",
                        "Owner",
                        "Lifecycle",
                        "System",
                        "Description",
                    ]))
                    .child(el("tbody").children(rows)),
            ),
        )
        .child(pager)
}

fn link(href: String, text: impl Into<String>) -> El {
    el("a").attr("href", href).text(text)
}

/// A link when there is somewhere to go, else the text.
fn cell(href: Option<String>, text: String) -> El {
    let td = el("td");
    match href {
        Some(href) => td.child(link(href, text)),
        None => td.text(text),
    }
}

fn api_row_tree(row: ApiRow) -> El {
    let ApiRow {
        summary,
        system,
        system_link,
    } = row;
    let (owner_href, owner) = match summary.owner {
        Some(link) => (Some(link.href), link.label),
        None => (None, summary.owner_text),
    };
    el("tr")
        .child(cell(summary.href, summary.display_name).class("name"))
        .child(el("td").text(summary.spec_type))
        .child(cell(owner_href, owner))
        .child(el("td").text(summary.lifecycle))
        .child(cell(system_link.map(|l| l.href), system))
        .child(el("td").class("description").text(summary.description))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn page_paths_carry_type_and_cursor() {
        assert_eq!(apis_path(None, None), "/api-docs");
        assert_eq!(apis_path(Some("openapi"), None), "/api-docs?type=openapi");
        assert_eq!(apis_path(None, Some("a=b")), "/api-docs?cursor=a%3Db");
        assert_eq!(
            apis_path(Some("a&b"), Some("xyz")),
            "/api-docs?type=a%26b&cursor=xyz"
        );
    }

    #[test]
    fn first_pages_filter_apis_by_type_in_name_order() {
        assert_eq!(
            apis_url(None, None),
            format!("/api/catalog/entities/by-query?limit=50&fields={SUMMARY_FIELDS},spec.system&orderField=metadata.name,asc&filter=kind%3Dapi")
        );
        assert_eq!(
            apis_url(Some("openapi"), None),
            format!("/api/catalog/entities/by-query?limit=50&fields={SUMMARY_FIELDS},spec.system&orderField=metadata.name,asc&filter=kind%3Dapi%2Cspec.type%3Dopenapi")
        );
        // A type cannot add query parameters.
        assert!(apis_url(Some("x&limit=1"), None).ends_with("spec.type%3Dx%26limit%3D1"));
    }

    #[test]
    fn later_pages_send_the_cursor_instead_of_the_filter() {
        assert_eq!(
            apis_url(Some("openapi"), Some("eyJ+a/b=~")),
            format!("/api/catalog/entities/by-query?limit=50&fields={SUMMARY_FIELDS},spec.system&cursor=eyJ%2Ba%2Fb%3D~")
        );
    }

    #[test]
    fn type_facets_are_asked_for_apis_only() {
        assert_eq!(
            api_types_url(),
            "/api/catalog/entity-facets?facet=spec.type&filter=kind%3Dapi"
        );
    }

    #[test]
    fn list_tree_has_headers_links_and_pager() {
        let page: EntitiesPage = serde_json::from_value(json!({
            "items": [{"kind": "API", "metadata": {"name": "shipment-api", "description": "Ships"},
                       "spec": {"type": "openapi", "owner": "team-shipping", "lifecycle": "production",
                                "system": "shipment-tracking"}}],
            "totalItems": 51,
            "pageInfo": {"nextCursor": "n=1"}
        }))
        .unwrap();
        let tree = api_list_tree(&page, Some("openapi"));
        let all = tree.descendants();
        let headers: Vec<String> = all
            .iter()
            .filter(|e| e.tag == "th")
            .map(|e| e.text_content())
            .collect();
        assert_eq!(
            headers,
            [
                "Name",
                "Type",
                "Owner",
                "Lifecycle",
                "System",
                "Description"
            ]
        );
        assert!(all
            .iter()
            .filter(|e| e.tag == "th")
            .all(|e| e.get("scope") == Some("col")));
        let links: Vec<(&str, String)> = all
            .iter()
            .filter(|e| e.tag == "a")
            .map(|e| (e.get("href").unwrap(), e.text_content()))
            .collect();
        assert_eq!(
            links,
            [
                (
                    "/catalog/default/api/shipment-api",
                    "shipment-api".to_string()
                ),
                (
                    "/catalog/default/group/team-shipping",
                    "group:team-shipping".to_string()
                ),
                (
                    "/catalog/default/system/shipment-tracking",
                    "shipment-tracking".to_string()
                ),
                (
                    "/api-docs?type=openapi&cursor=n%3D1",
                    "Next page →".to_string()
                ),
            ]
        );
        assert!(tree.text_content().starts_with("Showing 1 of 51 APIs"));

        let empty: EntitiesPage = serde_json::from_value(json!({"items": []})).unwrap();
        assert_eq!(
            api_list_tree(&empty, None).text_content(),
            "No APIs match this filter."
        );
    }

    #[test]
    fn rows_link_name_owner_and_system() {
        let entity = match json!({
            "kind": "API",
            "metadata": {"name": "shipment-api", "title": "Shipment API", "description": "Ships"},
            "spec": {"type": "openapi", "owner": "team-shipping", "lifecycle": "production",
                     "system": "shipment-tracking", "definition": "openapi: 3.0.0"}
        }) {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let row = ApiRow::of(&entity);
        assert_eq!(row.summary.display_name, "Shipment API");
        assert_eq!(
            row.summary.href.as_deref(),
            Some("/catalog/default/api/shipment-api")
        );
        assert_eq!(row.summary.spec_type, "openapi");
        assert_eq!(row.system, "shipment-tracking");
        assert_eq!(
            row.system_link.map(|l| l.href).as_deref(),
            Some("/catalog/default/system/shipment-tracking")
        );

        let bare = match json!({"kind": "API", "metadata": {"name": "x"}, "spec": {}}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let row = ApiRow::of(&bare);
        assert_eq!(row.system, "");
        assert_eq!(row.system_link, None);
    }
}
