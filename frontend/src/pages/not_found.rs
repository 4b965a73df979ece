use leptos::prelude::*;
use leptos_router::components::A;

use crate::shell::page_title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    page_title(|| "Page not found".to_string());
    view! {
        <section class="page not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <A href="/">"Go to the home page"</A> "."</p>
        </section>
    }
}
