//! `/catalog-import`: register an existing component. The user pastes the URL
//! of a repository or of its `catalog-info.yaml`; the page analyzes it
//! (`POST /analyze-location`), then asks for a dry run of the catalog file
//! (`POST /locations?dryRun=true`) to show exactly which entities it would
//! add, and registers it (`POST /locations`) only when the user confirms.
//! After registering it follows the new entities until the catalog has
//! processed them. Every failure is shown in the step where it happened.
//! Registering needs the `catalog.location.create` permission: the Register
//! button waits for the answer, and a user without it is told so up front.

use std::time::Duration;

use crate::api::{self, post_json, ApiError, CATALOG_API};
use crate::components::ErrorBox;
use crate::entity::{entity_path, humanize_ref};
use crate::permissions::{use_permission, CATALOG_LOCATION_CREATE};
use crate::shell::page_title;
use greenroom_model::{Entity, EntityRef};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How often, and how many times, the page asks whether registered entities exist yet.
const POLL_EVERY: Duration = Duration::from_millis(1000);
const POLL_TIMES: u32 = 60;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Idle,
    Working(&'static str),
    /// The dry run of `target`: the entities it would add.
    Review {
        target: String,
        exists: bool,
        entities: Vec<Entity>,
    },
    /// The repository has no catalog file; a suggested one.
    NoCatalogFile {
        suggestion: String,
    },
    Registered {
        target: String,
        entities: Vec<(EntityRef, bool)>,
        /// How many times the page has checked for the entities.
        polls: u32,
    },
    Failed(ApiError),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Analysis {
    #[serde(default)]
    existing_entity_files: Vec<ExistingFile>,
    #[serde(default)]
    generate_entities: Vec<GeneratedEntity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExistingFile {
    location: LocationSpec,
}

#[derive(Deserialize)]
struct GeneratedEntity {
    entity: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LocationSpec {
    #[serde(rename = "type")]
    kind: String,
    target: String,
}

#[derive(Deserialize)]
struct DryRun {
    #[serde(default)]
    exists: Option<bool>,
    #[serde(default)]
    entities: Vec<Entity>,
}

/// Whether a URL names a YAML file rather than a repository (query and
/// fragment aside).
fn is_yaml_url(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// Analyze a repository URL, then dry-run the catalog file the analysis found.
/// A file URL goes straight to the dry run, as Backstage's import page does:
/// a missing or broken file is then an error, not a suggestion to create one.
async fn analyze(url: String) -> Step {
    if is_yaml_url(&url) {
        return dry_run(url).await;
    }
    let analysis: Analysis = match post_json(
        &format!("{CATALOG_API}/analyze-location"),
        &json!({"location": {"type": "url", "target": url}}),
    )
    .await
    {
        Ok(analysis) => analysis,
        Err(error) => return Step::Failed(error),
    };
    let Some(file) = analysis.existing_entity_files.first() else {
        let suggestion = analysis
            .generate_entities
            .first()
            .map(|g| serde_json::to_string_pretty(&g.entity).unwrap_or_default())
            .unwrap_or_default();
        return Step::NoCatalogFile { suggestion };
    };
    dry_run(file.location.target.clone()).await
}

/// `POST /locations?dryRun=true`: what registering the file would add.
async fn dry_run(target: String) -> Step {
    let dry_run: Result<DryRun, _> = post_json(
        &format!("{CATALOG_API}/locations?dryRun=true"),
        &LocationSpec {
            kind: "url".into(),
            target: target.clone(),
        },
    )
    .await;
    match dry_run {
        Ok(run) => Step::Review {
            target,
            exists: run.exists.unwrap_or(false),
            // The generated Location entity is bookkeeping, not what the user adds.
            entities: run
                .entities
                .into_iter()
                .filter(|e| e.get("kind").and_then(Value::as_str) != Some("Location"))
                .collect(),
        },
        Err(error) => Step::Failed(error),
    }
}

async fn register(target: String, refs: Vec<EntityRef>) -> Step {
    let created: Result<Value, _> = post_json(
        &format!("{CATALOG_API}/locations"),
        &LocationSpec {
            kind: "url".into(),
            target: target.clone(),
        },
    )
    .await;
    match created {
        Ok(_) => Step::Registered {
            target,
            entities: refs.into_iter().map(|r| (r, false)).collect(),
            polls: 0,
        },
        Err(error) => Step::Failed(error),
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    page_title(|| "Register an existing component".to_string());
    let url = RwSignal::new(String::new());
    let step = RwSignal::new(Step::Idle);
    let can_register = use_permission(CATALOG_LOCATION_CREATE, None);
    let denied = move || can_register.get() == Some(false);
    let busy = move || matches!(step.get(), Step::Working(_)) || denied();

    let on_analyze = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let target = url.get_untracked().trim().to_string();
        if target.is_empty() {
            step.set(Step::Failed(ApiError::Status {
                status: 400,
                message: "Enter the URL of a repository or of a catalog-info.yaml file".into(),
            }));
            return;
        }
        step.set(Step::Working("Analyzing…"));
        spawn_local(async move { step.set(analyze(target).await) });
    };

    view! {
        <section class="page import">
            <h1>"Register an existing component"</h1>
            <p class="lead">
                "Point the catalog at a " <code>"catalog-info.yaml"</code>
                " in a repository. You will see what it adds before anything is registered. To check a file before it is even committed, use the "
                <A href="/catalog-import/validate">"validator"</A> "."
            </p>
            {move || denied().then(|| view! {
                <p class="warning" id="import-not-allowed" role="status">
                    "You do not have permission to register components. Ask the people who run this portal, or use the validator to check a file."
                </p>
            })}
            <form class="import-form" on:submit=on_analyze>
                <label for="import-url">"Repository or catalog-info.yaml URL"</label>
                <div class="input-row">
                    <input
                        id="import-url"
                        name="url"
                        type="url"
                        required
                        placeholder="https://github.com/org/repo/blob/main/catalog-info.yaml"
                        prop:value=move || url.get()
                        on:input=move |ev| url.set(event_target_value(&ev))
                        aria-describedby="import-url-hint"
                    />
                    <button type="submit" class="primary" disabled=busy>"Analyze"</button>
                </div>
                <p id="import-url-hint" class="muted">
                    "A repository URL is searched for catalog-info.yaml at its root."
                </p>
            </form>
            <div class="import-result" aria-live="polite">{move || step_view(step, can_register)}</div>
        </section>
    }
}

/// What the current step shows. A plain function, not a component: it runs
/// inside the caller's reactive closure, so a new step redraws it.
fn step_view(step: RwSignal<Step>, can_register: Signal<Option<bool>>) -> AnyView {
    match step.get() {
        Step::Idle => ().into_any(),
        Step::Working(what) => view! { <p class="loading" role="status">{what}</p> }.into_any(),
        Step::Failed(error) => view! {
            <section class="card import-error">
                <h2>"This location cannot be imported"</h2>
                <ErrorBox error=error />
            </section>
        }
        .into_any(),
        Step::NoCatalogFile { suggestion } => view! {
            <section class="card">
                <h2>"No catalog-info.yaml found"</h2>
                <p>"The repository has no catalog file at its root. Add one like this to the repository, then import its URL:"</p>
                <pre tabindex="0">{suggestion}</pre>
            </section>
        }
        .into_any(),
        Step::Review { target, exists, entities } => view! { <Review step=step target=target exists=exists entities=entities can_register=can_register /> }.into_any(),
        Step::Registered { target, entities, polls } => {
            view! { <Registered step=step target=target entities=entities polls=polls /> }.into_any()
        }
    }
}

#[component]
fn Review(
    step: RwSignal<Step>,
    target: String,
    exists: bool,
    entities: Vec<Entity>,
    can_register: Signal<Option<bool>>,
) -> impl IntoView {
    let refs: Vec<EntityRef> = entities.iter().filter_map(EntityRef::of_entity).collect();
    let count = entities.len();
    let on_register = {
        let target = target.clone();
        move |_| {
            let (target, refs) = (target.clone(), refs.clone());
            step.set(Step::Working("Registering…"));
            spawn_local(async move { step.set(register(target, refs).await) });
        }
    };
    let rows = entities
        .iter()
        .map(|entity| {
            let text = |section: &str, key: &str| {
                crate::entity::entity_str(entity, section, key)
                    .unwrap_or_default()
                    .to_string()
            };
            let entity_ref = EntityRef::of_entity(entity)
                .map(|r| humanize_ref(&r))
                .unwrap_or_default();
            view! {
                <tr>
                    <td>{entity.get("kind").and_then(Value::as_str).unwrap_or_default().to_string()}</td>
                    <td class="name">{entity_ref}</td>
                    <td>{text("spec", "owner")}</td>
                    <td class="description">{text("metadata", "description")}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card review" aria-labelledby="review-heading">
            <h2 id="review-heading">{format!("{count} entities would be added")}</h2>
            <p>"From " <a href=target.clone() rel="noopener noreferrer" target="_blank">{target.clone()}</a></p>
            {exists.then(|| view! { <p class="warning" role="status">"This location is already registered; registering it again is refused. Its entities refresh on their own."</p> })}
            <div class="table-wrap">
                <table class="entities compact">
                    <caption class="visually-hidden">"Entities the location would add"</caption>
                    <crate::components::HeaderRow columns=&["Kind", "Entity", "Owner", "Description"] />
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <div class="actions">
                <button
                    type="button"
                    class="primary"
                    on:click=on_register
                    disabled=move || exists || can_register.get() != Some(true)
                >
                    "Register"
                </button>
                <button type="button" on:click=move |_| step.set(Step::Idle)>"Cancel"</button>
            </div>
        </section>
    }
}

/// The registered location's entities, checked every second until each
/// exists (each check renders this again and schedules the next).
#[component]
fn Registered(
    step: RwSignal<Step>,
    target: String,
    entities: Vec<(EntityRef, bool)>,
    polls: u32,
) -> impl IntoView {
    let done = entities.iter().all(|(_, ready)| *ready);
    let gave_up = !done && polls >= POLL_TIMES;
    if !done && !gave_up {
        let target = target.clone();
        let entities = entities.clone();
        set_timeout(
            move || {
                spawn_local(async move {
                    let refs: Vec<String> = entities.iter().map(|(r, _)| r.canonical()).collect();
                    let updated = match api::fetch_by_refs(refs).await {
                        Ok(found) => entities
                            .iter()
                            .zip(found)
                            .map(|((r, _), e)| (r.clone(), e.is_some()))
                            .collect(),
                        Err(_) => entities,
                    };
                    // Only while the user is still looking at this registration.
                    if matches!(&*step.read_untracked(), Step::Registered { target: t, .. } if *t == target)
                    {
                        step.set(Step::Registered {
                            target,
                            entities: updated,
                            polls: polls + 1,
                        });
                    }
                });
            },
            POLL_EVERY,
        );
    }
    let status = if done {
        " is in the catalog."
    } else if gave_up {
        " is registered, but the catalog has not finished processing it yet; its entities appear when it has."
    } else {
        " is registered; the catalog is processing its entities…"
    };
    view! {
        <section class="card registered" aria-labelledby="registered-heading">
            <h2 id="registered-heading">"Registered"</h2>
            <p>{target}{status}</p>
            <ul class="link-list">
                {entities
                    .into_iter()
                    .map(|(r, ready)| {
                        let label = humanize_ref(&r);
                        if ready {
                            view! { <li class="ready"><A href=entity_path(&r)>{label}</A></li> }.into_any()
                        } else {
                            view! { <li class="processing">{label} " (processing)"</li> }.into_any()
                        }
                    })
                    .collect_view()}
            </ul>
            <button type="button" on:click=move |_| step.set(Step::Idle)>"Import another"</button>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::is_yaml_url;

    #[test]
    fn file_urls_are_told_from_repository_urls() {
        assert!(is_yaml_url(
            "https://github.com/acme/a/blob/main/catalog-info.yaml"
        ));
        assert!(is_yaml_url(
            "https://git.example/a/catalog.YML?ref=main#top"
        ));
        assert!(!is_yaml_url("https://github.com/acme/a"));
        assert!(!is_yaml_url("https://github.com/acme/yaml/tree/main"));
    }
}
