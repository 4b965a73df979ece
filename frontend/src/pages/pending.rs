//! Destinations of the sidebar whose pages are not built yet: each says so
//! plainly and points at what already works, instead of a blank page or a 404.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::shell::page_title;

/// What a page that is not built yet will offer.
pub struct Pending {
    pub title: &'static str,
    pub purpose: &'static str,
}

pub const SETTINGS: Pending = Pending {
    title: "Settings",
    purpose: "manage your profile, theme and API tokens",
};
#[component]
pub fn PendingPage(page: &'static Pending) -> impl IntoView {
    page_title(move || page.title.to_string());
    view! {
        <section class="page pending">
            <h1>{page.title}</h1>
            <p class="lead">"Not available yet."</p>
            <p>
                {format!("This page will let you {}. ", page.purpose)}
                "Until then, the " <A href="/catalog">"software catalog"</A>
                " lists every entity, and you can "
                <A href="/catalog-import/validate">"validate a catalog-info.yaml"</A> "."
            </p>
        </section>
    }
}
