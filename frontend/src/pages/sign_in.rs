//! The sign-in page, shown in place of the portal (whatever the address) when
//! the server requires sign-in and there is no session. One button per
//! redirect (OAuth) provider, a form per password (LDAP) provider, and
//! "Enter as guest" when guests are allowed. Afterwards the portal shows the
//! address the user asked for: a redirect sign-in comes back to it, the
//! others never leave it.

use crate::api::{self, ApiError};
use crate::auth::{
    oauth_start_url, password_failure, provider_url, query_param, use_auth, without_query_param,
    Auth, Provider, ProviderKind, SIGN_IN_ERROR_PARAM,
};
use crate::components::focus_later;
use crate::shell::page_title;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::{hooks::use_navigate, NavigateOptions};

/// The address bar's query string.
fn current_search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The address to come back to after a redirect sign-in: this one, without
/// an earlier sign-in error.
fn return_address() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return "/".to_string();
    };
    format!(
        "{}{}{}{}",
        location.origin().unwrap_or_default(),
        location.pathname().unwrap_or_else(|_| "/".into()),
        without_query_param(&location.search().unwrap_or_default(), SIGN_IN_ERROR_PARAM),
        location.hash().unwrap_or_default()
    )
}

/// What to say when signing in worked but no session came of it.
const NO_SESSION: &str =
    "Signed in, but the portal could not read the session. Check that this browser accepts cookies from this site, then try again.";

#[component]
pub fn SignInPage() -> impl IntoView {
    page_title(|| "Sign in".to_string());
    let auth = use_auth();
    let info = auth.providers();
    let environment = info
        .as_ref()
        .map(|i| i.environment.clone())
        .unwrap_or_default();
    let providers = info.map(|i| i.providers).unwrap_or_default();

    // A failed redirect sign-in comes back with its message in the address:
    // show it, and take it out of the address so a reload does not repeat it.
    let search = current_search();
    let error = RwSignal::new(query_param(&search, SIGN_IN_ERROR_PARAM));
    if error.get_untracked().is_some() {
        if let Some(location) = web_sys::window().map(|w| w.location()) {
            let path = format!(
                "{}{}{}",
                location.pathname().unwrap_or_else(|_| "/".into()),
                without_query_param(&search, SIGN_IN_ERROR_PARAM),
                location.hash().unwrap_or_default()
            );
            let navigate = use_navigate();
            // Once the router has settled on this page.
            request_animation_frame(move || {
                navigate(
                    &path,
                    NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..Default::default()
                    },
                )
            });
        }
    }
    focus_later("sign-in-heading");

    let redirects: Vec<Provider> = providers
        .iter()
        .filter(|p| p.kind == ProviderKind::Oauth)
        .cloned()
        .collect();
    let forms: Vec<Provider> = providers
        .iter()
        .filter(|p| p.kind == ProviderKind::Password)
        .cloned()
        .collect();
    let guest = providers
        .iter()
        .find(|p| p.kind == ProviderKind::Guest)
        .cloned();
    let none = redirects.is_empty() && forms.is_empty() && guest.is_none();

    let redirect_buttons = (!redirects.is_empty()).then(|| {
        let buttons = redirects
            .into_iter()
            .map(|provider| {
                let id = provider.id.clone();
                let environment = environment.clone();
                let go = move |_| {
                    let url = oauth_start_url(&id, &environment, &return_address());
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().assign(&url);
                    }
                };
                view! {
                    <li>
                        <button
                            type="button"
                            class="sign-in-provider primary"
                            data-provider=provider.id.clone()
                            on:click=go
                        >
                            {format!("Sign in with {}", provider.title())}
                        </button>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="sign-in-redirects">{buttons}</ul> }
    });

    let password_forms = forms
        .into_iter()
        .map(|provider| view! { <PasswordForm provider=provider auth=auth /> })
        .collect_view();

    let guest_button = guest.map(|provider| {
        let busy = RwSignal::new(false);
        let id = provider.id.clone();
        let enter = move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            let url = provider_url(&id, "refresh");
            spawn_local(async move {
                let outcome = match api::build(api::post(&url)) {
                    Ok(request) => api::send_ok(request).await,
                    Err(e) => Err(e),
                };
                let message = match outcome {
                    Ok(()) if auth.refresh_session().await => return,
                    Ok(()) => NO_SESSION.to_string(),
                    Err(e) => e.to_string(),
                };
                busy.set(false);
                error.set(Some(message));
            });
        };
        view! {
            <div class="sign-in-guest">
                <button
                    type="button"
                    class="sign-in-provider"
                    data-provider=provider.id.clone()
                    disabled=move || busy.get()
                    on:click=enter
                >
                    "Enter as guest"
                </button>
                <p class="muted">"Look around without an account."</p>
            </div>
        }
    });

    view! {
        <main id="main" class="sign-in-main" tabindex="-1">
            <section id="sign-in" class="sign-in card" aria-labelledby="sign-in-heading">
                <p class="sign-in-brand" aria-hidden="true">"Greenroom"</p>
                <h1 id="sign-in-heading" tabindex="-1">"Sign in to Greenroom"</h1>
                <div id="sign-in-error" role="alert">
                    {move || error.get().map(|message| view! { <p class="error-box">{message}</p> })}
                </div>
                {none.then(|| view! {
                    <p class="empty">
                        "This portal requires signing in, but no way to sign in is configured. Ask the people who run it."
                    </p>
                })}
                {redirect_buttons}
                {password_forms}
                {guest_button}
            </section>
        </main>
    }
}

