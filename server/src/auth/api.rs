//! `/api/auth` (reference 7): Backstage's per-provider routes (`start`,
//! `handler/frame`, `refresh`, `logout`), the identity token's key set and
//! OpenID configuration, LDAP's password sign-in, and Greenroom's session and
//! personal API token endpoints.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Json, Router};
use greenroom_store::{NewAuditEvent, Principal};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};

use super::middleware::{cookie_value, record, ClientAddr, CSRF_HEADER};
use super::profile::ProviderIdentity;
use super::service::{cookie, now_ms, AuthService, SESSION_COOKIE};
use super::{Caller, Via, ANONYMOUS};
use crate::error::{error_body_layer, not_found_fallback, ApiError};
use crate::routes::{Access, ApiRouter, RouteInfo};
use crate::state::AppState;

/// How long a sign-in may take between `start` and the callback.
const NONCE_LIFETIME: Duration = Duration::from_secs(600);

pub fn router() -> (Router<AppState>, Vec<RouteInfo>) {
    let public = Access::Public;
    let (router, table) = ApiRouter::new("/api/auth")
        .get("/providers", providers, public)
        .get("/session", session, public)
        .get("/.well-known/jwks.json", jwks, public)
        .get(
            "/.well-known/openid-configuration",
            openid_configuration,
            public,
        )
        .get("/v1/userinfo", userinfo, Access::SignedIn)
        .post("/ldap/login", ldap_login, public)
        .get("/{provider}/start", start, public)
        .get("/{provider}/handler/frame", handler_frame, public)
        .post("/{provider}/handler/frame", handler_frame, public)
        .get("/{provider}/refresh", refresh, public)
        .post("/{provider}/refresh", refresh, public)
        .post("/{provider}/logout", logout, public)
        .get("/tokens", list_tokens, Access::SignedIn)
        .post("/tokens", create_token, Access::SignedIn)
        .delete("/tokens/{id}", revoke_token, Access::SignedIn)
        .into_parts();
    let router = router
        .fallback(not_found_fallback)
        .layer(axum::middleware::from_fn(error_body_layer));
    (router, table)
}

fn require_xhr(headers: &HeaderMap) -> Result<(), ApiError> {
    if headers.contains_key(CSRF_HEADER) {
        Ok(())
    } else {
        Err(ApiError::Authentication(
            "Invalid X-Requested-With header".into(),
        ))
    }
}

async fn audit(
    state: &AppState,
    actor: &str,
    action: &str,
    path: &str,
    status: StatusCode,
    detail: Option<String>,
    ip: &str,
) {
    record(
        state,
        NewAuditEvent {
            actor: actor.to_string(),
            action: action.to_string(),
            method: "POST".into(),
            path: path.to_string(),
            outcome: super::middleware::outcome(status).into(),
            status: i64::from(status.as_u16()),
            detail,
            ip: Some(ip.to_string()),
        },
    )
    .await;
}

/// Records a refused sign-in; who tried is not known, so the actor is anonymous.
async fn refused_sign_in(
    state: &AppState,
    path: &str,
    status: StatusCode,
    detail: String,
    ip: &str,
) {
    audit(
        state,
        ANONYMOUS,
        "auth.sign-in",
        path,
        status,
        Some(detail),
        ip,
    )
    .await;
}

async fn providers(State(state): State<AppState>) -> Json<Value> {
    let auth = &state.auth;
    Json(json!({
        "signInRequired": auth.sign_in_required(),
        "environment": auth.environment,
        "providers": auth.providers().iter().map(|p| json!({"id": p.id, "title": p.title, "kind": p.kind})).collect::<Vec<_>>(),
    }))
}

