//! The TechDocs reader: `/docs/:namespace/:kind/:name/*path` (`path` is the
//! page url, empty for the index page), and the same reader in the Docs tab
//! of an entity page (`?tab=docs&page=...`).
//!
//! A site's metadata gives its name, navigation and pages; each page is the
//! built HTML file from the static route, of which only the content element
//! is shown. The server has sanitised it; the reader still drops scripts,
//! event handler attributes and unsafe URLs before the content enters the
//! document, and rewrites links: pages of the same site become reader
//! addresses (the router follows them without a reload), other files of the
//! site point at the static route, and links out stay as written.
//!
//! Opening a site asks the server to sync it (`/sync`, server-sent events):
//! a site that was never built shows the build log until it is ready; an
//! outdated one is reloaded when the rebuild finishes.

use crate::api::{self, ApiError};
use crate::components::{highlighted, ErrorBox, Loading};
use crate::entity::{decode_param, entity_path, humanize_ref};
use crate::shell::page_title;
use crate::techdocs::{
    heading_text, is_safe_url, parse_docs_location, resolve_href, scheme_of, DocsTarget, Href,
    NavItem, PageLink, ReaderMode, TechDocsMetadata, TocEntry, CONTENT_ID,
};
use greenroom_model::api::SearchResult;
use greenroom_model::{Entity, EntityRef};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};
use wasm_bindgen::{closure::Closure, JsCast};

/// The most build log lines kept on the page.
const MAX_LOG_LINES: usize = 500;
/// How long the search box waits after the last keystroke before it searches.
const SEARCH_DEBOUNCE_MS: u64 = 300;
const SEARCH_RESULTS: u32 = 10;

/// `/docs/:namespace/:kind/:name/*path`.
#[component]
pub fn DocsReaderPage() -> impl IntoView {
    let params = use_params_map();
    let target = Memo::new(move |_| {
        params.with(|p| {
            let param = |key: &str| decode_param(&p.get(key).unwrap_or_default());
            DocsTarget::new(&param("namespace"), &param("kind"), &param("name"))
        })
    });
    let page = Memo::new(move |_| {
        params.with(|p| {
            crate::techdocs::normalize_page_url(&decode_param(&p.get("path").unwrap_or_default()))
        })
    });
    view! {
        <section class="page docs-page">
            <nav class="breadcrumbs" aria-label="Breadcrumbs">
                <a href="/docs">"Docs"</a>
            </nav>
            {move || {
                let target = target.get();
                view! { <DocsReader target=target page=page mode=ReaderMode::Standalone /> }
            }}
        </section>
    }
}

/// The Docs tab of an entity page.
#[component]
pub fn DocsTab(entity: Entity) -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| {
        query.with(|q| crate::techdocs::normalize_page_url(&q.get("page").unwrap_or_default()))
    });
    let Some(target) = DocsTarget::of_entity(&entity) else {
        return view! { <p class="empty">"This entity has no name, so it has no docs."</p> }
            .into_any();
    };
    let entity_path = EntityRef::of_entity(&entity)
        .map(|r| entity_path(&r))
        .unwrap_or_default();
    view! { <DocsReader target=target page=page mode=ReaderMode::Tab { entity_path } /> }.into_any()
}

// ---------------------------------------------------------------------------
// Sync: the build's event stream
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum SyncState {
    Running(Vec<String>),
    Done { updated: bool },
    Failed(String),
}

enum SyncEvent {
    Log(String),
    Finish { updated: bool },
    Error(String),
    Lost,
}

