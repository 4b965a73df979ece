//! The frame around every page: a skip link, the top bar with the portal
//! search box, the theme switch and the user menu, and the sidebar
//! navigation. Also the page title helper every page uses.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate, NavigateOptions};

use crate::api::encode_component;
use crate::auth::{initials, sign_out, use_auth, Session};
use crate::components::highlighted;
use crate::prefs::{use_theme, Theme};
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
            <UserMenu />
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

/// Flips between the light and the dark theme (the Settings page offers the
/// same choice; both share [`use_theme`]).
#[component]
fn ThemeSwitch() -> impl IntoView {
    let theme = use_theme();
    let toggle = move |_| theme.choose(theme.get_untracked().other());
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

/// The signed-in user (picture or initials, and name) with a menu: Settings
/// and Sign out. A menu button as ARIA describes it: Enter, Space or Down
/// open it on the first item, Up on the last; Up and Down move, Home and End
/// jump, Escape closes it and gives the focus back to the button.
#[component]
fn UserMenu() -> impl IntoView {
    let auth = use_auth();
    move || {
        auth.session().map(|session| {
            view! { <UserMenuFor session=session can_sign_out=auth.sign_in_required() /> }
        })
    }
}

const USER_MENU_ITEMS: &str = "#user-menu-list [role=menuitem]";

/// Focuses menu item `index` (wrapping; negative counts from the end).
fn focus_menu_item(index: i32) {
    use wasm_bindgen::JsCast;
    let Some(items) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector_all(USER_MENU_ITEMS).ok())
    else {
        return;
    };
    let count = items.length() as i32;
    if count == 0 {
        return;
    }
    let item = items
        .item(index.rem_euclid(count) as u32)
        .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(item) = item {
        let _ = item.focus();
    }
}

/// The position of the focused menu item.
fn focused_menu_item() -> Option<i32> {
    let document = web_sys::window().and_then(|w| w.document())?;
    let active = document.active_element()?;
    let items = document.query_selector_all(USER_MENU_ITEMS).ok()?;
    (0..items.length())
        .find(|i| {
            items
                .item(*i)
                .is_some_and(|n| n.is_same_node(Some(active.as_ref())))
        })
        .map(|i| i as i32)
}

#[component]
fn UserMenuFor(session: Session, can_sign_out: bool) -> impl IntoView {
    let open = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let button: NodeRef<leptos::html::Button> = NodeRef::new();
    let container: NodeRef<leptos::html::Div> = NodeRef::new();
    let name = session.display_name();
    let avatar = match session.picture() {
        Some(src) => view! {
            <img class="avatar" src=src alt="" width="28" height="28" referrerpolicy="no-referrer" />
        }
        .into_any(),
        None => view! { <span class="avatar initials" aria-hidden="true">{initials(&name)}</span> }
            .into_any(),
    };
    let open_at = move |index: i32| {
        open.set(true);
        request_animation_frame(move || focus_menu_item(index));
    };
    let close = move |refocus: bool| {
        open.set(false);
        if refocus {
            if let Some(button) = button.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    let on_button_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "ArrowDown" | "Enter" | " " => {
            ev.prevent_default();
            open_at(0);
        }
        "ArrowUp" => {
            ev.prevent_default();
            open_at(-1);
        }
        "Escape" if open.get_untracked() => {
            ev.prevent_default();
            close(true);
        }
        _ => {}
    };
    let on_button_click = move |_| {
        if open.get_untracked() {
            open.set(false);
        } else {
            open_at(0);
        }
    };
    let on_menu_key = move |ev: leptos::ev::KeyboardEvent| {
        let current = focused_menu_item().unwrap_or(0);
        match ev.key().as_str() {
            "ArrowDown" => focus_menu_item(current + 1),
            "ArrowUp" => focus_menu_item(current - 1),
            "Home" => focus_menu_item(0),
            "End" => focus_menu_item(-1),
            "Escape" => close(true),
            "Tab" => {
                close(false);
                return;
            }
            _ => return,
        }
        ev.prevent_default();
    };
    // The menu closes when the focus leaves it (a click elsewhere, Tab).
    let on_focus_out = move |ev: leptos::ev::FocusEvent| {
        use wasm_bindgen::JsCast;
        let inside = ev
            .related_target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
            .zip(container.get_untracked())
            .is_some_and(|(target, container)| container.contains(Some(&target)));
        if !inside {
            open.set(false);
        }
    };
    let provider = session.provider.clone();
    let on_sign_out = move |_| {
        error.set(None);
        let provider = provider.clone();
        leptos::task::spawn_local(async move {
            if let Err(e) = sign_out(provider).await {
                error.set(Some(format!("Could not sign out: {e}")));
            }
        });
    };
    view! {
        <div id="user-menu" class="user-menu" node_ref=container on:focusout=on_focus_out>
            <button
                type="button"
                id="user-menu-button"
                class="user-menu-button"
                aria-haspopup="menu"
                aria-controls="user-menu-list"
                aria-expanded=move || open.get().to_string()
                node_ref=button
                on:click=on_button_click
                on:keydown=on_button_key
            >
                {avatar}
                <span class="user-name">{name.clone()}</span>
                <span class="visually-hidden">" (account menu)"</span>
            </button>
            <ul
                id="user-menu-list"
                class="user-menu-list"
                role="menu"
                aria-labelledby="user-menu-button"
                hidden=move || !open.get()
                on:keydown=on_menu_key
            >
                <li role="none">
                    <a
                        id="user-menu-settings"
                        role="menuitem"
                        tabindex="-1"
                        href="/settings"
                        on:click=move |_| open.set(false)
                    >
                        "Settings"
                    </a>
                </li>
                {can_sign_out.then(|| view! {
                    <li role="none">
                        <button id="sign-out" type="button" role="menuitem" tabindex="-1" on:click=on_sign_out>
                            "Sign out"
                        </button>
                    </li>
                })}
            </ul>
            <div class="user-menu-error" role="alert">
                {move || error.get().map(|message| view! { <p>{message}</p> })}
            </div>
        </div>
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
    fn every_sidebar_destination_is_distinct() {
        let mut hrefs: Vec<_> = NAV_ITEMS.iter().map(|(h, _)| *h).collect();
        hrefs.sort();
        hrefs.dedup();
        assert_eq!(hrefs.len(), NAV_ITEMS.len());
    }
}
