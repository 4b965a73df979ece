//! The query set of `search-bench`, built from names that exist in the
//! generated catalog, and the checks of each answer: a fast wrong answer is
//! an error, not a good figure.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::generate::CatalogPlan;

/// Results per page the benchmark asks for (Backstage's default page size).
pub const PAGE_LIMIT: usize = 25;
/// Backstage's document type of catalog entities.
pub const CATALOG_TYPE: &str = "software-catalog";

/// The kinds of query the set mixes, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryClass {
    ExactName,
    Prefix,
    Typo,
    TwoWords,
    WordAndKind,
    FilterOnly,
    SecondPage,
}

impl QueryClass {
    pub const ALL: [QueryClass; 7] = [
        QueryClass::ExactName,
        QueryClass::Prefix,
        QueryClass::Typo,
        QueryClass::TwoWords,
        QueryClass::WordAndKind,
        QueryClass::FilterOnly,
        QueryClass::SecondPage,
    ];

    pub fn label(self) -> &'static str {
        match self {
            QueryClass::ExactName => "exact name",
            QueryClass::Prefix => "name prefix (3-5 letters)",
            QueryClass::Typo => "one typo (two letters swapped)",
            QueryClass::TwoWords => "two words",
            QueryClass::WordAndKind => "word + filters[kind]=component",
            QueryClass::FilterOnly => "empty term + filter",
            QueryClass::SecondPage => "second page (nextPageCursor)",
        }
    }
}

/// What a correct answer looks like.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// The first result is this entity.
    First { kind: String, name: String },
    /// The first result has a word starting with each of these.
    TopHasPrefixes(Vec<String>),
    /// The first result has this whole word (the query misspelt it).
    TopHasWord(String),
    /// At least one result, every result of kind `component`, and the first
    /// one has a word starting with `word`.
    ComponentsWithPrefix(String),
    /// Every result has each `(field, value)` of the query's filters; with
    /// `count`, `numberOfResults` is exactly that.
    FiltersHold { count: Option<u64> },
    /// Page 2 of the query: checked against page 1 by the runner.
    NextPage,
}

/// One query of the set.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchCase {
    pub class: QueryClass,
    pub term: String,
    /// `filters[<field>]=<value>` pairs.
    pub filters: Vec<(String, String)>,
    pub expect: Expect,
}

impl SearchCase {
    /// The query string pairs of page 1 (page 2 adds `pageCursor`), as the
    /// Backstage search client writes them.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = vec![
            ("term".to_string(), self.term.clone()),
            ("types[0]".to_string(), CATALOG_TYPE.to_string()),
        ];
        for (field, value) in &self.filters {
            pairs.push((format!("filters[{field}]"), value.clone()));
        }
        pairs.push(("pageLimit".to_string(), PAGE_LIMIT.to_string()));
        pairs
    }

    /// `term=…` plus filters, for the report.
    pub fn describe(&self) -> String {
        let mut out = format!("term={:?}", self.term);
        for (field, value) in &self.filters {
            out.push_str(&format!(" filters[{field}]={value}"));
        }
        out
    }
}