/// An open event stream; dropping it closes it.
struct SyncStream {
    source: web_sys::EventSource,
    _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for SyncStream {
    fn drop(&mut self) {
        self.source.close();
    }
}

fn message_data(event: &web_sys::Event) -> Option<String> {
    event
        .dyn_ref::<web_sys::MessageEvent>()
        .and_then(|m| m.data().as_string())
}

/// A JSON string's value, or the text itself when it is not one.
fn json_string(data: &str) -> String {
    serde_json::from_str::<String>(data).unwrap_or_else(|_| data.to_string())
}

fn open_sync(url: &str, on_event: impl Fn(SyncEvent) + Clone + 'static) -> Option<SyncStream> {
    let source = web_sys::EventSource::new(url).ok()?;
    let mut listeners = Vec::new();
    let mut listen = |kind: &str, handle: fn(&web_sys::Event) -> Option<SyncEvent>| {
        let on_event = on_event.clone();
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            if let Some(parsed) = handle(&event) {
                on_event(parsed);
            }
        });
        let _ = source.add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        listeners.push(listener);
    };
    listen("log", |e| {
        message_data(e).map(|d| SyncEvent::Log(json_string(&d)))
    });
    listen("finish", |e| {
        let updated = message_data(e)
            .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
            .and_then(|v| v.get("updated").and_then(serde_json::Value::as_bool))
            .unwrap_or(true);
        Some(SyncEvent::Finish { updated })
    });
    // The server's `error` event carries a message; the browser's own (a
    // failed or dropped connection) does not.
    listen("error", |e| {
        Some(match message_data(e) {
            Some(data) => SyncEvent::Error(json_string(&data)),
            None => SyncEvent::Lost,
        })
    });
    Some(SyncStream {
        source,
        _listeners: listeners,
    })
}

// ---------------------------------------------------------------------------
// Pages: fetched, cleaned, links rewritten
// ---------------------------------------------------------------------------

/// A page ready to show: its content's HTML and its table of contents.
#[derive(Debug, Clone, PartialEq)]
struct Prepared {
    page: String,
    html: String,
    toc: Vec<TocEntry>,
}

fn js_error(value: wasm_bindgen::JsValue) -> ApiError {
    ApiError::Decode(
        value
            .as_string()
            .or_else(|| {
                value
                    .dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
            })
            .unwrap_or_else(|| "the page could not be read".to_string()),
    )
}

fn elements(root: &web_sys::Element, selector: &str) -> Vec<web_sys::Element> {
    let Ok(list) = root.query_selector_all(selector) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|node| node.dyn_into::<web_sys::Element>().ok())
        .collect()
}

/// Elements that never belong in a page's content.
const DROPPED: &str =
    "script, iframe, frame, frameset, object, embed, applet, base, meta, link, style, noscript, template";
/// Attributes that hold a URL.
const URL_ATTRIBUTES: [&str; 8] = [
    "href",
    "src",
    "xlink:href",
    "action",
    "formaction",
    "poster",
    "background",
    "cite",
];

/// Removes what could run code: the elements above, `on*` handlers and
/// URLs with other schemes than the web's and mail's.
fn clean(root: &web_sys::Element) {
    for element in elements(root, DROPPED) {
        element.remove();
    }
    for element in elements(root, "*") {
        let image = matches!(
            element.tag_name().to_ascii_lowercase().as_str(),
            "img" | "source"
        );
        for name in element.get_attribute_names().iter() {
            let Some(name) = name.as_string() else {
                continue;
            };
            let lower = name.to_ascii_lowercase();
            let unsafe_url = URL_ATTRIBUTES.contains(&lower.as_str())
                && element
                    .get_attribute(&name)
                    .is_some_and(|value| !is_safe_url(&value, image));
            if lower.starts_with("on") || lower == "srcdoc" || lower == "srcset" || unsafe_url {
                let _ = element.remove_attribute(&name);
            }
        }
    }
}

/// Task list items (`- [x] done`) are checkboxes without a label: each gets
/// its state as its name.
fn name_task_checkboxes(root: &web_sys::Element) {
    for checkbox in elements(root, "input[type=checkbox]:not([aria-label]):not([id])") {
        if checkbox.closest("label").ok().flatten().is_none() {
            let state = if checkbox.has_attribute("checked") {
                "Done"
            } else {
                "Not done"
            };
            let _ = checkbox.set_attribute("aria-label", state);
        }
    }
}