/// Who the app's user is; 401 when not signed in.
async fn session(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    if caller.is_anonymous() {
        return Err(ApiError::Authentication("Not signed in".into()));
    }
    let (provider, profile) = match &caller.via {
        Via::Session { provider } => {
            let profile = match cookie_value(&headers, SESSION_COOKIE) {
                Some(v) => state.auth.session(v).await.map(|s| s.profile),
                None => None,
            };
            (
                provider.clone(),
                profile
                    .and_then(|p| serde_json::from_str(&p).ok())
                    .unwrap_or(json!({})),
            )
        }
        Via::Open => ("guest".into(), json!({"displayName": "Guest"})),
        Via::ApiToken { .. } => ("api-token".into(), json!({})),
        _ => ("token".into(), json!({})),
    };
    Ok(Json(json!({
        "userEntityRef": caller.user_entity_ref,
        "ownershipEntityRefs": caller.ownership_entity_refs,
        "provider": provider,
        "profile": profile,
    })))
}

async fn jwks(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .auth
        .tokens
        .jwks()
        .await
        .map(Json)
        .map_err(|e| ApiError::internal(e.to_string()))
}

async fn openid_configuration(State(state): State<AppState>) -> Json<Value> {
    let base = state.auth.tokens.issuer().to_string();
    Json(json!({
        "issuer": base,
        "token_endpoint": format!("{base}/v1/token"),
        "userinfo_endpoint": format!("{base}/v1/userinfo"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "authorization_endpoint": format!("{base}/v1/authorize"),
        "response_types_supported": ["code", "id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"],
        "scopes_supported": ["openid"],
        "token_endpoint_auth_methods_supported": [],
        "claims_supported": ["sub", "ent"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn userinfo(caller: Caller) -> Json<Value> {
    Json(json!({"claims": {"sub": caller.user_entity_ref, "ent": caller.ownership_entity_refs}}))
}

/// Backstage's `ClientOAuthResponse`, without the provider's access token
/// (the app never needs it, so it never leaves the server).
async fn client_response(
    auth: &AuthService,
    principal: &Principal,
    profile: &Value,
    scope: Option<&str>,
) -> Result<Value, ApiError> {
    let (token, expires) = auth
        .tokens
        .issue(principal)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json!({
        "profile": profile,
        "providerInfo": {"scope": scope.unwrap_or_default()},
        "backstageIdentity": {
            "token": token,
            "expiresInSeconds": expires,
            "identity": {
                "type": "user",
                "userEntityRef": principal.user_entity_ref,
                "ownershipEntityRefs": principal.ownership_refs,
            }
        }
    }))
}

fn profile_of(identity: &ProviderIdentity) -> Value {
    json!({
        "displayName": identity.display_name.clone().unwrap_or_else(|| identity.username.clone()),
        "email": identity.email,
        "picture": identity.picture,
    })
}

/// Signs `principal` in: a new session cookie and the client response.
async fn sign_in(
    auth: &AuthService,
    principal: &Principal,
    provider: &str,
    profile: &Value,
    scope: Option<&str>,
) -> Result<(String, Value), ApiError> {
    let secret = auth
        .create_session(principal, provider, profile)
        .await
        .map_err(ApiError::internal)?;
    let body = client_response(auth, principal, profile, scope).await?;
    Ok((auth.session_cookie(&secret, auth.session_duration), body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LdapLoginBody {
    username: String,
    password: String,
}

async fn ldap_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddr(ip): ClientAddr,
    Json(body): Json<LdapLoginBody>,
) -> Result<Response, ApiError> {
    require_xhr(&headers)?;
    let auth = state.auth.clone();
    let ldap = auth
        .ldap
        .as_ref()
        .ok_or_else(|| ApiError::not_found("Unknown auth provider 'ldap'"))?;
    let path = "/api/auth/ldap/login";
    if let Err(wait) = auth.limiter.check(&ip, &body.username) {
        refused_sign_in(
            &state,
            path,
            StatusCode::TOO_MANY_REQUESTS,
            format!("ldap: too many attempts for {}", body.username),
            &ip,
        )
        .await;
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.to_string())],
            Json(json!({"error": {"name": "TooManyRequestsError", "message": "Too many sign-in attempts; try again later"}})),
        )
            .into_response());
    }
    let identity = match ldap
        .login
        .authenticate(&body.username, &body.password)
        .await
    {
        Ok(identity) => identity,
        Err(e) => {
            let unavailable = matches!(e, super::ldap::LdapLoginError::Unavailable(_));
            if !unavailable {
                auth.limiter.failed(&body.username);
            }
            let status = if unavailable {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::UNAUTHORIZED
            };
            refused_sign_in(
                &state,
                path,
                status,
                format!("ldap: {} for {}", e, body.username),
                &ip,
            )
            .await;
            return Err(if unavailable {
                ApiError::ServiceUnavailable("The directory is unavailable; try again later".into())
            } else {
                ApiError::Authentication("Invalid username or password".into())
            });
        }
    };
    let principal = match auth.resolve(&identity, &ldap.resolvers).await {
        Ok(p) => p,
        Err(e) => {
            refused_sign_in(
                &state,
                path,
                StatusCode::UNAUTHORIZED,
                format!("ldap: {e} ({})", body.username),
                &ip,
            )
            .await;
            return Err(ApiError::Authentication(e.to_string()));
        }
    };
    auth.limiter.succeeded(&body.username);
    let (set_cookie, response) =
        sign_in(&auth, &principal, "ldap", &profile_of(&identity), None).await?;
    audit(
        &state,
        &principal.user_entity_ref,
        "auth.sign-in",
        path,
        StatusCode::OK,
        Some("ldap".into()),
        &ip,
    )
    .await;
    Ok(([(header::SET_COOKIE, set_cookie)], Json(response)).into_response())
}

/// `302 Found`, as Backstage's OAuth routes answer (axum's `Redirect::to` is 303).
fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// The OAuth `state` parameter: Backstage's hex of the URL-encoded fields.
#[derive(Debug, Default, PartialEq)]
struct OAuthState {
    nonce: String,
    env: String,
    origin: Option<String>,
    redirect_url: Option<String>,
    flow: Option<String>,
}

impl OAuthState {
    fn encode(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("nonce", &self.nonce)
            .append_pair("env", &self.env);
        if let Some(o) = &self.origin {
            s.append_pair("origin", o);
        }
        if let Some(r) = &self.redirect_url {
            s.append_pair("redirectUrl", r);
        }
        if let Some(f) = &self.flow {
            s.append_pair("flow", f);
        }
        hex::encode(s.finish())
    }

    fn decode(state: &str) -> Option<Self> {
        let bytes = hex::decode(state).ok()?;
        let mut out = OAuthState::default();
        for (k, v) in url::form_urlencoded::parse(&bytes) {
            match k.as_ref() {
                "nonce" => out.nonce = v.into_owned(),
                "env" => out.env = v.into_owned(),
                "origin" => out.origin = Some(v.into_owned()),
                "redirectUrl" => out.redirect_url = Some(v.into_owned()),
                "flow" => out.flow = Some(v.into_owned()),
                _ => {}
            }
        }
        (!out.nonce.is_empty()).then_some(out)
    }
}

/// Whether `url` belongs to the app (no open redirects off a sign-in).
fn app_url(auth: &AuthService, url: &str) -> bool {
    url::Url::parse(url)
        .map(|u| auth.app_origins.contains(&u.origin().ascii_serialization()))
        .unwrap_or(false)
}

fn unknown_provider(provider: &str) -> ApiError {
    ApiError::not_found(format!("Unknown auth provider '{provider}'"))
}

#[derive(Deserialize)]
struct StartQuery {
    env: Option<String>,
    scope: Option<String>,
    origin: Option<String>,
    flow: Option<String>,
    #[serde(rename = "redirectUrl")]
    redirect_url: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> Result<Response, ApiError> {
    let auth = &state.auth;
    if provider == "guest" {
        return Err(ApiError::NotImplemented(
            "The guest provider signs in through /refresh".into(),
        ));
    }
    let entry = auth
        .oauth
        .get(provider.as_str())
        .ok_or_else(|| unknown_provider(&provider))?;
    let env = q.env.unwrap_or_else(|| auth.environment.clone());
    if env != auth.environment {
        return Err(ApiError::input(format!(
            "No configuration for environment '{env}'"
        )));
    }
    for url in q.redirect_url.iter().chain(q.origin.iter()) {
        if !app_url(auth, url) {
            return Err(ApiError::input(format!("Origin '{url}' is not allowed")));
        }
    }
    let mut nonce = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut nonce);
    let nonce = hex::encode(nonce);
    let oauth_state = OAuthState {
        nonce: nonce.clone(),
        env,
        origin: q.origin,
        redirect_url: q.redirect_url,
        flow: q.flow,
    };
    let scopes: Vec<String> = q
        .scope
        .iter()
        .flat_map(|s| s.split([' ', ',']))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let (url, verifier) = entry.provider.authorize_url(&oauth_state.encode(), &scopes);
    // The PKCE verifier rides in the nonce cookie (HttpOnly, only sent to the
    // callback): any replica can finish the sign-in, and nothing is kept in memory.
    let set_cookie = cookie(
        &format!("{provider}-nonce"),
        &format!("{nonce}.{verifier}"),
        &format!("/api/auth/{provider}/handler"),
        NONCE_LIFETIME,
        auth.secure_cookies,
    );
    Ok(([(header::SET_COOKIE, set_cookie)], found(url.as_str())).into_response())
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The page a popup sign-in ends on: it posts the result to the opener
/// (Backstage's `authorization_response` message) and closes.
fn post_message_page(target_origin: &str, message: &Value) -> Html<String> {
    // JSON inside a script: escape `<` so no value can close the script element.
    let safe = |v: &Value| v.to_string().replace('<', "\\u003c");
    Html(format!(
        "<!DOCTYPE html><html><body><script>(function(){{var origin={origin};var opener=window.opener;if(opener){{opener.postMessage({config},origin);opener.postMessage({message},origin);}}window.close();}})();</script></body></html>",
        origin = safe(&json!(target_origin)),
        config = safe(&json!({"type": "config_info", "targetOrigin": target_origin})),
        message = safe(message),
    ))
}

async fn handler_frame(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
    ClientAddr(ip): ClientAddr,
) -> Result<Response, ApiError> {
    let auth = state.auth.clone();
    let entry = auth
        .oauth
        .get(provider.as_str())
        .ok_or_else(|| unknown_provider(&provider))?;
    let path = format!("/api/auth/{provider}/handler/frame");
    let cookie_name = format!("{provider}-nonce");
    let clear_nonce = cookie(
        &cookie_name,
        "",
        &format!("/api/auth/{provider}/handler"),
        Duration::ZERO,
        auth.secure_cookies,
    );
    let oauth_state = q.state.as_deref().and_then(OAuthState::decode);
    let stored = cookie_value(&headers, &cookie_name).and_then(|v| v.split_once('.'));
    // The state must carry the nonce this browser was given at `start`: a
    // callback forged by another site (login CSRF) or replayed fails here.
    let (oauth_state, verifier) = match (oauth_state, stored) {
        (Some(s), Some((nonce, verifier))) if !nonce.is_empty() && s.nonce == nonce => {
            (s, verifier.to_string())
        }
        _ => {
            refused_sign_in(
                &state,
                &path,
                StatusCode::UNAUTHORIZED,
                format!("{provider}: invalid state"),
                &ip,
            )
            .await;
            return Err(ApiError::Authentication(
                "Invalid state passed via request".into(),
            ));
        }
    };
    let redirect_flow = oauth_state.flow.as_deref() == Some("redirect");
    let fail = |message: String| -> Response {
        if redirect_flow {
            if let Some(url) = &oauth_state.redirect_url {
                let sep = if url.contains('?') { '&' } else { '?' };
                let target = format!(
                    "{url}{sep}signInError={}",
                    percent_encoding::utf8_percent_encode(
                        &message,
                        percent_encoding::NON_ALPHANUMERIC
                    )
                );
                return ([(header::SET_COOKIE, clear_nonce.clone())], found(&target))
                    .into_response();
            }
        }
        let origin = oauth_state
            .origin
            .clone()
            .or_else(|| auth.app_origins.first().cloned())
            .unwrap_or_default();
        let page = post_message_page(
            &origin,
            &json!({"type": "authorization_response", "error": {"name": "AuthenticationError", "message": message}}),
        );
        (
            StatusCode::UNAUTHORIZED,
            [(header::SET_COOKIE, clear_nonce.clone())],
            page,
        )
            .into_response()
    };
    if let Some(error) = q.error {
        let message = q.error_description.unwrap_or(error);
        refused_sign_in(
            &state,
            &path,
            StatusCode::UNAUTHORIZED,
            format!("{provider}: {message}"),
            &ip,
        )
        .await;
        return Ok(fail(format!("Sign-in was refused: {message}")));
    }
    let Some(code) = q.code else {
        return Ok(fail("The sign-in callback carried no code".into()));
    };
    let identity = match entry.provider.exchange(&code, &verifier).await {
        Ok(identity) => identity,
        Err(e) => {
            refused_sign_in(
                &state,
                &path,
                StatusCode::UNAUTHORIZED,
                format!("{provider}: {e}"),
                &ip,
            )
            .await;
            return Ok(fail(e.to_string()));
        }
    };
    let principal = match auth.resolve(&identity, &entry.resolvers).await {
        Ok(p) => p,
        Err(e) => {
            refused_sign_in(
                &state,
                &path,
                StatusCode::UNAUTHORIZED,
                format!("{provider}: {e} ({})", identity.username),
                &ip,
            )
            .await;
            return Ok(fail(e.to_string()));
        }
    };
    let (session_cookie, body) = sign_in(
        &auth,
        &principal,
        &provider,
        &profile_of(&identity),
        identity.scope.as_deref(),
    )
    .await?;
    audit(
        &state,
        &principal.user_entity_ref,
        "auth.sign-in",
        &path,
        StatusCode::OK,
        Some(provider.clone()),
        &ip,
    )
    .await;
    let mut response = if redirect_flow {
        let target = oauth_state
            .redirect_url
            .clone()
            .unwrap_or_else(|| "/".into());
        found(&target).into_response()
    } else {
        let origin = oauth_state
            .origin
            .clone()
            .or_else(|| auth.app_origins.first().cloned())
            .unwrap_or_default();
        post_message_page(
            &origin,
            &json!({"type": "authorization_response", "response": body}),
        )
        .into_response()
    };
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        session_cookie.parse().expect("cookie is ASCII"),
    );
    h.append(
        header::SET_COOKIE,
        clear_nonce.parse().expect("cookie is ASCII"),
    );
    Ok(response)
}

/// A fresh identity token for the session (Backstage's refresh); for the
/// guest provider this is the sign-in itself.
async fn refresh(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    caller: Caller,
    ClientAddr(ip): ClientAddr,
) -> Result<Response, ApiError> {
    require_xhr(&headers)?;
    let auth = state.auth.clone();
    if provider == "guest" {
        let principal = auth
            .guest_principal()
            .await
            .ok_or_else(|| unknown_provider("guest"))?;
        let profile = json!({"displayName": "Guest"});
        let (set_cookie, body) = sign_in(&auth, &principal, "guest", &profile, None).await?;
        audit(
            &state,
            &principal.user_entity_ref,
            "auth.sign-in",
            "/api/auth/guest/refresh",
            StatusCode::OK,
            Some("guest".into()),
            &ip,
        )
        .await;
        return Ok(([(header::SET_COOKIE, set_cookie)], Json(body)).into_response());
    }
    let configured =
        auth.oauth.contains_key(provider.as_str()) || (provider == "ldap" && auth.ldap.is_some());
    if !configured {
        return Err(unknown_provider(&provider));
    }
    match &caller.via {
        Via::Session { provider: p } if *p == provider => {}
        _ => {
            return Err(ApiError::Authentication(
                "Refresh failed: Missing session cookie".into(),
            ))
        }
    }
    let value = cookie_value(&headers, SESSION_COOKIE).unwrap_or_default();
    let profile = auth
        .session(value)
        .await
        .and_then(|s| serde_json::from_str(&s.profile).ok())
        .unwrap_or(json!({}));
    let principal = Principal {
        user_entity_ref: caller.user_entity_ref,
        ownership_refs: caller.ownership_entity_refs,
    };
    Ok(Json(client_response(&auth, &principal, &profile, None).await?).into_response())
}

async fn logout(
    State(state): State<AppState>,
    Path(_provider): Path<String>,
    headers: HeaderMap,
    caller: Caller,
    ClientAddr(ip): ClientAddr,
) -> Result<Response, ApiError> {
    require_xhr(&headers)?;
    let auth = state.auth.clone();
    if let Some(value) = cookie_value(&headers, SESSION_COOKIE) {
        auth.end_session(value).await;
    }
    if !caller.is_anonymous() {
        audit(
            &state,
            &caller.user_entity_ref,
            "auth.sign-out",
            "/api/auth/logout",
            StatusCode::OK,
            None,
            &ip,
        )
        .await;
    }
    Ok((
        [(header::SET_COOKIE, auth.session_cookie("", Duration::ZERO))],
        StatusCode::OK,
    )
        .into_response())
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn token_json(t: &greenroom_store::ApiTokenRecord) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "createdAt": iso(t.created_at_ms),
        "expiresAt": t.expires_at_ms.map(iso),
        "lastUsedAt": t.last_used_at_ms.map(iso),
    })
}

async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let tokens = state
        .auth
        .store
        .list_api_tokens(&caller.user_entity_ref)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(
        json!({"items": tokens.iter().map(token_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewTokenBody {
    name: String,
    /// None: the token does not expire.
    expires_in_days: Option<u32>,
}

/// Tokens made with a token would outlive its revocation: only a browser
/// session (or an identity token) may create them.
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(ip): ClientAddr,
    Json(body): Json<NewTokenBody>,
) -> Result<Response, ApiError> {
    if matches!(caller.via, Via::ApiToken { .. }) {
        return Err(ApiError::not_allowed("API tokens cannot create API tokens"));
    }
    let name = body.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::input(
            "A token needs a name of 1 to 100 characters",
        ));
    }
    if body.expires_in_days == Some(0) || body.expires_in_days.is_some_and(|d| d > 3650) {
        return Err(ApiError::input("expiresInDays must be between 1 and 3650"));
    }
    let principal = Principal {
        user_entity_ref: caller.user_entity_ref.clone(),
        ownership_refs: caller.ownership_entity_refs.clone(),
    };
    let (record, secret) = state
        .auth
        .create_api_token(
            &principal,
            name,
            body.expires_in_days
                .map(|d| Duration::from_secs(u64::from(d) * 86_400)),
        )
        .await
        .map_err(ApiError::internal)?;
    audit(
        &state,
        &caller.user_entity_ref,
        "auth.token.create",
        "/api/auth/tokens",
        StatusCode::CREATED,
        Some(format!("token {} ({name})", record.id)),
        &ip,
    )
    .await;
    let mut body = token_json(&record);
    body["token"] = json!(secret);
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ClientAddr(ip): ClientAddr,
) -> Result<StatusCode, ApiError> {
    let result = state
        .auth
        .store
        .revoke_api_token(&caller.user_entity_ref, &id, now_ms())
        .await;
    let status = match &result {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::NOT_FOUND,
    };
    audit(
        &state,
        &caller.user_entity_ref,
        "auth.token.revoke",
        &format!("/api/auth/tokens/{id}"),
        status,
        None,
        &ip,
    )
    .await;
    result.map_err(|e| ApiError::not_found(e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_as_backstage_encodes_it() {
        let s = OAuthState {
            nonce: "abc".into(),
            env: "development".into(),
            origin: Some("http://localhost:7007".into()),
            redirect_url: Some("http://localhost:7007/catalog?x=1".into()),
            flow: Some("redirect".into()),
        };
        let encoded = s.encode();
        assert!(encoded.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(OAuthState::decode(&encoded), Some(s));
        assert_eq!(OAuthState::decode("zz"), None);
        assert_eq!(
            OAuthState::decode(&hex::encode("env=x")),
            None,
            "a state needs a nonce"
        );
    }

    #[test]
    fn the_popup_page_cannot_be_broken_out_of() {
        let page = post_message_page(
            "http://localhost:7007",
            &json!({"error": {"message": "</script><script>alert(1)</script>"}}),
        );
        assert!(!page.0.contains("</script><script>"));
    }
}
