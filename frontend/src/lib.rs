//! Greenroom's web UI: a Leptos single-page app rendered in the browser. It talks
//! only to the public REST API (`/api/...`) of the server that serves it.
//!
//! Built by `scripts/build-frontend` into `dist/`; the server's `spa` module
//! serves that directory.

pub mod api;
pub mod apidef;
pub mod auth;
pub mod catalog_query;
pub mod components;
pub mod entity;
pub mod graph;
pub mod pages;
pub mod permissions;
pub mod prefs;
pub mod scaffolder;
pub mod schema_form;
pub mod search_query;
pub mod shell;
pub mod techdocs;
pub mod yaml;

use auth::{Auth, Gate};
use components::ErrorBox;
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};
use pages::actions::ActionsPage;
use pages::apis::ApisPage;
use pages::audit::AuditPage;
use pages::create::CreatePage;
use pages::docs_explorer::DocsExplorerPage;
use pages::docs_reader::DocsReaderPage;
use pages::import::ImportPage;
use pages::search::SearchPage;
use pages::settings::SettingsPage;
use pages::sign_in::SignInPage;
use pages::task::TaskPage;
use pages::tasks::TasksPage;
use pages::template_form::TemplateFormPage;
use pages::validate::ValidatePage;
use pages::{catalog::CatalogPage, entity::EntityPage, home::HomePage, not_found::NotFoundPage};
use prefs::ThemeChoice;
use shell::Shell;

/// The app: while it learns whether sign-in is needed, a loading line; then
/// the sign-in page (whatever the address) or the portal.
#[component]
pub fn App() -> impl IntoView {
    ThemeChoice::provide();
    let auth = Auth::provide();
    let gate = Memo::new(move |_| auth.gate());
    view! {
        <Router>
            {move || match gate.get() {
                Gate::Loading => view! {
                    <main class="boot">
                        <p class="loading" role="status" aria-live="polite">"Loading Greenroom…"</p>
                    </main>
                }
                .into_any(),
                Gate::Failed(error) => view! {
                    <main class="boot">
                        <h1>"Greenroom could not start"</h1>
                        <ErrorBox error=error />
                        <button type="button" class="primary" on:click=move |_| auth.retry()>"Try again"</button>
                    </main>
                }
                .into_any(),
                Gate::SignIn => view! { <SignInPage /> }.into_any(),
                Gate::Open => view! { <Portal /> }.into_any(),
            }}
        </Router>
    }
}

/// The portal's pages inside the shell.
#[component]
fn Portal() -> impl IntoView {
    view! {
        <Shell>
            <Routes fallback=|| view! { <NotFoundPage /> }>
                <Route path=path!("/") view=HomePage />
                <Route path=path!("/catalog") view=CatalogPage />
                <Route path=path!("/catalog/:namespace/:kind/:name") view=EntityPage />
                <Route path=path!("/catalog-import") view=ImportPage />
                <Route path=path!("/catalog-import/validate") view=ValidatePage />
                <Route path=path!("/api-docs") view=ApisPage />
                <Route path=path!("/docs") view=DocsExplorerPage />
                <Route path=path!("/docs/:namespace/:kind/:name/*path") view=DocsReaderPage />
                <Route path=path!("/create") view=CreatePage />
                <Route path=path!("/create/templates/:namespace/:name") view=TemplateFormPage />
                <Route path=path!("/create/tasks") view=TasksPage />
                <Route path=path!("/create/tasks/:taskId") view=TaskPage />
                <Route path=path!("/create/actions") view=ActionsPage />
                <Route path=path!("/search") view=SearchPage />
                <Route path=path!("/settings") view=SettingsPage />
                <Route path=path!("/settings/audit") view=AuditPage />
            </Routes>
        </Shell>
    }
}

/// Entry point run by the wasm-bindgen module as soon as it is initialised.
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
