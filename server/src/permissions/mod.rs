//! Permission policy seam (reference sections 2.7 and 8). Every route names the
//! permission it needs and calls [`authorize`]; the policy in the application
//! state decides. The default [`AllowAllPolicy`] allows everything, like a
//! Backstage backend without a permission policy.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

/// Decides whether a caller may perform a permission. Object-safe: the state
/// holds it as `Arc<dyn PermissionPolicy>`.
pub trait PermissionPolicy: Send + Sync + 'static {
    fn decide(&self, caller: &Caller, permission: &Permission) -> Decision;
}

/// Allows everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAllPolicy;

impl PermissionPolicy for AllowAllPolicy {
    fn decide(&self, _caller: &Caller, _permission: &Permission) -> Decision {
        Decision::Allow
    }
}

/// Ok when the policy allows `permission` for `caller`, else 403 NotAllowedError.
pub fn authorize(
    state: &AppState,
    caller: &Caller,
    permission: &Permission,
) -> Result<(), ApiError> {
    match state.policy.decide(caller, permission) {
        Decision::Allow => Ok(()),
        Decision::Deny => Err(ApiError::not_allowed(format!(
            "{} is not allowed to perform {}",
            caller.user_entity_ref, permission.name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Denies exactly the listed permissions.
    struct DenyPolicy(Vec<&'static str>);

    impl PermissionPolicy for DenyPolicy {
        fn decide(&self, _caller: &Caller, permission: &Permission) -> Decision {
            if self.0.contains(&permission.name) {
                Decision::Deny
            } else {
                Decision::Allow
            }
        }
    }

    #[test]
    fn allow_all_allows() {
        let policy: &dyn PermissionPolicy = &AllowAllPolicy;
        assert_eq!(
            policy.decide(&Caller::guest(), &CATALOG_ENTITY_DELETE),
            Decision::Allow
        );
    }

    #[test]
    fn deny_policy_is_usable_as_trait_object() {
        let policy: std::sync::Arc<dyn PermissionPolicy> =
            std::sync::Arc::new(DenyPolicy(vec![CATALOG_LOCATION_CREATE.name]));
        assert_eq!(
            policy.decide(&Caller::guest(), &CATALOG_LOCATION_CREATE),
            Decision::Deny
        );
        assert_eq!(
            policy.decide(&Caller::guest(), &CATALOG_LOCATION_READ),
            Decision::Allow
        );
    }
}
