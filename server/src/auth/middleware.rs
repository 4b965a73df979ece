//! The authentication layer in front of every route: establishes the
//! [`Caller`] from a bearer credential or the session cookie, refuses
//! cross-site state-changing requests that ride on the cookie, and writes
//! the audit record of every state-changing request.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use greenroom_store::NewAuditEvent;

use super::service::{now_ms, SESSION_COOKIE};
use super::{Caller, Via};
use crate::error::ApiError;
use crate::state::AppState;

/// Where a route's access layer notes the permission it checked, for the
/// audit record (a request extension: it survives layers that rebuild the
/// response, such as the error body layer).
#[derive(Debug, Clone, Default)]
pub struct AuditAction(pub std::sync::Arc<std::sync::Mutex<Option<&'static str>>>);

impl AuditAction {
    pub fn set(&self, name: &'static str) {
        *self.0.lock().unwrap() = Some(name);
    }

    fn get(&self) -> Option<&'static str> {
        *self.0.lock().unwrap()
    }
}

/// The header every state-changing browser request must carry (Backstage's
/// auth routes demand the same). A cross-site form or image cannot set it,
/// and a cross-site script cannot either without a CORS preflight.
pub const CSRF_HEADER: &str = "x-requested-with";

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a cookie-authenticated state-changing request comes from the app:
/// it carries the CSRF header and, when the browser names an origin, that
/// origin is one of the app's or the very host the request was sent to.
fn same_site_request(headers: &HeaderMap, app_origins: &[String]) -> bool {
    if !headers.contains_key(CSRF_HEADER) {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    if app_origins.iter().any(|a| a == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
}

/// The client address for the audit log and the login limiter ("unknown"
/// when the server runs without connection info, as in router tests).
pub fn client_ip(connect: Option<&ConnectInfo<std::net::SocketAddr>>) -> String {
    connect
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The client address as an extractor.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_ip(
            parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>(),
        )))
    }
}

pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let auth = state.auth.clone();
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let caller = if let Some(token) = bearer {
        match auth.bearer_caller(&token).await {
            Ok(caller) => caller,
            // A credential that does not verify is refused, never downgraded
            // to anonymous: the script should learn its token is bad.
            Err(reason) => {
                tracing::info!(reason = %reason, path = %request.uri().path(), "bearer credential refused");
                return ApiError::Authentication(format!("Invalid credentials: {reason}"))
                    .into_response();
            }
        }
    } else if let Some(session) = match cookie_value(request.headers(), SESSION_COOKIE) {
        Some(value) => auth.session(value).await,
        None => None,
    } {
        Caller {
            user_entity_ref: session.principal.user_entity_ref,
            ownership_entity_refs: session.principal.ownership_refs,
            via: Via::Session {
                provider: session.provider,
            },
        }
    } else if auth.sign_in_required() {
        Caller::anonymous()
    } else {
        Caller::guest()
    };
    let method = request.method().clone();
    if matches!(caller.via, Via::Session { .. })
        && is_state_changing(&method)
        && !same_site_request(request.headers(), &auth.app_origins)
    {
        return ApiError::not_allowed(
            "Cross-site request refused: state-changing requests with a session cookie need the X-Requested-With header and a same-origin Origin",
        )
        .into_response();
    }
    let path = request.uri().path().to_string();
    let ip = client_ip(
        request
            .extensions()
            .get::<ConnectInfo<std::net::SocketAddr>>(),
    );
    let action = AuditAction::default();
    request.extensions_mut().insert(action.clone());
    request.extensions_mut().insert(caller.clone());
    request.extensions_mut().insert(state.clone());
    let response = next.run(request).await;
    // Sign-in routes write their own, richer records.
    if is_state_changing(&method) && !path.starts_with("/api/auth/") {
        let status = response.status();
        let action = action
            .get()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{method} {path}"));
        let event = NewAuditEvent {
            actor: caller.user_entity_ref.clone(),
            action,
            method: method.to_string(),
            path,
            outcome: outcome(status).into(),
            status: i64::from(status.as_u16()),
            detail: None,
            ip: Some(ip),
        };
        record(&state, event).await;
    }
    response
}

pub fn outcome(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 | 403 => "denied",
        s if s < 400 => "allowed",
        _ => "failed",
    }
}

/// Appends to the audit log; a failure is logged, never turned into an error
/// for a request that already happened.
pub async fn record(state: &AppState, event: NewAuditEvent) {
    if let Err(e) = state.auth.store.append_audit(&event, now_ms()).await {
        tracing::error!(error = %e, action = %event.action, "audit record lost");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; greenroom-session=abc; b=2"),
        );
        assert_eq!(cookie_value(&h, "greenroom-session"), Some("abc"));
        assert_eq!(cookie_value(&h, "c"), None);
    }

    #[test]
    fn csrf_needs_the_header_and_a_known_origin() {
        let origins = vec!["http://localhost:7007".to_string()];
        let mut h = HeaderMap::new();
        assert!(!same_site_request(&h, &origins));
        h.insert(CSRF_HEADER, HeaderValue::from_static("XMLHttpRequest"));
        assert!(same_site_request(&h, &origins));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_site_request(&h, &origins));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:7007"),
        );
        assert!(same_site_request(&h, &origins));
        // The host the request was sent to, though not configured (a proxy's name).
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://portal.example.com"),
        );
        assert!(!same_site_request(&h, &origins));
        h.insert(header::HOST, HeaderValue::from_static("portal.example.com"));
        assert!(same_site_request(&h, &origins));
        h.insert(header::HOST, HeaderValue::from_static("evil.example"));
        assert!(!same_site_request(&h, &origins));
    }
}