/// Words as the index splits them: runs of letters and digits, lowercased.
pub fn split_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The words of a result document the index matches on (name and title,
/// description, tags, kind, type, owner).
pub fn document_words(document: &Value) -> HashSet<String> {
    let mut words = HashSet::new();
    for field in [
        "name",
        "title",
        "text",
        "kind",
        "type",
        "componentType",
        "owner",
    ] {
        if let Some(text) = document[field].as_str() {
            words.extend(split_words(text));
        }
    }
    for tag in document["tags"].as_array().into_iter().flatten() {
        if let Some(tag) = tag.as_str() {
            words.extend(split_words(tag));
        }
    }
    words
}

/// Swaps two neighbouring, different letters inside `word` (never the first
/// letter); None when there are none to swap.
pub fn swap_letters(word: &str, rng: &mut impl Rng) -> Option<String> {
    let chars: Vec<char> = word.chars().collect();
    let positions: Vec<usize> = (1..chars.len().saturating_sub(1))
        .filter(|&i| chars[i] != chars[i + 1])
        .collect();
    if positions.is_empty() {
        return None;
    }
    let i = positions[rng.gen_range(0..positions.len())];
    let mut swapped = chars;
    swapped.swap(i, i + 1);
    Some(swapped.into_iter().collect())
}

/// An entity of the plan: `(kind, name)`.
fn entity_name(plan: &CatalogPlan, which: usize, rng: &mut StdRng) -> (&'static str, String) {
    match which % 6 {
        0 | 1 => (
            "Component",
            plan.component_name(rng.gen_range(0..plan.components)),
        ),
        2 => ("API", plan.api_name(rng.gen_range(0..plan.apis))),
        3 => ("User", plan.user_name(rng.gen_range(0..plan.users))),
        4 => ("System", plan.system_name(rng.gen_range(0..plan.systems))),
        _ => (
            "Resource",
            plan.resource_name(rng.gen_range(0..plan.resources)),
        ),
    }
}

/// The alphabetic words of a random existing name of any generated kind
/// (nouns, team words, first and last names), without the digits.
fn name_words(plan: &CatalogPlan, which: usize, rng: &mut StdRng) -> Vec<String> {
    let name = match which % 4 {
        0 | 1 => entity_name(plan, which, rng).1,
        2 => plan.group_name(rng.gen_range(1..plan.groups.max(2)).min(plan.groups - 1)),
        _ => plan.user_name(rng.gen_range(0..plan.users)),
    };
    split_words(&name)
        .into_iter()
        .filter(|w| w.chars().all(char::is_alphabetic))
        .collect()
}

/// A random word of at least `min_len` letters from an existing name.
fn some_word(plan: &CatalogPlan, min_len: usize, rng: &mut StdRng) -> String {
    for attempt in 0.. {
        let words: Vec<String> = name_words(plan, attempt, rng)
            .into_iter()
            .filter(|w| w.chars().count() >= min_len)
            .collect();
        if !words.is_empty() {
            return words[rng.gen_range(0..words.len())].clone();
        }
    }
    unreachable!("component names always hold a long noun")
}

/// `per_class` queries of each class from names of `plan`, reproducible for
/// `seed`.
pub fn query_set(plan: &CatalogPlan, seed: u64, per_class: usize) -> Vec<SearchCase> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5EA2_C4B3_0000_0001);
    let mut cases = Vec::new();
    let filter = |field: &str, value: &str| (field.to_string(), value.to_string());
    for i in 0..per_class {
        let (kind, name) = entity_name(plan, i, &mut rng);
        cases.push(SearchCase {
            class: QueryClass::ExactName,
            term: name.clone(),
            filters: vec![],
            expect: Expect::First {
                kind: kind.into(),
                name,
            },
        });

        let word = some_word(plan, 4, &mut rng);
        let len = rng.gen_range(3..=5).min(word.chars().count() - 1);
        let prefix: String = word.chars().take(len).collect();
        cases.push(SearchCase {
            class: QueryClass::Prefix,
            term: prefix.clone(),
            filters: vec![],
            expect: Expect::TopHasPrefixes(vec![prefix]),
        });

        let (word, typo) = loop {
            let word = some_word(plan, 6, &mut rng);
            if let Some(typo) = swap_letters(&word, &mut rng) {
                break (word, typo);
            }
        };
        cases.push(SearchCase {
            class: QueryClass::Typo,
            term: typo,
            filters: vec![],
            expect: Expect::TopHasWord(word),
        });

        let words = loop {
            let words = name_words(plan, i, &mut rng);
            if words.len() >= 2 {
                break words[..2].to_vec();
            }
        };
        cases.push(SearchCase {
            class: QueryClass::TwoWords,
            term: words.join(" "),
            filters: vec![],
            expect: Expect::TopHasPrefixes(words),
        });

        let noun =
            split_words(&plan.component_name(rng.gen_range(0..plan.components))).swap_remove(0);
        cases.push(SearchCase {
            class: QueryClass::WordAndKind,
            term: noun.clone(),
            filters: vec![filter("kind", "component")],
            expect: Expect::ComponentsWithPrefix(noun),
        });

        let (filters, count) = match i % 6 {
            0 => (vec![filter("kind", "api")], Some(plan.apis)),
            1 => (vec![filter("kind", "system")], Some(plan.systems)),
            2 => (vec![filter("kind", "user")], Some(plan.users)),
            3 => (
                vec![
                    filter("kind", "component"),
                    filter("lifecycle", "production"),
                ],
                None,
            ),
            4 => (
                vec![filter(
                    "owner",
                    &plan.group_name(rng.gen_range(0..plan.groups)),
                )],
                None,
            ),
            _ => (
                vec![filter("kind", "component"), filter("type", "website")],
                None,
            ),
        };
        cases.push(SearchCase {
            class: QueryClass::FilterOnly,
            term: String::new(),
            filters,
            expect: Expect::FiltersHold {
                count: count.map(|c| c as u64),
            },
        });

        let noun =
            split_words(&plan.component_name(rng.gen_range(0..plan.components))).swap_remove(0);
        cases.push(SearchCase {
            class: QueryClass::SecondPage,
            term: noun,
            filters: vec![],
            expect: Expect::NextPage,
        });
    }
    cases
}

