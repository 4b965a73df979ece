//! `/settings`: who the user is (the session's profile and the entities they
//! own through), the theme, personal API tokens, and for administrators a
//! way to the audit log.
//!
//! Tokens: `GET /api/auth/tokens` lists them; `POST` creates one, whose
//! secret the server sends once (the page shows it in a dialog with a copy
//! button, then forgets it); `DELETE /api/auth/tokens/<id>` revokes one after
//! a confirmation.

use crate::api::{self, encode_component, ApiError};
use crate::auth::{use_auth, Session};
use crate::components::{focus_later, load_view, ErrorBox, HeaderRow, Modal};
use crate::entity::{entity_path, humanize_ref};
use crate::prefs::{use_theme, Theme};
use crate::shell::page_title;
use greenroom_model::{entity_ref::DEFAULT_NAMESPACE, EntityRef};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use serde::{Deserialize, Deserializer, Serialize};

pub const TOKENS_URL: &str = "/api/auth/tokens";

/// How long a new token may live: days, `None` for never.
pub const EXPIRY_CHOICES: [(Option<u32>, &str); 5] = [
    (Some(7), "7 days"),
    (Some(30), "30 days"),
    (Some(90), "90 days"),
    (Some(365), "1 year"),
    (None, "Never"),
];
const DEFAULT_EXPIRY: Option<u32> = Some(30);

