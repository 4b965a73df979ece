//! What the app keeps in the browser (`localStorage`): recently visited and
//! starred entities, and who the user says they are until sign-in exists.
//! The list rules are plain functions, unit-tested on the host; only
//! [`load`] and [`save`] touch the browser.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub const RECENT_KEY: &str = "greenroom.recent";
pub const STARRED_KEY: &str = "greenroom.starred";
pub const IDENTITY_KEY: &str = "greenroom.identity";
/// How many recently visited entities the home page remembers.
pub const MAX_RECENT: usize = 10;
/// Starred entities are a deliberate list; the cap only keeps storage bounded.
pub const MAX_STARRED: usize = 200;

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
