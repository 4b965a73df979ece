//! `/create/templates/:namespace/:name`: a template's parameters as a form in
//! steps (one per parameter page, then a review), checked page by page
//! before moving on. Create starts a task and opens its page; values the
//! server rejects send the user back to the page of the first one, with each
//! message beside its field and all of them in a summary at the top.
//! `?formData=<JSON>` fills the form (the task page's "Start over").
//! Create waits for the `scaffolder.task.create` permission answer and stays
//! disabled, with a note, for users without it.

use std::collections::{BTreeMap, HashSet};

use crate::api::ApiError;
use crate::components::{load_view, ErrorBox};
use crate::entity::decode_param;
use crate::pages::form_fields::FieldView;
use crate::permissions::{use_permission, SCAFFOLDER_TASK_CREATE};
use crate::scaffolder::{
    create_task, fetch_parameter_schema, task_path, template_ref, CreateError,
};
use crate::schema_form::{
    all_fields, error_field, page_errors, page_of, review_text, submitted_values, take_defaults,
    Field, Values,
};
use crate::shell::page_title;
use greenroom_model::scaffolder::{CreateTaskRequest, ParameterPage, ParameterSchema};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::Value;

#[component]
pub fn TemplateFormPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let target = Memo::new(move |_| {
        params.with(|p| {
            let param = |key: &str| decode_param(&p.get(key).unwrap_or_default());
            (param("namespace"), param("name"))
        })
    });
    let schema = LocalResource::new(move || {
        let (namespace, name) = target.get();
        fetch_parameter_schema(namespace, name)
    });
    page_title(move || match schema.get() {
        Some(Ok(schema)) => format!("{} · Create", schema.title),
        _ => "Create".to_string(),
    });
    let prefill: Values = query
        .with_untracked(|q| q.get("formData"))
        .and_then(|raw| serde_json::from_str::<Value>(&raw).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    view! {
        <section class="page template-form">
            <nav class="breadcrumbs" aria-label="Breadcrumbs">
                <a href="/create">"Create"</a>
            </nav>
            {load_view(schema, "template", move |schema| {
                let (namespace, name) = target.get_untracked();
                view! { <Wizard schema=schema namespace=namespace name=name prefill=prefill.clone() /> }
            })}
        </section>
    }
}

/// Button texts, from the template's `presentation.buttonLabels`.
#[derive(Debug, Clone, PartialEq)]
pub struct ButtonLabels {
    pub back: String,
    pub review: String,
    pub create: String,
}

impl ButtonLabels {
    pub fn of(presentation: Option<&Value>) -> Self {
        let label = |key: &str, default: &str| {
            presentation
                .and_then(|p| p.get("buttonLabels"))
                .and_then(|b| b.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .unwrap_or(default)
                .to_string()
        };
        ButtonLabels {
            back: label("backButtonText", "Back"),
            review: label("reviewButtonText", "Review"),
            create: label("createButtonText", "Create"),
        }
    }
}

/// A server message in the summary: the field it belongs to (if shown on
/// a page), and the text.
#[derive(Debug, Clone, PartialEq)]
struct ServerProblem {
    field: Option<(String, usize)>,
    text: String,
}

/// Fills in defaults until none is left (a default can open a branch with
/// more defaults).
fn fill_defaults(pages: &[ParameterPage], values: &mut Values, seeded: &mut HashSet<String>) {
    for _ in 0..10 {
        let fields = all_fields(pages, values);
        let defaults = take_defaults(&fields, values, seeded);
        if defaults.is_empty() {
            break;
        }
        values.extend(defaults);
    }
}

fn document() -> Option<web_sys::Document> {
    web_sys::window().and_then(|w| w.document())
}

fn focus(element: Option<web_sys::Element>) -> bool {
    use wasm_bindgen::JsCast;
    match element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        Some(element) => element.focus().is_ok(),
        None => false,
    }
}

/// Focuses the first control of a field once the page shows it.
fn focus_field(name: String) {
    request_animation_frame(move || {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        let selector = format!(
            "[data-field=\"{escaped}\"] input, [data-field=\"{escaped}\"] select, \
             [data-field=\"{escaped}\"] textarea, [data-field=\"{escaped}\"] button"
        );
        focus(document().and_then(|d| d.query_selector(&selector).ok().flatten()));
    });
}

