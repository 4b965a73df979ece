//! `GET /api/search/query`, as Backstage's search backend: `term`, `types`
//! (`types=a`, `types[]=a`, `types[0]=a`), `filters[field]=value` (also
//! `filters[field][0]=value` for several), `pageCursor`, `pageLimit`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

use super::docs::TECHDOCS_TYPE;
use super::engine::FILTER_FIELDS;
use super::{Filter, SearchError, SearchQuery, SearchService, CATALOG_TYPE};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::permissions::conditions::to_entity_filter;
use crate::permissions::{Decision, CATALOG_ENTITY_READ};
use crate::routes::{Access, ApiRouter, RouteInfo};
use crate::state::AppState;

/// Backstage's `search.maxTermLength` and `search.maxPageLimit` defaults.
const MAX_TERM_LENGTH: usize = 100;
const MAX_PAGE_LIMIT: usize = 100;
const DEFAULT_PAGE_LIMIT: usize = 25;
/// The document types this index holds.
pub const DOCUMENT_TYPES: &[&str] = &[CATALOG_TYPE, TECHDOCS_TYPE];

pub fn router() -> (Router<AppState>, Vec<RouteInfo>) {
    let (router, table) = ApiRouter::new("/api/search")
        .get(
            "/query",
            query,
            Access::Permission(&crate::permissions::SEARCH_QUERY),
        )
        .into_parts();
    let router = router.layer(axum::middleware::from_fn(crate::error::error_body_layer));
    (router, table)
}

fn invalid(message: impl std::fmt::Display) -> ApiError {
    ApiError::input(format!("Invalid query string: {message}"))
}

/// The page cursor: base64 of the page number, as Backstage's Lunr engine.
fn decode_cursor(cursor: &str) -> Result<usize, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|page| *page < 1_000_000)
        .ok_or_else(|| {
            invalid(format!(
                "pageCursor '{}' is not a cursor this server gave",
                cursor.chars().take(40).collect::<String>()
            ))
        })
}

fn encode_cursor(page: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(page.to_string())
}

/// Parses the query string into a query and the page size.
pub fn parse(raw: &str) -> Result<(SearchQuery, usize, usize), ApiError> {
    let mut query = SearchQuery::default();
    let mut page = 0usize;
    let mut limit = DEFAULT_PAGE_LIMIT;
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "term" => query.term = value,
            "pageCursor" if !value.is_empty() => page = decode_cursor(&value)?,
            "pageCursor" => {}
            "pageLimit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_PAGE_LIMIT).contains(l))
                    .ok_or_else(|| {
                        invalid(format!(
                            "pageLimit must be a number from 1 to {MAX_PAGE_LIMIT}"
                        ))
                    })?
            }
            k if k == "types" || (k.starts_with("types[") && k.ends_with(']')) => {
                if !DOCUMENT_TYPES.contains(&value.as_str()) {
                    return Err(invalid(format!(
                        "unknown type '{}'; the types are {}",
                        value.chars().take(60).collect::<String>(),
                        DOCUMENT_TYPES.join(", ")
                    )));
                }
                query.types.push(value);
            }
            k if k.starts_with("filters[") => {
                let field = k["filters[".len()..].split(']').next().unwrap_or_default();
                if !FILTER_FIELDS.contains(&field) {
                    return Err(invalid(format!(
                        "unknown filter '{}'; the filters are {}",
                        field.chars().take(60).collect::<String>(),
                        FILTER_FIELDS.join(", ")
                    )));
                }
                match query.filters.iter_mut().find(|f| f.field == field) {
                    Some(f) => f.values.push(value),
                    None => query.filters.push(Filter {
                        field: field.to_string(),
                        values: vec![value],
                    }),
                }
            }
            // Unknown parameters are ignored, as Backstage's router does.
            _ => {}
        }
    }
    if query.term.chars().count() > MAX_TERM_LENGTH {
        return Err(invalid(format!(
            "the term is longer than {MAX_TERM_LENGTH} characters"
        )));
    }
    query.offset = page * limit;
    query.limit = limit;
    Ok((query, page, limit))
}

/// Marks the words of `text` that a query word matches (whole, as a prefix,
/// or within the typo distance the index allows).
fn highlight(text: &str, query_words: &[String], service: &SearchService) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 32);
    let mut marked = false;
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest
            .find(|c: char| c.is_alphanumeric())
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len());
        let word = &rest[..end];
        let hit = word_matches(&word.to_lowercase(), query_words);
        if hit && !word.is_empty() {
            marked = true;
            out.push_str(&service.pre_tag);
            out.push_str(word);
            out.push_str(&service.post_tag);
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
    marked.then_some(out)
}

