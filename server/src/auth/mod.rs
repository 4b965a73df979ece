//! Who is calling. The authentication layer ([`middleware`]) turns a session
//! cookie, an identity token or an API token into a [`Caller`] request
//! extension; every route takes it as an extractor.

pub mod api;
pub mod identity;
pub mod ldap;
pub mod middleware;
pub mod oauth;
pub mod profile;
pub mod resolvers;
pub mod service;

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The identity of the guest user (Backstage's guest provider signs in as this).
pub const GUEST_USER_REF: &str = "user:development/guest";
/// How an anonymous caller appears in logs and the audit log.
pub const ANONYMOUS: &str = "anonymous";

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Not signed in.
    Anonymous,
    /// No sign-in is configured: the portal is open and everyone is the guest.
    Open,
    /// A browser session cookie (CSRF rules apply).
    Session { provider: String },
    /// A Backstage identity token (`Authorization: Bearer <JWT>`).
    IdentityToken,
    /// A personal API token.
    ApiToken { id: String },
}

/// The principal behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Entity ref of the signed-in user, e.g. `user:development/guest`.
    pub user_entity_ref: String,
    /// Refs the user is considered to own through (the user itself and its groups).
    pub ownership_entity_refs: Vec<String>,
    pub via: Via,
}

impl Caller {
    /// Everyone, when the portal runs without sign-in.
    pub fn guest() -> Self {
        Self {
            user_entity_ref: GUEST_USER_REF.to_string(),
            ownership_entity_refs: vec![GUEST_USER_REF.to_string()],
            via: Via::Open,
        }
    }

    pub fn anonymous() -> Self {
        Self {
            user_entity_ref: ANONYMOUS.to_string(),
            ownership_entity_refs: Vec::new(),
            via: Via::Anonymous,
        }
    }

    /// A signed-in user (the credential is set by the caller when it matters).
    pub fn user(user_entity_ref: String, ownership_entity_refs: Vec<String>) -> Self {
        Self {
            user_entity_ref,
            ownership_entity_refs,
            via: Via::IdentityToken,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.via == Via::Anonymous
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    /// The caller the authentication layer established; anonymous when the
    /// request did not pass through it.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(Caller::anonymous))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    #[tokio::test]
    async fn defaults_to_anonymous() {
        let (mut parts, _) = Request::new(()).into_parts();
        let caller = Caller::from_request_parts(&mut parts, &()).await.unwrap();
        assert!(caller.is_anonymous());
    }

    #[tokio::test]
    async fn prefers_an_identity_set_by_middleware() {
        let (mut parts, _) = Request::new(()).into_parts();
        let alice = Caller::user("user:default/alice".into(), vec![]);
        parts.extensions.insert(alice.clone());
        let caller = Caller::from_request_parts(&mut parts, &()).await.unwrap();
        assert_eq!(caller, alice);
    }
}
