//! `/create/tasks`: the runs of templates, newest first, with a status
//! filter and pages; both live in the address (`?status=failed&page=2`).

use crate::components::{load_view, HeaderRow};
use crate::scaffolder::{
    fetch_tasks, local_time, status_class, status_icon, status_label, task_path, tasks_path,
    TASKS_PAGE_SIZE,
};
use crate::shell::page_title;
use greenroom_model::scaffolder::{Task, TaskList, TaskStatus};
use greenroom_model::EntityRef;
use leptos::prelude::*;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};
use serde_json::Value;

/// The statuses the filter offers.
const STATUSES: [TaskStatus; 5] = [
    TaskStatus::Open,
    TaskStatus::Processing,
    TaskStatus::Completed,
    TaskStatus::Failed,
    TaskStatus::Cancelled,
];

/// The template a task ran, for the list: its title when the task keeps a
/// snapshot of it, else its name.
pub fn task_template(task: &Task) -> String {
    let info = task.spec.template_info.as_ref();
    info.and_then(|i| i.entity.as_ref())
        .and_then(|e| e.get("metadata"))
        .and_then(|m| m.get("title"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            info.map(|i| {
                EntityRef::parse(&i.entity_ref, Some("template"), "default")
                    .map(|r| r.name)
                    .unwrap_or_else(|_| i.entity_ref.clone())
            })
        })
        .unwrap_or_default()
}

#[component]
pub fn TasksPage() -> impl IntoView {
    page_title(|| "Tasks · Create".to_string());
    let query = use_query_map();
    let status = Memo::new(move |_| {
        query.with(|q| {
            q.get("status")
                .and_then(|s| TaskStatus::parse(&s))
                .map(|s| s.as_str().to_string())
        })
    });
    let page = Memo::new(move |_| {
        query.with(|q| {
            q.get("page")
                .and_then(|p| p.parse::<u64>().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1)
        })
    });
    let tasks =
        LocalResource::new(move || fetch_tasks(status.get(), (page.get() - 1) * TASKS_PAGE_SIZE));
    let navigate = use_navigate();
    let on_status = move |ev| {
        let value = event_target_value(&ev);
        let chosen = (!value.is_empty()).then_some(value);
        navigate(
            &tasks_path(chosen.as_deref(), 1),
            NavigateOptions::default(),
        );
    };
    view! {
        <section class="page tasks">
            <nav class="breadcrumbs" aria-label="Breadcrumbs">
                <a href="/create">"Create"</a>
            </nav>
            <h1>"Tasks"</h1>
            <p class="lead">"Every run of a template, newest first."</p>
            <form class="filters" aria-label="Filter the tasks" on:submit=|ev| ev.prevent_default()>
                <div class="filter">
                    <label for="task-status">"Status"</label>
                    <select id="task-status" name="status" on:change=on_status>
                        <option value="" prop:selected=move || status.with(Option::is_none)>"All statuses"</option>
                        {STATUSES
                            .into_iter()
                            .map(|s| {
                                view! {
                                    <option value=s.as_str() prop:selected=move || status.with(|c| c.as_deref() == Some(s.as_str()))>
                                        {status_label(Some(s))}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
            </form>
            {load_view(tasks, "tasks", move |list| task_table(list, status.get_untracked(), page.get_untracked()))}
        </section>
    }
}

fn task_table(list: TaskList, status: Option<String>, page: u64) -> impl IntoView {
    if list.tasks.is_empty() {
        let text = if page > 1 {
            "There are no tasks on this page."
        } else if status.is_some() {
            "No tasks have this status."
        } else {
            "No templates have been run yet."
        };
        return view! { <p class="empty" role="status">{text}</p> }.into_any();
    }
    let first = (page - 1) * TASKS_PAGE_SIZE + 1;
    let last = first + list.tasks.len() as u64 - 1;
    let total = list.total_tasks;
    let previous = (page > 1).then(|| tasks_path(status.as_deref(), page - 1));
    let next = (last < total).then(|| tasks_path(status.as_deref(), page + 1));
    let rows = list
        .tasks
        .into_iter()
        .map(|task| {
            let template = task_template(&task);
            let href = task_path(&task.id);
            let status = Some(task.status);
            view! {
                <tr>
                    <td class="name"><a href=href><code>{task.id.clone()}</code></a></td>
                    <td>{template}</td>
                    <td>
                        <span class=status_class(status)>
                            <span class="status-icon" aria-hidden="true">{status_icon(status)}</span>
                            " "
                            {status_label(status)}
                        </span>
                    </td>
                    <td><time datetime=task.created_at.clone()>{local_time(&task.created_at)}</time></td>
                    <td>{task.created_by.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted summary" role="status">{format!("Showing {first}–{last} of {total} tasks")}</p>
        <div class="table-wrap">
            <table class="entities task-table">
                <caption class="visually-hidden">"Tasks"</caption>
                <HeaderRow columns=&["Task", "Template", "Status", "Created", "Created by"] />
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {previous.map(|href| view! { <a href=href rel="prev">"← Previous page"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
        </nav>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_template_column_prefers_the_title() {
        let task: Task = serde_json::from_value(json!({
            "id": "t", "status": "completed", "createdAt": "2024-05-01T10:00:00Z",
            "spec": {"apiVersion": "v", "parameters": {}, "steps": [],
                     "templateInfo": {"entityRef": "template:default/rust-service"}}
        }))
        .unwrap();
        assert_eq!(task_template(&task), "rust-service");
    }
}