/// Signs in with a username and password; the answer's message when refused.
async fn password_sign_in(url: String, username: String, password: String) -> Result<(), String> {
    let body = serde_json::json!({ "username": username, "password": password });
    let request = api::post(&url)
        .header("Accept", "application/json")
        .json(&body)
        .map_err(|e| ApiError::Decode(e.to_string()).to_string())?;
    let response = api::send(request).await.map_err(|e| e.to_string())?;
    if response.ok() {
        return Ok(());
    }
    let status = response.status();
    let retry_after = response.headers().get("Retry-After");
    let text = response.text().await.unwrap_or_default();
    let message = match ApiError::from_response(status, &text) {
        ApiError::Status { message, .. } if message != "The request failed" => Some(message),
        _ => None,
    };
    Err(password_failure(status, message, retry_after.as_deref()))
}

#[component]
fn PasswordForm(provider: Provider, auth: Auth) -> impl IntoView {
    let id = provider.id.clone();
    let username_id = format!("{id}-username");
    let password_id = format!("{id}-password");
    let error_id = format!("{id}-error");
    let heading_id = format!("{id}-heading");
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let password_input: NodeRef<leptos::html::Input> = NodeRef::new();
    let url = provider_url(&id, "login");
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (url, name, secret) = (
            url.clone(),
            username.get_untracked().trim().to_string(),
            password.get_untracked(),
        );
        spawn_local(async move {
            let message = match password_sign_in(url, name, secret).await {
                Ok(()) if auth.refresh_session().await => return,
                Ok(()) => NO_SESSION.to_string(),
                Err(message) => message,
            };
            busy.set(false);
            password.set(String::new());
            error.set(Some(message));
            if let Some(input) = password_input.get_untracked() {
                let _ = input.focus();
            }
        });
    };
    let described_by = error_id.clone();
    let labelled_by = heading_id.clone();
    view! {
        <form
            class="sign-in-provider sign-in-password"
            data-provider=id.clone()
            aria-labelledby=labelled_by
            on:submit=on_submit
        >
            <h2 id=heading_id>{format!("Sign in with {}", provider.title())}</h2>
            <div class="field">
                <label for=username_id.clone()>"Username"</label>
                <input
                    id=username_id
                    name="username"
                    type="text"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    required
                    prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for=password_id.clone()>"Password"</label>
                <input
                    id=password_id
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    node_ref=password_input
                    aria-invalid=move || error.with(Option::is_some).then_some("true")
                    aria-describedby=move || error.with(Option::is_some).then(|| described_by.clone())
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
            </div>
            <div id=error_id class="field-error-slot" role="alert">
                {move || error.get().map(|message| view! { <p class="error-box">{message}</p> })}
            </div>
            <button type="submit" class="primary" disabled=move || busy.get()>
                {move || if busy.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}
