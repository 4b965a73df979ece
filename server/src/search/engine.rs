//! The Tantivy index. Words are indexed whole (`title`, `body`, `extra`) and
//! as their prefixes (`title_prefix`, `body_prefix`), so a query word matches
//! a whole word, the start of a word ("invent" finds "inventory") or, from
//! five letters on, a word one or two edits away ("paymnet" finds
//! "payment"). Name and title count more than the description, an exact name
//! most of all. Filters are exact, lowercased keyword fields.
//!
//! The index is derived data: its commit payload holds the schema version and
//! the catalog change cursor it has reached; an index of another version, or
//! one that cannot be opened, is removed and rebuilt from the database.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use greenroom_store::ChangeCursor;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TantivyDocument, TextFieldIndexing, TextOptions, Value as _,
    STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use super::document::{owner_keys, SearchDocument};
use super::{Filter, SearchError, SearchHit, SearchPage, SearchQuery};

/// Bump when the schema or what is indexed changes: older indexes are rebuilt.
const SCHEMA_VERSION: u32 = 2;
/// Added to the score of catalog entities that match (see `build_query`).
const CATALOG_BONUS: f32 = 4.0;
const WORDS: &str = "greenroom_words";
/// Prefixes from two letters up to this many.
const MAX_PREFIX: usize = 20;
const WRITER_HEAP: usize = 50_000_000;

/// The filterable fields, as `filters[<name>]` names them.
pub const FILTER_FIELDS: &[&str] = &["kind", "namespace", "lifecycle", "owner", "type", "name"];

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    doc_type: Field,
    document: Field,
    name_exact: Field,
    /// The entity's name (a docs page's entity), for `filters[name]`.
    entity_name: Field,
    title: Field,
    title_prefix: Field,
    body: Field,
    body_prefix: Field,
    extra: Field,
    kind: Field,
    namespace: Field,
    lifecycle: Field,
    owner: Field,
    component_type: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        doc_type: b.add_text_field("doc_type", STRING | STORED),
        document: b.add_text_field("document", STORED),
        name_exact: b.add_text_field("name_exact", STRING),
        entity_name: b.add_text_field("entity_name", STRING),
        title: b.add_text_field("title", words.clone()),
        title_prefix: b.add_text_field("title_prefix", STRING),
        body: b.add_text_field("body", words.clone()),
        body_prefix: b.add_text_field("body_prefix", STRING),
        extra: b.add_text_field("extra", words),
        kind: b.add_text_field("kind", STRING),
        namespace: b.add_text_field("namespace", STRING),
        lifecycle: b.add_text_field("lifecycle", STRING),
        owner: b.add_text_field("owner", STRING),
        component_type: b.add_text_field("component_type", STRING),
    };
    (b.build(), fields)
}

fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The words of `text` as the index sees them.
pub fn words(text: &str) -> Vec<String> {
    let mut analyzer = words_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

fn prefixes(words: &[String]) -> HashSet<String> {
    let mut out = HashSet::new();
    for word in words {
        for (n, (i, c)) in word.char_indices().enumerate() {
            if n + 1 > MAX_PREFIX {
                break;
            }
            if n >= 1 {
                out.insert(word[..i + c.len_utf8()].to_string());
            }
        }
    }
    out
}

/// What the last commit recorded.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    version: u32,
    seq: i64,
    entity_ref: String,
}

pub struct TantivyIndex {
    index: Index,
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
}

fn engine_error(e: impl std::fmt::Display) -> SearchError {
    SearchError::Engine(e.to_string())
}

impl TantivyIndex {
    /// An index in memory (tests, and databases that are themselves in memory).
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    /// Opens the index in `dir`, or creates an empty one there when it is
    /// missing, unreadable or of another schema version. The second value
    /// says whether it was (re)created, so everything must be indexed again.
    pub fn open_or_create(dir: &Path) -> Result<(Self, bool), SearchError> {
        let (schema, fields) = schema();
        if let Ok(index) = Index::open_in_dir(dir) {
            let current = index
                .load_metas()
                .ok()
                .and_then(|m| m.payload)
                .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
                .is_some_and(|p| p.version == SCHEMA_VERSION);
            if current && index.schema() == schema {
                // A failure here (another process holds the writer lock) is
                // reported, never answered by removing that process's index.
                return Ok((Self::with_index(index, fields)?, false));
            }
            tracing::info!(dir = %dir.display(), "the search index is of another version or unreadable: rebuilding it");
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(engine_error)?;
        }
        std::fs::create_dir_all(dir).map_err(engine_error)?;
        let index = Index::create_in_dir(dir, schema).map_err(engine_error)?;
        Ok((Self::with_index(index, fields)?, true))
    }

