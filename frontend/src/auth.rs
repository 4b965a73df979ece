//! Who is signed in, and how to sign in and out, over the server's
//! `/api/auth` endpoints. The session is an HttpOnly cookie the app cannot
//! read: `GET /api/auth/session` says who it belongs to.
//!
//! At start the app asks for the sign-in methods (`/api/auth/providers`) and
//! the session at the same time. [`Auth::gate`] then decides what to show: the
//! portal, or (when the server requires sign-in and there is no session, or
//! any request answered 401 since) the sign-in page.
//!
//! URL building and the small text rules are plain functions, unit-tested on
//! the host.

use std::cell::RefCell;

use crate::api::{self, encode_component, ApiError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

pub const AUTH_API: &str = "/api/auth";

/// The query parameter the server adds to the return address when a
/// redirect sign-in failed.
pub const SIGN_IN_ERROR_PARAM: &str = "signInError";

/// `GET /api/auth/session`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub user_entity_ref: String,
    #[serde(default)]
    pub ownership_entity_refs: Vec<String>,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub profile: Profile,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
}

impl Session {
    /// The profile's display name, else the name part of the user's ref.
    pub fn display_name(&self) -> String {
        self.profile
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| ref_name(&self.user_entity_ref).to_string())
    }

    /// The profile picture, when it is an address the page may load.
    pub fn picture(&self) -> Option<String> {
        self.profile
            .picture
            .as_deref()
            .map(str::trim)
            .filter(|p| p.starts_with("https://") || p.starts_with("http://") || p.starts_with('/'))
            .map(str::to_string)
    }
}

/// `name` of `kind:namespace/name`.
fn ref_name(entity_ref: &str) -> &str {
    entity_ref
        .rsplit(['/', ':'])
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(entity_ref)
}

/// Up to two letters for an avatar without a picture: the first letters of
/// the first and last words ("Alice Smith" → "AS", "alice" → "A").
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || matches!(c, '.' | '-' | '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let first = |w: &str| {
        w.chars()
            .next()
            .map(|c| c.to_uppercase().collect::<String>())
    };
    match words.as_slice() {
        [] => "?".to_string(),
        [only] => first(only).unwrap_or_default(),
        [head, .., last] => format!(
            "{}{}",
            first(head).unwrap_or_default(),
            first(last).unwrap_or_default()
        ),
    }
}

/// `GET /api/auth/providers`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersInfo {
    #[serde(default)]
    pub sign_in_required: bool,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    pub providers: Vec<Provider>,
}

impl ProvidersInfo {
    /// A server without sign-in endpoints: the portal is open.
    fn open() -> Self {
        ProvidersInfo {
            sign_in_required: false,
            environment: String::new(),
            providers: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Provider {
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub kind: ProviderKind,
}

impl Provider {
    pub fn title(&self) -> &str {
        if self.title.trim().is_empty() {
            &self.id
        } else {
            &self.title
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// A redirect to an identity provider and back.
    Oauth,
    /// A username and password form (LDAP).
    Password,
    /// Enter without an account.
    Guest,
    /// A kind this app does not know; not offered.
    #[serde(other)]
    Other,
}

/// Where a redirect sign-in with `provider` starts; the server comes back to
/// `return_to` when it is done.
pub fn oauth_start_url(provider: &str, environment: &str, return_to: &str) -> String {
    format!(
        "{AUTH_API}/{}/start?env={}&flow=redirect&redirectUrl={}",
        encode_component(provider),
        encode_component(environment),
        encode_component(return_to)
    )
}

/// `/api/auth/<provider>/<action>`.
pub fn provider_url(provider: &str, action: &str) -> String {
    format!("{AUTH_API}/{}/{action}", encode_component(provider))
}

/// The value of `name` in a query string (`?a=1&b=2`, the `?` optional),
/// percent-decoded, `+` read as a space.
pub fn query_param(search: &str, name: &str) -> Option<String> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| crate::entity::decode_param(&value.replace('+', " ")))
}

/// The query string without `name` (`""` when nothing is left, else with `?`).
pub fn without_query_param(search: &str, name: &str) -> String {
    let kept: Vec<&str> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(name))
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    }
}

/// What a refused password sign-in says, for the status and the server's message.
pub fn password_failure(status: u16, message: Option<String>, retry_after: Option<&str>) -> String {
    match status {
        429 => match retry_after.and_then(|s| s.trim().parse::<u64>().ok()) {
            Some(1) => "Too many attempts. Try again in 1 second.".to_string(),
            Some(seconds) if seconds < 120 => {
                format!("Too many attempts. Try again in {seconds} seconds.")
            }
            Some(seconds) => format!(
                "Too many attempts. Try again in {} minutes.",
                seconds.div_ceil(60)
            ),
            None => "Too many attempts. Wait a moment, then try again.".to_string(),
        },
        _ => message
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| "The username or password is not correct.".to_string()),
    }
}

