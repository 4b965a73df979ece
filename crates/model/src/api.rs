//! Wire types of the catalog REST API shared by the server and the frontend.

pub use search_query::*;

/// `GET /api/search/query` (Backstage's search API): the request's query
/// string and the response.
pub mod search_query {
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;

    /// The path of the search endpoint.
    pub const SEARCH_QUERY_PATH: &str = "/api/search/query";
    /// The document type of catalog entities (the only one today).
    pub const SOFTWARE_CATALOG_TYPE: &str = "software-catalog";
    /// Backstage's document type of TechDocs pages.
    pub const TECHDOCS_TYPE: &str = "techdocs";
    /// The server's page size when the request names none, and its maximum.
    pub const DEFAULT_SEARCH_PAGE_LIMIT: u32 = 25;
    pub const MAX_SEARCH_PAGE_LIMIT: u32 = 100;

    /// A search request, as its query string: `term`, `types[i]`,
    /// `filters[field]`, `pageLimit`, `pageCursor`.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct SearchRequest {
        pub term: String,
        pub types: Vec<String>,
        /// `(field, value)`: `kind`, `lifecycle`, `owner`, `namespace`, `type`.
        pub filters: Vec<(String, String)>,
        pub page_limit: Option<u32>,
        pub page_cursor: Option<String>,
    }

    impl SearchRequest {
        /// The query string (without `?`), every value escaped; brackets are
        /// escaped too, as Backstage's client sends them.
        pub fn query_string(&self) -> String {
            let mut pairs = url::form_urlencoded::Serializer::new(String::new());
            pairs.append_pair("term", &self.term);
            for (i, t) in self.types.iter().enumerate() {
                pairs.append_pair(&format!("types[{i}]"), t);
            }
            for (field, value) in &self.filters {
                pairs.append_pair(&format!("filters[{field}]"), value);
            }
            if let Some(limit) = self.page_limit {
                pairs.append_pair("pageLimit", &limit.to_string());
            }
            if let Some(cursor) = &self.page_cursor {
                pairs.append_pair("pageCursor", cursor);
            }
            pairs.finish()
        }

        /// `/api/search/query?...`.
        pub fn url(&self) -> String {
            format!("{SEARCH_QUERY_PATH}?{}", self.query_string())
        }
    }

    /// The response: one page of results, best first.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SearchResultSet {
        pub results: Vec<SearchResult>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub number_of_results: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub next_page_cursor: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub previous_page_cursor: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct SearchResult {
        #[serde(rename = "type")]
        pub doc_type: String,
        pub document: SearchResultDocument,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub highlight: Option<SearchHighlight>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub rank: Option<u64>,
    }

    /// A catalog document or a docs page; fields a document type lacks read as empty.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    pub struct SearchResultDocument {
        pub title: String,
        pub text: String,
        /// The document's page in the app, e.g. `/catalog/default/component/x`.
        pub location: String,
        pub name: String,
        pub kind: String,
        pub namespace: String,
        pub component_type: String,
        #[serde(rename = "type")]
        pub spec_type: String,
        pub lifecycle: String,
        pub owner: String,
        pub tags: Vec<String>,
        /// Docs pages (`techdocs`): the title of the documented entity.
        pub entity_title: String,
    }

    /// The matched words of some fields, between `pre_tag` and `post_tag`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    pub struct SearchHighlight {
        pub pre_tag: String,
        pub post_tag: String,
        pub fields: BTreeMap<String, String>,
    }

    /// A piece of a highlighted field: text, marked or not.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct HighlightSegment {
        pub text: String,
        pub marked: bool,
    }

    impl SearchHighlight {
        /// `field` split into marked and unmarked text, or `None` when the
        /// field has no highlight. The tags are only separators: the pieces
        /// are plain text, whatever markup the document itself contains.
        pub fn segments(&self, field: &str) -> Option<Vec<HighlightSegment>> {
            let value = self.fields.get(field)?;
            Some(split_highlight(value, &self.pre_tag, &self.post_tag))
        }
    }

    /// Splits `value` on `pre`/`post` tags. Text outside a pair is unmarked;
    /// a `pre` without its `post` marks the rest. Empty pieces are dropped.
    pub fn split_highlight(value: &str, pre: &str, post: &str) -> Vec<HighlightSegment> {
        let mut out: Vec<HighlightSegment> = Vec::new();
        let mut push = |text: &str, marked: bool| {
            if !text.is_empty() {
                out.push(HighlightSegment {
                    text: text.to_string(),
                    marked,
                });
            }
        };
        if pre.is_empty() || post.is_empty() {
            push(value, false);
            return out;
        }
        let mut rest = value;
        while let Some(start) = rest.find(pre) {
            push(&rest[..start], false);
            let inner = &rest[start + pre.len()..];
            match inner.find(post) {
                Some(end) => {
                    push(&inner[..end], true);
                    rest = &inner[end + post.len()..];
                }
                None => {
                    push(inner, true);
                    rest = "";
                }
            }
        }
        push(rest, false);
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn seg(text: &str, marked: bool) -> HighlightSegment {
            HighlightSegment {
                text: text.into(),
                marked,
            }
        }

        #[test]
        fn request_query_strings_as_backstage_writes_them() {
            let request = SearchRequest {
                term: "pay & go".into(),
                types: vec![SOFTWARE_CATALOG_TYPE.into()],
                filters: vec![("kind".into(), "Component".into())],
                page_limit: Some(10),
                page_cursor: Some("MQ==".into()),
            };
            assert_eq!(
                request.url(),
                "/api/search/query?term=pay+%26+go&types%5B0%5D=software-catalog\
                 &filters%5Bkind%5D=Component&pageLimit=10&pageCursor=MQ%3D%3D"
            );
            assert_eq!(SearchRequest::default().query_string(), "term=");
        }

        #[test]
        fn decodes_a_response() {
            let body = r#"{"results":[{"type":"software-catalog","document":{"title":"inventory","text":"Stock <b>levels</b>","location":"/catalog/default/component/inventory","kind":"Component","type":"service","componentType":"service","owner":"team-logistics","tags":["a"],"namespace":"default","lifecycle":"production","name":"inventory"},"highlight":{"preTag":"<mark>","postTag":"</mark>","fields":{"title":"<mark>inventory</mark>"}},"rank":1}],"numberOfResults":1,"nextPageCursor":"MQ=="}"#;
            let set: SearchResultSet = serde_json::from_str(body).unwrap();
            assert_eq!(set.number_of_results, Some(1));
            assert_eq!(set.next_page_cursor.as_deref(), Some("MQ=="));
            let hit = &set.results[0];
            assert_eq!(hit.document.spec_type, "service");
            assert_eq!(hit.document.owner, "team-logistics");
            let highlight = hit.highlight.as_ref().unwrap();
            assert_eq!(
                highlight.segments("title").unwrap(),
                vec![seg("inventory", true)]
            );
            assert_eq!(highlight.segments("text"), None);
            let bare: SearchResultSet =
                serde_json::from_str(r#"{"results":[{"type":"x","document":{}}]}"#).unwrap();
            assert_eq!(bare.results[0].document, SearchResultDocument::default());
        }

        #[test]
        fn highlights_split_on_the_tags_and_keep_other_markup_as_text() {
            assert_eq!(
                split_highlight(
                    "<em>pay</em>ment and <b>x</b> <em>pay</em>",
                    "<em>",
                    "</em>"
                ),
                vec![
                    seg("pay", true),
                    seg("ment and <b>x</b> ", false),
                    seg("pay", true)
                ]
            );
            assert_eq!(
                split_highlight("a <em>b", "<em>", "</em>"),
                vec![seg("a ", false), seg("b", true)]
            );
            assert_eq!(split_highlight("plain", "", ""), vec![seg("plain", false)]);
            assert_eq!(split_highlight("", "<em>", "</em>"), vec![]);
        }
    }
}
