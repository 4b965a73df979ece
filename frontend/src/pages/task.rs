//! `/create/tasks/:taskId`: one run of a template. The steps with their
//! status, the log as it streams in (`GET .../eventstream`, server-sent
//! events; a dropped connection resumes with `?after=<last event id>`), and
//! at the end the output links and texts or the error. Cancel while it runs,
//! Retry when it failed, and "Start over" back to the form with the same
//! values. A finished task opened later replays its whole log.

use std::collections::HashMap;

use crate::api::{encode_component, ApiError};
use crate::components::{load_view, ErrorBox};
use crate::entity::{decode_param, entity_path, humanize_ref};
use crate::scaffolder::{
    cancel_task, duration_text, event_stream_url, fetch_task, local_time, retry_task, status_class,
    status_icon, status_label, task_path, template_form_path_of_ref, Completion, OutputLink,
    Progress,
};
use crate::shell::page_title;
use greenroom_model::scaffolder::{Task, TaskEvent, TaskStatus};
use greenroom_model::EntityRef;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;
use wasm_bindgen::{closure::Closure, JsCast};

/// How long events are gathered before the page redraws (a replayed log
/// arrives as hundreds of events at once).
const FLUSH_AFTER_MS: u64 = 40;

/// Reconnection attempts in a row without a new event before the page gives up.
const MAX_RECONNECTS: u32 = 6;

#[component]
pub fn TaskPage() -> impl IntoView {
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| decode_param(&p.get("taskId").unwrap_or_default())));
    page_title(move || format!("Task {}", id.get()));
    view! {
        <section class="page task">
            <nav class="breadcrumbs" aria-label="Breadcrumbs">
                <a href="/create">"Create"</a>
                " / "
                <a href="/create/tasks">"Tasks"</a>
            </nav>
            {move || task_view(id.get())}
        </section>
    }
}

/// A plain function run in the page's closure: another task id draws a new run.
fn task_view(id: String) -> impl IntoView {
    let task = LocalResource::new(move || fetch_task(id.clone()));
    load_view(task, "task", |task| view! { <TaskRun task=task /> })
}

/// The template's title: from the snapshot in the task, else the name in its reference.
fn template_title(task: &Task) -> String {
    let info = task.spec.template_info.as_ref();
    info.and_then(|i| i.entity.as_ref())
        .and_then(|e| e.get("metadata"))
        .and_then(|m| m.get("title").or_else(|| m.get("name")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            info.and_then(|i| EntityRef::parse(&i.entity_ref, Some("template"), "default").ok())
                .map(|r| r.name)
        })
        .unwrap_or_else(|| "a template".to_string())
}

/// The form of the task's template, filled with the task's values.
fn start_over_path(task: &Task) -> Option<String> {
    let entity_ref = &task.spec.template_info.as_ref()?.entity_ref;
    let form = template_form_path_of_ref(entity_ref)?;
    match &task.spec.parameters {
        Value::Object(values) if !values.is_empty() => Some(format!(
            "{form}?formData={}",
            encode_component(&task.spec.parameters.to_string())
        )),
        _ => Some(form),
    }
}

/// An open event stream; closing it (or dropping it) stops the listeners.
struct Stream {
    source: web_sys::EventSource,
    _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.source.close();
    }
}

fn open_stream(
    url: &str,
    on_event: impl Fn(TaskEvent) + Clone + 'static,
    on_error: impl Fn() + 'static,
) -> Option<Stream> {
    let source = web_sys::EventSource::new(url).ok()?;
    let mut listeners = Vec::new();
    // Named events reach only their own listeners; "message" is an event without a name.
    for kind in ["log", "completion", "cancelled", "recovered", "message"] {
        let on_event = on_event.clone();
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let Ok(message) = event.dyn_into::<web_sys::MessageEvent>() else {
                return;
            };
            if let Some(data) = message.data().as_string() {
                if let Ok(event) = serde_json::from_str::<TaskEvent>(&data) {
                    on_event(event);
                }
            }
        });
        let _ = source.add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        listeners.push(listener);
    }
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| on_error());
    let _ = source.add_event_listener_with_callback("error", listener.as_ref().unchecked_ref());
    listeners.push(listener);
    Some(Stream {
        source,
        _listeners: listeners,
    })
}

