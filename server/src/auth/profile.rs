//! What a sign-in provider knows about the person who signed in, before a
//! sign-in resolver maps it to a User entity.

/// The identity a provider (GitHub, GitLab, LDAP) established.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// `github`, `gitlab` or `ldap`.
    pub provider: String,
    /// Login name (GitHub/GitLab username, LDAP `uid`).
    pub username: String,
    /// The provider's stable numeric id (GitHub/GitLab), as text.
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// Avatar URL.
    pub picture: Option<String>,
    /// LDAP only: the user's distinguished name.
    pub ldap_dn: Option<String>,
    /// OAuth only: the provider's access token (never logged).
    pub access_token: Option<String>,
    /// OAuth only: the scopes the provider granted, space-separated.
    pub scope: Option<String>,
}

// The access token must never reach a log line.
impl std::fmt::Debug for ProviderIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderIdentity")
            .field("provider", &self.provider)
            .field("username", &self.username)
            .field("user_id", &self.user_id)
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("ldap_dn", &self.ldap_dn)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}
