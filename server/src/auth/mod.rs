//! Who is calling. Every route takes a [`Caller`]; today every request is the
//! guest user. Token and session handling plug in later by inserting a
//! `Caller` request extension in a middleware: the extractor prefers that over
//! the guest identity, so no route changes when real authentication arrives.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The identity of the guest user (Backstage's guest provider signs in as this).
pub const GUEST_USER_REF: &str = "user:development/guest";

/// The principal behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Entity ref of the signed-in user, e.g. `user:development/guest`.
    pub user_entity_ref: String,
    /// Refs the user is considered to own through (the user itself and its groups).
    pub ownership_entity_refs: Vec<String>,
}

impl Caller {
    pub fn guest() -> Self {
        Self {
            user_entity_ref: GUEST_USER_REF.to_string(),
            ownership_entity_refs: vec![GUEST_USER_REF.to_string()],
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(Caller::guest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    #[tokio::test]
    async fn defaults_to_guest() {
        let (mut parts, _) = Request::new(()).into_parts();
        let caller = Caller::from_request_parts(&mut parts, &()).await.unwrap();
        assert_eq!(caller.user_entity_ref, "user:development/guest");
    }

    #[tokio::test]
    async fn prefers_an_identity_set_by_middleware() {
        let (mut parts, _) = Request::new(()).into_parts();
        let alice = Caller {
            user_entity_ref: "user:default/alice".into(),
            ownership_entity_refs: vec![],
        };
        parts.extensions.insert(alice.clone());
        let caller = Caller::from_request_parts(&mut parts, &()).await.unwrap();
        assert_eq!(caller, alice);
    }
}
