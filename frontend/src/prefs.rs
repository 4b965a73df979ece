//! What the app keeps in the browser (`localStorage`): the theme, recently
//! visited and starred entities, and who the user says they are on the home
//! page. The list rules are plain functions, unit-tested on the host; only
//! [`load`], [`save`] and the theme's `current`, `apply` and `store` touch the
//! browser.

use leptos::prelude::*;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub const RECENT_KEY: &str = "greenroom.recent";
pub const STARRED_KEY: &str = "greenroom.starred";
pub const IDENTITY_KEY: &str = "greenroom.identity";
/// How many recently visited entities the home page remembers.
pub const MAX_RECENT: usize = 10;
/// Starred entities are a deliberate list; the cap only keeps storage bounded.
pub const MAX_STARRED: usize = 200;

/// Light or dark, as `data-theme` on the document element, which the style
/// sheet follows. index.html sets it at load (stored choice, else the system
/// setting); the top bar's switch and the Settings page change it and keep
/// the choice in localStorage under the key index.html reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    const STORAGE_KEY: &'static str = "greenroom.theme";

    pub fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// Its name on screen.
    pub fn label(self) -> &'static str {
        match self {
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    pub const ALL: [Theme; 2] = [Theme::Light, Theme::Dark];

    pub fn parse(value: &str) -> Option<Theme> {
        match value {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    pub fn other(self) -> Theme {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }

    /// The theme index.html put on the document before the first paint
    /// (the stored choice, else the system's preference): one place decides.
    fn current() -> Theme {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|root| root.get_attribute("data-theme"))
            .and_then(|v| Theme::parse(&v))
            .unwrap_or(Theme::Light)
    }

    fn apply(self) {
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-theme", self.name());
        }
    }

    fn store(self) {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(Self::STORAGE_KEY, self.name());
        }
    }
}

/// The app's theme, shared by the top bar's switch and the Settings page so
/// both always show the same choice.
#[derive(Debug, Clone, Copy)]
pub struct ThemeChoice(RwSignal<Theme>);

impl ThemeChoice {
    /// Starts from the theme on the document and applies every change to it.
    pub fn provide() -> Self {
        let theme = RwSignal::new(Theme::current());
        Effect::new(move |_| theme.get().apply());
        let choice = ThemeChoice(theme);
        provide_context(choice);
        choice
    }

    pub fn get(self) -> Theme {
        self.0.get()
    }

    pub fn get_untracked(self) -> Theme {
        self.0.get_untracked()
    }

    /// Shows `theme` and remembers it for the next visit.
    pub fn choose(self, theme: Theme) {
        theme.store();
        self.0.set(theme);
    }
}

/// The shared theme (the app provides it once, above every page).
pub fn use_theme() -> ThemeChoice {
    use_context::<ThemeChoice>().unwrap_or_else(ThemeChoice::provide)
}

/// An entity as the lists remember it: enough to show a link without a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedEntity {
    /// Canonical `kind:namespace/name`.
    #[serde(rename = "ref")]
    pub entity_ref: String,
    pub title: String,
    pub kind: String,
    /// The app's page for it.
    pub href: String,
}

/// `item` first, without an older copy of it, at most `max` long.
pub fn with_visit(mut list: Vec<SavedEntity>, item: SavedEntity, max: usize) -> Vec<SavedEntity> {
    list.retain(|e| e.entity_ref != item.entity_ref);
    list.insert(0, item);
    list.truncate(max);
    list
}

/// Stars `item`, or unstars it when it is starred; starred items keep their order.
pub fn with_star_toggled(mut list: Vec<SavedEntity>, item: SavedEntity) -> Vec<SavedEntity> {
    if list.iter().any(|e| e.entity_ref == item.entity_ref) {
        list.retain(|e| e.entity_ref != item.entity_ref);
    } else if list.len() < MAX_STARRED {
        list.push(item);
    }
    list
}

pub fn is_starred(list: &[SavedEntity], entity_ref: &str) -> bool {
    list.iter().any(|e| e.entity_ref == entity_ref)
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The value stored under `key`, or the default when absent, unreadable or
/// written by another version (storage is the user's, never trusted).
pub fn load<T: DeserializeOwned + Default>(key: &str) -> T {
    storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Stores `value` under `key`; a full or disabled storage is not an error worth
/// showing (the lists are a convenience).
pub fn save<T: Serialize>(key: &str, value: &T) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(value)) {
        let _ = storage.set_item(key, &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(name: &str) -> SavedEntity {
        SavedEntity {
            entity_ref: format!("component:default/{name}"),
            title: name.to_string(),
            kind: "Component".into(),
            href: format!("/catalog/default/component/{name}"),
        }
    }

    fn names(list: &[SavedEntity]) -> Vec<&str> {
        list.iter().map(|e| e.title.as_str()).collect()
    }

    #[test]
    fn themes_round_trip_through_their_names() {
        for theme in [Theme::Light, Theme::Dark] {
            assert_eq!(Theme::parse(theme.name()), Some(theme));
            assert_eq!(theme.other().other(), theme);
        }
        assert_eq!(Theme::parse("sepia"), None);
    }

    #[test]
    fn a_visit_moves_to_the_front_once() {
        let list = vec![saved("a"), saved("b"), saved("c")];
        let list = with_visit(list, saved("c"), MAX_RECENT);
        assert_eq!(names(&list), ["c", "a", "b"]);
    }

    #[test]
    fn visits_keep_at_most_the_limit() {
        let mut list = Vec::new();
        for i in 0..15 {
            list = with_visit(list, saved(&format!("e{i}")), MAX_RECENT);
        }
        assert_eq!(list.len(), MAX_RECENT);
        assert_eq!(list[0].title, "e14");
    }

    #[test]
    fn starring_twice_unstars() {
        let list = with_star_toggled(vec![saved("a")], saved("b"));
        assert!(is_starred(&list, "component:default/b"));
        assert_eq!(names(&list), ["a", "b"]);
        let list = with_star_toggled(list, saved("a"));
        assert_eq!(names(&list), ["b"]);
        assert!(!is_starred(&list, "component:default/a"));
    }

    #[test]
    fn stored_lists_are_json_with_the_ref_key() {
        let text = serde_json::to_string(&vec![saved("a")]).unwrap();
        assert!(text.contains(r#""ref":"component:default/a""#), "{text}");
        let back: Vec<SavedEntity> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, vec![saved("a")]);
    }
}