// ---------------------------------------------------------------------------
// The session in the browser
// ---------------------------------------------------------------------------

thread_local! {
    /// Set when any request answers 401: the session has ended.
    static SESSION_ENDED: RefCell<Option<ArcRwSignal<bool>>> = const { RefCell::new(None) };
}

fn ended_signal() -> ArcRwSignal<bool> {
    SESSION_ENDED.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| ArcRwSignal::new(false))
            .clone()
    })
}

/// Called by the request helpers on every 401 answer.
pub fn session_ended() {
    let ended = ended_signal();
    if !ended.get_untracked() {
        ended.set(true);
    }
}

/// What the app shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    Loading,
    /// The sign-in methods or the session could not be read.
    Failed(ApiError),
    SignIn,
    Open,
}

/// The sign-in state, provided once by the app.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    providers: RwSignal<Option<Result<ProvidersInfo, ApiError>>>,
    session: RwSignal<Option<Result<Option<Session>, ApiError>>>,
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// `GET /api/auth/providers`; a server without it has an open portal.
async fn fetch_providers() -> Result<ProvidersInfo, ApiError> {
    match api::get_json::<ProvidersInfo>(&format!("{AUTH_API}/providers")).await {
        Err(error) if error.is_not_found() => Ok(ProvidersInfo::open()),
        other => other,
    }
}

/// `GET /api/auth/session`: `None` when nobody is signed in.
async fn fetch_session() -> Result<Option<Session>, ApiError> {
    match api::get_json::<Session>(&format!("{AUTH_API}/session")).await {
        Ok(session) => Ok(Some(session)),
        Err(error) if matches!(error.status(), Some(401 | 404)) => Ok(None),
        Err(error) => Err(error),
    }
}

impl Auth {
    /// Asks for the sign-in methods and the session, and provides the state
    /// to every component below.
    pub fn provide() -> Self {
        let auth = Auth {
            providers: RwSignal::new(None),
            session: RwSignal::new(None),
        };
        provide_context(auth);
        auth.load_providers();
        auth.reload_session();
        auth
    }

    fn load_providers(self) {
        let providers = self.providers;
        spawn_local(async move {
            let answer = fetch_providers().await;
            let _ = providers.try_set(Some(answer));
        });
    }

    /// Reads the session again, in the background.
    pub fn reload_session(self) {
        spawn_local(async move {
            self.refresh_session().await;
        });
    }

    /// Reads the session again (after signing in without leaving the page);
    /// whether someone is signed in now.
    pub async fn refresh_session(self) -> bool {
        let answer = fetch_session().await;
        let signed_in = matches!(answer, Ok(Some(_)));
        if signed_in {
            crate::permissions::forget();
            ended_signal().set(false);
        }
        let _ = self.session.try_set(Some(answer));
        signed_in
    }

    /// Tries again after the start failed.
    pub fn retry(self) {
        self.providers.set(None);
        self.session.set(None);
        self.load_providers();
        self.reload_session();
    }

    pub fn gate(self) -> Gate {
        let providers = self.providers.get();
        let session = self.session.get();
        match (providers, session) {
            (Some(Err(error)), _) => Gate::Failed(error),
            (None, _) | (_, None) => Gate::Loading,
            (Some(Ok(providers)), Some(session)) => {
                if !providers.sign_in_required {
                    return Gate::Open;
                }
                match session {
                    Err(error) => Gate::Failed(error),
                    Ok(Some(_)) if !ended_signal().get() => Gate::Open,
                    Ok(_) => Gate::SignIn,
                }
            }
        }
    }

    /// Who is signed in, when anyone is.
    pub fn session(self) -> Option<Session> {
        self.session
            .with(|s| s.clone().and_then(Result::ok).flatten())
    }

    pub fn providers(self) -> Option<ProvidersInfo> {
        self.providers.with(|p| p.clone().and_then(Result::ok))
    }

    /// Whether the portal needs a session (signing out then means something).
    pub fn sign_in_required(self) -> bool {
        self.providers
            .with(|p| matches!(p, Some(Ok(info)) if info.sign_in_required))
    }
}

