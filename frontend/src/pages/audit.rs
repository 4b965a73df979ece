//! `/settings/audit`: the audit log for administrators (`GET
//! /api/audit/events`), newest first, filtered by actor, action and outcome,
//! fifty at a time with "Older events" paging. Filters and the page live in
//! the address. Others get a plain explanation instead of the 403.

use crate::api::{self, encode_component, ApiError};
use crate::components::{ErrorBox, HeaderRow, Loading};
use crate::entity::{entity_path, humanize_ref};
use crate::pages::settings::short_time;
use crate::shell::page_title;
use greenroom_model::{entity_ref::DEFAULT_NAMESPACE, EntityRef};
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};
use serde::Deserialize;
use serde_json::Value;

pub const AUDIT_API: &str = "/api/audit/events";
pub const AUDIT_PATH: &str = "/settings/audit";
const PAGE_SIZE: u32 = 50;
pub const OUTCOMES: [&str; 3] = ["allowed", "denied", "failed"];

/// The filters and the page, as in the address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilters {
    pub actor: String,
    pub action: String,
    pub outcome: String,
    /// Events older than this id (the next page).
    pub before: Option<i64>,
}

impl AuditFilters {
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |key: &str| get(key).map(|v| v.trim().to_string()).unwrap_or_default();
        AuditFilters {
            actor: text("actor"),
            action: text("action"),
            outcome: Some(text("outcome"))
                .filter(|o| OUTCOMES.contains(&o.as_str()))
                .unwrap_or_default(),
            before: get("before").and_then(|b| b.trim().parse().ok()),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        for (key, value) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("outcome", &self.outcome),
        ] {
            if !value.is_empty() {
                pairs.push((key, value.clone()));
            }
        }
        if let Some(before) = self.before {
            pairs.push(("before", before.to_string()));
        }
        pairs
    }

    /// The page's address for these filters.
    pub fn path(&self) -> String {
        let query = self
            .pairs()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode_component(&v)))
            .collect::<Vec<_>>()
            .join("&");
        if query.is_empty() {
            AUDIT_PATH.to_string()
        } else {
            format!("{AUDIT_PATH}?{query}")
        }
    }

    pub fn is_filtered(&self) -> bool {
        !(self.actor.is_empty() && self.action.is_empty() && self.outcome.is_empty())
    }
}

/// The events request for `filters`, at most `limit` events.
pub fn audit_url(filters: &AuditFilters, limit: u32) -> String {
    let mut url = format!("{AUDIT_API}?limit={limit}");
    for (key, value) in filters.pairs() {
        url.push_str(&format!("&{key}={}", encode_component(&value)));
    }
    url
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: i64,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub detail: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    #[serde(default)]
    pub next_before: Option<i64>,
}

