//! Small building blocks shared by the pages: loading and error states.

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
