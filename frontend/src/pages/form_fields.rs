//! The controls of a template's parameter form, one per kind of field (see
//! `schema_form::Widget`): each reads and writes its field's entry of the
//! form's values, is labelled, and points at its description, help and
//! error with `aria-describedby`.

use std::collections::BTreeMap;

use crate::api::{get_json, EntitiesPage};
use crate::entity::entity_str;
use crate::schema_form::{
    display_scalar, entity_ref_string, parse_number, picker_url, Choice, Field, PickerOptions,
    RepoOptions, RepoUrl, Values, Widget,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

/// One field's connection to the form: its value, its error, its ids.
#[derive(Clone)]
pub struct Control {
    pub field: Field,
    pub id: String,
    pub values: RwSignal<Values>,
    pub errors: RwSignal<BTreeMap<String, String>>,
    pub described_by: Signal<Option<String>>,
    pub invalid: Signal<bool>,
}

impl Control {
    /// The field's value (tracked).
    pub fn value(&self) -> Option<Value> {
        self.values.with(|v| v.get(&self.field.name).cloned())
    }

    /// Sets (or, with `None`, clears) the value; the field's error goes
    /// until the next check.
    pub fn set(&self, value: Option<Value>) {
        let name = &self.field.name;
        self.values.update(|v| match value {
            Some(value) => {
                v.insert(name.clone(), value);
            }
            None => {
                v.remove(name);
            }
        });
        if self.errors.with_untracked(|e| e.contains_key(name)) {
            self.errors.update(|e| {
                e.remove(name);
            });
        }
    }

    fn text(&self) -> String {
        self.value()
            .as_ref()
            .map(display_scalar)
            .unwrap_or_default()
    }

    fn set_text(&self, text: String) {
        self.set((!text.is_empty()).then_some(Value::String(text)));
    }

    fn required(&self) -> Option<&'static str> {
        self.field.required.then_some("true")
    }

    fn aria_invalid(&self) -> impl Fn() -> Option<&'static str> + Send + Sync + 'static {
        let invalid = self.invalid;
        move || invalid.get().then_some("true")
    }
}

/// The label's text with the required mark (the control says "required"
/// itself with `aria-required`).
fn label_text(field: &Field) -> impl IntoView {
    let mark = field
        .required
        .then(|| view! { <span class="required-mark" aria-hidden="true">" *"</span> });
    view! { {field.title.clone()} {mark} }
}

/// A group's legend: the title and, for screen readers, "required" in words.
fn legend_text(field: &Field) -> impl IntoView {
    let mark = field.required.then(|| {
        view! {
            <span class="required-mark" aria-hidden="true">" *"</span>
            <span class="visually-hidden">" (required)"</span>
        }
    });
    view! { {field.title.clone()} {mark} }
}

