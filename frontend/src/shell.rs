//! The frame around every page: a skip link, the top bar with the portal
//! search box and the theme switch, and the sidebar navigation. Also the page
//! title helper every page uses.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate, NavigateOptions};

use crate::api::encode_component;
use crate::components::highlighted;
use crate::search_query::suggestions_request;

/// The sidebar's destinations, in order. Pages of later work show a short
/// "not available yet" state (see `pages::pending`).
pub const NAV_ITEMS: &[(&str, &str)] = &[
    ("/", "Home"),
    ("/catalog", "Catalog"),
    ("/api-docs", "APIs"),
    ("/docs", "Docs"),
    ("/create", "Create"),
    ("/search", "Search"),
    ("/settings", "Settings"),
];

/// Sets the document title to "`page` · Greenroom" while the calling page is shown.
pub fn page_title(page: impl Fn() -> String + 'static) {
    Effect::new(move |_| {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&full_title(&page()));
        }
    });
}

/// "`page` · Greenroom", or just "Greenroom" for an empty page name.
pub fn full_title(page: &str) -> String {
    if page.is_empty() {
        "Greenroom".to_string()
    } else {
        format!("{page} · Greenroom")
    }
}

/// The address of the search page for a term.
pub fn search_path(term: &str) -> String {
    let term = term.trim();
    if term.is_empty() {
        "/search".to_string()
    } else {
        format!("/search?term={}", encode_component(term))
    }
}

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main" on:click=skip_to_content>"Skip to content"</a>
        <div class="shell">
            <TopBar />
            <Sidebar />
            <main id="main" tabindex="-1">{children()}</main>
        </div>
    }
}

/// The router would treat `#main` as a navigation and leave the focus on the
/// link; a skip link must move the keyboard focus into the content.
fn skip_to_content(event: web_sys::MouseEvent) {
    use wasm_bindgen::JsCast;
    event.prevent_default();
    let main = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("main"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(main) = main {
        let _ = main.focus();
    }
}

#[component]
fn TopBar() -> impl IntoView {
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"Greenroom"</A>
            <SearchBox />
            <ThemeSwitch />
        </header>
    }
}