/// An id the server may send as a string or a number.
pub fn id_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub last_used_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct TokenList {
    items: Vec<TokenInfo>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NewToken {
    name: String,
    expires_in_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub name: String,
    pub token: String,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// An ISO 8601 time as `2026-12-03 18:00 UTC` (the text itself when it is not one).
pub fn short_time(iso: &str) -> String {
    let bytes = iso.as_bytes();
    let utc = iso.ends_with('Z') || iso.ends_with("+00:00");
    if iso.len() >= 16 && bytes[10] == b'T' && bytes[13] == b':' && utc {
        format!("{} {} UTC", &iso[..10], &iso[11..16])
    } else {
        iso.to_string()
    }
}

/// A time cell: the short text, the exact time for machines.
fn time_view(iso: Option<String>, missing: &'static str) -> AnyView {
    match iso.filter(|t| !t.is_empty()) {
        Some(iso) => view! { <time datetime=iso.clone()>{short_time(&iso)}</time> }.into_any(),
        None => view! { <span class="muted">{missing}</span> }.into_any(),
    }
}

fn token_url(id: &str) -> String {
    format!("{TOKENS_URL}/{}", encode_component(id))
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    page_title(|| "Settings".to_string());
    view! {
        <section class="page settings">
            <h1>"Settings"</h1>
            <div class="settings-grid">
                <ProfileCard />
                <AppearanceCard />
            </div>
            <TokensCard />
            <AdminCard />
        </section>
    }
}

/// A link to an entity by its ref, or the text when it is not a ref.
fn ref_link(text: &str) -> AnyView {
    match EntityRef::parse(text, None, DEFAULT_NAMESPACE) {
        Ok(entity_ref) => {
            view! { <A href=entity_path(&entity_ref)>{humanize_ref(&entity_ref)}</A> }.into_any()
        }
        Err(_) => view! { <span>{text.to_string()}</span> }.into_any(),
    }
}

#[component]
fn ProfileCard() -> impl IntoView {
    let auth = use_auth();
    let body = move || {
        match auth.session() {
        None => view! {
            <p class="muted">"You are not signed in: this portal is open to everyone without signing in."</p>
        }
        .into_any(),
        Some(session) => profile(session).into_any(),
    }
    };
    view! {
        <section id="settings-profile" class="card" aria-labelledby="settings-profile-heading">
            <h2 id="settings-profile-heading">"Profile"</h2>
            {body}
        </section>
    }
}

fn profile(session: Session) -> impl IntoView {
    let name = session.display_name();
    let picture = session.picture().map(|src| {
        view! { <img class="profile-picture" src=src alt="" width="64" height="64" referrerpolicy="no-referrer" /> }
    });
    let email = session
        .profile
        .email
        .clone()
        .filter(|e| !e.trim().is_empty());
    let ownership = if session.ownership_entity_refs.is_empty() {
        view! { <span class="muted">"None"</span> }.into_any()
    } else {
        view! {
            <ul class="link-list ownership-refs">
                {session
                    .ownership_entity_refs
                    .iter()
                    .map(|r| view! { <li>{ref_link(r)}</li> })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let provider = (!session.provider.is_empty()).then(|| session.provider.clone());
    view! {
        <div class="profile">
            {picture}
            <dl class="fields">
                <dt>"Name"</dt>
                <dd class="profile-name">{name}</dd>
                <dt>"Email"</dt>
                <dd class="profile-email">
                    {match email {
                        Some(email) => view! { <span>{email}</span> }.into_any(),
                        None => view! { <span class="muted">"Not given"</span> }.into_any(),
                    }}
                </dd>
                <dt>"User entity"</dt>
                <dd class="profile-entity">{ref_link(&session.user_entity_ref)}</dd>
                <dt>"Owns through"</dt>
                <dd>{ownership}</dd>
                {provider.map(|p| view! { <dt>"Signed in with"</dt><dd class="profile-provider">{p}</dd> })}
            </dl>
        </div>
    }
}

#[component]
fn AppearanceCard() -> impl IntoView {
    let theme = use_theme();
    view! {
        <section id="settings-appearance" class="card" aria-labelledby="settings-appearance-heading">
            <h2 id="settings-appearance-heading">"Appearance"</h2>
            <fieldset class="theme-choice">
                <legend>"Theme"</legend>
                {Theme::ALL
                    .into_iter()
                    .map(|choice| {
                        let id = format!("theme-{}", choice.name());
                        view! {
                            <div class="check-row">
                                <input
                                    type="radio"
                                    id=id.clone()
                                    name="theme"
                                    value=choice.name()
                                    prop:checked=move || theme.get() == choice
                                    on:change=move |_| theme.choose(choice)
                                />
                                <label for=id>{choice.label()}</label>
                            </div>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <p class="muted">"Kept in this browser. The switch in the top bar changes it too."</p>
        </section>
    }
}

#[component]
fn TokensCard() -> impl IntoView {
    let tokens = LocalResource::new(|| async {
        api::get_json::<TokenList>(TOKENS_URL)
            .await
            .map(|list| list.items)
    });
    // The token just created: shown once in the dialog, then forgotten.
    let created = RwSignal::new(None::<CreatedToken>);
    let reveal = RwSignal::new(false);
    Effect::new(move |_| {
        if !reveal.get() {
            created.set(None);
        }
    });
    let revoking = RwSignal::new(None::<TokenInfo>);
    let confirm = RwSignal::new(false);

    let on_created = move |token: CreatedToken| {
        created.set(Some(token));
        reveal.set(true);
        tokens.refetch();
    };
    let ask_revoke = move |token: TokenInfo| {
        revoking.set(Some(token));
        confirm.set(true);
    };
    let list = load_view(tokens, "API tokens", move |items: Vec<TokenInfo>| {
        token_table(items, ask_revoke)
    });
    view! {
        <section id="settings-tokens" class="card" aria-labelledby="settings-tokens-heading">
            <h2 id="settings-tokens-heading">"API tokens"</h2>
            <p class="muted">
                "A personal token lets scripts and tools call the Greenroom API as you: send it as "
                <code>"Authorization: Bearer <token>"</code> "."
            </p>
            {list}
            <NewTokenForm on_created=on_created />
            <RevealDialog open=reveal created=created />
            <RevokeDialog open=confirm token=revoking on_revoked=move || tokens.refetch() />
        </section>
    }
}

fn token_table(
    items: Vec<TokenInfo>,
    ask_revoke: impl Fn(TokenInfo) + Copy + Send + Sync + 'static,
) -> AnyView {
    if items.is_empty() {
        return view! { <p class="empty" id="no-tokens">"You have no API tokens."</p> }.into_any();
    }
    let rows = items
        .into_iter()
        .map(|token| {
            let label = format!("Revoke {}", token.name);
            let chosen = token.clone();
            view! {
                <tr class="token-row" data-token-id=token.id.clone()>
                    <td class="name token-name">{token.name}</td>
                    <td>{time_view(Some(token.created_at), "Unknown")}</td>
                    <td>{time_view(token.expires_at, "Never")}</td>
                    <td>{time_view(token.last_used_at, "Never used")}</td>
                    <td>
                        <button
                            type="button"
                            class="revoke-token"
                            aria-label=label
                            on:click=move |_| ask_revoke(chosen.clone())
                        >
                            "Revoke"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="entities tokens-table">
                <caption class="visually-hidden">"Your API tokens"</caption>
                <HeaderRow columns=&["Name", "Created", "Expires", "Last used", "Actions"] />
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn NewTokenForm(on_created: impl Fn(CreatedToken) + Copy + Send + Sync + 'static) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let expiry = RwSignal::new(DEFAULT_EXPIRY);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let token_name = name.get_untracked().trim().to_string();
        if token_name.is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let body = NewToken {
            name: token_name,
            expires_in_days: expiry.get_untracked(),
        };
        spawn_local(async move {
            let answer: Result<CreatedToken, ApiError> = api::post_json(TOKENS_URL, &body).await;
            busy.set(false);
            match answer {
                Ok(token) => {
                    name.set(String::new());
                    on_created(token);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let expiry_value = |days: Option<u32>| days.map_or("never".to_string(), |d| d.to_string());
    view! {
        <form id="new-token-form" class="new-token-form" on:submit=on_submit aria-labelledby="new-token-heading">
            <h3 id="new-token-heading">"Create a token"</h3>
            <div class="new-token-fields">
                <div class="field">
                    <label for="new-token-name">"Name"</label>
                    <input
                        id="new-token-name"
                        name="name"
                        type="text"
                        required
                        maxlength="100"
                        autocomplete="off"
                        placeholder="What will use it, e.g. CI pipeline"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </div>
                <div class="field">
                    <label for="new-token-expiry">"Expires after"</label>
                    <select
                        id="new-token-expiry"
                        name="expiresInDays"
                        on:change=move |ev| {
                            expiry.set(event_target_value(&ev).parse::<u32>().ok())
                        }
                    >
                        {EXPIRY_CHOICES
                            .into_iter()
                            .map(|(days, label)| {
                                view! {
                                    <option value=expiry_value(days) selected={days == DEFAULT_EXPIRY}>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Creating…" } else { "Create token" }}
                </button>
            </div>
            <div role="alert">{move || error.get().map(|e| view! { <ErrorBox error=e /> })}</div>
        </form>
    }
}

/// Copies `text` to the clipboard; whether the browser did.
async fn copy_to_clipboard(text: String) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(&text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// Selects the token's text, for copying by hand.
fn select_token() {
    use wasm_bindgen::JsCast;
    if let Some(input) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("new-token-value"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        input.select();
    }
}

#[component]
fn RevealDialog(open: RwSignal<bool>, created: RwSignal<Option<CreatedToken>>) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    Effect::new(move |_| {
        if open.get() {
            copied.set(None);
            focus_later("new-token-value");
        }
    });
    let token = move || created.with(|c| c.as_ref().map(|c| c.token.clone()).unwrap_or_default());
    let on_copy = move |_| {
        let text = token();
        spawn_local(async move {
            let done = copy_to_clipboard(text).await;
            if !done {
                select_token();
            }
            copied.set(Some(done));
        });
    };
    let expiry = move || {
        created.with(|c| match c.as_ref().and_then(|c| c.expires_at.clone()) {
            Some(at) => format!("It expires {}.", short_time(&at)),
            None => "It does not expire.".to_string(),
        })
    };
    view! {
        <Modal open=open id="new-token-dialog" labelled_by="new-token-dialog-heading">
            <h2 id="new-token-dialog-heading">
                {move || created.with(|c| c.as_ref().map(|c| format!("Token “{}” created", c.name)).unwrap_or_default())}
            </h2>
            <p class="warning token-warning">
                <strong>"Copy it now: it cannot be shown again."</strong>
                " Keep it secret, like a password. " {expiry}
            </p>
            <label for="new-token-value">"Your new token"</label>
            <div class="input-row">
                <input
                    id="new-token-value"
                    class="token-value"
                    type="text"
                    readonly
                    spellcheck="false"
                    autocomplete="off"
                    prop:value=token
                    on:focus=move |_| select_token()
                />
                <button type="button" id="copy-token" on:click=on_copy>"Copy"</button>
            </div>
            <p class="copy-status" role="status">
                {move || match copied.get() {
                    Some(true) => "Copied to the clipboard.",
                    Some(false) => "The browser did not allow copying: the token is selected, press Ctrl+C (⌘C) to copy it.",
                    None => "",
                }}
            </p>
            <div class="form-actions">
                <button type="button" class="primary" id="new-token-done" on:click=move |_| open.set(false)>
                    "Done"
                </button>
            </div>
        </Modal>
    }
}

#[component]
fn RevokeDialog(
    open: RwSignal<bool>,
    token: RwSignal<Option<TokenInfo>>,
    on_revoked: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| {
        if open.get() {
            error.set(None);
        }
    });
    let name = move || token.with(|t| t.as_ref().map(|t| t.name.clone()).unwrap_or_default());
    let on_revoke = move |_| {
        let Some(id) = token.with_untracked(|t| t.as_ref().map(|t| t.id.clone())) else {
            return;
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let outcome = match api::build(api::delete(&token_url(&id))) {
                Ok(request) => api::send_ok(request).await,
                Err(e) => Err(e),
            };
            busy.set(false);
            match outcome {
                Ok(()) => {
                    open.set(false);
                    on_revoked();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <Modal open=open id="revoke-token-dialog" labelled_by="revoke-token-heading">
            <h2 id="revoke-token-heading">{move || format!("Revoke “{}”?", name())}</h2>
            <p>"Scripts and tools that use this token stop working at once. This cannot be undone."</p>
            <div role="alert">{move || error.get().map(|e| view! { <ErrorBox error=e /> })}</div>
            <div class="form-actions">
                <button type="button" class="danger" id="confirm-revoke" disabled=move || busy.get() on:click=on_revoke>
                    "Revoke token"
                </button>
                <button type="button" on:click=move |_| open.set(false)>"Cancel"</button>
            </div>
        </Modal>
    }
}

/// Administrators (whom the audit endpoint answers) get a link to the audit log.
#[component]
fn AdminCard() -> impl IntoView {
    let admin = LocalResource::new(|| async {
        api::get_json::<serde_json::Value>(&crate::pages::audit::audit_url(&Default::default(), 1))
            .await
            .is_ok()
    });
    move || {
        (admin.get() == Some(true)).then(|| {
            view! {
                <section id="settings-admin" class="card" aria-labelledby="settings-admin-heading">
                    <h2 id="settings-admin-heading">"Administration"</h2>
                    <p>
                        <A href="/settings/audit" attr:id="settings-audit-link">"Audit log"</A>
                        ": sign-ins and changes across the portal, allowed or refused."
                    </p>
                </section>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_decode_with_string_or_number_ids() {
        let list: TokenList = serde_json::from_str(
            r#"{"items":[{"id":"t1","name":"CI","createdAt":"2026-12-01T10:00:00.000Z","expiresAt":null,"lastUsedAt":null},{"id":7,"name":"cli","createdAt":"2026-12-02T10:00:00Z","expiresAt":"2027-01-01T00:00:00Z","lastUsedAt":"2026-12-03T09:30:00Z"}]}"#,
        )
        .unwrap();
        assert_eq!(list.items[0].id, "t1");
        assert_eq!(list.items[0].expires_at, None);
        assert_eq!(list.items[1].id, "7");
        assert_eq!(token_url("a/b"), "/api/auth/tokens/a%2Fb");
    }

    #[test]
    fn new_tokens_ask_for_days_or_never() {
        let body = NewToken {
            name: "CI".into(),
            expires_in_days: Some(30),
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"name":"CI","expiresInDays":30}"#
        );
        let never = NewToken {
            name: "CI".into(),
            expires_in_days: None,
        };
        assert_eq!(
            serde_json::to_string(&never).unwrap(),
            r#"{"name":"CI","expiresInDays":null}"#
        );
    }

    #[test]
    fn times_read_short() {
        assert_eq!(
            short_time("2026-12-03T18:00:00.000Z"),
            "2026-12-03 18:00 UTC"
        );
        assert_eq!(
            short_time("2026-12-03T18:00:00+02:00"),
            "2026-12-03T18:00:00+02:00"
        );
        assert_eq!(short_time("yesterday"), "yesterday");
    }
}