/// `url` resolved against `base`, root-relative when it stays on this origin.
fn resolve_against(url: &str, base: &str) -> Option<String> {
    let resolved = web_sys::Url::new_with_base(url, base).ok()?;
    let origin = web_sys::window()?.location().origin().ok()?;
    Some(if resolved.origin() == origin {
        format!(
            "{}{}{}",
            resolved.pathname(),
            resolved.search(),
            resolved.hash()
        )
    } else {
        resolved.href()
    })
}

/// Points links and media at their places in the app (see the module notes).
fn rewrite(root: &web_sys::Element, target: &DocsTarget, page: &str, mode: &ReaderMode) {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let base = format!("{origin}{}", target.page_static_url(page));
    for link in elements(root, "a[href]") {
        let href = link.get_attribute("href").unwrap_or_default();
        match resolve_href(page, &href) {
            Href::Page { url, fragment } => {
                let _ = link.set_attribute("href", &mode.href(target, &url, fragment.as_deref()));
            }
            Href::File(_) => {
                if let Some(file) = resolve_against(&href, &base) {
                    let _ = link.set_attribute("href", &file);
                    // A file, not a route of the app: the browser opens it.
                    let _ = link.set_attribute("rel", "external");
                }
            }
            Href::External(_) => {}
            Href::Unsafe => {
                let _ = link.remove_attribute("href");
            }
        }
    }
    for media in elements(
        root,
        "img[src], source[src], video[src], audio[src], video[poster]",
    ) {
        for attribute in ["src", "poster"] {
            let Some(value) = media.get_attribute(attribute) else {
                continue;
            };
            if scheme_of(&value).is_some() || value.starts_with('/') {
                continue;
            }
            if let Some(resolved) = resolve_against(&value, &base) {
                let _ = media.set_attribute(attribute, &resolved);
            }
        }
    }
}

fn table_of_contents(root: &web_sys::Element) -> Vec<TocEntry> {
    elements(root, "h2[id], h3[id]")
        .into_iter()
        .map(|heading| TocEntry {
            level: if heading.tag_name().eq_ignore_ascii_case("h2") {
                2
            } else {
                3
            },
            id: heading.id(),
            text: heading_text(&heading.text_content().unwrap_or_default()),
        })
        .filter(|entry| !entry.id.is_empty() && !entry.text.is_empty())
        .collect()
}

/// The content of a built page, cleaned, with its links rewritten. The
/// parsed document is inert: nothing in it loads or runs.
fn prepare(
    html: &str,
    target: &DocsTarget,
    page: &str,
    mode: &ReaderMode,
) -> Result<Prepared, ApiError> {
    let parser = web_sys::DomParser::new().map_err(js_error)?;
    let document = parser
        .parse_from_string(html, web_sys::SupportedType::TextHtml)
        .map_err(js_error)?;
    let root = document
        .get_element_by_id(CONTENT_ID)
        .or_else(|| document.query_selector("article").ok().flatten())
        .or_else(|| document.body().map(Into::into))
        .ok_or_else(|| ApiError::Decode("the page has no content".into()))?;
    clean(&root);
    name_task_checkboxes(&root);
    rewrite(&root, target, page, mode);
    Ok(Prepared {
        page: page.to_string(),
        html: root.inner_html(),
        toc: table_of_contents(&root),
    })
}

async fn load_page(
    target: DocsTarget,
    page: String,
    mode: ReaderMode,
) -> Result<Prepared, ApiError> {
    let html = api::get_text(&target.page_static_url(&page)).await?;
    prepare(&html, &target, &page, &mode)
}

/// Code blocks and tables wider than the column scroll; the keyboard must
/// be able to reach them to scroll them. Blocks show and change size as
/// details open, content tabs switch and the window resizes, so this runs
/// again then.
fn mark_scrolling_blocks() {
    let Some(content) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(CONTENT_ID))
    else {
        return;
    };
    for block in elements(&content, "pre, table") {
        if block.scroll_width() > block.client_width() && !block.has_attribute("tabindex") {
            let _ = block.set_attribute("tabindex", "0");
        }
    }
}