fn results(body: &Value) -> Result<&Vec<Value>, String> {
    body["results"]
        .as_array()
        .ok_or_else(|| "the answer has no results array".to_string())
}

pub fn number_of_results(body: &Value) -> Result<u64, String> {
    body["numberOfResults"]
        .as_u64()
        .ok_or_else(|| "the answer has no numeric numberOfResults".to_string())
}

/// The first result's document, `name (kind)`, for messages.
fn top_label(body: &Value) -> String {
    let doc = &body["results"][0]["document"];
    format!(
        "{} ({})",
        doc["name"].as_str().unwrap_or("?"),
        doc["kind"].as_str().unwrap_or("?")
    )
}

fn top_words(body: &Value) -> Result<HashSet<String>, String> {
    let first = results(body)?
        .first()
        .ok_or_else(|| "no results".to_string())?;
    Ok(document_words(&first["document"]))
}

/// Checks a page-1 answer to `case` (not [`Expect::NextPage`], which needs
/// both pages: see [`check_next_page`]).
pub fn check_answer(case: &SearchCase, body: &Value) -> Result<(), String> {
    let list = results(body)?;
    let total = number_of_results(body)?;
    if list.len() as u64 > total || list.len() > PAGE_LIMIT {
        return Err(format!(
            "{} results on the page but numberOfResults {total} and pageLimit {PAGE_LIMIT}",
            list.len()
        ));
    }
    if let Some(bad) = list.iter().find(|r| r["type"] != CATALOG_TYPE) {
        return Err(format!("a result of type {}", bad["type"]));
    }
    match &case.expect {
        Expect::First { kind, name } => {
            let doc = &list.first().ok_or("no results")?["document"];
            let same = |field: &str, want: &str| {
                doc[field]
                    .as_str()
                    .is_some_and(|v| v.eq_ignore_ascii_case(want))
            };
            if !(same("name", name) && same("kind", kind)) {
                return Err(format!(
                    "the first result is {}, not {name} ({kind})",
                    top_label(body)
                ));
            }
        }
        Expect::TopHasPrefixes(prefixes) => {
            let words = top_words(body)?;
            for prefix in prefixes {
                if !words.iter().any(|w| w.starts_with(prefix.as_str())) {
                    return Err(format!(
                        "the first result {} has no word starting with {prefix:?}",
                        top_label(body)
                    ));
                }
            }
        }
        Expect::TopHasWord(word) => {
            if !top_words(body)?.contains(word) {
                return Err(format!(
                    "the first result {} does not contain {word:?}",
                    top_label(body)
                ));
            }
        }
        Expect::ComponentsWithPrefix(word) => {
            if let Some(bad) = list.iter().find(|r| {
                !r["document"]["kind"]
                    .as_str()
                    .is_some_and(|k| k.eq_ignore_ascii_case("component"))
            }) {
                return Err(format!(
                    "filters[kind]=component returned a {}",
                    bad["document"]["kind"]
                ));
            }
            if !top_words(body)?
                .iter()
                .any(|w| w.starts_with(word.as_str()))
            {
                return Err(format!(
                    "the first result {} has no word starting with {word:?}",
                    top_label(body)
                ));
            }
        }
        Expect::FiltersHold { count } => {
            for result in list {
                let doc = &result["document"];
                for (field, value) in &case.filters {
                    if !filter_holds(doc, field, value) {
                        return Err(format!(
                            "result {} does not have {field} = {value}",
                            doc["name"]
                        ));
                    }
                }
            }
            if let Some(count) = count {
                if total != *count {
                    return Err(format!(
                        "numberOfResults is {total}, the catalog has {count}"
                    ));
                }
            }
            if count.is_some() && list.is_empty() {
                return Err("no results".into());
            }
        }
        Expect::NextPage => {
            if body["nextPageCursor"].as_str().is_none() {
                return Err(format!(
                    "no nextPageCursor with numberOfResults {total} and pageLimit {PAGE_LIMIT}"
                ));
            }
        }
    }
    Ok(())
}

