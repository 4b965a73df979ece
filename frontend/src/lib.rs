//! Greenroom's web UI: a Leptos single-page app rendered in the browser. It talks
//! only to the public REST API (`/api/...`) of the server that serves it.
//!
//! Built by `scripts/build-frontend` into `dist/`; the server's `spa` module
//! serves that directory.

pub mod api;
pub mod components;
pub mod entity;
pub mod pages;

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes, A},
    path,
};
use pages::{catalog::CatalogPage, entity::EntityPage, home::HomePage, not_found::NotFoundPage};

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"Greenroom"</A>
                <nav aria-label="Main">
                    <A href="/catalog">"Catalog"</A>
                </nav>
            </header>
            <main id="main">
                <Routes fallback=|| view! { <NotFoundPage /> }>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/catalog") view=CatalogPage />
                    <Route path=path!("/catalog/:namespace/:kind/:name") view=EntityPage />
                </Routes>
            </main>
        </Router>
    }
}

/// Entry point run by the wasm-bindgen module as soon as it is initialised.
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