/// After a click or a change inside the content (a details block opening,
/// a content tab chosen), once the browser has acted on it.
fn recheck_scrolling_blocks() {
    set_timeout(mark_scrolling_blocks, std::time::Duration::ZERO);
}

/// After a page shows: makes its scrolling blocks reachable by keyboard,
/// scrolls to the element with `id` inside the content (when the address
/// names one), and gives the content the keyboard focus
/// when the focus was lost with the previous page (a link inside it) — not
/// on the first page, where the reader starts at the top of the document.
fn settle(id: &str, may_focus: bool) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(content) = document.get_element_by_id(CONTENT_ID) else {
        return;
    };
    mark_scrolling_blocks();
    let focus_lost = match document.active_element() {
        None => true,
        Some(active) => !active.is_connected() || Some(&active) == document.body().as_deref(),
    };
    if focus_lost && may_focus {
        if let Some(content) = content.dyn_ref::<web_sys::HtmlElement>() {
            let options = web_sys::FocusOptions::new();
            options.set_prevent_scroll(true);
            let _ = content.focus_with_options(&options);
        }
    }
    if id.is_empty() {
        return;
    }
    let escaped = id.replace('\\', "\\\\").replace('"', "\\\"");
    if let Ok(Some(element)) = content.query_selector(&format!("[id=\"{escaped}\"]")) {
        element.scroll_into_view();
    }
}

// ---------------------------------------------------------------------------
// The reader
// ---------------------------------------------------------------------------

