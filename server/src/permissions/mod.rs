//! Permissions (reference section 8). Every route names the permission it
//! needs (see [`crate::routes`]); the policy in the application state
//! decides ALLOW, DENY or CONDITIONAL. Resource permissions apply their
//! conditions to the resource: a listing becomes a store filter, a single
//! entity or task is matched in memory. The default [`AllowAllPolicy`] is
//! Backstage without a permission policy.

pub mod api;
pub mod conditions;
pub mod policy;

use greenroom_model::filter::EntityFilter;

use self::conditions::Criteria;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A Backstage permission: its name, the action it stands for and, for
/// resource permissions, the resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub name: &'static str,
    pub action: Action,
    pub resource_type: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
}

const ENTITY: Option<&str> = Some("catalog-entity");

pub const CATALOG_ENTITY_READ: Permission = Permission {
    name: "catalog.entity.read",
    action: Action::Read,
    resource_type: ENTITY,
};
pub const CATALOG_ENTITY_DELETE: Permission = Permission {
    name: "catalog.entity.delete",
    action: Action::Delete,
    resource_type: ENTITY,
};
pub const CATALOG_ENTITY_REFRESH: Permission = Permission {
    name: "catalog.entity.refresh",
    action: Action::Update,
    resource_type: ENTITY,
};
pub const CATALOG_ENTITY_VALIDATE: Permission = Permission {
    name: "catalog.entity.validate",
    action: Action::Create,
    resource_type: None,
};
pub const CATALOG_LOCATION_READ: Permission = Permission {
    name: "catalog.location.read",
    action: Action::Read,
    resource_type: None,
};
pub const CATALOG_LOCATION_CREATE: Permission = Permission {
    name: "catalog.location.create",
    action: Action::Create,
    resource_type: None,
};
pub const CATALOG_LOCATION_DELETE: Permission = Permission {
    name: "catalog.location.delete",
    action: Action::Delete,
    resource_type: None,
};
pub const CATALOG_LOCATION_ANALYZE: Permission = Permission {
    name: "catalog.location.analyze",
    action: Action::Read,
    resource_type: None,
};

const TASK: Option<&str> = Some("scaffolder-task");
const TEMPLATE: Option<&str> = Some("scaffolder-template");

pub const SCAFFOLDER_TASK_CREATE: Permission = Permission {
    name: "scaffolder.task.create",
    action: Action::Create,
    resource_type: None,
};
pub const SCAFFOLDER_TASK_READ: Permission = Permission {
    name: "scaffolder.task.read",
    action: Action::Read,
    resource_type: TASK,
};
pub const SCAFFOLDER_TASK_CANCEL: Permission = Permission {
    name: "scaffolder.task.cancel",
    action: Action::Update,
    resource_type: TASK,
};
pub const SCAFFOLDER_TEMPLATE_PARAMETER_READ: Permission = Permission {
    name: "scaffolder.template.parameter.read",
    action: Action::Read,
    resource_type: TEMPLATE,
};
pub const SCAFFOLDER_TEMPLATE_DRY_RUN: Permission = Permission {
    name: "scaffolder.template.dry-run",
    action: Action::Create,
    resource_type: None,
};
pub const SCAFFOLDER_ACTION_READ: Permission = Permission {
    name: "scaffolder.action.read",
    action: Action::Read,
    resource_type: None,
};

pub const CATALOG_ENTITY_CREATE: Permission = Permission {
    name: "catalog.entity.create",
    action: Action::Create,
    resource_type: None,
};
pub const SCAFFOLDER_TEMPLATE_MANAGEMENT: Permission = Permission {
    name: "scaffolder.template.management",
    action: Action::Update,
    resource_type: None,
};

// Greenroom's own.
pub const AUDIT_READ: Permission = Permission {
    name: "greenroom.audit.read",
    action: Action::Read,
    resource_type: None,
};
pub const SEARCH_QUERY: Permission = Permission {
    name: "search.query",
    action: Action::Read,
    resource_type: None,
};
pub const PERMISSION_EXPLAIN: Permission = Permission {
    name: "greenroom.permission.explain",
    action: Action::Read,
    resource_type: None,
};

/// Every permission a route or a check names, for the policy metadata and
/// `greenroom policy test`.
pub const ALL: &[Permission] = &[
    CATALOG_ENTITY_READ,
    CATALOG_ENTITY_CREATE,
    CATALOG_ENTITY_DELETE,
    CATALOG_ENTITY_REFRESH,
    CATALOG_ENTITY_VALIDATE,
    CATALOG_LOCATION_READ,
    CATALOG_LOCATION_CREATE,
    CATALOG_LOCATION_DELETE,
    CATALOG_LOCATION_ANALYZE,
    SCAFFOLDER_TASK_CREATE,
    SCAFFOLDER_TASK_READ,
    SCAFFOLDER_TASK_CANCEL,
    SCAFFOLDER_TEMPLATE_PARAMETER_READ,
    SCAFFOLDER_TEMPLATE_DRY_RUN,
    SCAFFOLDER_TEMPLATE_MANAGEMENT,
    SCAFFOLDER_ACTION_READ,
    AUDIT_READ,
    SEARCH_QUERY,
    PERMISSION_EXPLAIN,
];

pub fn by_name(name: &str) -> Option<Permission> {
    ALL.iter().find(|p| p.name == name).copied()
}

