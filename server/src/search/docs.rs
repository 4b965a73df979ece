//! The TechDocs collator: one search document per docs page, holding the page's
//! headings, so a hit can point at the section where the words are.

use greenroom_model::Entity;
use greenroom_techdocs::BuiltPage;
use serde_json::{json, Value};

use super::document::SearchDocument;

/// Backstage's document type of TechDocs pages.
pub const TECHDOCS_TYPE: &str = "techdocs";
/// Docs page ids start with this; entity refs never contain `!`, so the
/// catalog follower can tell its own documents from these.
const ID_PREFIX: &str = "techdocs!";
/// The text a result carries: enough for a snippet around the words.
const SNIPPET_CHARS: usize = 280;

pub fn is_docs_id(id: &str) -> bool {
    id.starts_with(ID_PREFIX)
}

pub fn page_id(entity_ref: &str, url: &str) -> String {
    format!("{ID_PREFIX}{}!{url}", entity_ref.to_lowercase())
}

fn field<'a>(entity: &'a Entity, path: &[&str]) -> &'a str {
    let mut value: Option<&Value> = path.first().and_then(|first| entity.get(*first));
    for key in &path[1..] {
        value = value.and_then(|v| v.get(*key));
    }
    value.and_then(Value::as_str).unwrap_or("")
}

