//! `/create`: the Software Templates of the catalog as cards (title,
//! description, type, tags, owner), narrowed as the user types in the search
//! box and by tag chips; both live in the address (`?q=...&tags=a,b`). Each
//! card's "Choose" link opens the template's form.

use crate::catalog_query::with_params;
use crate::components::{load_view, RegisterLink};
use crate::entity::{entity_str, namespace_of, tags, EntityLink};
use crate::scaffolder::{fetch_templates, template_form_path};
use crate::shell::page_title;
use greenroom_model::{Entity, EntityRef};
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

/// What a template card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateCard {
    pub namespace: String,
    pub name: String,
    pub title: String,
    pub description: String,
    pub spec_type: String,
    pub tags: Vec<String>,
    pub owner: Option<EntityLink>,
    pub owner_text: String,
}

impl TemplateCard {
    pub fn of(entity: &Entity) -> Self {
        let name = entity_str(entity, "metadata", "name")
            .unwrap_or_default()
            .to_string();
        let namespace = namespace_of(entity).to_string();
        let owner_text = entity_str(entity, "spec", "owner")
            .unwrap_or_default()
            .to_string();
        TemplateCard {
            title: entity_str(entity, "metadata", "title")
                .filter(|t| !t.is_empty())
                .unwrap_or(&name)
                .to_string(),
            description: entity_str(entity, "metadata", "description")
                .unwrap_or_default()
                .to_string(),
            spec_type: entity_str(entity, "spec", "type")
                .unwrap_or_default()
                .to_string(),
            tags: tags(entity),
            owner: EntityRef::parse(&owner_text, Some("Group"), &namespace)
                .ok()
                .map(|r| EntityLink::to(&r)),
            owner_text,
            name,
            namespace,
        }
    }

    /// Whether the card matches the typed text (in its title, name,
    /// description or tags, ignoring case) and carries every chosen tag.
    pub fn matches(&self, text: &str, chosen: &[String]) -> bool {
        let text = text.trim().to_lowercase();
        let in_text = text.is_empty()
            || [&self.title, &self.name, &self.description]
                .iter()
                .any(|field| field.to_lowercase().contains(&text))
            || self.tags.iter().any(|t| t.to_lowercase().contains(&text));
        in_text
            && chosen
                .iter()
                .all(|tag| self.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)))
    }
}

