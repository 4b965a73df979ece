//! The frame around every page: a skip link, the top bar with the portal
//! search box and the theme switch, and the sidebar navigation. Also the page
//! title helper every page uses.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate, NavigateOptions};

use crate::api::encode_component;

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

/// The portal-wide search box: submitting opens the search page for the term.
#[component]
fn SearchBox() -> impl IntoView {
    let navigate = use_navigate();
    let term = RwSignal::new(String::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        navigate(
            &search_path(&term.get_untracked()),
            NavigateOptions::default(),
        );
    };
    view! {
        <form class="search-box" role="search" on:submit=on_submit>
            <label for="portal-search" class="visually-hidden">"Search the portal"</label>
            <input
                id="portal-search"
                type="search"
                name="term"
                placeholder="Search the portal"
                autocomplete="off"
                bind:value=term
            />
            <button type="submit">"Search"</button>
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
