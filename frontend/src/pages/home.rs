use leptos::prelude::*;
use leptos_router::components::A;

use crate::shell::page_title;

#[component]
pub fn HomePage() -> impl IntoView {
    page_title(|| "Home".to_string());
    view! {
        <section class="page home">
            <h1>"Welcome to Greenroom"</h1>
            <p class="lead">"Your developer portal: every service, API, team and resource in one catalog."</p>
            <ul class="cards">
                <li class="card">
                    <h2><A href="/catalog">"Software catalog"</A></h2>
                    <p>"Browse components, APIs, systems, groups and users, filtered by kind."</p>
                </li>
                <li class="card">
                    <h2><A href="/catalog-import/validate">"Validate catalog-info.yaml"</A></h2>
                    <p>"Paste a descriptor and see every problem with its line and field before you register it."</p>
                </li>
                <li class="card">
                    <h2><a href="/api/catalog/entities/by-query?limit=20">"Catalog API"</a></h2>
                    <p>"The Backstage-compatible REST API under " <code>"/api/catalog"</code> "."</p>
                </li>
            </ul>
        </section>
    }
}
