//! The search page's state (term, document type, filters, page size,
//! cursor), as it is kept in the address bar and as it becomes a
//! `/api/search/query` request. Plain functions, unit-tested on the host.

use crate::catalog_query::with_params;
use greenroom_model::api::{
    SearchRequest, DEFAULT_SEARCH_PAGE_LIMIT, SOFTWARE_CATALOG_TYPE, TECHDOCS_TYPE,
};

/// Page sizes the search page offers.
pub const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];

/// The document types the page has a tab for: (address value, label).
pub const DOCUMENT_TYPES: [(&str, &str); 2] = [
    (SOFTWARE_CATALOG_TYPE, "Software Catalog"),
    (TECHDOCS_TYPE, "Documentation"),
];

/// A search filter: its address parameter (also the API's filter field) and label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchFilter {
    pub param: &'static str,
    /// The catalog field whose facet lists the values.
    pub facet: &'static str,
    pub label: &'static str,
}

pub const FILTERS: [SearchFilter; 3] = [
    SearchFilter {
        param: "kind",
        facet: "kind",
        label: "Kind",
    },
    SearchFilter {
        param: "lifecycle",
        facet: "spec.lifecycle",
        label: "Lifecycle",
    },
    SearchFilter {
        param: "owner",
        facet: "spec.owner",
        label: "Owner",
    },
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchState {
    pub term: String,
    /// One of [`DOCUMENT_TYPES`]; `None` is all types.
    pub doc_type: Option<String>,
    /// `(filter param, value)` for each filter that is set, in [`FILTERS`] order.
    pub filters: Vec<(&'static str, String)>,
    pub limit: u32,
    pub cursor: Option<String>,
}

impl Default for SearchState {
    fn default() -> Self {
        SearchState {
            term: String::new(),
            doc_type: None,
            filters: Vec::new(),
            limit: DEFAULT_SEARCH_PAGE_LIMIT,
            cursor: None,
        }
    }
}

impl SearchState {
    /// Reads the state from address parameters; unknown or empty values are
    /// ignored, so a hand-edited address never breaks the page.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let value = |key: &str| {
            get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        SearchState {
            term: value("term").unwrap_or_default(),
            doc_type: value("type")
                .and_then(|t| DOCUMENT_TYPES.iter().find(|(v, _)| *v == t))
                .map(|(v, _)| v.to_string()),
            filters: FILTERS
                .iter()
                .filter_map(|f| value(f.param).map(|v| (f.param, v)))
                .collect(),
            limit: value("limit")
                .and_then(|l| l.parse().ok())
                .filter(|l| PAGE_SIZES.contains(l))
                .unwrap_or(DEFAULT_SEARCH_PAGE_LIMIT),
            cursor: value("cursor"),
        }
    }

    pub fn filter(&self, param: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(p, _)| *p == param)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_filtered(&self) -> bool {
        !self.filters.is_empty() || self.doc_type.is_some()
    }

    pub fn first_page(&self) -> Self {
        SearchState {
            cursor: None,
            ..self.clone()
        }
    }

    pub fn with_term(&self, term: &str) -> Self {
        SearchState {
            term: term.trim().to_string(),
            ..self.first_page()
        }
    }

    pub fn with_type(&self, doc_type: Option<&str>) -> Self {
        SearchState {
            doc_type: doc_type.map(str::to_string),
            ..self.first_page()
        }
    }

    /// The same search with one filter set (or cleared with `None` or ""), from the first page.
    pub fn with_filter(&self, param: &'static str, value: Option<&str>) -> Self {
        let mut next = self.first_page();
        next.filters.retain(|(p, _)| *p != param);
        if let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) {
            next.filters.push((param, value.to_string()));
            next.filters
                .sort_by_key(|(p, _)| FILTERS.iter().position(|f| f.param == *p));
        }
        next
    }

    pub fn with_limit(&self, limit: u32) -> Self {
        SearchState {
            limit: if PAGE_SIZES.contains(&limit) {
                limit
            } else {
                DEFAULT_SEARCH_PAGE_LIMIT
            },
            ..self.first_page()
        }
    }

    pub fn at_cursor(&self, cursor: &str) -> Self {
        SearchState {
            cursor: Some(cursor.to_string()),
            ..self.clone()
        }
    }

    /// The same term without type, filters or page: "start over".
    pub fn cleared(&self) -> Self {
        SearchState {
            term: self.term.clone(),
            limit: self.limit,
            ..SearchState::default()
        }
    }

    /// The page address: `/search?term=...&type=...&kind=...&limit=...&cursor=...`.
    pub fn path(&self) -> String {
        let mut params: Vec<(&str, String)> = Vec::new();
        if !self.term.is_empty() {
            params.push(("term", self.term.clone()));
        }
        if let Some(doc_type) = &self.doc_type {
            params.push(("type", doc_type.clone()));
        }
        for (param, value) in &self.filters {
            params.push((param, value.clone()));
        }
        if self.limit != DEFAULT_SEARCH_PAGE_LIMIT {
            params.push(("limit", self.limit.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            params.push(("cursor", cursor.clone()));
        }
        with_params("/search", &params)
    }

    /// The API request for this page.
    pub fn request(&self) -> SearchRequest {
        SearchRequest {
            term: self.term.clone(),
            types: self.doc_type.iter().cloned().collect(),
            filters: self
                .filters
                .iter()
                .map(|(p, v)| (p.to_string(), v.clone()))
                .collect(),
            page_limit: Some(self.limit),
            page_cursor: self.cursor.clone(),
        }
    }
}

/// The suggestions the portal search box asks for while the user types.
pub fn suggestions_request(term: &str, limit: u32) -> SearchRequest {
    SearchRequest {
        term: term.trim().to_string(),
        page_limit: Some(limit),
        ..SearchRequest::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(query: &[(&str, &str)]) -> SearchState {
        let map: HashMap<String, String> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SearchState::from_params(|k| map.get(k).cloned())
    }

    #[test]
    fn an_empty_address_searches_everything() {
        let state = parse(&[]);
        assert_eq!(state.path(), "/search");
        assert_eq!(
            state.request().url(),
            "/api/search/query?term=&pageLimit=25"
        );
    }

    #[test]
    fn the_state_round_trips_through_the_address() {
        let state = parse(&[
            ("term", " pay "),
            ("type", "software-catalog"),
            ("owner", "team-payments"),
            ("kind", "Component"),
            ("limit", "10"),
            ("cursor", "MQ=="),
        ]);
        let path = state.path();
        assert_eq!(
            path,
            "/search?term=pay&type=software-catalog&kind=Component&owner=team-payments&limit=10&cursor=MQ%3D%3D"
        );
        assert_eq!(
            state.request().url(),
            "/api/search/query?term=pay&types%5B0%5D=software-catalog&filters%5Bkind%5D=Component\
             &filters%5Bowner%5D=team-payments&pageLimit=10&pageCursor=MQ%3D%3D"
        );
    }

    #[test]
    fn unknown_values_are_ignored() {
        let state = parse(&[("type", "spreadsheets"), ("limit", "7"), ("color", "red")]);
        assert_eq!(state, SearchState::default());
    }

    #[test]
    fn changes_start_from_the_first_page() {
        let state = parse(&[("term", "pay"), ("cursor", "MQ==")]);
        assert_eq!(
            state.with_filter("kind", Some("API")).path(),
            "/search?term=pay&kind=API"
        );
        assert_eq!(
            state
                .with_filter("lifecycle", Some("production"))
                .with_filter("kind", Some("API"))
                .with_filter("lifecycle", Some(""))
                .path(),
            "/search?term=pay&kind=API"
        );
        assert_eq!(state.with_term(" ledger ").path(), "/search?term=ledger");
        assert_eq!(
            state.with_type(Some("software-catalog")).path(),
            "/search?term=pay&type=software-catalog"
        );
        assert_eq!(state.with_limit(10).path(), "/search?term=pay&limit=10");
        assert_eq!(state.with_limit(3).path(), "/search?term=pay");
        assert_eq!(
            state.with_filter("kind", Some("API")).cleared().path(),
            "/search?term=pay"
        );
    }

    #[test]
    fn suggestions_ask_for_a_few_results() {
        assert_eq!(
            suggestions_request(" invent ", 5).url(),
            "/api/search/query?term=invent&pageLimit=5"
        );
    }
}