/// After a step change: the field marked `ui:autofocus`, else (when the
/// step changed) the step's heading, so screen readers announce it.
fn focus_step(moved: bool) {
    request_animation_frame(move || {
        let autofocus = document().and_then(|d| {
            d.query_selector("form.parameter-form [data-autofocus]")
                .ok()
                .flatten()
        });
        if !focus(autofocus) && moved {
            focus(document().and_then(|d| d.get_element_by_id("step-heading")));
        }
    });
}

#[component]
fn Wizard(
    schema: ParameterSchema,
    namespace: String,
    name: String,
    prefill: Values,
) -> impl IntoView {
    let navigate = use_navigate();
    let labels = StoredValue::new(ButtonLabels::of(schema.presentation.as_ref()));
    let page_count = schema.steps.len();
    let mut seeded = HashSet::new();
    let mut initial = prefill;
    fill_defaults(&schema.steps, &mut initial, &mut seeded);
    let pages = StoredValue::new(schema.steps.clone());
    let values = RwSignal::new(initial);
    let seeded = StoredValue::new(seeded);
    let fields = Memo::new(move |_| values.with(|v| pages.with_value(|p| all_fields(p, v))));
    // Fields that appear later (a chosen branch) get their defaults too.
    Effect::new(move |_| {
        let defaults = fields.with(|f| {
            values.with_untracked(|v| {
                seeded
                    .try_update_value(|s| take_defaults(f, v, s))
                    .unwrap_or_default()
            })
        });
        if !defaults.is_empty() {
            values.update(|v| v.extend(defaults));
        }
    });
    let errors = RwSignal::new(BTreeMap::<String, String>::new());
    let problems = RwSignal::new(Vec::<ServerProblem>::new());
    let failure = RwSignal::new(None::<ApiError>);
    let step = RwSignal::new(0usize);
    let submitting = RwSignal::new(false);
    // Asked now, so the answer is in by the review step.
    let can_create = use_permission(SCAFFOLDER_TASK_CREATE, None);
    Effect::new(move |previous: Option<usize>| {
        let current = step.get();
        focus_step(previous.is_some_and(|p| p != current));
        current
    });

    let go_to = move |i: usize| {
        if i >= page_count {
            problems.set(Vec::new());
        }
        step.set(i);
    };
    let on_next = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let i = step.get_untracked();
        let Some(page) = fields.with_untracked(|f| f.get(i).cloned()) else {
            return;
        };
        let found = values.with_untracked(|v| page_errors(&page, v));
        errors.update(|e| {
            for field in &page {
                e.remove(&field.name);
            }
            e.extend(found.iter().cloned());
        });
        match found.first() {
            Some((name, _)) => focus_field(name.clone()),
            None => go_to(i + 1),
        }
    };

    let template = template_ref(&namespace, &name);
    let on_create = move |_| {
        if submitting.get_untracked() {
            return;
        }
        submitting.set(true);
        failure.set(None);
        let fields_now = fields.get_untracked();
        let request = CreateTaskRequest {
            template_ref: template.clone(),
            values: Value::Object(values.with_untracked(|v| submitted_values(&fields_now, v))),
            secrets: None,
        };
        let navigate = navigate.clone();
        spawn_local(async move {
            match create_task(request).await {
                Ok(id) => navigate(&task_path(&id), Default::default()),
                Err(CreateError::Invalid(rejected)) => {
                    let mut by_field = BTreeMap::new();
                    let mut summary = Vec::new();
                    let mut first_page: Option<usize> = None;
                    for problem in &rejected {
                        let located = error_field(problem)
                            .and_then(|name| page_of(&fields_now, &name).map(|page| (name, page)));
                        let text = match &located {
                            Some((name, page)) => {
                                let title = fields_now[*page]
                                    .iter()
                                    .find(|f| f.name == *name)
                                    .map(|f| f.title.clone())
                                    .unwrap_or_else(|| name.clone());
                                by_field
                                    .entry(name.clone())
                                    .or_insert_with(|| problem.message.clone());
                                first_page =
                                    Some(first_page.map_or(*page, |p: usize| p.min(*page)));
                                format!("{title}: {}", problem.message)
                            }
                            None => problem.message.clone(),
                        };
                        summary.push(ServerProblem {
                            field: located,
                            text,
                        });
                    }
                    errors.set(by_field);
                    problems.set(summary);
                    submitting.set(false);
                    if let Some(page) = first_page {
                        step.set(page);
                    }
                    // After the step's own focus move (itself a frame later).
                    request_animation_frame(|| {
                        request_animation_frame(|| {
                            focus(document().and_then(|d| d.get_element_by_id("form-problems")));
                        })
                    });
                }
                Err(CreateError::Failed(error)) => {
                    failure.set(Some(error));
                    submitting.set(false);
                }
            }
        });
    };

    let titles: Vec<String> = schema.steps.iter().map(|p| p.title.clone()).collect();
    let stepper = move || {
        let current = step.get();
        titles
            .iter()
            .cloned()
            .chain(std::iter::once("Review".to_string()))
            .enumerate()
            .map(|(i, title)| {
                let state = if i < current {
                    "done"
                } else if i == current {
                    "current"
                } else {
                    "todo"
                };
                let marker = if i < current {
                    "✓".to_string()
                } else {
                    (i + 1).to_string()
                };
                let body = if i < current {
                    view! {
                        <button type="button" class="step-link" on:click=move |_| go_to(i)>
                            <span class="step-marker" aria-hidden="true">{marker}</span>
                            {title}
                            <span class="visually-hidden">" (done; go back to this step)"</span>
                        </button>
                    }
                    .into_any()
                } else {
                    view! {
                        <span class="step-marker" aria-hidden="true">{marker}</span>
                        <span class="step-title">{title}</span>
                    }
                    .into_any()
                };
                view! {
                    <li class=format!("step step-{state}") aria-current=(i == current).then_some("step")>
                        {body}
                    </li>
                }
            })
            .collect_view()
    };

    let summary = move || {
        let list = problems.get();
        (!list.is_empty()).then(|| {
            view! {
                <div class="error-box form-problems" id="form-problems" role="alert" tabindex="-1">
                    <p class="error-message">"The template did not accept these values:"</p>
                    <ul>
                        {list
                            .into_iter()
                            .map(|problem| match problem.field {
                                Some((name, page)) => {
                                    let on_click = move |_| {
                                        step.set(page);
                                        focus_field(name.clone());
                                    };
                                    view! {
                                        <li>
                                            <button type="button" class="link-button" on:click=on_click>{problem.text}</button>
                                        </li>
                                    }
                                    .into_any()
                                }
                                None => view! { <li>{problem.text}</li> }.into_any(),
                            })
                            .collect_view()}
                    </ul>
                </div>
            }
        })
    };

    let body = move || {
        let i = step.get();
        if i < page_count {
            form_page(i, pages, fields, values, errors, labels, go_to, on_next).into_any()
        } else {
            review(
                pages,
                fields,
                values,
                labels,
                go_to,
                submitting,
                can_create,
                failure,
                on_create.clone(),
            )
            .into_any()
        }
    };

    view! {
        <header class="template-header">
            <h1>{schema.title.clone()}</h1>
            {schema.description.clone().map(|d| view! { <p class="lead">{d}</p> })}
        </header>
        <nav class="stepper-nav" aria-label="Steps">
            <ol class="stepper">{stepper}</ol>
        </nav>
        {summary}
        {body}
    }
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    i: usize,
    pages: StoredValue<Vec<ParameterPage>>,
    fields: Memo<Vec<Vec<Field>>>,
    values: RwSignal<Values>,
    errors: RwSignal<BTreeMap<String, String>>,
    labels: StoredValue<ButtonLabels>,
    go_to: impl Fn(usize) + Copy + Send + Sync + 'static,
    on_next: impl FnMut(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    let (title, description) = pages.with_value(|p| (p[i].title.clone(), p[i].description.clone()));
    let last = pages.with_value(Vec::len) == i + 1;
    let next_label = if last {
        labels.with_value(|l| l.review.clone())
    } else {
        "Next".to_string()
    };
    view! {
        <form class="parameter-form" novalidate on:submit=on_next aria-labelledby="step-heading">
            <h2 id="step-heading" tabindex="-1">{title}</h2>
            {description.map(|d| view! { <p class="page-description">{d}</p> })}
            <For
                each=move || fields.with(|f| f.get(i).cloned().unwrap_or_default())
                key=|field| field.key()
                children=move |field| view! { <FieldView field=field values=values errors=errors /> }
            />
            <div class="form-actions">
                {(i > 0).then(|| {
                    view! { <button type="button" on:click=move |_| go_to(i - 1)>{labels.with_value(|l| l.back.clone())}</button> }
                })}
                <button type="submit" class="primary">{next_label}</button>
            </div>
        </form>
    }
}

