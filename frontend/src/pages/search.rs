//! `/search`: the portal search (`/api/search/query`): a term, a tab per
//! document type, filters by kind, lifecycle and owner, one page of ranked
//! results with the matched words marked, and cursor pagination. All of it
//! lives in the address, so reload, back and shared links show the same page.

use std::collections::BTreeMap;

use crate::api::{self, ApiError, FacetCount, CATALOG_API};
use crate::components::{highlighted, ErrorBox, Loading};
use crate::search_query::{SearchFilter, SearchState, DOCUMENT_TYPES, FILTERS, PAGE_SIZES};
use crate::shell::page_title;
use greenroom_model::api::{SearchResult, SearchResultSet};
use leptos::prelude::*;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

/// How long the term box waits after the last keystroke before it searches.
const TERM_DEBOUNCE_MS: u64 = 300;
/// How often the page asks again while the index is first being built.
const RETRY_MS: u64 = 2000;

type Facets = BTreeMap<String, Vec<FacetCount>>;

#[component]
pub fn SearchPage() -> impl IntoView {
    let params = use_query_map();
    let state = Memo::new(move |_| params.with(|p| SearchState::from_params(|k| p.get(k))));
    page_title(move || {
        state.with(|s| {
            if s.term.is_empty() {
                "Search".to_string()
            } else {
                format!("{} · Search", s.term)
            }
        })
    });
    // Bumped to ask again (the index was still being built).
    let attempt = RwSignal::new(0u32);
    let results = LocalResource::new(move || {
        attempt.track();
        let request = state.with(SearchState::request);
        api::search(request)
    });
    let retry: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    Effect::new(move |_| {
        if let Some(handle) = retry.get_value() {
            handle.clear();
        }
        let building = matches!(results.get(), Some(Err(ref e)) if is_building(e));
        if building {
            let handle = set_timeout_with_handle(
                move || attempt.update(|n| *n += 1),
                std::time::Duration::from_millis(RETRY_MS),
            )
            .ok();
            retry.set_value(handle);
        }
    });
    on_cleanup(move || {
        if let Some(handle) = retry.get_value() {
            handle.clear();
        }
    });
    let facets = LocalResource::new(move || {
        let fields: Vec<String> = FILTERS
            .iter()
            .map(|f| format!("facet={}", api::encode_component(f.facet)))
            .collect();
        api::fetch_facets(format!("{CATALOG_API}/entity-facets?{}", fields.join("&")))
    });

    view! {
        <section class="page search">
            <h1>"Search"</h1>
            <form class="search-form" role="search" aria-label="Search terms and filters" on:submit=|ev| ev.prevent_default()>
                <TermInput state=state />
                <div class="filters">
                    {FILTERS
                        .into_iter()
                        .map(|filter| view! { <FilterSelect filter=filter state=state facets=facets /> })
                        .collect_view()}
                    <PageSize state=state />
                    {move || {
                        state
                            .with(SearchState::is_filtered)
                            .then(|| {
                                let href = state.with(SearchState::cleared).path();
                                view! { <a class="clear-filters" href=href>"Clear filters"</a> }
                            })
                    }}
                </div>
            </form>
            <TypeTabs state=state />
            <div class="search-outcome">
                {move || match results.get() {
                    None => view! { <Loading what="results" /> }.into_any(),
                    Some(Ok(set)) => view! { <Results set=set state=state.get_untracked() /> }.into_any(),
                    Some(Err(error)) => view! { <SearchError error=error attempt=attempt /> }.into_any(),
                }}
            </div>
        </section>
    }
}

/// 503: the index is being built at first start; it answers soon.
fn is_building(error: &ApiError) -> bool {
    matches!(error, ApiError::Status { status: 503, .. })
}

/// Navigates to another search. Made while the component is created: the
/// router is found through the component's context, which event handlers
/// and timers do not have.
fn navigator() -> impl Fn(SearchState, bool) + Clone + Send + Sync + 'static {
    let navigate = use_navigate();
    move |to: SearchState, replace: bool| {
        navigate(
            &to.path(),
            NavigateOptions {
                replace,
                scroll: false,
                ..Default::default()
            },
        )
    }
}

