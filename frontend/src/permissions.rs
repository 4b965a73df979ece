//! Whether the signed-in user may do something, from Backstage's permission
//! endpoint (`POST /api/permission/authorize`), so pages can hide or disable
//! what would be refused. The server enforces every permission anyway: these
//! answers only shape the page.
//!
//! [`use_permission`] answers a signal: `None` while the answer is on its way
//! (controls stay disabled), then `Some(allowed)`. Questions asked in the same
//! moment go out as one request; answers are kept until the session changes.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::api::{self, ApiError};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const AUTHORIZE_URL: &str = "/api/permission/authorize";

/// A permission, as the server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permission {
    pub name: &'static str,
    pub action: &'static str,
    /// Set for resource permissions (asked about one resource).
    pub resource_type: Option<&'static str>,
}

const ENTITY: Option<&str> = Some("catalog-entity");

pub const CATALOG_LOCATION_CREATE: Permission = Permission {
    name: "catalog.location.create",
    action: "create",
    resource_type: None,
};
pub const CATALOG_ENTITY_DELETE: Permission = Permission {
    name: "catalog.entity.delete",
    action: "delete",
    resource_type: ENTITY,
};
pub const CATALOG_ENTITY_REFRESH: Permission = Permission {
    name: "catalog.entity.refresh",
    action: "update",
    resource_type: ENTITY,
};
pub const SCAFFOLDER_TASK_CREATE: Permission = Permission {
    name: "scaffolder.task.create",
    action: "create",
    resource_type: None,
};

/// One question: a permission, about one resource for resource permissions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    pub permission: Permission,
    pub resource_ref: Option<String>,
}

#[derive(Debug, Serialize)]
struct AuthorizeRequest {
    items: Vec<RequestItem>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestItem {
    id: String,
    permission: PermissionBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_ref: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PermissionBody {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    attributes: Attributes,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_type: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct Attributes {
    action: &'static str,
}

#[derive(Debug, Deserialize)]
struct AuthorizeResponse {
    items: Vec<ResponseItem>,
}

#[derive(Debug, Deserialize)]
struct ResponseItem {
    id: String,
    result: String,
}

/// The request body for `questions`; item ids are their positions, from 1.
fn request_body(questions: &[Question]) -> AuthorizeRequest {
    AuthorizeRequest {
        items: questions
            .iter()
            .enumerate()
            .map(|(i, q)| RequestItem {
                id: (i + 1).to_string(),
                permission: PermissionBody {
                    kind: if q.permission.resource_type.is_some() {
                        "resource"
                    } else {
                        "basic"
                    },
                    name: q.permission.name,
                    attributes: Attributes {
                        action: q.permission.action,
                    },
                    resource_type: q.permission.resource_type,
                },
                resource_ref: q
                    .resource_ref
                    .clone()
                    .filter(|_| q.permission.resource_type.is_some()),
            })
            .collect(),
    }
}

/// Whether a result allows. CONDITIONAL (only answered without a resource)
/// means "for some resources", so the control stays usable; the server
/// decides per resource.
fn allows(result: &str) -> bool {
    !result.eq_ignore_ascii_case("DENY")
}

/// The answer for each question, in order (an item the server left out allows:
/// the server still enforces).
fn answers(questions: &[Question], response: &AuthorizeResponse) -> Vec<bool> {
    (1..=questions.len())
        .map(|id| {
            response
                .items
                .iter()
                .find(|item| item.id == id.to_string())
                .is_none_or(|item| allows(&item.result))
        })
        .collect()
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

#[derive(Default)]
struct State {
    answered: HashMap<Question, bool>,
    /// Who waits for each question not answered yet (asked or about to be).
    waiting: HashMap<Question, Vec<ArcRwSignal<Option<bool>>>>,
    /// Questions not sent yet.
    queued: Vec<Question>,
}

/// Forgets every answer (the session changed).
pub fn forget() {
    STATE.with(|state| state.borrow_mut().answered.clear());
}

/// Whether the user may use `permission` (on `resource_ref`, an entity ref,
/// for resource permissions): `None` until the server has answered.
pub fn use_permission(
    permission: Permission,
    resource_ref: Option<String>,
) -> Signal<Option<bool>> {
    let question = Question {
        permission,
        resource_ref: resource_ref.filter(|_| permission.resource_type.is_some()),
    };
    let known = STATE.with(|state| state.borrow().answered.get(&question).copied());
    let answer = ArcRwSignal::new(known);
    if known.is_some() {
        return Signal::derive(move || answer.get());
    }
    let send_now = STATE.with(|state| {
        let mut state = state.borrow_mut();
        let waiting = state.waiting.entry(question.clone()).or_default();
        let first = waiting.is_empty();
        waiting.push(answer.clone());
        if first {
            state.queued.push(question);
            state.queued.len() == 1
        } else {
            false
        }
    });
    if send_now {
        // After the current render: the questions of the other controls
        // being built now go in the same request.
        set_timeout(flush, std::time::Duration::ZERO);
    }
    Signal::derive(move || answer.get())
}

fn flush() {
    let questions = STATE.with(|state| std::mem::take(&mut state.borrow_mut().queued));
    if questions.is_empty() {
        return;
    }
    leptos::task::spawn_local(async move {
        // No permission endpoint, or it failed (`None`): leave the controls
        // usable (the server still refuses what is not allowed), and ask
        // again next time.
        let allowed = ask(&questions).await.ok();
        let told = STATE.with(|state| {
            let mut state = state.borrow_mut();
            let mut told = Vec::new();
            for (i, question) in questions.iter().enumerate() {
                let answer = allowed.as_ref().is_none_or(|a| a[i]);
                if allowed.is_some() {
                    state.answered.insert(question.clone(), answer);
                }
                for waiter in state.waiting.remove(question).unwrap_or_default() {
                    told.push((waiter, answer));
                }
            }
            told
        });
        // Outside the borrow: a change may run code that asks again.
        for (waiter, answer) in told {
            waiter.set(Some(answer));
        }
    });
}

async fn ask(questions: &[Question]) -> Result<Vec<bool>, ApiError> {
    let response: AuthorizeResponse =
        api::post_json(AUTHORIZE_URL, &request_body(questions)).await?;
    Ok(answers(questions, &response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_basic_and_resource_permissions() {
        let body = request_body(&[
            Question {
                permission: CATALOG_LOCATION_CREATE,
                resource_ref: None,
            },
            Question {
                permission: CATALOG_ENTITY_DELETE,
                resource_ref: Some("component:default/x".into()),
            },
        ]);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"items": [
                {"id": "1", "permission": {"type": "basic", "name": "catalog.location.create", "attributes": {"action": "create"}}},
                {"id": "2", "permission": {"type": "resource", "name": "catalog.entity.delete", "attributes": {"action": "delete"}, "resourceType": "catalog-entity"}, "resourceRef": "component:default/x"}
            ]})
        );
    }

    #[test]
    fn answers_follow_the_ids() {
        let questions = vec![
            Question {
                permission: CATALOG_LOCATION_CREATE,
                resource_ref: None,
            },
            Question {
                permission: CATALOG_ENTITY_DELETE,
                resource_ref: Some("component:default/x".into()),
            },
            Question {
                permission: SCAFFOLDER_TASK_CREATE,
                resource_ref: None,
            },
        ];
        let response: AuthorizeResponse = serde_json::from_str(
            r#"{"items":[{"id":"2","result":"DENY"},{"id":"1","result":"ALLOW"},{"id":"3","result":"CONDITIONAL","conditions":{}}]}"#,
        )
        .unwrap();
        assert_eq!(answers(&questions, &response), [true, false, true]);
    }
}