#[component]
pub fn DocsReader(
    target: DocsTarget,
    #[prop(into)] page: Signal<String>,
    mode: ReaderMode,
) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let sync = RwSignal::new(SyncState::Running(Vec::new()));
    let fetched_metadata = {
        let url = target.metadata_url();
        LocalResource::new(move || {
            version.track();
            let url = url.clone();
            async move { api::get_json::<TechDocsMetadata>(&url).await }
        })
    };
    // What is shown changes only when the answer does: a sync that finds
    // nothing new redraws nothing.
    let metadata = Memo::new(move |_| fetched_metadata.get());
    // Only the standalone page needs the entity: its title, and whether it exists.
    let entity = (!mode.is_embedded()).then(|| {
        let url = target.entity_metadata_url();
        LocalResource::new(move || {
            let url = url.clone();
            async move { api::get_json::<Entity>(&url).await }
        })
    });

    // Sync once per site shown.
    let stream = StoredValue::new_local(None::<SyncStream>);
    let alive = StoredValue::new(true);
    on_cleanup(move || {
        alive.set_value(false);
        stream.update_value(|s| *s = None);
    });
    let stop = move || {
        // Called from the stream's own listener: close it now, drop it (and
        // that listener) once the call has returned.
        if let Some(old) = stream.try_update_value(Option::take).flatten() {
            old.source.close();
            set_timeout(move || drop(old), std::time::Duration::ZERO);
        }
    };
    let on_event = move |event: SyncEvent| {
        if !alive.get_value() {
            return;
        }
        match event {
            SyncEvent::Log(line) => sync.update(|state| {
                if let SyncState::Running(lines) = state {
                    lines.push(line);
                    if lines.len() > MAX_LOG_LINES {
                        lines.drain(..lines.len() - MAX_LOG_LINES);
                    }
                }
            }),
            SyncEvent::Finish { updated } => {
                stop();
                let missing = !matches!(metadata.get_untracked(), Some(Ok(_)));
                sync.set(SyncState::Done { updated });
                if updated || missing {
                    version.update(|v| *v += 1);
                }
            }
            SyncEvent::Error(message) => {
                stop();
                sync.set(SyncState::Failed(message));
            }
            SyncEvent::Lost => {
                stop();
                sync.set(SyncState::Failed(
                    "The connection to the server was lost while it was building the docs."
                        .to_string(),
                ));
            }
        }
    };
    match open_sync(&target.sync_url(), on_event) {
        Some(opened) => stream.set_value(Some(opened)),
        None => sync.set(SyncState::Failed(
            "This browser could not ask the server to build the docs.".to_string(),
        )),
    }

    let ready = Memo::new(move |_| matches!(metadata.get(), Some(Ok(_))));
    let fetched_content = {
        let target = target.clone();
        let mode = mode.clone();
        LocalResource::new(move || {
            version.track();
            let ready = ready.get();
            let page = page.get();
            let (target, mode) = (target.clone(), mode.clone());
            async move {
                if ready {
                    Some(load_page(target, page, mode).await)
                } else {
                    None
                }
            }
        })
    };
    let content = Memo::new(move |_| fetched_content.get());

    if !mode.is_embedded() {
        page_title(move || {
            let site = metadata.get().and_then(Result::ok);
            match site {
                Some(site) => {
                    let title = site
                        .page(&page.get())
                        .map(|p| p.title.clone())
                        .filter(|t| !t.is_empty() && *t != site.site_name);
                    match title {
                        Some(title) => format!("{title} · {} · Docs", site.site_name),
                        None => format!("{} · Docs", site.site_name),
                    }
                }
                None => "Docs".to_string(),
            }
        });
    }

    let resize = window_event_listener(leptos::ev::resize, |_| recheck_scrolling_blocks());
    on_cleanup(move || resize.remove());

    // After a page shows (a new content element), and when the address
    // names another place in it, go there.
    let article = NodeRef::<leptos::html::Article>::new();
    let location = use_location();
    let shown_before = StoredValue::new(false);
    Effect::new(move |_| {
        let shown = article.get().is_some();
        let hash = location.hash.get();
        if !shown {
            return;
        }
        let id = decode_param(hash.trim_start_matches('#'));
        let may_focus = shown_before.get_value();
        shown_before.set_value(true);
        // After the new content is in the document.
        set_timeout(move || settle(&id, may_focus), std::time::Duration::ZERO);
    });

    let target = StoredValue::new(target);
    let mode = StoredValue::new(mode);
    // Only a failure changes the page: the entity arriving must not draw the
    // site again.
    let entity_error = Memo::new(move |_| entity.and_then(|e| e.get()).and_then(Result::err));
    let body = move || {
        match entity_error.get() {
            Some(error) if error.is_not_found() => {
                stop();
                return view! {
                    <ErrorBox error=error />
                    <p><a href="/docs">"Browse the documented entities"</a></p>
                }
                .into_any();
            }
            Some(error) => return view! { <ErrorBox error=error /> }.into_any(),
            None => {}
        }
        match metadata.get() {
            None => view! { <Loading what="documentation" /> }.into_any(),
            Some(Ok(site)) => view! {
                <Site
                    site=site
                    target=target.get_value()
                    mode=mode.get_value()
                    page=page
                    content=content
                    article=article
                    sync=sync
                    entity=entity
                />
            }
            .into_any(),
            Some(Err(error)) if error.is_not_found() => {
                view! { <NotBuilt error=error sync=sync /> }.into_any()
            }
            Some(Err(error)) => view! { <ErrorBox error=error /> }.into_any(),
        }
    };
    view! { <div class="docs-reader">{body}</div> }
}

/// The site has no build yet: the build's log while it runs, or why it failed.
#[component]
fn NotBuilt(error: ApiError, sync: RwSignal<SyncState>) -> impl IntoView {
    move || match sync.get() {
        SyncState::Running(lines) => {
            let lines = lines
                .into_iter()
                .map(|line| view! { <li>{line}</li> })
                .collect_view();
            view! {
                <div class="docs-building">
                    <p role="status">
                        "Building the documentation for the first time. "
                        "This page shows it as soon as it is ready."
                    </p>
                    <div class="task-log docs-build-log" role="log" aria-label="Build log" tabindex="0">
                        <ol>{lines}</ol>
                    </div>
                </div>
            }
            .into_any()
        }
        SyncState::Failed(message) => view! {
            <div class="error-box" role="alert">
                <p class="error-message">"The documentation could not be built."</p>
                <p>{message}</p>
            </div>
        }
        .into_any(),
        SyncState::Done { .. } => view! {
            <ErrorBox error=error.clone() />
            <p>"The server found no documentation to build for this entity."</p>
        }
        .into_any(),
    }
}