    fn with_index(index: Index, fields: Fields) -> Result<Self, SearchError> {
        index.tokenizers().register(WORDS, words_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(engine_error)?;
        // One indexing thread: the machine's other core serves requests.
        let writer = index
            .writer_with_num_threads(1, WRITER_HEAP)
            .map_err(engine_error)?;
        Ok(TantivyIndex {
            index,
            fields,
            reader,
            writer: Mutex::new(writer),
        })
    }

    fn to_tantivy(&self, doc: &SearchDocument) -> TantivyDocument {
        let f = self.fields;
        let mut out = TantivyDocument::default();
        out.add_text(f.id, &doc.id);
        out.add_text(f.doc_type, &doc.doc_type);
        out.add_text(f.document, doc.to_json().to_string());
        // The exact-name bonus belongs to entities, not to docs pages (a site's
        // index page is often titled like its entity).
        if doc.doc_type == super::CATALOG_TYPE {
            out.add_text(f.name_exact, doc.name.to_lowercase());
            out.add_text(f.name_exact, doc.title.to_lowercase());
        }
        out.add_text(f.entity_name, doc.name.to_lowercase());
        // A docs page is titled by its own title; the entity's name would make
        // every page of a site match it as strongly as the entity itself.
        let title = if doc.doc_type == super::CATALOG_TYPE {
            format!("{} {}", doc.name, doc.title)
        } else {
            doc.title.clone()
        };
        let body = format!(
            "{} {} {} {} {}",
            doc.text,
            doc.tags.join(" "),
            doc.kind,
            doc.component_type,
            doc.owner
        );
        out.add_text(f.title, &title);
        out.add_text(f.body, &body);
        out.add_text(f.extra, &doc.extra_text);
        for p in prefixes(&words(&title)) {
            out.add_text(f.title_prefix, p);
        }
        for p in prefixes(&words(&body)) {
            out.add_text(f.body_prefix, p);
        }
        out.add_text(f.kind, doc.kind.to_lowercase());
        out.add_text(f.namespace, doc.namespace.to_lowercase());
        out.add_text(f.lifecycle, doc.lifecycle.to_lowercase());
        out.add_text(f.component_type, doc.component_type.to_lowercase());
        for key in owner_keys(&doc.owner) {
            out.add_text(f.owner, key);
        }
        out
    }

    fn filter_field(&self, name: &str) -> Option<Field> {
        let f = self.fields;
        Some(match name {
            "kind" => f.kind,
            "namespace" => f.namespace,
            "lifecycle" => f.lifecycle,
            "owner" => f.owner,
            "type" | "componentType" => f.component_type,
            "name" => f.entity_name,
            _ => return None,
        })
    }

    /// One query word: whole, as a prefix, or with typos, in title, body
    /// and extra text, each with its weight.
    fn word_query(&self, word: &str) -> Box<dyn Query> {
        let f = self.fields;
        let term = |field| Term::from_field_text(field, word);
        let boosted = |q: Box<dyn Query>, boost: f32| -> (Occur, Box<dyn Query>) {
            (Occur::Should, Box::new(BoostQuery::new(q, boost)))
        };
        let exact = |field| {
            Box::new(TermQuery::new(term(field), IndexRecordOption::WithFreqs)) as Box<dyn Query>
        };
        let mut clauses = vec![
            boosted(exact(f.title), 5.0),
            boosted(exact(f.title_prefix), 3.0),
            boosted(exact(f.body), 1.5),
            boosted(exact(f.body_prefix), 0.8),
            boosted(exact(f.extra), 1.0),
        ];
        let letters = word.chars().count();
        if letters >= 5 {
            let distance = if letters >= 8 { 2 } else { 1 };
            let fuzzy = |field| {
                Box::new(FuzzyTermQuery::new(term(field), distance, true)) as Box<dyn Query>
            };
            clauses.push(boosted(fuzzy(f.title), 1.5));
            clauses.push(boosted(fuzzy(f.body), 0.5));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    fn build_query(&self, query: &SearchQuery) -> Result<Box<dyn Query>, SearchError> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let term_words = words(&query.term);
        for word in &term_words {
            clauses.push((Occur::Must, self.word_query(word)));
        }
        let whole = query.term.trim().to_lowercase();
        if !whole.is_empty() {
            for exact in [whole.clone(), term_words.join("-")] {
                let q = TermQuery::new(
                    Term::from_field_text(self.fields.name_exact, &exact),
                    IndexRecordOption::Basic,
                );
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), 30.0))));
            }
        }
        if term_words.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        } else {
            // Entities are what a portal's search is for: on an equal match they
            // rank above docs pages (a site's index page reads like its entity).
            let catalog = TermQuery::new(
                Term::from_field_text(self.fields.doc_type, super::CATALOG_TYPE),
                IndexRecordOption::Basic,
            );
            clauses.push((
                Occur::Should,
                Box::new(ConstScoreQuery::new(Box::new(catalog), CATALOG_BONUS)),
            ));
        }
        if !query.types.is_empty() {
            clauses.push((Occur::Must, self.any_of(self.fields.doc_type, &query.types)));
        }
        for Filter { field, values } in &query.filters {
            let target = self.filter_field(field).ok_or_else(|| {
                SearchError::Input(format!(
                    "Unknown filter '{field}'; filters are {}",
                    FILTER_FIELDS.join(", ")
                ))
            })?;
            let values: Vec<String> = values.iter().map(|v| v.to_lowercase()).collect();
            clauses.push((Occur::Must, self.any_of(target, &values)));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    fn any_of(&self, field: Field, values: &[String]) -> Box<dyn Query> {
        let clauses = values
            .iter()
            .map(|v| {
                let q = TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic);
                (Occur::Should, Box::new(q) as Box<dyn Query>)
            })
            .collect();
        Box::new(BooleanQuery::new(clauses))
    }
}