/// Ends the session, then loads the app again (which then shows the sign-in page).
pub async fn sign_out(provider: String) -> Result<(), ApiError> {
    let provider = if provider.is_empty() {
        "guest".to_string()
    } else {
        provider
    };
    api::send_ok(api::build(api::post(&provider_url(&provider, "logout")))?).await?;
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign("/");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_and_providers_decode() {
        let session: Session = serde_json::from_str(
            r#"{"userEntityRef":"user:default/alice","ownershipEntityRefs":["user:default/alice","group:default/backend"],"provider":"github","profile":{"displayName":"Alice","email":"alice@example.com","picture":"https://example.com/a.png"}}"#,
        )
        .unwrap();
        assert_eq!(session.display_name(), "Alice");
        assert_eq!(session.ownership_entity_refs.len(), 2);
        assert_eq!(
            session.picture().as_deref(),
            Some("https://example.com/a.png")
        );
        let bare: Session =
            serde_json::from_str(r#"{"userEntityRef":"user:default/guest","profile":{}}"#).unwrap();
        assert_eq!(bare.display_name(), "guest");
        assert_eq!(bare.picture(), None);

        let info: ProvidersInfo = serde_json::from_str(
            r#"{"signInRequired":true,"environment":"development","providers":[{"id":"github","title":"GitHub","kind":"oauth"},{"id":"ldap","title":"LDAP","kind":"password"},{"id":"guest","title":"Guest","kind":"guest"},{"id":"x","kind":"saml"}]}"#,
        )
        .unwrap();
        assert!(info.sign_in_required);
        let kinds: Vec<ProviderKind> = info.providers.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [
                ProviderKind::Oauth,
                ProviderKind::Password,
                ProviderKind::Guest,
                ProviderKind::Other
            ]
        );
        assert_eq!(info.providers[3].title(), "x");
    }

    #[test]
    fn javascript_pictures_are_not_loaded() {
        let session = Session {
            user_entity_ref: "user:default/a".into(),
            ownership_entity_refs: vec![],
            provider: String::new(),
            profile: Profile {
                picture: Some("javascript:alert(1)".into()),
                ..Profile::default()
            },
        };
        assert_eq!(session.picture(), None);
    }

    #[test]
    fn initials_take_the_first_and_last_words() {
        assert_eq!(initials("Alice Smith"), "AS");
        assert_eq!(initials("alice"), "A");
        assert_eq!(initials("jane.van.doe"), "JD");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("émile zola"), "ÉZ");
    }

    #[test]
    fn oauth_starts_carry_the_environment_and_the_return_address() {
        assert_eq!(
            oauth_start_url("github", "development", "https://portal.example/catalog?kind=api"),
            "/api/auth/github/start?env=development&flow=redirect&redirectUrl=https%3A%2F%2Fportal.example%2Fcatalog%3Fkind%3Dapi"
        );
        assert_eq!(provider_url("ldap", "login"), "/api/auth/ldap/login");
    }

    #[test]
    fn the_sign_in_error_is_read_and_removed_from_the_query() {
        let search = "?kind=api&signInError=Access+denied%3A%20not%20a%20member";
        assert_eq!(
            query_param(search, SIGN_IN_ERROR_PARAM).as_deref(),
            Some("Access denied: not a member")
        );
        assert_eq!(
            without_query_param(search, SIGN_IN_ERROR_PARAM),
            "?kind=api"
        );
        assert_eq!(
            without_query_param("?signInError=x", SIGN_IN_ERROR_PARAM),
            ""
        );
        assert_eq!(without_query_param("", SIGN_IN_ERROR_PARAM), "");
        assert_eq!(query_param("?a=1", SIGN_IN_ERROR_PARAM), None);
    }

    #[test]
    fn password_failures_read_well() {
        assert_eq!(
            password_failure(401, Some("Invalid credentials".into()), None),
            "Invalid credentials"
        );
        assert_eq!(
            password_failure(401, None, None),
            "The username or password is not correct."
        );
        assert_eq!(
            password_failure(429, None, Some("30")),
            "Too many attempts. Try again in 30 seconds."
        );
        assert_eq!(
            password_failure(429, None, Some("600")),
            "Too many attempts. Try again in 10 minutes."
        );
        assert_eq!(
            password_failure(429, None, Some("soon")),
            "Too many attempts. Wait a moment, then try again."
        );
    }
}