/// A built site: header, navigation, the page, its table of contents.
#[component]
fn Site(
    site: TechDocsMetadata,
    target: DocsTarget,
    mode: ReaderMode,
    page: Signal<String>,
    content: Memo<Option<Option<Result<Prepared, ApiError>>>>,
    article: NodeRef<leptos::html::Article>,
    sync: RwSignal<SyncState>,
    entity: Option<LocalResource<Result<Entity, ApiError>>>,
) -> impl IntoView {
    let embedded = mode.is_embedded();
    let site_name = if site.site_name.is_empty() {
        target.name.clone()
    } else {
        site.site_name.clone()
    };
    let description = site
        .site_description
        .clone()
        .filter(|d| !d.trim().is_empty());
    let title = if embedded {
        view! { <h2 class="docs-site-name">{site_name.clone()}</h2> }.into_any()
    } else {
        view! { <h1 class="docs-site-name">{site_name.clone()}</h1> }.into_any()
    };
    // The standalone page links to the entity it documents.
    let about = entity.map(|entity| {
        move || {
            entity.get().and_then(Result::ok).and_then(|entity| {
                let entity_ref = EntityRef::of_entity(&entity)?;
                Some(view! {
                    <p class="muted docs-entity">
                        "Documentation of " <a href=entity_path(&entity_ref)>{humanize_ref(&entity_ref)}</a>
                    </p>
                })
            })
        }
    });
    let notice = move || {
        match sync.get() {
        SyncState::Running(_) => view! {
            <p class="muted docs-sync running" role="status">"Checking for a newer version of these docs…"</p>
        }
        .into_any(),
        SyncState::Failed(message) => view! {
            <p class="docs-sync warning" role="status">
                {format!("These docs could not be refreshed ({message}); this is the last build.")}
            </p>
        }
        .into_any(),
        SyncState::Done { .. } => view! { <p class="visually-hidden" role="status"></p> }.into_any(),
    }
    };
    let current = Memo::new(move |_| page.get());
    let site = StoredValue::new(site);
    let nav_items = site.with_value(TechDocsMetadata::navigation);
    let nav = nav_list(nav_items, "docs-nav".to_string(), current, &target, &mode);
    let edit = move || {
        site.with_value(|s| s.page(&current.get()).and_then(|p| p.edit_url.clone()))
            .map(|href| view! { <a class="docs-edit" href=href>"Edit this page"</a> })
    };
    let neighbours = {
        let (target, mode) = (target.clone(), mode.clone());
        move || {
            let (prev, next) = site.with_value(|s| s.neighbours(&current.get()));
            let link = |page: PageLink, rel: &'static str| {
                let label = if rel == "prev" {
                    format!("← {}", page.title)
                } else {
                    format!("{} →", page.title)
                };
                view! { <a href=mode.href(&target, &page.url, None) rel=rel>{label}</a> }
            };
            (prev.is_some() || next.is_some()).then(|| {
                view! {
                    <nav class="docs-pager pager" aria-label="Previous and next page">
                        {prev.map(|p| link(p, "prev"))}
                        {next.map(|n| link(n, "next"))}
                    </nav>
                }
            })
        }
    };
    let page_view = {
        let (target, mode) = (target.clone(), mode.clone());
        move || match content.get() {
            None | Some(None) => view! { <Loading what="page" /> }.into_any(),
            Some(Some(Ok(prepared))) => view! {
                <article
                    class="docs-content md-content"
                    id=CONTENT_ID
                    node_ref=article
                    tabindex="-1"
                    inner_html=prepared.html
                    on:click=|_| recheck_scrolling_blocks()
                    on:change=|_| recheck_scrolling_blocks()
                ></article>
            }
            .into_any(),
            Some(Some(Err(error))) if error.is_not_found() => view! {
                <div class="error-box" role="alert">
                    <p class="error-message">"These docs have no page at this address."</p>
                    <p><a href=mode.href(&target, "", None)>"Go to the first page"</a></p>
                </div>
            }
            .into_any(),
            Some(Some(Err(error))) => view! { <ErrorBox error=error /> }.into_any(),
        }
    };
    let toc = {
        let (target, mode) = (target.clone(), mode.clone());
        move || {
            let prepared = content.get().flatten().and_then(Result::ok)?;
            if prepared.toc.is_empty() {
                return None;
            }
            let items = prepared
                .toc
                .into_iter()
                .map(|entry| {
                    let href = mode.href(&target, &prepared.page, Some(&entry.id));
                    view! {
                        <li class=format!("toc-level-{}", entry.level)><a href=href>{entry.text}</a></li>
                    }
                })
                .collect_view();
            Some(view! {
                <nav class="docs-toc" aria-labelledby="docs-toc-heading">
                    <h2 id="docs-toc-heading" class="docs-aside-title">"On this page"</h2>
                    <ul>{items}</ul>
                </nav>
            })
        }
    };
    view! {
        <header class="docs-header">
            <div class="docs-title">
                {title}
                {description.map(|d| view! { <p class="muted docs-description">{d}</p> })}
                {about}
            </div>
            <DocsSearch target=target.clone() mode=mode.clone() site_name=site_name />
        </header>
        {notice}
        <div class="docs-layout">
            <nav class="docs-nav" aria-labelledby="docs-nav-heading">
                <h2 id="docs-nav-heading" class="docs-aside-title">"Pages"</h2>
                {nav}
            </nav>
            <div class="docs-main">
                {page_view}
                <div class="docs-page-footer">
                    {edit}
                    {neighbours}
                </div>
            </div>
            {toc}
        </div>
    }
}