/// The state of the connection to the event stream, for the reader.
#[derive(Debug, Clone, PartialEq)]
enum Connection {
    Live,
    Reconnecting,
    Closed,
    Lost,
}

#[component]
fn TaskRun(task: Task) -> impl IntoView {
    let navigate = use_navigate();
    let id = task.id.clone();
    let known = RwSignal::new(task.status);
    let progress = RwSignal::new(Progress::default());
    let connection = RwSignal::new(Connection::Live);
    let action_error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(None::<&'static str>);
    let stream = StoredValue::new_local(None::<Stream>);
    let buffer = StoredValue::new(Vec::<TaskEvent>::new());
    let flush_scheduled = StoredValue::new(false);
    let failures = StoredValue::new(0u32);
    let alive = StoredValue::new(true);
    on_cleanup(move || {
        alive.set_value(false);
        stream.update_value(|s| *s = None);
    });

    // The definitive status once the run has ended.
    let refresh_status = {
        let id = id.clone();
        move || {
            let id = id.clone();
            spawn_local(async move {
                if let Ok(task) = fetch_task(id).await {
                    if alive.get_value() {
                        known.set(task.status);
                    }
                }
            });
        }
    };

    let flush = {
        let refresh_status = refresh_status.clone();
        move || {
            flush_scheduled.set_value(false);
            if !alive.get_value() {
                return;
            }
            let events = buffer.try_update_value(std::mem::take).unwrap_or_default();
            if events.is_empty() {
                return;
            }
            let mut finished = false;
            progress.update(|p| {
                for event in &events {
                    if p.apply(event) && event.event_type == "completion" {
                        finished = true;
                    }
                }
            });
            failures.set_value(0);
            if finished {
                stream.update_value(|s| *s = None);
                connection.set(Connection::Closed);
                refresh_status();
            }
        }
    };
    let on_event = move |event: TaskEvent| {
        buffer.update_value(|b| b.push(event));
        if !flush_scheduled.get_value() {
            flush_scheduled.set_value(true);
            let flush = flush.clone();
            set_timeout(flush, std::time::Duration::from_millis(FLUSH_AFTER_MS));
        }
    };

    // Whether the run's end has arrived (shown, or waiting in the buffer).
    let ended = move || {
        progress.with_untracked(|p| p.completion.is_some())
            || buffer.with_value(|b| b.iter().any(|e| e.event_type == "completion"))
    };
    // Connects (again), from after the last event seen.
    let connect: StoredValue<Option<Box<dyn Fn()>>, LocalStorage> = StoredValue::new_local(None);
    {
        let id = id.clone();
        let on_event = on_event.clone();
        let reconnect = move || {
            // Called from the stream's own listener: close it now, drop it
            // (and that listener) only after the call has returned.
            if let Some(old) = stream.try_update_value(Option::take).flatten() {
                old.source.close();
                set_timeout(move || drop(old), std::time::Duration::ZERO);
            }
            if !alive.get_value() || ended() {
                return;
            }
            let attempts = failures.get_value() + 1;
            failures.set_value(attempts);
            if attempts > MAX_RECONNECTS {
                connection.set(Connection::Lost);
                return;
            }
            connection.set(Connection::Reconnecting);
            set_timeout(
                move || {
                    connect
                        .with_value(|c| c.as_ref().map(|c| c()))
                        .unwrap_or_default()
                },
                std::time::Duration::from_millis(1000 * u64::from(attempts)),
            );
        };
        let reconnect = std::rc::Rc::new(reconnect);
        connect.set_value(Some(Box::new(move || {
            if !alive.get_value() || ended() {
                return;
            }
            let after = progress.with_untracked(|p| p.last_id);
            let reconnect = reconnect.clone();
            let opened = open_stream(&event_stream_url(&id, after), on_event.clone(), move || {
                reconnect()
            });
            if opened.is_some() {
                connection.set(Connection::Live);
            }
            stream.update_value(|s| *s = opened);
        })));
    }
    connect
        .with_value(|c| c.as_ref().map(|c| c()))
        .unwrap_or_default();

    let status = Memo::new(move |_| progress.with(|p| p.status(known.get())));
    let running = move || !status.get().is_final() && progress.with(|p| p.completion.is_none());

    let on_cancel = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            busy.set(Some("Cancelling…"));
            action_error.set(None);
            spawn_local(async move {
                let answer = cancel_task(id).await;
                busy.set(None);
                if let Err(error) = answer {
                    action_error.set(Some(error));
                } else {
                    progress.update(|p| p.cancel_requested = true);
                }
            });
        }
    };
    let on_retry = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            let navigate = navigate.clone();
            busy.set(Some("Retrying…"));
            action_error.set(None);
            spawn_local(async move {
                let answer = retry_task(id.clone()).await;
                busy.set(None);
                match answer {
                    Ok(new_id) if new_id != id => navigate(&task_path(&new_id), Default::default()),
                    Ok(_) => {
                        // The same task runs again: its new events follow the old ones.
                        progress.update(|p| {
                            p.completion = None;
                            p.cancel_requested = false;
                        });
                        known.set(TaskStatus::Open);
                        failures.set_value(0);
                        connection.set(Connection::Live);
                        connect
                            .with_value(|c| c.as_ref().map(|c| c()))
                            .unwrap_or_default();
                    }
                    Err(error) => action_error.set(Some(error)),
                }
            });
        }
    };

    let title = template_title(&task);
    let start_over = start_over_path(&task);
    let step_names: HashMap<String, String> = task
        .spec
        .steps
        .iter()
        .map(|s| (s.id.clone(), s.name.clone()))
        .collect();
    let step_names = StoredValue::new(step_names);
    let created = local_time(&task.created_at);
    let created_by = task
        .created_by
        .clone()
        .or_else(|| task.spec.user.as_ref().and_then(|u| u.user_ref.clone()));

    view! {
        <header class="task-header">
            <h1>{format!("Run of {title}")}</h1>
            <p class="muted task-meta">
                "Task " <code>{id.clone()}</code> {format!(" · started {created}")}
                {created_by.map(|by| format!(" · by {by}"))}
            </p>
            <p class="task-status" role="status">
                <span class=move || status_class(Some(status.get()))>
                    <span class="status-icon" aria-hidden="true">{move || status_icon(Some(status.get()))}</span>
                    " "
                    {move || status_label(Some(status.get()))}
                </span>
                {move || match connection.get() {
                    Connection::Reconnecting => " · connection lost, reconnecting…",
                    Connection::Lost => " · the live log is unavailable; reload the page to try again",
                    _ => "",
                }}
            </p>
            <div class="task-actions">
                {move || {
                    running()
                        .then(|| {
                            let cancelling = busy.get().is_some() || progress.with(|p| p.cancel_requested);
                            view! {
                                <button type="button" class="cancel" disabled=cancelling on:click=on_cancel.clone()>
                                    {if cancelling { "Cancelling…" } else { "Cancel" }}
                                </button>
                            }
                        })
                }}
                {move || {
                    (status.get() == TaskStatus::Failed)
                        .then(|| {
                            view! {
                                <button type="button" class="retry primary" disabled=move || busy.get().is_some() on:click=on_retry.clone()>
                                    {move || busy.get().unwrap_or("Retry")}
                                </button>
                            }
                        })
                }}
                {start_over.map(|href| view! { <a class="button start-over" href=href>"Start over"</a> })}
            </div>
            {move || action_error.get().map(|error| view! { <ErrorBox error=error /> })}
        </header>
        <div class="task-body">
            <section class="card task-steps" aria-labelledby="steps-heading">
                <h2 id="steps-heading">"Steps"</h2>
                <StepList task=task.clone() progress=progress />
            </section>
            <section class="card task-log-card" aria-labelledby="log-heading">
                <h2 id="log-heading">"Log"</h2>
                <TaskLog progress=progress step_names=step_names steps=task.spec.steps.iter().map(|s| (s.id.clone(), s.name.clone())).collect() />
            </section>
        </div>
        {move || progress.with(|p| p.completion.clone()).map(|completion| view! { <CompletionView completion=completion status=status /> })}
    }
}