#[allow(clippy::too_many_arguments)]
fn review(
    pages: StoredValue<Vec<ParameterPage>>,
    fields: Memo<Vec<Vec<Field>>>,
    values: RwSignal<Values>,
    labels: StoredValue<ButtonLabels>,
    go_to: impl Fn(usize) + Copy + Send + Sync + 'static,
    submitting: RwSignal<bool>,
    can_create: Signal<Option<bool>>,
    failure: RwSignal<Option<ApiError>>,
    on_create: impl Fn(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    let page_count = pages.with_value(Vec::len);
    let groups: Vec<(String, Vec<(String, String)>)> = fields.with_untracked(|all| {
        values.with_untracked(|v| {
            all.iter()
                .enumerate()
                .map(|(i, page)| {
                    let rows = page
                        .iter()
                        .filter_map(|f| {
                            review_text(f, v.get(&f.name)).map(|text| (f.title.clone(), text))
                        })
                        .collect();
                    (pages.with_value(|p| p[i].title.clone()), rows)
                })
                .filter(|(_, rows): &(String, Vec<(String, String)>)| !rows.is_empty())
                .collect()
        })
    });
    let table = if groups.is_empty() {
        view! { <p class="muted">"This template asks for no values."</p> }.into_any()
    } else {
        let bodies = groups
            .into_iter()
            .map(|(title, rows)| {
                view! {
                    <tbody>
                        <tr class="review-group">
                            <th colspan="2" scope="rowgroup">{title}</th>
                        </tr>
                        {rows
                            .into_iter()
                            .map(|(label, text)| {
                                view! {
                                    <tr>
                                        <th scope="row">{label}</th>
                                        <td class="review-value">{text}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="entities review-table">
                    <caption class="visually-hidden">"The values the task will be created with"</caption>
                    {bodies}
                </table>
            </div>
        }
        .into_any()
    };
    let create_label = labels.with_value(|l| l.create.clone());
    view! {
        <section class="review-step" aria-labelledby="step-heading">
            <h2 id="step-heading" tabindex="-1">"Review"</h2>
            <p>"Check the values below, then create."</p>
            {table}
            {move || failure.get().map(|error| view! { <ErrorBox error=error /> })}
            {move || (can_create.get() == Some(false)).then(|| view! {
                <p class="warning" id="create-not-allowed" role="status">
                    "You do not have permission to run templates. Ask the people who run this portal."
                </p>
            })}
            <div class="form-actions">
                {(page_count > 0).then(|| {
                    view! { <button type="button" on:click=move |_| go_to(page_count - 1)>{labels.with_value(|l| l.back.clone())}</button> }
                })}
                <button
                    type="button"
                    class="primary create"
                    disabled=move || submitting.get() || can_create.get() != Some(true)
                    on:click=on_create
                >
                    {move || if submitting.get() { "Creating…".to_string() } else { create_label.clone() }}
                </button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn button_labels_come_from_the_presentation() {
        let labels = ButtonLabels::of(Some(
            &json!({"buttonLabels": {"createButtonText": "Ship it", "backButtonText": ""}}),
        ));
        assert_eq!(
            labels,
            ButtonLabels {
                back: "Back".into(),
                review: "Review".into(),
                create: "Ship it".into()
            }
        );
        assert_eq!(ButtonLabels::of(None).create, "Create");
    }

    #[test]
    fn defaults_follow_chosen_branches() {
        let pages = vec![ParameterPage {
            title: "One".into(),
            description: None,
            when: None,
            schema: json!({
                "properties": {"db": {"type": "boolean", "default": true}},
                "dependencies": {"db": {"oneOf": [
                    {"properties": {"db": {"const": true}, "engine": {"type": "string", "default": "postgres"}}},
                    {"properties": {"db": {"const": false}}}
                ]}}
            }),
        }];
        let mut values = Values::new();
        let mut seeded = HashSet::new();
        fill_defaults(&pages, &mut values, &mut seeded);
        assert_eq!(
            Value::Object(values),
            json!({"db": true, "engine": "postgres"})
        );
    }
}
