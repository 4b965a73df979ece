//! `/create/actions`: the actions template steps can use, each with its
//! description and the properties of its input and output, narrowed by a
//! text filter.

use crate::components::{load_view, HeaderRow};
use crate::scaffolder::fetch_actions;
use crate::shell::page_title;
use greenroom_model::scaffolder::ActionInfo;
use leptos::prelude::*;
use serde_json::Value;

/// One property of an action's input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyRow {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

/// A schema's type in words: `string`, `array of string`, `"a" | "b"`.
fn type_text(schema: &Value) -> String {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    match schema.get("type") {
        Some(Value::String(t)) if t == "array" => match schema.get("items") {
            Some(items) if items.get("type").is_some() || items.get("enum").is_some() => {
                format!("array of {}", type_text(items))
            }
            _ => "array".to_string(),
        },
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ if schema
            .get("oneOf")
            .or_else(|| schema.get("anyOf"))
            .is_some() =>
        {
            "one of several".into()
        }
        _ => "any".to_string(),
    }
}

/// The properties of an input or output schema, in order.
pub fn property_rows(schema: Option<&Value>) -> Vec<PropertyRow> {
    let Some(schema) = schema else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, property)| PropertyRow {
                    name: name.clone(),
                    kind: type_text(property),
                    required: required.contains(&name.as_str()),
                    description: property
                        .get("description")
                        .or_else(|| property.get("title"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[component]
pub fn ActionsPage() -> impl IntoView {
    page_title(|| "Installed actions · Create".to_string());
    let actions = LocalResource::new(fetch_actions);
    let text = RwSignal::new(String::new());
    view! {
        <section class="page actions">
            <nav class="breadcrumbs" aria-label="Breadcrumbs">
                <a href="/create">"Create"</a>
            </nav>
            <h1>"Installed actions"</h1>
            <p class="lead">"The actions a template's steps can run, with their input and output."</p>
            <form class="template-search" role="search" aria-label="Actions" on:submit=|ev| ev.prevent_default()>
                <label for="action-search">"Filter actions"</label>
                <input
                    id="action-search"
                    type="search"
                    autocomplete="off"
                    placeholder="Action id or description"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
            </form>
            {load_view(actions, "actions", move |list| action_list(list, text))}
        </section>
    }
}

fn action_list(list: Vec<ActionInfo>, text: RwSignal<String>) -> impl IntoView {
    let mut list = list;
    list.sort_by(|a, b| a.id.cmp(&b.id));
    let total = list.len();
    let list = StoredValue::new(list);
    let shown = Memo::new(move |_| {
        let needle = text.get().trim().to_lowercase();
        list.with_value(|l| {
            l.iter()
                .filter(|a| {
                    needle.is_empty()
                        || a.id.to_lowercase().contains(&needle)
                        || a.description.to_lowercase().contains(&needle)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <p class="muted summary" role="status">
            {move || {
                let n = shown.with(Vec::len);
                if n == total { format!("{total} actions") } else { format!("Showing {n} of {total} actions") }
            }}
        </p>
        <div class="action-list">
            {move || shown.get().into_iter().map(|action| view! { <ActionCard action=action /> }).collect_view()}
        </div>
    }
}

#[component]
fn ActionCard(action: ActionInfo) -> impl IntoView {
    let anchor = format!(
        "action-{}",
        action.id.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let input = property_rows(action.schema.input.as_ref());
    let output = property_rows(action.schema.output.as_ref());
    let table = |caption: String, rows: Vec<PropertyRow>| {
        if rows.is_empty() {
            return view! { <p class="muted">"None."</p> }.into_any();
        }
        view! {
            <div class="table-wrap">
                <table class="entities compact">
                    <caption class="visually-hidden">{caption}</caption>
                    <HeaderRow columns=&["Name", "Type", "Required", "Description"] />
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|row| {
                                view! {
                                    <tr>
                                        <td><code>{row.name}</code></td>
                                        <td><code>{row.kind}</code></td>
                                        <td>{if row.required { "Yes" } else { "No" }}</td>
                                        <td class="description">{row.description}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let id = action.id.clone();
    view! {
        <section class="card action" id=anchor.clone() aria-labelledby=format!("{anchor}-heading")>
            <h2 id=format!("{anchor}-heading")><code>{action.id.clone()}</code></h2>
            <p>{action.description.clone()}</p>
            <h3>"Input"</h3>
            {table(format!("Input of {id}"), input)}
            <h3>"Output"</h3>
            {table(format!("Output of {id}"), output)}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn properties_read_as_rows() {
        let schema = json!({
            "type": "object",
            "required": ["url"],
            "properties": {
                "url": {"type": "string", "description": "Where to fetch from"},
                "values": {"type": "object", "title": "Template values"},
                "targets": {"type": "array", "items": {"type": "string"}},
                "mode": {"enum": ["a", "b"]},
                "x": {}
            }
        });
        let rows = property_rows(Some(&schema));
        let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "string",
                "object",
                "array of string",
                "\"a\" | \"b\"",
                "any"
            ]
        );
        assert!(rows[0].required && !rows[1].required);
        assert_eq!(rows[1].description, "Template values");
        assert!(property_rows(None).is_empty());
    }
}
