//! Routes declare what they need: every API route is added through
//! [`ApiRouter`] with an [`Access`], enforced by a layer on that route before
//! its handler runs, and recorded in a table the permission matrix test
//! walks. A route cannot be added without saying who may call it.

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;

use crate::auth::middleware::AuditAction;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::permissions::{refusal, Decision, Permission};
use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// Anyone, signed in or not (sign-in itself, health, key sets).
    Public,
    /// Any signed-in caller; what they may do is checked inside (their own
    /// tokens and sessions).
    SignedIn,
    /// The policy must allow the permission. For a resource permission a
    /// conditional answer passes here and the handler applies the conditions
    /// to the resources it touches.
    Permission(&'static Permission),
}

/// One route of the table.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: Method,
    /// The full path with axum's `{param}` placeholders.
    pub path: String,
    pub access: Access,
}

pub struct ApiRouter {
    prefix: &'static str,
    router: Router<AppState>,
    table: Vec<RouteInfo>,
}

async fn enforce(access: Access, request: Request, next: Next) -> Response {
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_else(Caller::anonymous);
    match access {
        Access::Public => next.run(request).await,
        Access::SignedIn if caller.is_anonymous() => {
            ApiError::Authentication("Sign in to use this endpoint".into()).into_response()
        }
        Access::SignedIn => next.run(request).await,
        Access::Permission(permission) => {
            let Some(state) = request.extensions().get::<AppState>().cloned() else {
                // The authentication layer always runs first; without it, refuse.
                return refusal(&caller, permission).into_response();
            };
            let allowed = match state.policy.decide(&caller, permission) {
                Decision::Allow => true,
                Decision::Conditional(_) => permission.resource_type.is_some(),
                Decision::Deny => false,
            };
            if let Some(action) = request.extensions().get::<AuditAction>() {
                action.set(permission.name);
            }
            if allowed {
                next.run(request).await
            } else {
                refusal(&caller, permission).into_response()
            }
        }
    }
}

impl ApiRouter {
    /// Routes nested under `prefix` (e.g. `/api/catalog`).
    pub fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            router: Router::new(),
            table: Vec::new(),
        }
    }

    pub fn route<H, T>(mut self, method: Method, path: &str, handler: H, access: Access) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard method");
        let method_router = on(filter, handler).route_layer(middleware::from_fn(
            move |request: Request, next: Next| enforce(access, request, next),
        ));
        self.router = self.router.route(path, method_router);
        self.table.push(RouteInfo {
            method,
            path: format!("{}{}", self.prefix, path),
            access,
        });
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        h: H,
        access: Access,
    ) -> Self {
        self.route(Method::GET, path, h, access)
    }
    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        h: H,
        access: Access,
    ) -> Self {
        self.route(Method::POST, path, h, access)
    }
    pub fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        h: H,
        access: Access,
    ) -> Self {
        self.route(Method::PUT, path, h, access)
    }
    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        h: H,
        access: Access,
    ) -> Self {
        self.route(Method::DELETE, path, h, access)
    }

    pub fn prefix(&self) -> &'static str {
        self.prefix
    }

    /// The router (to nest at the prefix, layers added by the caller) and
    /// its table.
    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.table)
    }
}