/// One level of the navigation tree: pages as links (the current one marked),
/// sections as disclosure buttons, links out as plain links.
fn nav_list(
    items: Vec<NavItem>,
    id: String,
    current: Memo<String>,
    target: &DocsTarget,
    mode: &ReaderMode,
) -> AnyView {
    let entries = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            if let Some(children) = item.children.clone() {
                let list_id = format!("{id}-{index}");
                let open = RwSignal::new(item.contains_page(&current.get_untracked()));
                // Opens when the reader arrives at one of its pages.
                {
                    let item = item.clone();
                    Effect::new(move |_| {
                        if item.contains_page(&current.get()) {
                            open.set(true);
                        }
                    });
                }
                let holds_current = {
                    let item = item.clone();
                    move || item.contains_page(&current.get())
                };
                let list = nav_list(children, list_id.clone(), current, target, mode);
                view! {
                    <li class="docs-nav-section" class:holds-current=holds_current>
                        <button
                            type="button"
                            aria-expanded=move || open.get().to_string()
                            aria-controls=list_id.clone()
                            on:click=move |_| open.update(|o| *o = !*o)
                        >
                            <span class="disclosure" aria-hidden="true">{move || if open.get() { "▾" } else { "▸" }}</span>
                            {item.title.clone()}
                        </button>
                        <div id=list_id hidden=move || !open.get()>{list}</div>
                    </li>
                }
                .into_any()
            } else if let Some(url) = item.page_url() {
                let href = mode.href(target, &url, None);
                let is_current = Memo::new(move |_| current.get() == url);
                view! {
                    <li>
                        <a
                            href=href
                            aria-current=move || is_current.get().then_some("page")
                            class:active=move || is_current.get()
                        >
                            {item.title.clone()}
                        </a>
                    </li>
                }
                .into_any()
            } else {
                let href = item.url.clone().unwrap_or_default();
                view! {
                    <li>
                        <a href=href class="external">
                            {item.title.clone()}
                            <span class="visually-hidden">" (another site)"</span>
                            <span aria-hidden="true">" ↗"</span>
                        </a>
                    </li>
                }
                .into_any()
            }
        })
        .collect_view();
    view! { <ul>{entries}</ul> }.into_any()
}

