//! Small building blocks shared by the pages: loading and error states,
//! highlighted search text.

use crate::api::ApiError;
use leptos::prelude::*;

/// Announced to screen readers while a request is in flight.
#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! {
        <p class="loading" role="status" aria-live="polite">
            "Loading " {what} "…"
        </p>
    }
}

/// A failed request, in words, with what the reader can do next.
#[component]
pub fn ErrorBox(error: ApiError) -> impl IntoView {
    let hint = match &error {
        ApiError::Network(_) => "Check that the Greenroom server is running, then reload the page.",
        ApiError::Status { status, .. } if *status >= 500 => {
            "The server had a problem; its log has the details."
        }
        ApiError::Status { .. } => "",
        ApiError::Decode(_) => {
            "The server and this page may be from different versions; reload the page."
        }
    };
    view! {
        <div class="error-box" role="alert">
            <p class="error-message">{error.to_string()}</p>
            {(!hint.is_empty()).then(|| view! { <p class="error-hint">{hint}</p> })}
        </div>
    }
}

/// Renders a resource that loads a `Result`: a loading line until it settles,
/// then either `render(value)` or the error.
pub fn load_view<T, V>(
    resource: LocalResource<Result<T, ApiError>>,
    what: &'static str,
    render: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    move || match resource.get() {
        None => view! { <Loading what=what /> }.into_any(),
        Some(Ok(value)) => render(value).into_any(),
        Some(Err(error)) => view! { <ErrorBox error=error /> }.into_any(),
    }
}

/// A table's header row: one column header per name.
#[component]
pub fn HeaderRow(columns: &'static [&'static str]) -> impl IntoView {
    view! {
        <thead>
            <tr>{columns.iter().map(|c| view! { <th scope="col">{*c}</th> }).collect_view()}</tr>
        </thead>
    }
}

/// Records a `performance.mark(name)` the first time it is called with that
/// name in this page load, so a benchmark can read when something first showed
/// (`performance.getEntriesByName(name)`) without guessing from outside.
pub fn mark_once(name: &str) {
    let Some(performance) = web_sys::window().and_then(|w| w.performance()) else {
        return;
    };
    if performance.get_entries_by_name(name).length() == 0 {
        let _ = performance.mark(name);
    }
}

/// A compact table of entities (name, kind, type, owner, lifecycle,
/// description), for lists inside a page: dependencies, members, owned entities.
#[component]
pub fn SummaryTable(
    entities: Vec<greenroom_model::Entity>,
    #[prop(into)] caption: String,
) -> impl IntoView {
    use crate::entity::EntitySummary;
    let rows = entities
        .iter()
        .map(|entity| view! { <SummaryRow row=EntitySummary::of(entity) /> })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="entities compact">
                <caption class="visually-hidden">{caption}</caption>
                <HeaderRow columns=&["Name", "Kind", "Type", "Owner", "Lifecycle", "Description"] />
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// One entity as a table row: name (linked), kind, type, owner (linked),
/// lifecycle, description.
#[component]
pub fn SummaryRow(row: crate::entity::EntitySummary) -> impl IntoView {
    use leptos_router::components::A;
    let name = match row.href {
        Some(href) => view! { <A href=href>{row.display_name}</A> }.into_any(),
        None => view! { <span>{row.display_name}</span> }.into_any(),
    };
    let owner = match row.owner {
        Some(link) => view! { <A href=link.href>{link.label}</A> }.into_any(),
        None => view! { <span>{row.owner_text}</span> }.into_any(),
    };
    view! {
        <tr>
            <td class="name">{name}</td>
            <td>{row.kind}</td>
            <td>{row.spec_type}</td>
            <td>{owner}</td>
            <td>{row.lifecycle}</td>
            <td class="description">{row.description}</td>
        </tr>
    }
}

/// A field of a search result with the matched words in `<mark>`: the
/// highlighted value split on the response's tags into text nodes (never
/// parsed as HTML, so markup in the document shows as text), or `plain`
/// when the field has no highlight.
pub fn highlighted(
    result: &greenroom_model::api::SearchResult,
    field: &str,
    plain: &str,
) -> impl IntoView {
    let segments = result
        .highlight
        .as_ref()
        .and_then(|h| h.segments(field))
        .unwrap_or_else(|| {
            vec![greenroom_model::api::HighlightSegment {
                text: plain.to_string(),
                marked: false,
            }]
        });
    segments
        .into_iter()
        .map(|segment| {
            if segment.marked {
                view! { <mark>{segment.text}</mark> }.into_any()
            } else {
                segment.text.into_any()
            }
        })
        .collect_view()
}

/// A modal dialog: the browser's `<dialog>`, which keeps the keyboard inside,
/// closes on Escape and gives the focus back when it closes. Shown while
/// `open` is true; closing it in any way sets `open` to false.
#[component]
pub fn Modal(
    open: RwSignal<bool>,
    #[prop(into)] id: String,
    /// The id of the dialog's heading.
    #[prop(into)]
    labelled_by: String,
    children: Children,
) -> impl IntoView {
    let dialog: NodeRef<leptos::html::Dialog> = NodeRef::new();
    Effect::new(move |_| {
        let show = open.get();
        if let Some(element) = dialog.get() {
            if show && !element.open() {
                let _ = element.show_modal();
            } else if !show && element.open() {
                element.close();
            }
        }
    });
    view! {
        <dialog
            node_ref=dialog
            id=id
            class="modal"
            aria-labelledby=labelled_by
            on:close=move |_| open.set(false)
        >
            {children()}
        </dialog>
    }
}

/// Moves the keyboard focus to the element with `id` once it is on screen.
pub fn focus_later(id: &'static str) {
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(element) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
}

/// The "Register an existing component" entry of a link list, shown once the
/// server says the user may register locations (`catalog.location.create`).
#[component]
pub fn RegisterLink() -> impl IntoView {
    use crate::permissions::{use_permission, CATALOG_LOCATION_CREATE};
    use leptos_router::components::A;
    let allowed = use_permission(CATALOG_LOCATION_CREATE, None);
    view! {
        <li class="register-link" hidden=move || allowed.get() != Some(true)>
            <A href="/catalog-import">"Register an existing component"</A>
        </li>
    }
}