/// One field: label, description, control, help and error.
#[component]
pub fn FieldView(
    field: Field,
    values: RwSignal<Values>,
    errors: RwSignal<BTreeMap<String, String>>,
) -> impl IntoView {
    if field.widget == Widget::Hidden {
        return ().into_any();
    }
    let id = field.control_id();
    let description_id = field
        .description
        .as_ref()
        .map(|_| format!("{id}-description"));
    let help_id = field.help.as_ref().map(|_| format!("{id}-help"));
    let error_id = format!("{id}-error");
    let name = field.name.clone();
    let error = Memo::new(move |_| errors.with(|e| e.get(&name).cloned()));
    let described_by = {
        let (description_id, help_id, error_id) =
            (description_id.clone(), help_id.clone(), error_id.clone());
        Signal::derive(move || {
            let ids: Vec<&str> = [
                description_id.as_deref(),
                help_id.as_deref(),
                error.with(|e| e.is_some()).then_some(error_id.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect();
            (!ids.is_empty()).then(|| ids.join(" "))
        })
    };
    let control = Control {
        field: field.clone(),
        id: id.clone(),
        values,
        errors,
        described_by,
        invalid: Signal::derive(move || error.with(|e| e.is_some())),
    };
    let description = field.description.clone().map(|text| {
        view! { <p id=description_id.clone().unwrap_or_default() class="field-description">{text}</p> }
    });
    let help = field.help.clone().map(
        |text| view! { <p id=help_id.clone().unwrap_or_default() class="field-help">{text}</p> },
    );
    let error_view = move || {
        error.get().map(|message| {
            view! {
                <p id=error_id.clone() class="field-error">
                    <span aria-hidden="true">"⚠ "</span>
                    {message}
                </p>
            }
        })
    };
    let name = field.name.clone();
    match &field.widget {
        Widget::Checkbox => view! {
            <div class="field field-checkbox" data-field=name>
                <div class="check-row">
                    {checkbox(control.clone())}
                    <label for=id>{label_text(&field)}</label>
                </div>
                {description}
                {help}
                {error_view}
            </div>
        }
        .into_any(),
        Widget::Radio(_) | Widget::MultiCheck(_) | Widget::StringList | Widget::RepoUrl(_) => {
            let described_by = control.described_by;
            view! {
                <fieldset class="field field-group" data-field=name aria-describedby=move || described_by.get()>
                    <legend>{legend_text(&field)}</legend>
                    {description}
                    {group_control(control)}
                    {help}
                    {error_view}
                </fieldset>
            }
            .into_any()
        }
        _ => view! {
            <div class="field" data-field=name>
                <label for=id>{label_text(&field)}</label>
                {description}
                {single_control(control)}
                {help}
                {error_view}
            </div>
        }
        .into_any(),
    }
}

fn single_control(c: Control) -> AnyView {
    match c.field.widget.clone() {
        Widget::Text | Widget::Password => text_input(c).into_any(),
        Widget::Textarea { rows } => textarea(c, rows).into_any(),
        Widget::Number { integer } => number_input(c, integer).into_any(),
        Widget::Select(choices) => select(c, choices).into_any(),
        Widget::Entity(options) => {
            view! { <EntityCombobox control=c options=options /> }.into_any()
        }
        Widget::Json => json_input(c).into_any(),
        _ => ().into_any(),
    }
}

fn group_control(c: Control) -> AnyView {
    match c.field.widget.clone() {
        Widget::Radio(choices) => radios(c, choices).into_any(),
        Widget::MultiCheck(choices) => multi_check(c, choices).into_any(),
        Widget::StringList => view! { <StringList control=c /> }.into_any(),
        Widget::RepoUrl(options) => {
            view! { <RepoUrlPicker control=c options=options /> }.into_any()
        }
        _ => ().into_any(),
    }
}

fn text_input(c: Control) -> impl IntoView {
    let kind = if c.field.widget == Widget::Password {
        "password"
    } else {
        "text"
    };
    let (value, input) = (c.clone(), c.clone());
    view! {
        <input
            type=kind
            id=c.id.clone()
            name=c.field.name.clone()
            autocomplete=if kind == "password" { "new-password" } else { "off" }
            placeholder=c.field.placeholder.clone()
            readonly=c.field.readonly
            data-autofocus=c.field.autofocus.then_some("true")
            aria-required=c.required()
            aria-invalid=c.aria_invalid()
            aria-describedby=move || c.described_by.get()
            prop:value=move || value.text()
            on:input=move |ev| input.set_text(event_target_value(&ev))
        />
    }
}

fn textarea(c: Control, rows: u32) -> impl IntoView {
    let (value, input) = (c.clone(), c.clone());
    view! {
        <textarea
            id=c.id.clone()
            name=c.field.name.clone()
            rows=rows.to_string()
            placeholder=c.field.placeholder.clone()
            readonly=c.field.readonly
            data-autofocus=c.field.autofocus.then_some("true")
            aria-required=c.required()
            aria-invalid=c.aria_invalid()
            aria-describedby=move || c.described_by.get()
            prop:value=move || value.text()
            on:input=move |ev| input.set_text(event_target_value(&ev))
        ></textarea>
    }
}

/// The box keeps the text as typed (`1.` on the way to `1.5`); the value is
/// the number it reads as. A value set from elsewhere (a default) replaces the text.
fn number_input(c: Control, integer: bool) -> impl IntoView {
    let shown = |value: Option<Value>| value.as_ref().map(display_scalar).unwrap_or_default();
    let text = RwSignal::new(shown(
        c.values.with_untracked(|v| v.get(&c.field.name).cloned()),
    ));
    {
        let c = c.clone();
        Effect::new(move |_| {
            let value = c.value();
            let typed = text.get_untracked();
            if parse_number(&typed) != value && !(typed.is_empty() && value.is_none()) {
                text.set(shown(value));
            }
        });
    }
    let bound = |key: &str| {
        c.field
            .schema
            .get(key)
            .and_then(Value::as_f64)
            .map(|n| n.to_string())
    };
    let input = c.clone();
    view! {
        <input
            type="number"
            id=c.id.clone()
            name=c.field.name.clone()
            min=bound("minimum")
            max=bound("maximum")
            step=if integer { "1" } else { "any" }
            placeholder=c.field.placeholder.clone()
            readonly=c.field.readonly
            data-autofocus=c.field.autofocus.then_some("true")
            aria-required=c.required()
            aria-invalid=c.aria_invalid()
            aria-describedby=move || c.described_by.get()
            prop:value=move || text.get()
            on:input=move |ev| {
                let typed = event_target_value(&ev);
                let parsed = parse_number(&typed);
                text.set(typed);
                input.set(parsed);
            }
        />
    }
}

fn checkbox(c: Control) -> impl IntoView {
    let (value, input) = (c.clone(), c.clone());
    view! {
        <input
            type="checkbox"
            id=c.id.clone()
            name=c.field.name.clone()
            disabled=c.field.readonly
            data-autofocus=c.field.autofocus.then_some("true")
            aria-invalid=c.aria_invalid()
            aria-describedby=move || c.described_by.get()
            prop:checked=move || value.value() == Some(Value::Bool(true))
            on:change=move |ev| input.set(Some(Value::Bool(event_target_checked(&ev))))
        />
    }
}

fn select(c: Control, choices: Vec<Choice>) -> impl IntoView {
    let on_change = {
        let c = c.clone();
        let choices = choices.clone();
        move |ev| {
            let chosen = event_target_value(&ev)
                .parse::<usize>()
                .ok()
                .and_then(|i| choices.get(i))
                .map(|choice| choice.value.clone());
            c.set(chosen);
        }
    };
    let value = c.clone();
    let current = Memo::new(move |_| value.value());
    let options = choices
        .into_iter()
        .enumerate()
        .map(|(i, choice)| {
            let wanted = choice.value.clone();
            view! {
                <option value=i.to_string() prop:selected=move || current.with(|v| v.as_ref() == Some(&wanted))>
                    {choice.label}
                </option>
            }
        })
        .collect_view();
    view! {
        <select
            id=c.id.clone()
            name=c.field.name.clone()
            disabled=c.field.readonly
            data-autofocus=c.field.autofocus.then_some("true")
            aria-required=c.required()
            aria-invalid=c.aria_invalid()
            aria-describedby=move || c.described_by.get()
            on:change=on_change
        >
            <option value="" prop:selected=move || current.with(Option::is_none)>
                {c.field.placeholder.clone().unwrap_or_else(|| "Choose…".to_string())}
            </option>
            {options}
        </select>
    }
}

fn radios(c: Control, choices: Vec<Choice>) -> impl IntoView {
    let value = c.clone();
    let current = Memo::new(move |_| value.value());
    choices
        .into_iter()
        .enumerate()
        .map(|(i, choice)| {
            let id = if i == 0 {
                c.id.clone()
            } else {
                format!("{}-{i}", c.id)
            };
            let wanted = choice.value.clone();
            let input = c.clone();
            let chosen = choice.value.clone();
            view! {
                <label class="check">
                    <input
                        type="radio"
                        id=id
                        name=c.id.clone()
                        disabled=c.field.readonly
                        prop:checked=move || current.with(|v| v.as_ref() == Some(&wanted))
                        on:change=move |_| input.set(Some(chosen.clone()))
                    />
                    {choice.label}
                </label>
            }
        })
        .collect_view()
}

/// A checkbox per allowed item; the value lists the checked ones in the
/// schema's order.
fn multi_check(c: Control, choices: Vec<Choice>) -> impl IntoView {
    let value = c.clone();
    let current = Memo::new(move |_| match value.value() {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    });
    let all: Vec<Value> = choices.iter().map(|c| c.value.clone()).collect();
    choices
        .into_iter()
        .enumerate()
        .map(|(i, choice)| {
            let id = if i == 0 {
                c.id.clone()
            } else {
                format!("{}-{i}", c.id)
            };
            let wanted = choice.value.clone();
            let (input, all) = (c.clone(), all.clone());
            let toggled = choice.value.clone();
            view! {
                <label class="check">
                    <input
                        type="checkbox"
                        id=id
                        disabled=c.field.readonly
                        prop:checked=move || current.with(|v| v.contains(&wanted))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            let mut chosen = current.get_untracked();
                            chosen.retain(|v| *v != toggled);
                            if on {
                                chosen.push(toggled.clone());
                            }
                            let ordered: Vec<Value> = all.iter().filter(|v| chosen.contains(v)).cloned().collect();
                            input.set((!ordered.is_empty()).then_some(Value::Array(ordered)));
                        }
                    />
                    {choice.label}
                </label>
            }
        })
        .collect_view()
}

fn focus_element(id: &str) {
    use wasm_bindgen::JsCast;
    let id = id.to_string();
    request_animation_frame(move || {
        if let Some(element) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
}

/// Free-text rows with Add and Remove buttons.
#[component]
fn StringList(control: Control) -> impl IntoView {
    let c = control;
    let items = {
        let c = c.clone();
        Memo::new(move |_| match c.value() {
            Some(Value::Array(items)) => items.iter().map(display_scalar).collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    };
    let count = Memo::new(move |_| items.with(Vec::len));
    let write = {
        let c = c.clone();
        move |list: Vec<String>| {
            c.set(
                (!list.is_empty())
                    .then(|| Value::Array(list.into_iter().map(Value::String).collect())),
            )
        }
    };
    let title = c.field.title.clone();
    let id = c.id.clone();
    let rows = {
        let (write, title, id, c) = (write.clone(), title.clone(), id.clone(), c.clone());
        move || {
            (0..count.get())
                .map(|i| {
                    let row_id = if i == 0 { id.clone() } else { format!("{id}-{i}") };
                    let label = format!("{title} {}", i + 1);
                    let (write_row, write_remove) = (write.clone(), write.clone());
                    let add_id = format!("{id}-add");
                    let row_id_of = {
                        let id = id.clone();
                        move |n: usize| if n == 0 { id.clone() } else { format!("{id}-{n}") }
                    };
                    view! {
                        <li class="list-row">
                            <label class="visually-hidden" for=row_id.clone()>{label.clone()}</label>
                            <input
                                type="text"
                                id=row_id
                                readonly=c.field.readonly
                                aria-invalid=c.aria_invalid()
                                prop:value=move || items.with(|v| v.get(i).cloned().unwrap_or_default())
                                on:input=move |ev| {
                                    let mut list = items.get_untracked();
                                    if let Some(item) = list.get_mut(i) {
                                        *item = event_target_value(&ev);
                                    }
                                    write_row(list);
                                }
                            />
                            <button
                                type="button"
                                disabled=c.field.readonly
                                on:click=move |_| {
                                    let mut list = items.get_untracked();
                                    if i < list.len() {
                                        list.remove(i);
                                    }
                                    let left = list.len();
                                    write_remove(list);
                                    // The focus goes to the row that took this one's place, else the last row or Add.
                                    focus_element(&if left == 0 { add_id.clone() } else { row_id_of(i.min(left - 1)) });
                                }
                            >
                                "Remove"
                                <span class="visually-hidden">{format!(" {label}")}</span>
                            </button>
                        </li>
                    }
                })
                .collect_view()
        }
    };
    let add_id = format!("{id}-add");
    let on_add = move |_| {
        let mut list = items.get_untracked();
        list.push(String::new());
        let n = list.len();
        write(list);
        focus_element(&if n == 1 {
            id.clone()
        } else {
            format!("{id}-{}", n - 1)
        });
    };
    view! {
        <ul class="string-list">{rows}</ul>
        <button type="button" id=add_id class="add-row" disabled=c.field.readonly on:click=on_add>
            "Add"
            <span class="visually-hidden">{format!(" to {title}")}</span>
        </button>
    }
}

/// Host, owner and repository; a select where the template lists the
/// allowed values, a text box otherwise.
#[component]
fn RepoUrlPicker(control: Control, options: RepoOptions) -> impl IntoView {
    let c = control;
    let parts = {
        let c = c.clone();
        Memo::new(move |_| RepoUrl::parse(&c.text()))
    };
    let default_host = options.allowed_hosts.first().cloned().unwrap_or_default();
    let update = {
        let c = c.clone();
        move |change: &dyn Fn(&mut RepoUrl)| {
            let mut next = parts.get_untracked();
            if next.host.is_empty() {
                next.host = default_host.clone();
            }
            change(&mut next);
            if next.owner.is_empty()
                && next.repo.is_empty()
                && (next.host.is_empty() || next.host == default_host)
            {
                c.set(None);
            } else {
                c.set(Some(Value::String(next.to_value())));
            }
        }
    };
    let part = |key: &'static str,
                label: &'static str,
                id: String,
                allowed: Vec<String>,
                placeholder: &'static str,
                get: fn(&RepoUrl) -> String,
                put: fn(&mut RepoUrl, String)| {
        let update = update.clone();
        let c = c.clone();
        let on_value = move |value: String| update(&move |p: &mut RepoUrl| put(p, value.clone()));
        let control = if allowed.is_empty() {
            let on_value = on_value.clone();
            view! {
                <input
                    type="text"
                    id=id.clone()
                    autocomplete="off"
                    placeholder=placeholder
                    readonly=c.field.readonly
                    aria-required=c.required()
                    aria-invalid=c.aria_invalid()
                    prop:value=move || parts.with(get)
                    on:input=move |ev| on_value(event_target_value(&ev))
                />
            }
            .into_any()
        } else {
            let first = allowed.first().cloned().unwrap_or_default();
            let options = allowed
                .into_iter()
                .map(|value| {
                    let wanted = value.clone();
                    let first = first.clone();
                    view! {
                        <option value=value.clone() prop:selected=move || parts.with(|p| { let v = get(p); v == wanted || (v.is_empty() && wanted == first) })>
                            {value.clone()}
                        </option>
                    }
                })
                .collect_view();
            view! {
                <select
                    id=id.clone()
                    disabled=c.field.readonly
                    aria-required=c.required()
                    aria-invalid=c.aria_invalid()
                    on:change=move |ev| on_value(event_target_value(&ev))
                >
                    {options}
                </select>
            }
            .into_any()
        };
        view! {
            <div class=format!("repo-part repo-{key}")>
                <label for=id>{label}</label>
                {control}
            </div>
        }
    };
    view! {
        <div class="repo-picker">
            {part("host", "Host", c.id.clone(), options.allowed_hosts.clone(), "github.com", |p| p.host.clone(), |p, v| p.host = v)}
            {part("owner", "Owner", format!("{}-owner", c.id), options.allowed_owners.clone(), "organization or user", |p| p.owner.clone(), |p, v| p.owner = v)}
            {part("repo", "Repository", format!("{}-repo", c.id), options.allowed_repos.clone(), "repository name", |p| p.repo.clone(), |p, v| p.repo = v)}
        </div>
    }
}

/// JSON text for structures the form has no control for; text that is not
/// JSON is kept as typed and reported by the page check.
fn json_input(c: Control) -> impl IntoView {
    let shown = |value: Option<Value>| match value {
        None => String::new(),
        Some(Value::String(s)) => s,
        Some(other) => serde_json::to_string_pretty(&other).unwrap_or_default(),
    };
    let text = RwSignal::new(shown(
        c.values.with_untracked(|v| v.get(&c.field.name).cloned()),
    ));
    let input = c.clone();
    view! {
        <textarea
            id=c.id.clone()
            name=c.field.name.clone()
            class="json-input"
            rows="6"
            spellcheck="false"
            readonly=c.field.readonly
            aria-required=c.required()
            aria-invalid=c.aria_invalid()
            aria-describedby=move || c.described_by.get()
            prop:value=move || text.get()
            on:input=move |ev| {
                let typed = event_target_value(&ev);
                let value = if typed.trim().is_empty() {
                    None
                } else {
                    Some(serde_json::from_str(&typed).unwrap_or_else(|_| Value::String(typed.clone())))
                };
                text.set(typed);
                input.set(value);
            }
        ></textarea>
    }
}

/// A catalog entity a picker offers.
#[derive(Debug, Clone, PartialEq)]
struct EntityChoice {
    value: String,
    label: String,
}

fn entity_choice(entity: &greenroom_model::Entity) -> Option<EntityChoice> {
    let kind = entity.get("kind")?.as_str()?;
    let name = entity_str(entity, "metadata", "name")?;
    let namespace = crate::entity::namespace_of(entity);
    let label = entity_str(entity, "metadata", "title")
        .or_else(|| {
            entity
                .get("spec")
                .and_then(|s| s.get("profile"))
                .and_then(|p| p.get("displayName"))
                .and_then(Value::as_str)
        })
        .unwrap_or(name)
        .to_string();
    Some(EntityChoice {
        value: entity_ref_string(kind, namespace, name),
        label,
    })
}

/// How long the picker waits after a keystroke before it asks the catalog.
const PICKER_DEBOUNCE_MS: u64 = 200;

/// A text box with a list of matching catalog entities (the ARIA combobox
/// pattern: arrows move through the list, Enter takes the highlighted
/// entity, Escape closes the list). The value is the chosen entity's
/// reference; typed text counts too where the template allows it.
#[component]
fn EntityCombobox(control: Control, options: PickerOptions) -> impl IntoView {
    let c = control;
    let listbox_id = format!("{}-options", c.id);
    let text = RwSignal::new(
        c.values
            .with_untracked(|v| v.get(&c.field.name).map(display_scalar))
            .unwrap_or_default(),
    );
    // A value set from elsewhere (a default) shows in the box.
    {
        let c = c.clone();
        Effect::new(move |_| {
            let value = c.value().map(|v| display_scalar(&v)).unwrap_or_default();
            if !value.is_empty() && value != text.get_untracked() {
                text.set(value);
            }
        });
    }
    let open = RwSignal::new(false);
    let active = RwSignal::new(None::<usize>);
    let results = RwSignal::new(Vec::<EntityChoice>::new());
    let searched = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let generation = StoredValue::new(0u32);
    let pending: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    let options = StoredValue::new(options);
    let search = move |term: String, delay: u64| {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let handle = set_timeout_with_handle(
            move || {
                let url = options.with_value(|o| picker_url(o, &term));
                spawn_local(async move {
                    let answer = get_json::<EntitiesPage>(&url).await;
                    if generation.get_value() != mine {
                        return;
                    }
                    match answer {
                        Ok(page) => {
                            results.set(page.items.iter().filter_map(entity_choice).collect());
                            failed.set(None);
                        }
                        Err(error) => {
                            results.set(Vec::new());
                            failed.set(Some(error.to_string()));
                        }
                    }
                    active.set(None);
                    searched.set(true);
                });
            },
            std::time::Duration::from_millis(delay),
        )
        .ok();
        pending.set_value(handle);
    };
    let choose = {
        let c = c.clone();
        move |i: usize| {
            if let Some(choice) = results.with_untracked(|r| r.get(i).cloned()) {
                text.set(choice.value.clone());
                c.set(Some(Value::String(choice.value)));
            }
            open.set(false);
            active.set(None);
        }
    };
    let on_input = {
        let c = c.clone();
        move |ev| {
            let typed = event_target_value(&ev);
            let trimmed = typed.trim().to_string();
            c.set((!trimmed.is_empty()).then_some(Value::String(trimmed)));
            text.set(typed.clone());
            open.set(true);
            search(typed, PICKER_DEBOUNCE_MS);
        }
    };
    let on_focus = move |_| {
        open.set(true);
        search(text.get_untracked(), 0);
    };
    let on_keydown = {
        let choose = choose.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            let count = results.with_untracked(Vec::len);
            match ev.key().as_str() {
                "ArrowDown" => {
                    ev.prevent_default();
                    open.set(true);
                    if count > 0 {
                        active.set(Some(match active.get_untracked() {
                            Some(i) if i + 1 < count => i + 1,
                            Some(_) => 0,
                            None => 0,
                        }));
                    }
                }
                "ArrowUp" => {
                    ev.prevent_default();
                    open.set(true);
                    if count > 0 {
                        active.set(Some(match active.get_untracked() {
                            Some(0) | None => count - 1,
                            Some(i) => i - 1,
                        }));
                    }
                }
                "Enter" if open.get_untracked() => {
                    if let Some(i) = active.get_untracked() {
                        ev.prevent_default();
                        choose(i);
                    }
                }
                "Escape" if open.get_untracked() => {
                    ev.prevent_default();
                    open.set(false);
                    active.set(None);
                }
                _ => {}
            }
        }
    };
    let expanded = move || open.get() && results.with(|r| !r.is_empty());
    let option_id = {
        let listbox_id = listbox_id.clone();
        move |i: usize| format!("{listbox_id}-{i}")
    };
    let active_descendant = {
        let option_id = option_id.clone();
        move || {
            if expanded() {
                active.get().map(&option_id)
            } else {
                None
            }
        }
    };
    let list = {
        let choose = choose.clone();
        move || {
            results
                .get()
                .into_iter()
                .enumerate()
                .map(|(i, choice)| {
                    let choose = choose.clone();
                    let is_active = move || active.get() == Some(i);
                    view! {
                        <li
                            role="option"
                            id=option_id(i)
                            class="combobox-option"
                            class:active=is_active
                            aria-selected=move || is_active().to_string()
                            on:mousedown=|ev| ev.prevent_default()
                            on:click=move |_| choose(i)
                        >
                            <span class="option-label">{choice.label}</span>
                            " "
                            <span class="option-ref">{choice.value}</span>
                        </li>
                    }
                })
                .collect_view()
        }
    };
    let status = move || {
        if !open.get() || !searched.get() {
            return String::new();
        }
        if let Some(error) = failed.get() {
            return format!("Could not load suggestions: {error}");
        }
        match results.with(Vec::len) {
            0 => "No matching entities".to_string(),
            1 => "1 suggestion; use the arrow keys to choose".to_string(),
            n => format!("{n} suggestions; use the arrow keys to choose"),
        }
    };
    let readonly = c.field.readonly;
    view! {
        <div class="combobox">
            <input
                type="text"
                role="combobox"
                id=c.id.clone()
                name=c.field.name.clone()
                autocomplete="off"
                aria-autocomplete="list"
                aria-expanded=move || expanded().to_string()
                aria-controls=listbox_id.clone()
                aria-activedescendant=active_descendant
                placeholder=c.field.placeholder.clone()
                readonly=readonly
                data-autofocus=c.field.autofocus.then_some("true")
                aria-required=c.required()
                aria-invalid=c.aria_invalid()
                aria-describedby=move || c.described_by.get()
                prop:value=move || text.get()
                on:input=on_input
                on:focus=on_focus
                on:blur=move |_| {
                    open.set(false);
                    active.set(None);
                }
                on:keydown=on_keydown
            />
            <ul
                id=listbox_id
                role="listbox"
                class="combobox-list"
                aria-label=format!("Suggestions for {}", c.field.title)
                hidden=move || !expanded()
            >
                {list}
            </ul>
            <p class="combobox-status muted" role="status">{status}</p>
        </div>
    }
}