impl super::SearchIndex for TantivyIndex {
    fn query(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        let searcher = self.reader.searcher();
        let built = self.build_query(query)?;
        let collector = (
            TopDocs::with_limit(query.limit.max(1))
                .and_offset(query.offset)
                .order_by_score(),
            Count,
        );
        let (top, total) = searcher.search(&*built, &collector).map_err(engine_error)?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address).map_err(engine_error)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            hits.push(SearchHit {
                doc_type: text(self.fields.doc_type),
                document: serde_json::from_str(&text(self.fields.document)).unwrap_or_default(),
                score,
            });
        }
        Ok(SearchPage { hits, total })
    }

    fn apply(
        &self,
        upserts: &[SearchDocument],
        deletes: &[String],
        cursor: &ChangeCursor,
    ) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().map_err(engine_error)?;
        for id in deletes.iter().chain(upserts.iter().map(|d| &d.id)) {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
        }
        for doc in upserts {
            writer
                .add_document(self.to_tantivy(doc))
                .map_err(engine_error)?;
        }
        let payload = Payload {
            version: SCHEMA_VERSION,
            seq: cursor.seq,
            entity_ref: cursor.entity_ref.clone(),
        };
        let mut prepared = writer.prepare_commit().map_err(engine_error)?;
        prepared.set_payload(&serde_json::to_string(&payload).map_err(engine_error)?);
        prepared.commit().map_err(engine_error)?;
        drop(writer);
        self.reader.reload().map_err(engine_error)
    }

    fn cursor(&self) -> Option<ChangeCursor> {
        let payload = self.index.load_metas().ok()?.payload?;
        let p: Payload = serde_json::from_str(&payload).ok()?;
        Some(ChangeCursor {
            seq: p.seq,
            entity_ref: p.entity_ref,
        })
    }

    fn ids(&self) -> Result<HashSet<String>, SearchError> {
        let searcher = self.reader.searcher();
        let mut out = HashSet::new();
        for segment in searcher.segment_readers() {
            let inverted = segment
                .inverted_index(self.fields.id)
                .map_err(engine_error)?;
            let mut terms = inverted.terms().stream().map_err(engine_error)?;
            while terms.advance() {
                out.insert(String::from_utf8_lossy(terms.key()).into_owned());
            }
        }
        Ok(out)
    }
}

/// Where the index lives: `search.indexDirectory`, else beside the SQLite
/// file; None keeps it in memory (a database in memory, or PostgreSQL
/// without a configured directory: rebuilt at start).
pub fn index_directory(configured: Option<&str>, sqlite_file: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = configured {
        return Some(PathBuf::from(dir));
    }
    sqlite_file.map(|f| {
        f.parent()
            .map(|p| p.join("search-index"))
            .unwrap_or_else(|| PathBuf::from("search-index"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_prefixes() {
        assert_eq!(
            words("Payment-Service, v2"),
            vec!["payment", "service", "v2"]
        );
        let p = prefixes(&["inventory".to_string()]);
        assert!(p.contains("in") && p.contains("invent") && p.contains("inventory"));
        assert!(!p.contains("i"));
    }
}