/// Whether a (lower-cased) word of a document matches a query word: whole, as
/// a prefix, or within the typo distance the index allows.
fn word_matches(lower: &str, query_words: &[String]) -> bool {
    query_words.iter().any(|q| {
        lower.starts_with(q.as_str()) || {
            let n = q.chars().count();
            n >= 5 && strsim_distance(lower, q) <= if n >= 8 { 2 } else { 1 }
        }
    })
}

/// Optimal-string-alignment distance (the index's transposition-aware typos).
fn strsim_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The results the caller may read: every result is about an entity (its
/// `kind`, `namespace` and `name`), and a conditional `catalog.entity.read`
/// is applied to those entities in one store query. Like Backstage, the page
/// may then hold fewer results than asked for.
async fn readable(
    state: &AppState,
    caller: &Caller,
    hits: Vec<super::SearchHit>,
) -> Result<Vec<super::SearchHit>, ApiError> {
    let filter = match state.policy.decide(caller, &CATALOG_ENTITY_READ) {
        Decision::Allow => return Ok(hits),
        Decision::Deny => return Ok(Vec::new()),
        Decision::Conditional(c) => to_entity_filter(&c),
    };
    let refs: Vec<String> = hits
        .iter()
        .map(|h| {
            let f = |k: &str| h.document[k].as_str().unwrap_or_default().to_lowercase();
            format!("{}:{}/{}", f("kind"), f("namespace"), f("name"))
        })
        .collect();
    let allowed = state.store.entities_by_refs(&refs, Some(&filter)).await?;
    Ok(hits
        .into_iter()
        .zip(allowed)
        .filter_map(|(hit, entity)| entity.map(|_| hit))
        .collect())
}

async fn query(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let service: Arc<SearchService> = state
        .search
        .clone()
        .ok_or_else(|| ApiError::NotImplemented("Search is not configured".into()))?;
    let (query, page, limit) = parse(raw.as_deref().unwrap_or(""))?;
    if !service.is_ready() {
        return Err(ApiError::ServiceUnavailable(
            "The search index is being built; try again in a few seconds".into(),
        ));
    }
    let index = service.index.clone();
    let q = query.clone();
    let found = tokio::task::spawn_blocking(move || index.query(&q))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| match e {
            SearchError::Input(m) => ApiError::input(m),
            SearchError::Engine(m) => {
                tracing::error!(error = %m, "search query failed");
                ApiError::Internal("There was a problem performing the search query".into())
            }
        })?;
    let query_words = super::engine::words(&query.term);
    let results: Vec<Value> = readable(&state, &caller, found.hits)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, mut hit)| {
            if hit.doc_type == TECHDOCS_TYPE {
                super::docs::present(&mut hit.document, &query_words, |w, q| {
                    word_matches(w, std::slice::from_ref(&q.to_string()))
                });
            }
            let mut fields = serde_json::Map::new();
            for field in ["title", "text"] {
                if let Some(marked) = hit.document[field]
                    .as_str()
                    .and_then(|t| highlight(t, &query_words, &service))
                {
                    fields.insert(field.to_string(), json!(marked));
                }
            }
            json!({
                "type": hit.doc_type,
                "document": hit.document,
                "highlight": {"preTag": service.pre_tag, "postTag": service.post_tag, "fields": fields},
                "rank": query.offset + i + 1,
            })
        })
        .collect();
    let mut body = json!({"results": results, "numberOfResults": found.total});
    if (page + 1) * limit < found.total {
        body["nextPageCursor"] = json!(encode_cursor(page + 1));
    }
    if page > 0 {
        body["previousPageCursor"] = json!(encode_cursor(page - 1));
    }
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_as_the_backstage_client_writes_them() {
        let (q, page, limit) = parse(
            "term=pay&types%5B0%5D=software-catalog&filters%5Bkind%5D=Component&filters%5Blifecycle%5D%5B0%5D=production&filters%5Blifecycle%5D%5B1%5D=experimental&pageLimit=10&pageCursor=MQ%3D%3D",
        )
        .unwrap();
        assert_eq!(q.term, "pay");
        assert_eq!(q.types, vec!["software-catalog"]);
        assert_eq!(q.filters[1].values, vec!["production", "experimental"]);
        assert_eq!((page, limit, q.offset), (1, 10, 10));
        assert!(parse("types=nope").is_err());
        assert!(parse("filters%5Bpassword%5D=x").is_err());
        assert!(parse("pageCursor=%%%").is_err());
        assert!(parse("pageLimit=1000").is_err());
        assert!(parse(&format!("term={}", "a".repeat(101))).is_err());
    }

    #[test]
    fn typo_distance_counts_transpositions_once() {
        assert_eq!(strsim_distance("paymnet", "payment"), 1);
        assert_eq!(strsim_distance("team", "tech"), 2);
    }
}