impl Permission {
    /// Backstage's JSON form (`{type, name, attributes, resourceType?}`).
    pub fn to_json(&self) -> serde_json::Value {
        let action = match self.action {
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Delete => "delete",
        };
        match self.resource_type {
            Some(t) => serde_json::json!({"type": "resource", "name": self.name,
                "attributes": {"action": action}, "resourceType": t}),
            None => serde_json::json!({"type": "basic", "name": self.name,
                "attributes": {"action": action}}),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
    /// Allowed for the resources that satisfy the criteria.
    Conditional(Criteria),
}

/// A decision and the policy rule that made it (None: the policy's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    pub rule: Option<String>,
}

/// Decides whether a caller may perform a permission. Object-safe: the state
/// holds it as `Arc<dyn PermissionPolicy>`.
pub trait PermissionPolicy: Send + Sync + 'static {
    fn evaluate(&self, caller: &Caller, permission: &Permission) -> Evaluation;

    fn decide(&self, caller: &Caller, permission: &Permission) -> Decision {
        self.evaluate(caller, permission).decision
    }
}

/// Backstage without a permission policy: every signed-in caller may do
/// everything; callers who are not signed in may do nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAllPolicy;

impl PermissionPolicy for AllowAllPolicy {
    fn evaluate(&self, caller: &Caller, _permission: &Permission) -> Evaluation {
        Evaluation {
            decision: if caller.is_anonymous() {
                Decision::Deny
            } else {
                Decision::Allow
            },
            rule: None,
        }
    }
}

/// The refusal for `caller`: 401 when they are not signed in (signing in may
/// help), 403 otherwise.
pub fn refusal(caller: &Caller, permission: &Permission) -> ApiError {
    if caller.is_anonymous() {
        ApiError::Authentication(format!("Sign in to perform {}", permission.name))
    } else {
        ApiError::not_allowed(format!(
            "{} is not allowed to perform {}",
            caller.user_entity_ref, permission.name
        ))
    }
}

/// Ok when the policy allows `permission` outright (a basic permission, or
/// a resource permission checked without a resource); a conditional answer
/// counts as a refusal here.
pub fn authorize(
    state: &AppState,
    caller: &Caller,
    permission: &Permission,
) -> Result<(), ApiError> {
    match state.policy.decide(caller, permission) {
        Decision::Allow => Ok(()),
        _ => Err(refusal(caller, permission)),
    }
}

/// For listing catalog entities: None when every entity may be read, the
/// filter that narrows the listing to readable ones, or the refusal.
pub fn entity_filter(
    state: &AppState,
    caller: &Caller,
    permission: &Permission,
) -> Result<Option<EntityFilter>, ApiError> {
    match state.policy.decide(caller, permission) {
        Decision::Allow => Ok(None),
        Decision::Deny => Err(refusal(caller, permission)),
        Decision::Conditional(c) => Ok(Some(conditions::to_entity_filter(&c))),
    }
}

/// `filter` narrowed by the permission filter.
pub fn and_filter(
    filter: Option<EntityFilter>,
    permission: Option<EntityFilter>,
) -> Option<EntityFilter> {
    match (filter, permission) {
        (f, None) => f,
        (None, p) => p,
        (Some(f), Some(p)) => Some(EntityFilter::All(vec![f, p])),
    }
}

/// Whether `permission` on this entity is allowed.
pub fn allows_entity(
    state: &AppState,
    caller: &Caller,
    permission: &Permission,
    entity: &greenroom_model::Entity,
) -> bool {
    match state.policy.decide(caller, permission) {
        Decision::Allow => true,
        Decision::Deny => false,
        Decision::Conditional(c) => {
            conditions::entity_matches(&conditions::to_entity_filter(&c), entity)
        }
    }
}

/// Ok when `permission` on this entity is allowed, else the refusal.
pub fn authorize_entity(
    state: &AppState,
    caller: &Caller,
    permission: &Permission,
    entity: &greenroom_model::Entity,
) -> Result<(), ApiError> {
    if allows_entity(state, caller, permission, entity) {
        Ok(())
    } else {
        Err(refusal(caller, permission))
    }
}

/// Ok when `permission` on a scaffolder task created by `created_by` is allowed.
pub fn authorize_task(
    state: &AppState,
    caller: &Caller,
    permission: &Permission,
    created_by: Option<&str>,
) -> Result<(), ApiError> {
    let allowed = match state.policy.decide(caller, permission) {
        Decision::Allow => true,
        Decision::Deny => false,
        Decision::Conditional(c) => conditions::task_matches(&c, created_by),
    };
    if allowed {
        Ok(())
    } else {
        Err(refusal(caller, permission))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_all_allows_signed_in_callers_only() {
        let policy: &dyn PermissionPolicy = &AllowAllPolicy;
        assert_eq!(
            policy.decide(&Caller::guest(), &CATALOG_ENTITY_DELETE),
            Decision::Allow
        );
        assert_eq!(
            policy.decide(&Caller::anonymous(), &CATALOG_ENTITY_READ),
            Decision::Deny
        );
    }

    #[test]
    fn refusals_are_401_for_anonymous_and_403_for_users() {
        assert_eq!(
            refusal(&Caller::anonymous(), &CATALOG_ENTITY_READ).status(),
            axum::http::StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            refusal(&Caller::guest(), &CATALOG_ENTITY_READ).status(),
            axum::http::StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn every_permission_is_listed_once_with_backstages_shape() {
        let mut names: Vec<_> = ALL.iter().map(|p| p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert_eq!(
            CATALOG_ENTITY_READ.to_json(),
            serde_json::json!({"type": "resource", "name": "catalog.entity.read",
                "attributes": {"action": "read"}, "resourceType": "catalog-entity"})
        );
        assert_eq!(
            by_name("catalog.location.create"),
            Some(CATALOG_LOCATION_CREATE)
        );
    }
}