/// The term: searches as the user types (after a short pause, replacing the
/// address so Back is not one entry per word) and at once on Enter.
#[component]
fn TermInput(state: Memo<SearchState>) -> impl IntoView {
    let go = navigator();
    // What the box shows; follows the address when it changes elsewhere
    // (back, the portal search box) without undoing what is being typed.
    let text = RwSignal::new(state.with_untracked(|s| s.term.clone()));
    Effect::new(move |_| {
        let term = state.with(|s| s.term.clone());
        if text.get_untracked().trim() != term {
            text.set(term);
        }
    });
    let pending: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    let cancel = move || {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
    };
    let go_typed = go.clone();
    let on_input = move |ev| {
        let typed = event_target_value(&ev);
        text.set(typed.clone());
        cancel();
        let go = go_typed.clone();
        let handle = set_timeout_with_handle(
            move || {
                if state.with_untracked(|s| s.term != typed.trim()) {
                    go(state.get_untracked().with_term(&typed), true);
                }
            },
            std::time::Duration::from_millis(TERM_DEBOUNCE_MS),
        )
        .ok();
        pending.set_value(handle);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            cancel();
            let typed = text.get_untracked();
            if state.with_untracked(|s| s.term != typed.trim()) {
                go(state.get_untracked().with_term(&typed), false);
            }
        }
    };
    view! {
        <div class="search-term">
            <label for="search-term">"Search for"</label>
            <input
                id="search-term"
                type="search"
                name="term"
                autocomplete="off"
                placeholder="Names, descriptions, owners, tags"
                prop:value=move || text.get()
                on:input=on_input
                on:keydown=on_keydown
            />
        </div>
    }
}