#[component]
fn StepList(task: Task, progress: RwSignal<Progress>) -> impl IntoView {
    if task.spec.steps.is_empty() {
        return view! { <p class="muted">"This template has no steps."</p> }.into_any();
    }
    view! {
        <ol class="step-list">
            {task
                .spec
                .steps
                .into_iter()
                .map(|step| {
                    let step_id = step.id.clone();
                    let state = Memo::new(move |_| progress.with(|p| p.steps.get(&step_id).cloned().unwrap_or_default()));
                    view! {
                        <li class=move || status_class(state.with(|s| s.status)) data-step=step.id.clone()>
                            <span class="status-icon" aria-hidden="true">{move || status_icon(state.with(|s| s.status))}</span>
                            <span class="step-name">{step.name.clone()}</span>
                            <span class="step-state">
                                {move || status_label(state.with(|s| s.status))}
                                {move || {
                                    state.with(|s| match (&s.started_at, &s.ended_at) {
                                        (Some(from), Some(to)) => duration_text(from, to).map(|d| format!(" · {d}")),
                                        _ => None,
                                    })
                                }}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

/// The log, following new lines while the reader is at its end; a select
/// narrows it to one step.
#[component]
fn TaskLog(
    progress: RwSignal<Progress>,
    step_names: StoredValue<HashMap<String, String>>,
    steps: Vec<(String, String)>,
) -> impl IntoView {
    let only = RwSignal::new(String::new());
    let follow = StoredValue::new(true);
    let log_ref = NodeRef::<leptos::html::Div>::new();
    let count = Memo::new(move |_| progress.with(|p| p.log.len()));
    Effect::new(move |_| {
        count.track();
        only.track();
        if follow.get_value() {
            request_animation_frame(move || {
                if let Some(element) = log_ref.get_untracked() {
                    element.set_scroll_top(element.scroll_height());
                }
            });
        }
    });
    let on_scroll = move |_| {
        if let Some(element) = log_ref.get_untracked() {
            let at_end =
                element.scroll_top() + element.client_height() >= element.scroll_height() - 24;
            follow.set_value(at_end);
        }
    };
    let lines = move || {
        let only = only.get();
        progress.with(|p| {
            p.log
                .iter()
                .filter(|line| only.is_empty() || line.step_id.as_deref() == Some(only.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="log-controls">
            <label for="log-step">"Show"</label>
            <select id="log-step" on:change=move |ev| only.set(event_target_value(&ev))>
                <option value="">"All steps"</option>
                {steps
                    .into_iter()
                    .map(|(id, name)| view! { <option value=id>{name}</option> })
                    .collect_view()}
            </select>
        </div>
        <div class="task-log" role="log" aria-labelledby="log-heading" tabindex="0" node_ref=log_ref on:scroll=on_scroll>
            <ol>
                <For
                    each=lines
                    key=|line| line.id
                    children=move |line| {
                        let step = line
                            .step_id
                            .as_ref()
                            .map(|s| step_names.with_value(|n| n.get(s).cloned().unwrap_or_else(|| s.clone())));
                        view! {
                            <li data-step=line.step_id.clone().unwrap_or_default()>
                                {step.map(|s| view! { <span class="log-step">{format!("[{s}]")}</span> " " })}
                                <span class="log-message">{line.message}</span>
                            </li>
                        }
                    }
                />
            </ol>
            {move || (count.get() == 0).then(|| view! { <p class="muted">"No log lines yet."</p> })}
        </div>
    }
}

fn output_link(link: OutputLink) -> impl IntoView {
    if let Some(url) = link.url.filter(|u| !u.is_empty()) {
        let label = link.title.clone().unwrap_or_else(|| url.clone());
        return view! {
            <li class="output-link">
                <a href=url target="_blank" rel="noopener noreferrer">
                    {label}
                    <span class="visually-hidden">" (opens in a new tab)"</span>
                </a>
            </li>
        }
        .into_any();
    }
    if let Some(parsed) = link
        .entity_ref
        .as_deref()
        .and_then(|r| EntityRef::parse(r, Some("Component"), "default").ok())
    {
        let label = link.title.clone().unwrap_or_else(|| humanize_ref(&parsed));
        return view! {
            <li class="output-link">
                <a href=entity_path(&parsed)>{label}</a>
            </li>
        }
        .into_any();
    }
    view! { <li class="output-link">{link.title.unwrap_or_default()}</li> }.into_any()
}

#[component]
fn CompletionView(completion: Completion, status: Memo<TaskStatus>) -> impl IntoView {
    if let Some(error) = completion.error {
        let heading = if status.get_untracked() == TaskStatus::Cancelled {
            "The task was cancelled"
        } else {
            "The task failed"
        };
        return view! {
            <section class="error-box task-error" role="alert" aria-labelledby="outcome-heading">
                <h2 id="outcome-heading">{heading}</h2>
                <p class="error-message">{error}</p>
            </section>
        }
        .into_any();
    }
    let links = completion.links;
    let texts = completion.texts;
    view! {
        <section class="card task-output" aria-labelledby="outcome-heading">
            <h2 id="outcome-heading">"Output"</h2>
            {(links.is_empty() && texts.is_empty()).then(|| view! { <p>{completion.message.clone()}</p> })}
            {(!links.is_empty())
                .then(|| view! { <ul class="output-links">{links.into_iter().map(output_link).collect_view()}</ul> })}
            {texts
                .into_iter()
                .map(|text| {
                    view! {
                        <div class="output-text">
                            {text.title.map(|t| view! { <h3>{t}</h3> })}
                            <div class="output-text-content">{text.content.unwrap_or_default()}</div>
                        </div>
                    }
                })
                .collect_view()}
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(v: Value) -> Task {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn title_and_start_over_come_from_the_task() {
        let t = task(json!({
            "id": "t1",
            "status": "failed",
            "createdAt": "2024-05-01T10:00:00Z",
            "spec": {
                "apiVersion": "scaffolder.backstage.io/v1beta3",
                "parameters": {"name": "svc"},
                "steps": [],
                "templateInfo": {"entityRef": "template:default/rust-service", "entity": {"metadata": {"name": "rust-service", "title": "Rust service"}}}
            }
        }));
        assert_eq!(template_title(&t), "Rust service");
        assert_eq!(
            start_over_path(&t).as_deref(),
            Some("/create/templates/default/rust-service?formData=%7B%22name%22%3A%22svc%22%7D")
        );
        let bare = task(json!({
            "id": "t2", "status": "open", "createdAt": "x",
            "spec": {"apiVersion": "v", "parameters": {}, "steps": [], "templateInfo": {"entityRef": "template:ops/deploy"}}
        }));
        assert_eq!(template_title(&bare), "deploy");
        assert_eq!(
            start_over_path(&bare).as_deref(),
            Some("/create/templates/ops/deploy")
        );
    }
}