/// The detail column: text as it is, anything else as compact JSON.
fn detail_text(detail: &Option<Value>) -> String {
    match detail {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn outcome_icon(outcome: &str) -> &'static str {
    match outcome {
        "allowed" => "✓",
        "denied" => "⛔",
        "failed" => "✗",
        _ => "•",
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    page_title(|| "Audit log".to_string());
    let params = use_query_map();
    let filters = Memo::new(move |_| params.with(|p| AuditFilters::from_params(|k| p.get(k))));
    let events = LocalResource::new(move || {
        let url = audit_url(&filters.get(), PAGE_SIZE);
        async move { api::get_json::<AuditPage>(&url).await }
    });
    let body = move || {
        match events.get() {
        None => view! { <Loading what="audit events" /> }.into_any(),
        Some(Err(ApiError::Status { status: 403, .. })) => view! {
            <div class="card audit-forbidden" id="audit-forbidden">
                <p><strong>"The audit log is for administrators."</strong></p>
                <p>
                    "Your account is not one of them. If you need to know who changed something, ask the people who run this portal. "
                    <A href="/settings">"Back to Settings"</A>
                </p>
            </div>
        }
        .into_any(),
        Some(Err(error)) => view! { <ErrorBox error=error /> }.into_any(),
        Some(Ok(page)) => event_table(page, filters.get_untracked()).into_any(),
    }
    };
    view! {
        <section class="page audit">
            <nav class="breadcrumbs" aria-label="Breadcrumbs">
                <a href="/settings">"Settings"</a>
            </nav>
            <h1>"Audit log"</h1>
            <p class="lead">"Sign-ins and changes across the portal, newest first, whether they were allowed, refused or failed."</p>
            <Filters filters=filters />
            {body}
        </section>
    }
}

#[component]
fn Filters(filters: Memo<AuditFilters>) -> impl IntoView {
    let navigate = use_navigate();
    let actor = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let outcome = RwSignal::new(String::new());
    // The boxes follow the address (back, forward, a shared link).
    Effect::new(move |_| {
        let current = filters.get();
        actor.set(current.actor);
        action.set(current.action);
        outcome.set(current.outcome);
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let chosen = AuditFilters {
            actor: actor.get_untracked().trim().to_string(),
            action: action.get_untracked().trim().to_string(),
            outcome: outcome.get_untracked(),
            before: None,
        };
        navigate(&chosen.path(), NavigateOptions::default());
    };
    view! {
        <form class="filters audit-filters" role="search" aria-label="Filter the audit log" on:submit=on_submit>
            <div class="filter">
                <label for="audit-actor">"Actor"</label>
                <input
                    id="audit-actor"
                    name="actor"
                    type="search"
                    autocomplete="off"
                    placeholder="user:default/jane.doe"
                    prop:value=move || actor.get()
                    on:input=move |ev| actor.set(event_target_value(&ev))
                />
            </div>
            <div class="filter">
                <label for="audit-action">"Action"</label>
                <input
                    id="audit-action"
                    name="action"
                    type="search"
                    autocomplete="off"
                    placeholder="catalog.location.create"
                    prop:value=move || action.get()
                    on:input=move |ev| action.set(event_target_value(&ev))
                />
            </div>
            <div class="filter">
                <label for="audit-outcome">"Outcome"</label>
                <select
                    id="audit-outcome"
                    name="outcome"
                    prop:value=move || outcome.get()
                    on:change=move |ev| outcome.set(event_target_value(&ev))
                >
                    <option value="">"Any outcome"</option>
                    {OUTCOMES
                        .into_iter()
                        .map(|o| {
                            let mut label = o.to_string();
                            label[..1].make_ascii_uppercase();
                            view! { <option value=o selected={move || outcome.get() == o}>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="filter audit-filter-actions">
                <button type="submit" class="primary">"Filter"</button>
            </div>
            {move || {
                filters
                    .with(AuditFilters::is_filtered)
                    .then(|| view! { <a class="clear-filters" href=AUDIT_PATH>"Clear filters"</a> })
            }}
        </form>
    }
}

/// A link to the actor's entity page when the actor is an entity ref.
fn actor_view(actor: &str) -> AnyView {
    match EntityRef::parse(actor, None, DEFAULT_NAMESPACE) {
        Ok(entity_ref) if actor.contains(':') => {
            view! { <A href=entity_path(&entity_ref)>{humanize_ref(&entity_ref)}</A> }.into_any()
        }
        _ => view! { <span>{actor.to_string()}</span> }.into_any(),
    }
}

fn event_table(page: AuditPage, filters: AuditFilters) -> impl IntoView {
    if page.items.is_empty() {
        return view! {
            <p class="empty" role="status">
                {if filters.is_filtered() { "No events match these filters." } else { "No events recorded yet." }}
            </p>
        }
        .into_any();
    }
    let older = page.next_before.map(|before| {
        AuditFilters {
            before: Some(before),
            ..filters.clone()
        }
        .path()
    });
    let newest = filters.before.is_some().then(|| {
        AuditFilters {
            before: None,
            ..filters.clone()
        }
        .path()
    });
    let count = page.items.len();
    let rows = page
        .items
        .into_iter()
        .map(|event| {
            let request = match (&event.method, &event.path) {
                (Some(method), Some(path)) => format!("{method} {path}"),
                (None, Some(path)) => path.clone(),
                (Some(method), None) => method.clone(),
                (None, None) => String::new(),
            };
            let outcome_class = format!("audit-outcome outcome-{}", event.outcome);
            view! {
                <tr class="audit-row" data-event-id=event.id.to_string()>
                    <td class="audit-time"><time datetime=event.time.clone()>{short_time(&event.time)}</time></td>
                    <td class="audit-actor">{actor_view(&event.actor)}</td>
                    <td class="audit-action"><code>{event.action.clone()}</code></td>
                    <td class="audit-request"><code>{request}</code></td>
                    <td class=outcome_class>
                        <span aria-hidden="true">{outcome_icon(&event.outcome)} " "</span>
                        {event.outcome.clone()}
                    </td>
                    <td class="audit-status">{event.status.map(|s| s.to_string()).unwrap_or_default()}</td>
                    <td class="description audit-detail">{detail_text(&event.detail)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted summary" role="status">
            {format!("{count} events{}", if newest.is_some() { " (older page)" } else { "" })}
        </p>
        <div class="table-wrap">
            <table id="audit-table" class="entities audit-table">
                <caption class="visually-hidden">"Audit events, newest first"</caption>
                <HeaderRow columns=&["Time", "Actor", "Action", "Request", "Outcome", "Status", "Detail"] />
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {newest.map(|href| view! { <a href=href class="audit-newest">"← Newest events"</a> })}
            {older.map(|href| view! { <a href=href class="audit-older" rel="next">"Older events →"</a> })}
        </nav>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_through_the_address() {
        let filters = AuditFilters {
            actor: "user:default/alice".into(),
            action: String::new(),
            outcome: "denied".into(),
            before: Some(16),
        };
        assert_eq!(
            filters.path(),
            "/settings/audit?actor=user%3Adefault%2Falice&outcome=denied&before=16"
        );
        assert_eq!(
            audit_url(&filters, 50),
            "/api/audit/events?limit=50&actor=user%3Adefault%2Falice&outcome=denied&before=16"
        );
        let params = [
            ("actor", "user:default/alice"),
            ("outcome", "denied"),
            ("before", "16"),
        ];
        let back = AuditFilters::from_params(|k| {
            params
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        });
        assert_eq!(back, filters);
        assert_eq!(
            audit_url(&AuditFilters::default(), 1),
            "/api/audit/events?limit=1"
        );
        assert_eq!(AuditFilters::default().path(), "/settings/audit");
    }

    #[test]
    fn unknown_outcomes_are_ignored() {
        let filters = AuditFilters::from_params(|k| (k == "outcome").then(|| "maybe".to_string()));
        assert_eq!(filters.outcome, "");
    }

    #[test]
    fn events_decode() {
        let page: AuditPage = serde_json::from_str(
            r#"{"items":[{"id":17,"time":"2026-12-03T18:00:00.000Z","actor":"user:default/alice","action":"catalog.location.create","method":"POST","path":"/api/catalog/locations","outcome":"allowed","status":201,"detail":null}],"nextBefore":16}"#,
        )
        .unwrap();
        assert_eq!(page.next_before, Some(16));
        assert_eq!(page.items[0].status, Some(201));
        assert_eq!(detail_text(&page.items[0].detail), "");
        assert_eq!(
            detail_text(&Some(Value::String("rate limited".into()))),
            "rate limited"
        );
        let last: AuditPage = serde_json::from_str(r#"{"items":[],"nextBefore":null}"#).unwrap();
        assert_eq!(last.next_before, None);
    }
}