/// The documents of one built site.
pub fn documents(entity: &Entity, pages: &[BuiltPage]) -> Vec<SearchDocument> {
    let kind = field(entity, &["kind"]);
    let namespace = match field(entity, &["metadata", "namespace"]) {
        "" => "default",
        ns => ns,
    };
    let name = field(entity, &["metadata", "name"]);
    let entity_ref = format!("{kind}:{namespace}/{name}").to_lowercase();
    let entity_title = match field(entity, &["metadata", "title"]) {
        "" => name,
        title => title,
    };
    pages
        .iter()
        .map(|page| {
            // Section offsets in the page text, so a result can name the section
            // its words are in without storing the text twice.
            let mut sections = Vec::new();
            let mut from = 0;
            for section in &page.sections {
                if let Some(at) = page.text[from..].find(&section.title) {
                    from += at;
                    sections.push(json!({"id": section.id, "title": section.title, "at": from}));
                }
            }
            SearchDocument {
                id: page_id(&entity_ref, &page.url),
                doc_type: TECHDOCS_TYPE.to_string(),
                name: name.to_string(),
                title: page.title.clone(),
                text: page.text.clone(),
                location: format!(
                    "/docs/{}/{}/{}/{}",
                    namespace.to_lowercase(),
                    kind.to_lowercase(),
                    name.to_lowercase(),
                    page.url
                ),
                kind: kind.to_string(),
                namespace: namespace.to_string(),
                component_type: field(entity, &["spec", "type"]).to_string(),
                lifecycle: field(entity, &["spec", "lifecycle"]).to_string(),
                owner: field(entity, &["spec", "owner"]).to_string(),
                tags: Vec::new(),
                extra_text: page
                    .sections
                    .iter()
                    .map(|s| s.title.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                extra: json!({"entityTitle": entity_title, "path": page.url, "sections": sections}),
            }
        })
        .collect()
}

/// Shapes a stored docs document for a result: the location points at the
/// section that matches the most query words (the first such), and the text is
/// a snippet from there. `matches(word, query_word)` is the index's matching.
pub fn present(document: &mut Value, query_words: &[String], matches: impl Fn(&str, &str) -> bool) {
    let text = document["text"].as_str().unwrap_or_default().to_string();
    let starts: Vec<(usize, Option<String>)> = std::iter::once((0, None))
        .chain(
            document["sections"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| {
                    Some((
                        s["at"].as_u64()? as usize,
                        s["id"].as_str().map(str::to_string),
                    ))
                }),
        )
        .collect();
    let mut best: Option<(usize, usize, &Option<String>)> = None; // (words matched, first hit, section)
    for (i, (start, id)) in starts.iter().enumerate() {
        let end = starts
            .get(i + 1)
            .map_or(text.len(), |n| n.0)
            .min(text.len());
        let Some(part) = text.get(*start..end) else {
            continue;
        };
        let mut matched = vec![false; query_words.len()];
        let mut first_hit = None;
        let mut offset = *start;
        for word in part.split(|c: char| !c.is_alphanumeric()) {
            let lower = word.to_lowercase();
            for (q, query) in query_words.iter().enumerate() {
                if !word.is_empty() && matches(&lower, query) {
                    matched[q] = true;
                    first_hit.get_or_insert(offset);
                }
            }
            offset += word.len() + 1;
        }
        let count = matched.iter().filter(|m| **m).count();
        if let Some(hit) = first_hit {
            if best.is_none_or(|(c, _, _)| count > c) {
                best = Some((count, hit, id));
            }
        }
    }
    if let (Some((_, _, Some(id))), Some(location)) = (best, document["location"].as_str()) {
        document["location"] = json!(format!("{location}#{id}"));
    }
    document["text"] = json!(snippet(&text, best.map_or(0, |b| b.1)));
    if let Some(map) = document.as_object_mut() {
        map.remove("sections");
    }
}

/// About [`SNIPPET_CHARS`] of `text` starting a little before byte `at`, cut at
/// word boundaries.
fn snippet(text: &str, at: usize) -> String {
    let mut start = at.saturating_sub(60).min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    if start > 0 {
        start = text[start..].find(' ').map_or(start, |s| start + s + 1);
    }
    let rest = &text[start..];
    let mut end = rest
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(rest.len(), |(i, _)| i);
    if end < rest.len() {
        end = rest[..end].rfind(' ').unwrap_or(end);
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&rest[..end]);
    if end < rest.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenroom_techdocs::Section;

    #[test]
    fn pages_become_documents_that_point_at_their_sections() {
        let entity = json!({"kind": "Component", "metadata": {"name": "svc", "title": "Service"}, "spec": {"owner": "team-a"}})
            .as_object()
            .unwrap()
            .clone();
        let page = BuiltPage {
            src: "guide.md".into(),
            url: "guide/".into(),
            title: "Guide".into(),
            edit_url: None,
            text: "Guide Intro words Setup Install the frobnicator here".into(),
            sections: vec![
                Section {
                    level: 1,
                    id: "guide".into(),
                    title: "Guide".into(),
                    text: "Intro words".into(),
                },
                Section {
                    level: 2,
                    id: "setup".into(),
                    title: "Setup".into(),
                    text: "Install the frobnicator here".into(),
                },
            ],
        };
        let docs = documents(&entity, &[page]);
        assert_eq!(docs[0].id, "techdocs!component:default/svc!guide/");
        assert_eq!(docs[0].location, "/docs/default/component/svc/guide/");
        assert!(is_docs_id(&docs[0].id) && !is_docs_id("component:default/svc"));
        let mut stored = docs[0].to_json();
        assert_eq!(stored["entityTitle"], "Service");
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        present(&mut stored, &words(&["frob"]), |w, q| w.starts_with(q));
        assert_eq!(
            stored["location"],
            "/docs/default/component/svc/guide/#setup"
        );
        assert!(stored.get("sections").is_none());
        let mut other = docs[0].to_json();
        present(&mut other, &words(&["intro"]), |w, q| w == q);
        assert_eq!(
            other["location"],
            "/docs/default/component/svc/guide/#guide"
        );
        let mut both = docs[0].to_json();
        present(&mut both, &words(&["install", "words"]), |w, q| w == q);
        assert_eq!(
            both["location"], "/docs/default/component/svc/guide/#guide",
            "ties go to the first section"
        );
        let mut most = docs[0].to_json();
        present(&mut most, &words(&["install", "here", "words"]), |w, q| {
            w == q
        });
        assert_eq!(
            most["location"], "/docs/default/component/svc/guide/#setup",
            "the section with most words wins"
        );
        assert_eq!(
            other["location"],
            "/docs/default/component/svc/guide/#guide"
        );
    }

    #[test]
    fn snippets_are_cut_at_words() {
        let text = "word ".repeat(200);
        let s = snippet(&text, 500);
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.chars().count() <= SNIPPET_CHARS + 2,
            "{s}"
        );
        assert_eq!(snippet("short text", 0), "short text");
        let accents = snippet(&"é ".repeat(200), 301);
        assert!(accents.starts_with("…é"), "{accents}");
    }
}
