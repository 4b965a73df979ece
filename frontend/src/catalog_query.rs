//! The catalog page's state (filters, text, sort, page size, cursor), as it is
//! kept in the address bar and as it becomes catalog API requests. Plain
//! functions, unit-tested on the host.

use crate::api::{encode_component, CATALOG_API};
use crate::entity::SUMMARY_FIELDS;

/// Page sizes the catalog table offers.
pub const PAGE_SIZES: [u32; 3] = [20, 50, 100];
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// The entity fields the text filter looks in (as Backstage's catalog table does).
const TEXT_FIELDS: &str = "metadata.name,metadata.title,spec.profile.displayName";

/// A filter with a facet: its address parameter, the entity field it matches,
/// and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facet {
    pub param: &'static str,
    pub field: &'static str,
    pub label: &'static str,
    /// Many distinct values (owners, tags): a text box with suggestions
    /// instead of a drop-down.
    pub open_ended: bool,
}

pub const KIND: Facet = Facet {
    param: "kind",
    field: "kind",
    label: "Kind",
    open_ended: false,
};

/// The filters beside the kind, in the order the toolbar shows them.
pub const FACETS: [Facet; 5] = [
    Facet {
        param: "type",
        field: "spec.type",
        label: "Type",
        open_ended: false,
    },
    Facet {
        param: "owner",
        field: "spec.owner",
        label: "Owner",
        open_ended: true,
    },
    Facet {
        param: "lifecycle",
        field: "spec.lifecycle",
        label: "Lifecycle",
        open_ended: false,
    },
    Facet {
        param: "tag",
        field: "metadata.tags",
        label: "Tag",
        open_ended: true,
    },
    Facet {
        param: "namespace",
        field: "metadata.namespace",
        label: "Namespace",
        open_ended: false,
    },
];

/// A sortable column: its header and the field the API orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortColumn {
    pub param: &'static str,
    pub field: &'static str,
    pub label: &'static str,
}