#[component]
fn Sidebar() -> impl IntoView {
    view! {
        <nav class="sidebar" aria-label="Main">
            <ul>
                {NAV_ITEMS
                    .iter()
                    .map(|(href, label)| {
                        // `<A>` marks the current page with aria-current; Home
                        // only on "/" itself, the others on their subpages too.
                        let exact = *href == "/";
                        view! { <li><A href=*href exact=exact>{*label}</A></li> }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// How long the portal search box waits after a keystroke before it asks
/// for suggestions, and how many it shows.
const SUGGEST_DEBOUNCE_MS: u64 = 150;
const SUGGESTIONS: u32 = 5;
const SUGGESTIONS_ID: &str = "portal-search-suggestions";

fn suggestion_id(index: usize) -> String {
    format!("portal-search-option-{index}")
}

/// The next suggestion to make active for a key: Down and Up move through the
/// `count` suggestions, wrapping around; `None` for other keys.
pub fn next_active(key: &str, active: Option<usize>, count: usize) -> Option<Option<usize>> {
    if count == 0 {
        return None;
    }
    match key {
        "ArrowDown" => Some(Some(match active {
            Some(i) if i + 1 < count => i + 1,
            _ => 0,
        })),
        "ArrowUp" => Some(Some(match active {
            Some(i) if i > 0 && i < count => i - 1,
            _ => count - 1,
        })),
        _ => None,
    }
}

/// The portal-wide search box, an ARIA combobox: as the user types, up to
/// five suggestions from the search API (matched words marked); Down/Up
/// choose one, Enter opens it, Escape closes the list; Enter with no
/// suggestion chosen opens the search page for the term.
#[component]
fn SearchBox() -> impl IntoView {
    let navigate = use_navigate();
    let term = RwSignal::new(String::new());
    // The term the suggestions are for: `term` after a short pause.
    let asked = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    let active = RwSignal::new(None::<usize>);
    let pending: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    let suggestions = LocalResource::new(move || {
        let asked = asked.get();
        async move {
            if asked.trim().is_empty() {
                return Vec::new();
            }
            // No suggestions is the quiet answer to any failure; the search
            // page (Enter) explains errors.
            crate::api::search(suggestions_request(&asked, SUGGESTIONS))
                .await
                .map(|set| set.results)
                .unwrap_or_default()
        }
    });
    let current = move || suggestions.get().unwrap_or_default();
    let count = move || suggestions.with(|s| s.as_ref().map_or(0, Vec::len));
    let expanded = move || open.get() && !term.with(|t| t.trim().is_empty()) && count() > 0;
    let close = move || {
        open.set(false);
        active.set(None);
    };

    let go = navigate.clone();
    let open_suggestion = move |location: String| {
        close();
        go(&location, NavigateOptions::default());
    };
    let on_input = move |ev| {
        let typed = event_target_value(&ev);
        term.set(typed.clone());
        active.set(None);
        open.set(true);
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(
            move || asked.set(typed),
            std::time::Duration::from_millis(SUGGEST_DEBOUNCE_MS),
        )
        .ok();
        pending.set_value(handle);
    };
    let open_on_key = open_suggestion.clone();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        match key.as_str() {
            "ArrowDown" | "ArrowUp" => {
                if let Some(next) = next_active(&key, active.get_untracked(), count()) {
                    ev.prevent_default();
                    open.set(true);
                    active.set(next);
                }
            }
            "Enter" => {
                let chosen = active
                    .get_untracked()
                    .filter(|_| open.get_untracked())
                    .and_then(|i| current().into_iter().nth(i));
                if let Some(hit) = chosen {
                    ev.prevent_default();
                    open_on_key(hit.document.location);
                }
            }
            "Escape" if open.get_untracked() => {
                ev.prevent_default();
                close();
            }
            _ => {}
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        close();
        navigate(
            &search_path(&term.get_untracked()),
            NavigateOptions::default(),
        );
    };
    let options = move || {
        current()
            .into_iter()
            .enumerate()
            .map(|(index, hit)| {
                let selected = move || active.get() == Some(index);
                let title = if hit.document.title.is_empty() {
                    hit.document.name.clone()
                } else {
                    hit.document.title.clone()
                };
                let kind = hit.document.kind.clone();
                let location = hit.document.location.clone();
                let open_suggestion = open_suggestion.clone();
                view! {
                    <li
                        role="option"
                        id=suggestion_id(index)
                        aria-selected=move || selected().to_string()
                        class:active=selected
                        on:click=move |_| open_suggestion(location.clone())
                    >
                        <span class="suggestion-title">{highlighted(&hit, "title", &title)}</span>
                        " "
                        <span class="suggestion-kind">{kind}</span>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <form class="search-box" role="search" aria-label="Portal" on:submit=on_submit>
            <label for="portal-search" class="visually-hidden">"Search the portal"</label>
            <div class="combobox">
                <input
                    id="portal-search"
                    type="search"
                    name="term"
                    placeholder="Search the portal"
                    autocomplete="off"
                    role="combobox"
                    aria-autocomplete="list"
                    aria-controls=SUGGESTIONS_ID
                    aria-expanded=move || expanded().to_string()
                    aria-activedescendant=move || {
                        active.get().filter(|_| expanded()).map(suggestion_id)
                    }
                    prop:value=move || term.get()
                    on:input=on_input
                    on:keydown=on_keydown
                    on:blur=move |_| close()
                />
                // Pressing on a suggestion must not take the focus from the
                // box (its blur would close the list before the click).
                <ul
                    id=SUGGESTIONS_ID
                    role="listbox"
                    aria-label="Suggestions"
                    class="suggestions"
                    hidden=move || !expanded()
                    on:mousedown=|ev| ev.prevent_default()
                >
                    {options}
                </ul>
            </div>
            <button type="submit">"Search"</button>
            <span class="visually-hidden" role="status" aria-live="polite">
                {move || match (expanded(), count()) {
                    (false, _) => String::new(),
                    (true, 1) => "1 suggestion".to_string(),
                    (true, n) => format!("{n} suggestions"),
                }}
            </span>
        </form>
    }
}

/// Light or dark, as `data-theme` on the document element, which the style
/// sheet follows. index.html sets it at load (stored choice, else the system
/// setting); the switch changes it and keeps the choice in localStorage under
/// the key index.html reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    const STORAGE_KEY: &'static str = "greenroom.theme";

    pub fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(value: &str) -> Option<Theme> {
        match value {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    pub fn other(self) -> Theme {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }

    /// The theme index.html put on the document before the first paint
    /// (the stored choice, else the system's preference): one place decides.
    fn current() -> Theme {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|root| root.get_attribute("data-theme"))
            .and_then(|v| Theme::parse(&v))
            .unwrap_or(Theme::Light)
    }

    fn apply(self) {
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-theme", self.name());
        }
    }

    fn store(self) {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(Self::STORAGE_KEY, self.name());
        }
    }
}

#[component]
fn ThemeSwitch() -> impl IntoView {
    let theme = RwSignal::new(Theme::current());
    Effect::new(move |_| theme.get().apply());
    let toggle = move |_| {
        let next = theme.get_untracked().other();
        next.store();
        theme.set(next);
    };
    view! {
        <button
            type="button"
            class="theme-switch"
            aria-pressed=move || (theme.get() == Theme::Dark).to_string()
            on:click=toggle
        >
            "Dark theme"
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_name_the_page_then_the_portal() {
        assert_eq!(
            full_title("Software catalog"),
            "Software catalog · Greenroom"
        );
        assert_eq!(full_title(""), "Greenroom");
    }

    #[test]
    fn search_paths_carry_the_trimmed_term() {
        assert_eq!(search_path("  "), "/search");
        assert_eq!(search_path(" payment api "), "/search?term=payment%20api");
    }

    #[test]
    fn arrow_keys_move_through_the_suggestions_and_wrap() {
        assert_eq!(next_active("ArrowDown", None, 3), Some(Some(0)));
        assert_eq!(next_active("ArrowDown", Some(2), 3), Some(Some(0)));
        assert_eq!(next_active("ArrowUp", None, 3), Some(Some(2)));
        assert_eq!(next_active("ArrowUp", Some(1), 3), Some(Some(0)));
        assert_eq!(next_active("ArrowUp", Some(7), 3), Some(Some(2)));
        assert_eq!(next_active("ArrowDown", None, 0), None);
        assert_eq!(next_active("Enter", Some(1), 3), None);
    }

    #[test]
    fn themes_round_trip_through_their_names() {
        for theme in [Theme::Light, Theme::Dark] {
            assert_eq!(Theme::parse(theme.name()), Some(theme));
            assert_eq!(theme.other().other(), theme);
        }
        assert_eq!(Theme::parse("sepia"), None);
    }

    #[test]
    fn every_sidebar_destination_is_distinct() {
        let mut hrefs: Vec<_> = NAV_ITEMS.iter().map(|(h, _)| *h).collect();
        hrefs.sort();
        hrefs.dedup();
        assert_eq!(hrefs.len(), NAV_ITEMS.len());
    }
}