/// Whether a result document has `value` in the filtered `field` (an owner
/// matches by short name or full ref).
fn filter_holds(doc: &Value, field: &str, value: &str) -> bool {
    let got = match field {
        "type" => doc["type"].as_str(),
        other => doc[other].as_str(),
    };
    let Some(got) = got else { return false };
    if field == "owner" {
        let short = got.rsplit(['/', ':']).next().unwrap_or(got);
        return got.eq_ignore_ascii_case(value) || short.eq_ignore_ascii_case(value);
    }
    got.eq_ignore_ascii_case(value)
}

/// Checks page 2 against page 1: the remaining results (up to a page),
/// ranks going on from page 1, none repeated, a cursor back.
pub fn check_next_page(first: &Value, second: &Value) -> Result<(), String> {
    let total = number_of_results(first)?;
    let page1 = results(first)?;
    let page2 = results(second)?;
    let expected = (total as usize).saturating_sub(PAGE_LIMIT).min(PAGE_LIMIT);
    if page2.len() != expected {
        return Err(format!(
            "page 2 has {} results, expected {expected} of {total}",
            page2.len()
        ));
    }
    if number_of_results(second)? != total {
        return Err("numberOfResults changed between the pages".into());
    }
    let location = |r: &Value| r["document"]["location"].as_str().map(str::to_string);
    let seen: HashSet<Option<String>> = page1.iter().map(location).collect();
    if let Some(repeated) = page2.iter().find(|r| seen.contains(&location(r))) {
        return Err(format!(
            "page 2 repeats {} from page 1",
            repeated["document"]["location"]
        ));
    }
    let first_rank = page2.first().and_then(|r| r["rank"].as_u64());
    if expected > 0 && first_rank != Some(PAGE_LIMIT as u64 + 1) {
        return Err(format!(
            "page 2 starts at rank {first_rank:?}, expected {}",
            PAGE_LIMIT + 1
        ));
    }
    if second["previousPageCursor"].as_str().is_none() {
        return Err("page 2 has no previousPageCursor".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan() -> CatalogPlan {
        CatalogPlan::new(2000, 7).unwrap()
    }

    #[test]
    fn every_class_gets_its_share_of_existing_names() {
        let plan = plan();
        let cases = query_set(&plan, 7, 12);
        assert_eq!(cases.len(), 12 * QueryClass::ALL.len());
        for class in QueryClass::ALL {
            assert_eq!(cases.iter().filter(|c| c.class == class).count(), 12);
        }
        let components: HashSet<String> = (0..plan.components)
            .map(|i| plan.component_name(i))
            .collect();
        for case in &cases {
            match (&case.class, &case.expect) {
                (QueryClass::ExactName, Expect::First { kind, name }) => {
                    assert_eq!(&case.term, name);
                    if kind == "Component" {
                        assert!(components.contains(name), "{name}");
                    }
                }
                (QueryClass::Prefix, Expect::TopHasPrefixes(p)) => {
                    let n = case.term.chars().count();
                    assert!((3..=5).contains(&n), "{case:?}");
                    assert_eq!(p, &vec![case.term.clone()]);
                }
                (QueryClass::Typo, Expect::TopHasWord(word)) => {
                    assert!(word.chars().count() >= 6);
                    assert_ne!(&case.term, word);
                    let mut a: Vec<char> = case.term.chars().collect();
                    let mut b: Vec<char> = word.chars().collect();
                    assert_eq!(a[0], b[0], "the first letter stays");
                    a.sort_unstable();
                    b.sort_unstable();
                    assert_eq!(a, b, "same letters, two swapped");
                }
                (QueryClass::TwoWords, Expect::TopHasPrefixes(words)) => {
                    assert_eq!(words.len(), 2);
                    assert_eq!(case.term, words.join(" "));
                }
                (QueryClass::WordAndKind, Expect::ComponentsWithPrefix(_)) => {
                    assert_eq!(case.filters, vec![("kind".into(), "component".into())]);
                }
                (QueryClass::FilterOnly, Expect::FiltersHold { .. }) => {
                    assert!(case.term.is_empty() && !case.filters.is_empty());
                }
                (QueryClass::SecondPage, Expect::NextPage) => assert!(!case.term.is_empty()),
                other => panic!("unexpected case {other:?}"),
            }
        }
        assert_eq!(cases, query_set(&plan, 7, 12), "reproducible");
    }

    #[test]
    fn query_pairs_are_written_as_the_backstage_client_does() {
        let case = SearchCase {
            class: QueryClass::WordAndKind,
            term: "ledger".into(),
            filters: vec![("kind".into(), "component".into())],
            expect: Expect::ComponentsWithPrefix("ledger".into()),
        };
        let pairs = case.query_pairs();
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("term", "ledger"),
                ("types[0]", "software-catalog"),
                ("filters[kind]", "component"),
                ("pageLimit", "25"),
            ]
        );
        assert_eq!(case.describe(), "term=\"ledger\" filters[kind]=component");
    }

    #[test]
    fn swapping_keeps_the_first_letter_and_skips_doubles() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let typo = swap_letters("payments", &mut rng).unwrap();
            assert_ne!(typo, "payments");
            assert!(typo.starts_with('p'));
        }
        assert_eq!(swap_letters("aaaa", &mut rng), None);
        assert_eq!(swap_letters("ab", &mut rng), None);
    }

    fn answer(docs: &[Value], total: u64) -> Value {
        let results: Vec<Value> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| json!({"type": "software-catalog", "document": d, "rank": i + 1}))
            .collect();
        json!({"results": results, "numberOfResults": total})
    }

    fn doc(kind: &str, name: &str) -> Value {
        json!({"kind": kind, "name": name, "title": name, "text": "", "owner": "team-atlas-1",
               "type": "service", "tags": ["k8s:prod"], "location": format!("/catalog/default/{kind}/{name}")})
    }

    #[test]
    fn exact_names_must_come_first() {
        let case = SearchCase {
            class: QueryClass::ExactName,
            term: "orders-service-3".into(),
            filters: vec![],
            expect: Expect::First {
                kind: "Component".into(),
                name: "orders-service-3".into(),
            },
        };
        let right = answer(
            &[
                doc("Component", "orders-service-3"),
                doc("Component", "orders-service-30"),
            ],
            2,
        );
        assert_eq!(check_answer(&case, &right), Ok(()));
        let wrong = answer(
            &[
                doc("Component", "orders-service-30"),
                doc("Component", "orders-service-3"),
            ],
            2,
        );
        let err = check_answer(&case, &wrong).unwrap_err();
        assert!(err.contains("orders-service-30 (Component)"), "{err}");
        assert!(check_answer(&case, &answer(&[], 0)).is_err());
    }

    #[test]
    fn prefixes_typos_and_words_are_looked_for_in_the_first_result() {
        let body = answer(&[doc("Component", "inventory-lib-4")], 1);
        let case = |expect| SearchCase {
            class: QueryClass::Prefix,
            term: String::new(),
            filters: vec![],
            expect,
        };
        assert!(check_answer(&case(Expect::TopHasPrefixes(vec!["inv".into()])), &body).is_ok());
        assert!(check_answer(
            &case(Expect::TopHasPrefixes(vec!["inv".into(), "atl".into()])),
            &body
        )
        .is_ok());
        assert!(check_answer(&case(Expect::TopHasPrefixes(vec!["pay".into()])), &body).is_err());
        assert!(check_answer(&case(Expect::TopHasWord("inventory".into())), &body).is_ok());
        assert!(check_answer(&case(Expect::TopHasWord("invent".into())), &body).is_err());
        assert!(check_answer(&case(Expect::TopHasWord("prod".into())), &body).is_ok());
    }

    #[test]
    fn filters_must_hold_for_every_result_and_counts_must_match() {
        let case = SearchCase {
            class: QueryClass::FilterOnly,
            term: String::new(),
            filters: vec![("kind".into(), "api".into())],
            expect: Expect::FiltersHold { count: Some(2) },
        };
        let apis = answer(&[doc("API", "a-api-1"), doc("API", "b-api-2")], 2);
        assert_eq!(check_answer(&case, &apis), Ok(()));
        let mixed = answer(&[doc("API", "a-api-1"), doc("Component", "b")], 2);
        assert!(check_answer(&case, &mixed)
            .unwrap_err()
            .contains("kind = api"));
        let short = answer(&[doc("API", "a-api-1")], 1);
        assert!(check_answer(&case, &short)
            .unwrap_err()
            .contains("numberOfResults is 1"));
        let owner = SearchCase {
            filters: vec![("owner".into(), "team-atlas-1".into())],
            expect: Expect::FiltersHold { count: None },
            ..case
        };
        let mut full_ref = doc("Component", "c");
        full_ref["owner"] = json!("group:default/team-atlas-1");
        assert_eq!(
            check_answer(&owner, &answer(&[doc("Component", "x"), full_ref], 2)),
            Ok(())
        );
    }

    #[test]
    fn component_filter_rejects_other_kinds() {
        let case = SearchCase {
            class: QueryClass::WordAndKind,
            term: "inv".into(),
            filters: vec![("kind".into(), "component".into())],
            expect: Expect::ComponentsWithPrefix("inv".into()),
        };
        let ok = answer(&[doc("Component", "inventory-lib-4")], 1);
        assert_eq!(check_answer(&case, &ok), Ok(()));
        let api = answer(&[doc("API", "inventory-api-4")], 1);
        assert!(check_answer(&case, &api).is_err());
    }

    #[test]
    fn second_pages_go_on_from_the_first() {
        let docs: Vec<Value> = (0..30)
            .map(|i| doc("Component", &format!("n-{i}")))
            .collect();
        let mut first = answer(&docs[..25], 30);
        first["nextPageCursor"] = json!("MQ==");
        let case = SearchCase {
            class: QueryClass::SecondPage,
            term: "n".into(),
            filters: vec![],
            expect: Expect::NextPage,
        };
        assert_eq!(check_answer(&case, &first), Ok(()));
        let mut second = answer(&docs[25..], 30);
        for (i, r) in second["results"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            r["rank"] = json!(26 + i);
        }
        second["previousPageCursor"] = json!("MA==");
        assert_eq!(check_next_page(&first, &second), Ok(()));
        let mut repeated = answer(&docs[20..25], 30);
        repeated["previousPageCursor"] = json!("MA==");
        assert!(check_next_page(&first, &repeated).is_err());
        let mut no_cursor = first.clone();
        no_cursor.as_object_mut().unwrap().remove("nextPageCursor");
        assert!(check_answer(&case, &no_cursor).is_err());
    }
}