/// "All" and a tab per document type, as links to the filtered search.
#[component]
fn TypeTabs(state: Memo<SearchState>) -> impl IntoView {
    let tabs: Vec<(Option<&'static str>, &'static str)> = std::iter::once((None, "All"))
        .chain(DOCUMENT_TYPES.iter().map(|(v, l)| (Some(*v), *l)))
        .collect();
    view! {
        <nav class="tabs search-types" aria-label="Result types">
            {tabs
                .into_iter()
                .map(|(doc_type, label)| {
                    let current = move || state.with(|s| s.doc_type.as_deref() == doc_type);
                    view! {
                        <a
                            href=move || state.with(|s| s.with_type(doc_type).path())
                            aria-current=move || current().then_some("page")
                            class:active=current
                        >
                            {label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

#[component]
fn FilterSelect(
    filter: SearchFilter,
    state: Memo<SearchState>,
    facets: LocalResource<Result<Facets, ApiError>>,
) -> impl IntoView {
    let go = navigator();
    let id = format!("search-{}", filter.param);
    let on_change = move |ev| {
        let value = event_target_value(&ev);
        go(
            state
                .get_untracked()
                .with_filter(filter.param, Some(&value)),
            false,
        );
    };
    let chosen = move || state.with(|s| s.filter(filter.param).map(str::to_string));
    let options = move || {
        let selected = chosen();
        let mut values: Vec<String> = match facets.get() {
            Some(Ok(facets)) => facets
                .get(filter.facet)
                .map(|v| v.iter().map(|f| f.value.clone()).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        values.sort_by_key(|v| v.to_lowercase());
        // A value from the address the catalog does not list still shows as chosen.
        if let Some(chosen) = &selected {
            if !values.iter().any(|v| v.eq_ignore_ascii_case(chosen)) {
                values.push(chosen.clone());
            }
        }
        values
            .into_iter()
            .map(|value| {
                let is_selected = selected
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&value));
                view! { <option value=value.clone() selected=is_selected>{value.clone()}</option> }
            })
            .collect_view()
    };
    view! {
        <div class="filter">
            <label for=id.clone()>{filter.label}</label>
            <select id=id name=filter.param on:change=on_change>
                <option value="" selected=move || chosen().is_none()>
                    {format!("Any {}", filter.label.to_lowercase())}
                </option>
                {options}
            </select>
        </div>
    }
}

#[component]
fn PageSize(state: Memo<SearchState>) -> impl IntoView {
    let go = navigator();
    let on_change = move |ev| {
        let limit = event_target_value(&ev).parse().unwrap_or_default();
        go(state.get_untracked().with_limit(limit), false);
    };
    view! {
        <div class="filter">
            <label for="search-page-size">"Results per page"</label>
            <select id="search-page-size" name="limit" on:change=on_change>
                {PAGE_SIZES
                    .into_iter()
                    .map(|size| {
                        view! {
                            <option value=size.to_string() selected=move || state.with(|s| s.limit == size)>
                                {size.to_string()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// Why there are no results, worded for the reader: a search the server
/// refused (400), the index still being built (503), or another failure.
#[component]
fn SearchError(error: ApiError, attempt: RwSignal<u32>) -> impl IntoView {
    match error {
        ApiError::Status {
            status: 400,
            message,
        } => view! {
            <div class="error-box" role="alert">
                <p class="error-message">"This search could not be run."</p>
                <p>{message}</p>
                <p><a href="/search">"Start a new search"</a></p>
            </div>
        }
        .into_any(),
        ApiError::Status { status: 503, .. } => view! {
            <div class="notice" role="status">
                <p>"The search index is still being built. Results will show here as soon as it is ready."</p>
                <button type="button" on:click=move |_| attempt.update(|n| *n += 1)>"Try again now"</button>
            </div>
        }
        .into_any(),
        error => view! { <ErrorBox error=error /> }.into_any(),
    }
}

#[component]
fn Results(set: SearchResultSet, state: SearchState) -> impl IntoView {
    let total = set.number_of_results.unwrap_or(set.results.len() as u64);
    if set.results.is_empty() {
        let message = if state.cursor.is_some() {
            "This page has no results.".to_string()
        } else if state.is_filtered() {
            format!("No results{} with these filters.", for_term(&state.term))
        } else if state.term.is_empty() {
            "There is nothing to search yet.".to_string()
        } else {
            format!(
                "No results{}. Check the spelling or try fewer or other words.",
                for_term(&state.term)
            )
        };
        return view! {
            <p class="empty" role="status">{message}</p>
            {state.is_filtered().then(|| view! { <p><a href=state.cleared().path()>"Clear filters"</a></p> })}
        }
        .into_any();
    }
    let first_rank = set.results[0].rank.unwrap_or(1);
    let last_rank = first_rank + set.results.len() as u64 - 1;
    let summary = if set.next_page_cursor.is_some() || set.previous_page_cursor.is_some() {
        format!(
            "{} {}, showing {first_rank}–{last_rank}",
            plural(total),
            for_term(&state.term)
        )
    } else {
        format!("{}{}", plural(total), for_term(&state.term))
    };
    let next = set.next_page_cursor.map(|c| state.at_cursor(&c).path());
    let prev = set.previous_page_cursor.map(|c| state.at_cursor(&c).path());
    view! {
        <p class="muted summary" role="status">{summary}</p>
        <ol class="search-results" start=first_rank.to_string()>
            {set.results.into_iter().map(|result| view! { <ResultItem result=result /> }).collect_view()}
        </ol>
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href rel="prev">"← Previous page"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
        </nav>
    }
    .into_any()
}

fn plural(n: u64) -> String {
    if n == 1 {
        "1 result".to_string()
    } else {
        format!("{n} results")
    }
}

fn for_term(term: &str) -> String {
    if term.is_empty() {
        String::new()
    } else {
        format!(" for “{term}”")
    }
}

#[component]
fn ResultItem(result: SearchResult) -> impl IntoView {
    let doc = &result.document;
    let title = if doc.title.is_empty() {
        doc.name.clone()
    } else {
        doc.title.clone()
    };
    let docs_page = result.doc_type == greenroom_model::api::TECHDOCS_TYPE;
    let mut meta = if docs_page {
        let entity = if doc.entity_title.is_empty() {
            &doc.name
        } else {
            &doc.entity_title
        };
        vec![format!("Documentation of {entity}")]
    } else {
        vec![doc.kind.clone()]
    };
    if !doc.spec_type.is_empty() && !docs_page {
        meta.push(doc.spec_type.clone());
    }
    if !doc.owner.is_empty() {
        meta.push(format!("owner {}", doc.owner));
    }
    if !doc.lifecycle.is_empty() {
        meta.push(doc.lifecycle.clone());
    }
    meta.retain(|m| !m.is_empty());
    let text = (!doc.text.is_empty()).then(|| {
        view! { <p class="result-text">{highlighted(&result, "text", &doc.text)}</p> }
    });
    view! {
        <li class="search-result">
            <h2><a href=doc.location.clone()>{highlighted(&result, "title", &title)}</a></h2>
            {text}
            <p class="result-meta muted">{meta.join(" · ")}</p>
        </li>
    }
}