pub const SORT_COLUMNS: [SortColumn; 5] = [
    SortColumn {
        param: "name",
        field: "metadata.name",
        label: "Name",
    },
    SortColumn {
        param: "kind",
        field: "kind",
        label: "Kind",
    },
    SortColumn {
        param: "type",
        field: "spec.type",
        label: "Type",
    },
    SortColumn {
        param: "owner",
        field: "spec.owner",
        label: "Owner",
    },
    SortColumn {
        param: "lifecycle",
        field: "spec.lifecycle",
        label: "Lifecycle",
    },
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogQuery {
    pub kind: Option<String>,
    /// `(facet param, value)` for each facet filter that is set, in
    /// [`FACETS`] order.
    pub filters: Vec<(&'static str, String)>,
    pub text: Option<String>,
    /// A [`SORT_COLUMNS`] param; `None` is by name.
    pub sort: Option<&'static str>,
    pub descending: bool,
    pub limit: u32,
    pub cursor: Option<String>,
}

impl CatalogQuery {
    /// Reads the state from address parameters; unknown or empty values are
    /// ignored, so a hand-edited address never breaks the page.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let value = |key: &str| {
            get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let filters = FACETS
            .iter()
            .filter_map(|facet| value(facet.param).map(|v| (facet.param, v)))
            .collect();
        let sort = value("sort").and_then(|s| {
            SORT_COLUMNS
                .iter()
                .find(|c| c.param == s && c.param != "name")
                .map(|c| c.param)
        });
        let limit = value("limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| PAGE_SIZES.contains(l))
            .unwrap_or(DEFAULT_PAGE_SIZE);
        CatalogQuery {
            kind: value("kind"),
            filters,
            text: value("q"),
            sort,
            descending: value("dir").as_deref() == Some("desc"),
            limit,
            cursor: value("cursor"),
        }
    }

    pub fn filter(&self, param: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(p, _)| *p == param)
            .map(|(_, v)| v.as_str())
    }

    pub fn sort_column(&self) -> SortColumn {
        let param = self.sort.unwrap_or("name");
        *SORT_COLUMNS
            .iter()
            .find(|c| c.param == param)
            .unwrap_or(&SORT_COLUMNS[0])
    }

    /// The same query with one facet filter set or cleared, from the first page.
    pub fn with_filter(&self, param: &'static str, value: Option<String>) -> Self {
        let mut next = self.first_page();
        if param == KIND.param {
            next.kind = value;
            // Types and lifecycles differ per kind; keep owner, tag, namespace.
            next.filters
                .retain(|(p, _)| !matches!(*p, "type" | "lifecycle"));
            return next;
        }
        next.filters.retain(|(p, _)| *p != param);
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            next.filters.push((param, value.trim().to_string()));
            next.filters
                .sort_by_key(|(p, _)| FACETS.iter().position(|f| f.param == *p));
        }
        next
    }

    pub fn with_text(&self, text: &str) -> Self {
        let mut next = self.first_page();
        next.text = Some(text.trim().to_string()).filter(|t| !t.is_empty());
        next
    }

    /// Sorting by the column again flips the direction; another column starts ascending.
    pub fn sorted_by(&self, column: &str) -> Self {
        let mut next = self.first_page();
        let same = self.sort_column().param == column;
        next.descending = same && !self.descending;
        next.sort = SORT_COLUMNS
            .iter()
            .find(|c| c.param == column && c.param != "name")
            .map(|c| c.param);
        next
    }

    pub fn with_limit(&self, limit: u32) -> Self {
        let mut next = self.first_page();
        next.limit = if PAGE_SIZES.contains(&limit) {
            limit
        } else {
            DEFAULT_PAGE_SIZE
        };
        next
    }

    pub fn at_cursor(&self, cursor: &str) -> Self {
        let mut next = self.clone();
        next.cursor = Some(cursor.to_string());
        next
    }

    pub fn first_page(&self) -> Self {
        CatalogQuery {
            cursor: None,
            ..self.clone()
        }
    }

    pub fn is_filtered(&self) -> bool {
        self.kind.is_some() || !self.filters.is_empty() || self.text.is_some()
    }

    /// The page address: `/catalog?kind=...&type=...&q=...&sort=...&cursor=...`.
    pub fn path(&self) -> String {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(kind) = &self.kind {
            params.push((KIND.param, kind.clone()));
        }
        for (param, value) in &self.filters {
            params.push((param, value.clone()));
        }
        if let Some(text) = &self.text {
            params.push(("q", text.clone()));
        }
        if let Some(sort) = self.sort {
            params.push(("sort", sort.to_string()));
        }
        if self.descending {
            params.push(("dir", "desc".into()));
        }
        if self.limit != DEFAULT_PAGE_SIZE {
            params.push(("limit", self.limit.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            params.push(("cursor", cursor.clone()));
        }
        with_params("/catalog", &params)
    }

    /// The `filter=` value: every set filter ANDed (`kind=x,spec.type=y`).
    fn filter_expression(&self, only_kind: bool) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(kind) = &self.kind {
            parts.push(format!("kind={kind}"));
        }
        if !only_kind {
            for (param, value) in &self.filters {
                if let Some(facet) = FACETS.iter().find(|f| f.param == *param) {
                    parts.push(format!("{}={value}", facet.field));
                }
            }
        }
        (!parts.is_empty()).then(|| parts.join(","))
    }

    /// `/entities/by-query` for this page. A cursor already encodes the
    /// filter and order of the listing it came from, so it goes on its own.
    pub fn entities_url(&self) -> String {
        let mut url = format!(
            "{CATALOG_API}/entities/by-query?limit={}&fields={SUMMARY_FIELDS}",
            self.limit
        );
        if let Some(cursor) = &self.cursor {
            url.push_str("&cursor=");
            url.push_str(&encode_component(cursor));
            return url;
        }
        let direction = if self.descending { "desc" } else { "asc" };
        url.push_str(&format!(
            "&orderField={}",
            encode_component(&format!("{},{direction}", self.sort_column().field))
        ));
        if let Some(filter) = self.filter_expression(false) {
            url.push_str("&filter=");
            url.push_str(&encode_component(&filter));
        }
        if let Some(text) = &self.text {
            url.push_str("&fullTextFilterTerm=");
            url.push_str(&encode_component(text));
            url.push_str("&fullTextFilterFields=");
            url.push_str(&encode_component(TEXT_FIELDS));
        }
        url
    }

    /// `/entity-facets` for the filters' values, counted within the chosen
    /// kind: the drop-downs' (with the kinds), or the open-ended ones (owners
    /// and tags, which run to thousands of values in a large catalog and are
    /// only fetched when the user goes to type one).
    pub fn facets_url(&self, open_ended: bool) -> String {
        let mut url = format!("{CATALOG_API}/entity-facets?");
        let fields = std::iter::once(KIND)
            .chain(FACETS)
            .filter(|facet| facet.open_ended == open_ended)
            .map(|facet| format!("facet={}", encode_component(facet.field)));
        url.push_str(&fields.collect::<Vec<_>>().join("&"));
        if let Some(filter) = self.filter_expression(true) {
            url.push_str("&filter=");
            url.push_str(&encode_component(&filter));
        }
        url
    }
}

/// `path?k=v&...` with every value escaped; just `path` without parameters.
pub fn with_params(path: &str, params: &[(&str, String)]) -> String {
    if params.is_empty() {
        return path.to_string();
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(query: &[(&str, &str)]) -> CatalogQuery {
        let map: HashMap<String, String> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CatalogQuery::from_params(|k| map.get(k).cloned())
    }

    #[test]
    fn an_empty_address_is_the_whole_catalog_by_name() {
        let query = parse(&[]);
        assert_eq!(query.path(), "/catalog");
        assert_eq!(
            query.entities_url(),
            format!("/api/catalog/entities/by-query?limit=50&fields={SUMMARY_FIELDS}&orderField=metadata.name%2Casc")
        );
        assert_eq!(
            query.facets_url(false),
            "/api/catalog/entity-facets?facet=kind&facet=spec.type&facet=spec.lifecycle&facet=metadata.namespace"
        );
        assert_eq!(
            query.facets_url(true),
            "/api/catalog/entity-facets?facet=spec.owner&facet=metadata.tags"
        );
    }

    #[test]
    fn filters_text_and_sort_round_trip_through_the_address() {
        let query = parse(&[
            ("kind", "Component"),
            ("owner", "team-a"),
            ("type", "service"),
            ("q", "pay"),
            ("sort", "owner"),
            ("dir", "desc"),
            ("limit", "20"),
        ]);
        let path = query.path();
        assert_eq!(
            path,
            "/catalog?kind=Component&type=service&owner=team-a&q=pay&sort=owner&dir=desc&limit=20"
        );
        let again = parse(&[
            ("kind", "Component"),
            ("type", "service"),
            ("owner", "team-a"),
            ("q", "pay"),
            ("sort", "owner"),
            ("dir", "desc"),
            ("limit", "20"),
        ]);
        assert_eq!(query, again);
        assert_eq!(
            query.entities_url(),
            format!("/api/catalog/entities/by-query?limit=20&fields={SUMMARY_FIELDS}&orderField=spec.owner%2Cdesc\
             &filter=kind%3DComponent%2Cspec.type%3Dservice%2Cspec.owner%3Dteam-a\
             &fullTextFilterTerm=pay&fullTextFilterFields=metadata.name%2Cmetadata.title%2Cspec.profile.displayName")
        );
        assert!(query
            .facets_url(false)
            .ends_with("&filter=kind%3DComponent"));
        assert!(query.facets_url(true).ends_with("&filter=kind%3DComponent"));
    }

    #[test]
    fn unknown_values_in_the_address_are_ignored() {
        let query = parse(&[("sort", "password"), ("limit", "100000"), ("kind", "  ")]);
        assert_eq!(query, parse(&[]));
    }

    #[test]
    fn a_cursor_page_sends_only_the_cursor() {
        let query = parse(&[("kind", "API"), ("cursor", "eyJ+a/b=~")]);
        assert_eq!(
            query.entities_url(),
            format!("/api/catalog/entities/by-query?limit=50&fields={SUMMARY_FIELDS}&cursor=eyJ%2Ba%2Fb%3D~")
        );
        assert_eq!(query.path(), "/catalog?kind=API&cursor=eyJ%2Ba%2Fb%3D~");
    }

    #[test]
    fn changing_a_filter_starts_again_at_the_first_page() {
        let query = parse(&[("kind", "Component"), ("type", "service"), ("cursor", "c")]);
        let owner = query.with_filter("owner", Some("team-b".into()));
        assert_eq!(owner.cursor, None);
        assert_eq!(owner.filter("owner"), Some("team-b"));
        assert_eq!(owner.filter("type"), Some("service"));
        let cleared = owner.with_filter("owner", Some("  ".into()));
        assert_eq!(cleared.filter("owner"), None);
        // A new kind drops the filters whose values belong to the old kind.
        let api = owner.with_filter("kind", Some("API".into()));
        assert_eq!(api.kind.as_deref(), Some("API"));
        assert_eq!(api.filter("type"), None);
        assert_eq!(api.filter("owner"), Some("team-b"));
        assert_eq!(
            query.with_text("  billing ").text.as_deref(),
            Some("billing")
        );
        assert_eq!(query.with_text("   ").text, None);
    }

    #[test]
    fn sorting_twice_by_a_column_flips_its_direction() {
        let query = parse(&[]);
        assert_eq!(query.sort_column().param, "name");
        let desc = query.sorted_by("name");
        assert!(desc.descending);
        assert_eq!(desc.path(), "/catalog?dir=desc");
        let by_owner = desc.sorted_by("owner");
        assert!(!by_owner.descending);
        assert_eq!(by_owner.path(), "/catalog?sort=owner");
        assert!(by_owner.sorted_by("owner").descending);
    }

    #[test]
    fn filter_values_cannot_inject_parameters() {
        let query = parse(&[("kind", "x&filter=kind=group")]);
        assert!(
            query
                .entities_url()
                .ends_with("&filter=kind%3Dx%26filter%3Dkind%3Dgroup"),
            "{}",
            query.entities_url()
        );
    }
}