/// Search within one site: results as the user types, the matched words marked.
#[component]
fn DocsSearch(target: DocsTarget, mode: ReaderMode, site_name: String) -> impl IntoView {
    let term = RwSignal::new(String::new());
    let asked = RwSignal::new(String::new());
    let pending: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    let cancel = move || {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
    };
    on_cleanup(cancel);
    let results = {
        let target = target.clone();
        LocalResource::new(move || {
            let asked = asked.get();
            let request = target.search_request(&asked, SEARCH_RESULTS);
            async move {
                if asked.trim().is_empty() {
                    Ok(None)
                } else {
                    api::search(request).await.map(Some)
                }
            }
        })
    };
    let on_input = move |ev| {
        let typed = event_target_value(&ev);
        term.set(typed.clone());
        cancel();
        let handle = set_timeout_with_handle(
            move || asked.set(typed.trim().to_string()),
            std::time::Duration::from_millis(SEARCH_DEBOUNCE_MS),
        )
        .ok();
        pending.set_value(handle);
    };
    let clear = move || {
        cancel();
        term.set(String::new());
        asked.set(String::new());
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            cancel();
            asked.set(term.get_untracked().trim().to_string());
        }
        "Escape" => clear(),
        _ => {}
    };
    let target = StoredValue::new(target);
    let mode = StoredValue::new(mode);
    let outcome = move || {
        let shown = asked.get();
        match results.get() {
            _ if shown.is_empty() => None,
            None => Some(view! { <Loading what="results" /> }.into_any()),
            Some(Ok(None)) => None,
            Some(Ok(Some(set))) => Some(
                view! {
                    <SearchResults
                        results=set.results
                        term=shown
                        target=target.get_value()
                        mode=mode.get_value()
                        on_open=Callback::new(move |_| clear())
                    />
                }
                .into_any(),
            ),
            Some(Err(error)) => Some(view! { <ErrorBox error=error /> }.into_any()),
        }
    };
    let label = format!("Search {site_name}");
    view! {
        <div class="docs-search">
            <form role="search" aria-label="These docs" on:submit=|ev| ev.prevent_default()>
                <label for="docs-search-term" class="visually-hidden">{label.clone()}</label>
                <input
                    id="docs-search-term"
                    type="search"
                    name="term"
                    autocomplete="off"
                    placeholder=label
                    prop:value=move || term.get()
                    on:input=on_input
                    on:keydown=on_keydown
                />
            </form>
            {outcome}
        </div>
    }
}

#[component]
fn SearchResults(
    results: Vec<SearchResult>,
    term: String,
    target: DocsTarget,
    mode: ReaderMode,
    on_open: Callback<()>,
) -> impl IntoView {
    let summary = match results.len() {
        0 => format!("Nothing in these docs matches “{term}”."),
        1 => format!("1 result for “{term}”"),
        n => format!("{n} results for “{term}”"),
    };
    let items = results
        .into_iter()
        .map(|result| {
            let doc = &result.document;
            let href = match parse_docs_location(&doc.location) {
                Some((_, page, fragment)) => mode.href(&target, &page, fragment.as_deref()),
                None => doc.location.clone(),
            };
            let title = if doc.title.is_empty() {
                doc.location.clone()
            } else {
                doc.title.clone()
            };
            let text = (!doc.text.is_empty())
                .then(|| view! { <p class="result-text">{highlighted(&result, "text", &doc.text)}</p> });
            view! {
                <li class="search-result">
                    <a href=href on:click=move |_| on_open.run(())>{highlighted(&result, "title", &title)}</a>
                    {text}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="docs-search-results" aria-label="Search results">
            <p class="muted" role="status">{summary}</p>
            <ol>{items}</ol>
            <button type="button" class="link-button" on:click=move |_| on_open.run(())>"Close the results"</button>
        </section>
    }
}
