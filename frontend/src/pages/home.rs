//! `/`: the home page. Starred and recently visited entities (kept in this
//! browser), the entities the user and their groups own, and quick links.
//!
//! Until sign-in exists the user says which User entity they are; the choice
//! is kept in this browser only and decides nothing but what this page lists.

use crate::api::{self, encode_component, ApiError, EntitiesPage, CATALOG_API};
use crate::components::{load_view, RegisterLink, SummaryTable};
use crate::entity::{humanize_ref, relation_targets};
use crate::prefs::{self, SavedEntity};
use crate::shell::page_title;
use greenroom_model::{entity_ref::DEFAULT_NAMESPACE, EntityRef};
use leptos::prelude::*;
use leptos_router::components::A;

/// How many owned entities the home page lists.
const OWNED_LIMIT: u32 = 20;

#[component]
pub fn HomePage() -> impl IntoView {
    page_title(|| "Home".to_string());
    let starred = prefs::load::<Vec<SavedEntity>>(prefs::STARRED_KEY);
    let recent = prefs::load::<Vec<SavedEntity>>(prefs::RECENT_KEY);
    view! {
        <section class="page home">
            <h1>"Welcome to Greenroom"</h1>
            <p class="lead">"Your developer portal: every service, API, team and resource in one catalog."</p>
            <div class="home-grid">
                <SavedList
                    heading="Starred"
                    items=starred
                    empty="Star an entity (the ☆ button on its page) to keep it here."
                />
                <SavedList
                    heading="Recently visited"
                    items=recent
                    empty="The entities you open will be listed here."
                />
                <QuickLinks />
            </div>
            <OwnedEntities />
        </section>
    }
}

#[component]
fn SavedList(heading: &'static str, items: Vec<SavedEntity>, empty: &'static str) -> impl IntoView {
    let id = format!("home-{}", heading.to_lowercase().replace(' ', "-"));
    let body = if items.is_empty() {
        view! { <p class="muted">{empty}</p> }.into_any()
    } else {
        view! {
            <ul class="link-list">
                {items
                    .into_iter()
                    .map(|item| {
                        view! {
                            <li>
                                <A href=item.href>{item.title}</A>
                                <span class="muted">{format!(" · {}", item.kind)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let labelled_by = id.clone();
    view! {
        <section class="card" aria-labelledby=labelled_by>
            <h2 id=id>{heading}</h2>
            {body}
        </section>
    }
}

#[component]
fn QuickLinks() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="home-quick-links">
            <h2 id="home-quick-links">"Quick links"</h2>
            <ul class="link-list">
                <li><A href="/catalog">"Software catalog"</A></li>
                <li><A href="/api-docs">"APIs"</A></li>
                <RegisterLink />
                <li><A href="/catalog-import/validate">"Validate catalog-info.yaml"</A></li>
                <li><a href="/api/catalog/openapi.json">"Catalog REST API (OpenAPI)"</a></li>
            </ul>
        </section>
    }
}

/// The `/entities/by-query` URL for entities owned by any of `owners` (one
/// `filter` parameter each: Backstage ORs them).
fn owned_url(owners: &[String]) -> String {
    let mut url = format!(
        "{CATALOG_API}/entities/by-query?limit={OWNED_LIMIT}&orderField=metadata.name%2Casc"
    );
    for owner in owners {
        url.push_str("&filter=");
        url.push_str(&encode_component(&format!("relations.ownedBy={owner}")));
    }
    url
}

/// The user, their groups, and what any of them owns.
async fn fetch_owned(
    user: String,
) -> Result<Option<(String, Vec<String>, EntitiesPage)>, ApiError> {
    if user.is_empty() {
        return Ok(None);
    }
    let user_ref =
        EntityRef::parse(&user, Some("User"), DEFAULT_NAMESPACE).map_err(|e| ApiError::Status {
            status: 400,
            message: e.to_string(),
        })?;
    let entity = api::fetch_entity(
        user_ref.kind.clone(),
        user_ref.namespace.clone(),
        user_ref.name.clone(),
    )
    .await?;
    let groups: Vec<String> = relation_targets(&entity, &["memberOf"])
        .into_iter()
        .map(|(_, r)| r.canonical())
        .collect();
    let mut owners = vec![user_ref.canonical()];
    owners.extend(groups.iter().cloned());
    let page = api::get_json::<EntitiesPage>(&owned_url(&owners)).await?;
    Ok(Some((humanize_ref(&user_ref), groups, page)))
}

#[component]
fn OwnedEntities() -> impl IntoView {
    let identity = RwSignal::new(prefs::load::<String>(prefs::IDENTITY_KEY));
    let draft = RwSignal::new(identity.get_untracked());
    let owned = LocalResource::new(move || fetch_owned(identity.get()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = draft.get_untracked().trim().to_string();
        prefs::save(prefs::IDENTITY_KEY, &value);
        identity.set(value);
    };
    let render = |found: Option<(String, Vec<String>, EntitiesPage)>| {
        match found {
        None => view! { <p class="muted">"Say which user you are to see what you and your teams own."</p> }.into_any(),
        Some((user, groups, page)) => {
            let summary = format!(
                "{} entities owned by {user}{}",
                page.total_items,
                if groups.is_empty() { String::new() } else { format!(" and {} of their groups", groups.len()) }
            );
            if page.items.is_empty() {
                view! { <p class="muted">{summary}</p> }.into_any()
            } else {
                view! {
                    <p class="muted">{summary}</p>
                    <SummaryTable entities=page.items caption="Entities you own" />
                }
                .into_any()
            }
        }
    }
    };
    view! {
        <section class="card owned" aria-labelledby="home-owned">
            <h2 id="home-owned">"Owned by you and your teams"</h2>
            <form class="identity-form" on:submit=on_submit>
                <label for="identity">"You are (user entity)"</label>
                <div class="input-row">
                    <input
                        id="identity"
                        name="identity"
                        type="text"
                        placeholder="user:default/jane.doe"
                        autocomplete="off"
                        aria-describedby="identity-hint"
                        prop:value=move || draft.get()
                        on:input=move |ev| draft.set(event_target_value(&ev))
                    />
                    <button type="submit">"Show"</button>
                </div>
                <p id="identity-hint" class="muted">"Kept in this browser until sign-in is set up."</p>
            </form>
            {load_view(owned, "owned entities", render)}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::owned_url;

    #[test]
    fn owners_are_ored_filters() {
        let url = owned_url(&["user:default/ann".into(), "group:default/team-a".into()]);
        assert_eq!(
            url,
            "/api/catalog/entities/by-query?limit=20&orderField=metadata.name%2Casc\
             &filter=relations.ownedBy%3Duser%3Adefault%2Fann&filter=relations.ownedBy%3Dgroup%3Adefault%2Fteam-a"
        );
    }
}