/// Every tag of the cards with how many cards carry it, by name.
pub fn tag_counts(cards: &[TemplateCard]) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for card in cards {
        for tag in &card.tags {
            *counts.entry(tag.to_lowercase()).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

/// The page's address for a search text and chosen tags.
pub fn create_path(text: &str, chosen: &[String]) -> String {
    let mut params = Vec::new();
    if !text.trim().is_empty() {
        params.push(("q", text.to_string()));
    }
    if !chosen.is_empty() {
        params.push(("tags", chosen.join(",")));
    }
    with_params("/create", &params)
}

fn parse_tags(raw: Option<String>) -> Vec<String> {
    raw.unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// How long the address waits after the last change of the filters.
const ADDRESS_DEBOUNCE_MS: u64 = 250;

#[component]
pub fn CreatePage() -> impl IntoView {
    page_title(|| "Create a new component".to_string());
    let query = use_query_map();
    let from_address =
        move || query.with(|q| (q.get("q").unwrap_or_default(), parse_tags(q.get("tags"))));
    let (initial_text, initial_tags) = from_address();
    // The filters are the page's own signals, so typing filters at once; the
    // address follows shortly after (replacing the entry: typing is not
    // navigation). `written` is the address last written, so its echo is not
    // taken for a new address (back, forward, the sidebar link).
    let written = StoredValue::new(create_path(&initial_text, &initial_tags));
    let text = RwSignal::new(initial_text);
    let chosen = RwSignal::new(initial_tags);
    Effect::new(move |_| {
        let (q, t) = from_address();
        let path = create_path(&q, &t);
        if path != written.get_value() {
            written.set_value(path);
            text.set(q);
            chosen.set(t);
        }
    });
    let navigate = use_navigate();
    let pending: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    Effect::new(move |_| {
        text.track();
        chosen.track();
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let navigate = navigate.clone();
        let handle = set_timeout_with_handle(
            move || {
                let path = create_path(&text.get_untracked(), &chosen.get_untracked());
                if path != written.get_value() {
                    written.set_value(path.clone());
                    navigate(
                        &path,
                        NavigateOptions {
                            replace: true,
                            scroll: false,
                            ..Default::default()
                        },
                    );
                }
            },
            std::time::Duration::from_millis(ADDRESS_DEBOUNCE_MS),
        )
        .ok();
        pending.set_value(handle);
    });
    let templates = LocalResource::new(|| async {
        fetch_templates()
            .await
            .map(|entities| entities.iter().map(TemplateCard::of).collect::<Vec<_>>())
    });
    view! {
        <section class="page create">
            <h1>"Create a new component"</h1>
            <p class="lead">"Create new software components from standard templates."</p>
            <ul class="create-links">
                <li><A href="/create/tasks">"Task list"</A></li>
                <li><A href="/create/actions">"Installed actions"</A></li>
                <RegisterLink />
            </ul>
            <form class="template-search" role="search" aria-label="Templates" on:submit=|ev| ev.prevent_default()>
                <label for="template-search">"Search templates"</label>
                <input
                    id="template-search"
                    name="q"
                    type="search"
                    autocomplete="off"
                    placeholder="Title, description or tag"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
            </form>
            {load_view(templates, "templates", move |cards| template_cards(cards, text, chosen))}
        </section>
    }
}

/// The tag chips and the cards that match. A plain function run inside the
/// resource's closure; the filtering inside reacts to the signals.
fn template_cards(
    cards: Vec<TemplateCard>,
    text: RwSignal<String>,
    chosen: RwSignal<Vec<String>>,
) -> impl IntoView {
    if cards.is_empty() {
        return view! {
            <p class="empty" role="status">
                "No templates are registered. A template is a catalog entity of kind Template; "
                <a href="/catalog-import">"register"</a>
                " the file that describes one."
            </p>
        }
        .into_any();
    }
    let total = cards.len();
    let tags = tag_counts(&cards);
    let cards = StoredValue::new(cards);
    let shown = Memo::new(move |_| {
        let text = text.get();
        let chosen = chosen.get();
        cards.with_value(|cards| {
            cards
                .iter()
                .filter(|c| c.matches(&text, &chosen))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let chips = (!tags.is_empty()).then(|| {
        let chips = tags
            .into_iter()
            .map(|(tag, count)| {
                let pressed = {
                    let tag = tag.clone();
                    move || chosen.with(|c| c.contains(&tag))
                };
                let toggle = {
                    let tag = tag.clone();
                    move |_| {
                        chosen.update(|c| {
                            if let Some(i) = c.iter().position(|t| *t == tag) {
                                c.remove(i);
                            } else {
                                c.push(tag.clone());
                            }
                        })
                    }
                };
                view! {
                    <li>
                        <button type="button" class="chip" aria-pressed=move || pressed().to_string() on:click=toggle>
                            {tag}
                            <span class="chip-count">{format!(" ({count})")}</span>
                        </button>
                    </li>
                }
            })
            .collect_view();
        view! {
            <div class="tag-filter">
                <h2 id="tag-filter-heading" class="filter-heading">"Tags"</h2>
                <ul class="chips" aria-labelledby="tag-filter-heading">{chips}</ul>
            </div>
        }
    });
    let clear = move |_| {
        text.set(String::new());
        chosen.set(Vec::new());
    };
    view! {
        {chips}
        <p class="muted summary" role="status">
            {move || {
                let n = shown.with(Vec::len);
                if n == total { format!("{total} templates") } else { format!("Showing {n} of {total} templates") }
            }}
        </p>
        {move || {
            let cards = shown.get();
            if cards.is_empty() {
                return view! {
                    <p class="empty">
                        "No templates match. "
                        <button type="button" class="link-button" on:click=clear>"Clear the search and tags"</button>
                    </p>
                }
                .into_any();
            }
            view! {
                <ul class="cards template-cards">
                    {cards.into_iter().map(|card| view! { <TemplateCardView card=card /> }).collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
    .into_any()
}

#[component]
fn TemplateCardView(card: TemplateCard) -> impl IntoView {
    let href = template_form_path(&card.namespace, &card.name);
    let owner = match card.owner {
        Some(link) => view! { <a href=link.href>{link.label}</a> }.into_any(),
        None => view! { <span>{card.owner_text}</span> }.into_any(),
    };
    let title = card.title.clone();
    view! {
        <li class="card template-card" data-template=card.name.clone()>
            <div class="template-card-head">
                <h2>{card.title}</h2>
                {(!card.spec_type.is_empty()).then(|| view! { <span class="template-type">{card.spec_type}</span> })}
            </div>
            <p class="description">{card.description}</p>
            {(!card.tags.is_empty())
                .then(|| {
                    view! {
                        <ul class="tags" aria-label="Tags">
                            {card.tags.into_iter().map(|t| view! { <li class="tag">{t}</li> }).collect_view()}
                        </ul>
                    }
                })}
            <p class="owner"><span class="muted">"Owner: "</span>{owner}</p>
            <a class="button primary choose" href=href>
                "Choose"
                <span class="visually-hidden">{format!(" {title}")}</span>
            </a>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn card(v: serde_json::Value) -> TemplateCard {
        TemplateCard::of(v.as_object().unwrap())
    }

    #[test]
    fn cards_read_their_entity() {
        let c = card(json!({
            "kind": "Template",
            "metadata": {"name": "rust-service", "title": "Rust service", "description": "An Axum service", "tags": ["rust", "recommended"]},
            "spec": {"type": "service", "owner": "team-a"}
        }));
        assert_eq!(c.title, "Rust service");
        assert_eq!(c.namespace, "default");
        assert_eq!(c.spec_type, "service");
        assert_eq!(
            c.owner.as_ref().unwrap().href,
            "/catalog/default/group/team-a"
        );
        let untitled = card(
            json!({"kind": "Template", "metadata": {"name": "x", "namespace": "ops"}, "spec": {}}),
        );
        assert_eq!(untitled.title, "x");
        assert!(untitled.owner.is_none());
    }

    #[test]
    fn search_and_tags_narrow_the_cards() {
        let c = card(json!({
            "kind": "Template",
            "metadata": {"name": "rust-service", "title": "Rust service", "description": "An Axum service", "tags": ["rust", "Recommended"]},
            "spec": {}
        }));
        assert!(c.matches("", &[]));
        assert!(c.matches("  RUST ", &[]));
        assert!(c.matches("axum", &[]));
        assert!(c.matches("recomm", &[]));
        assert!(!c.matches("python", &[]));
        assert!(c.matches("", &["recommended".into()]));
        assert!(!c.matches("", &["recommended".into(), "go".into()]));
        assert_eq!(
            tag_counts(&[c.clone(), c]),
            [("recommended".to_string(), 2), ("rust".to_string(), 2)]
        );
    }

    #[test]
    fn the_address_keeps_the_filters() {
        assert_eq!(create_path("", &[]), "/create");
        assert_eq!(
            create_path("rust svc", &["a".into(), "b".into()]),
            "/create?q=rust%20svc&tags=a%2Cb"
        );
        assert_eq!(parse_tags(Some("A, b,,".into())), ["a", "b"]);
    }
}
