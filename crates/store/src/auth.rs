//! Sign-in storage: token signing keys, browser sessions, personal API tokens
//! and the audit log. Secrets are never stored as given: sessions and API
//! tokens by their SHA-256 (computed by the caller); of the signing keys
//! only the public halves.

use async_trait::async_trait;

use crate::sql::{Arg, Row, Val};
use crate::store::SqlStore;
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// The public JWK as JSON text.
    pub public_jwk: String,
    pub created_at_ms: i64,
}

/// Who a session or an API token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_entity_ref: String,
    pub ownership_refs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub principal: Principal,
    pub provider: String,
    /// JSON `{displayName, email, picture}`.
    pub profile: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    pub id: String,
    pub principal: Principal,
    pub name: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub last_used_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub actor: String,
    /// The permission exercised (`catalog.location.create`), or `auth.sign-in`, ...
    pub action: String,
    pub method: String,
    pub path: String,
    /// `allowed`, `denied` or `failed`.
    pub outcome: String,
    pub status: i64,
    pub detail: Option<String>,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEventRecord {
    pub id: i64,
    pub created_at_ms: i64,
    pub event: NewAuditEvent,
}

/// Newest first; every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// Only events with a smaller id (paging backwards).
    pub before: Option<i64>,
    pub limit: u32,
}

#[async_trait]
pub trait AuthStore: Send + Sync + 'static {
    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()>;
    /// Keys created at or after `since_ms`, newest first.
    async fn signing_keys(&self, since_ms: i64) -> Result<Vec<SigningKeyRecord>>;
    async fn delete_signing_keys_before(&self, before_ms: i64) -> Result<u64>;

    async fn create_session(&self, session: &SessionRecord) -> Result<()>;
    /// The session with this hash unless it expired by `now_ms`.
    async fn session(&self, id_hash: &str, now_ms: i64) -> Result<Option<SessionRecord>>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    async fn delete_expired_sessions(&self, now_ms: i64) -> Result<u64>;

    async fn create_api_token(&self, token: &ApiTokenRecord, token_hash: &str) -> Result<()>;
    /// The token with this hash when it is neither revoked nor expired at
    /// `now_ms`; records the use.
    async fn use_api_token(&self, token_hash: &str, now_ms: i64) -> Result<Option<ApiTokenRecord>>;
    async fn list_api_tokens(&self, user_entity_ref: &str) -> Result<Vec<ApiTokenRecord>>;
    /// Revokes one of the user's tokens; NotFound when they have no such live token.
    async fn revoke_api_token(&self, user_entity_ref: &str, id: &str, now_ms: i64) -> Result<()>;

    async fn append_audit(&self, event: &NewAuditEvent, now_ms: i64) -> Result<i64>;
    async fn query_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEventRecord>>;
}

fn opt_int(row: &Row, i: usize) -> Option<i64> {
    match &row.0[i] {
        Val::Null => None,
        _ => Some(row.int(i)),
    }
}

fn refs_json(refs: &[String]) -> String {
    serde_json::to_string(refs).expect("strings serialize")
}

fn parse_refs(text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Decode(format!("ownership refs: {e}")))
}

const SESSION_COLUMNS: &str =
    "id_hash, user_entity_ref, ownership_refs, provider, profile, created_at, expires_at";
const TOKEN_COLUMNS: &str =
    "id, user_entity_ref, ownership_refs, name, created_at, expires_at, last_used_at, revoked_at";
const AUDIT_COLUMNS: &str =
    "id, created_at, actor, action, method, path, outcome, status, detail, ip";

fn session_record(row: &Row) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: row.string(0),
        principal: Principal {
            user_entity_ref: row.string(1),
            ownership_refs: parse_refs(&row.string(2))?,
        },
        provider: row.string(3),
        profile: row.string(4),
        created_at_ms: row.int(5),
        expires_at_ms: row.int(6),
    })
}

fn token_record(row: &Row) -> Result<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: row.string(0),
        principal: Principal {
            user_entity_ref: row.string(1),
            ownership_refs: parse_refs(&row.string(2))?,
        },
        name: row.string(3),
        created_at_ms: row.int(4),
        expires_at_ms: opt_int(row, 5),
        last_used_at_ms: opt_int(row, 6),
        revoked_at_ms: opt_int(row, 7),
    })
}

fn audit_record(row: &Row) -> AuditEventRecord {
    AuditEventRecord {
        id: row.int(0),
        created_at_ms: row.int(1),
        event: NewAuditEvent {
            actor: row.string(2),
            action: row.string(3),
            method: row.string(4),
            path: row.string(5),
            outcome: row.string(6),
            status: row.int(7),
            detail: row.opt_string(8),
            ip: row.opt_string(9),
        },
    }
}

#[async_trait]
impl AuthStore for SqlStore {
    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()> {
        let mut tx = self.conn().write().await?;
        tx.exec(
            "INSERT INTO auth_signing_keys (kid, public_jwk, created_at) VALUES ($1, $2, $3)",
            vec![
                Arg::from(&key.kid),
                Arg::from(&key.public_jwk),
                Arg::Int(key.created_at_ms),
            ],
        )
        .await?;
        tx.commit().await
    }

    async fn signing_keys(&self, since_ms: i64) -> Result<Vec<SigningKeyRecord>> {
        let mut c = self.conn().read().await?;
        let rows = c
            .rows(
                "SELECT kid, public_jwk, created_at FROM auth_signing_keys \
                 WHERE created_at >= $1 ORDER BY created_at DESC, kid",
                vec![Arg::Int(since_ms)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| SigningKeyRecord {
                kid: r.string(0),
                public_jwk: r.string(1),
                created_at_ms: r.int(2),
            })
            .collect())
    }

    async fn delete_signing_keys_before(&self, before_ms: i64) -> Result<u64> {
        let mut tx = self.conn().write().await?;
        let n = tx
            .exec(
                "DELETE FROM auth_signing_keys WHERE created_at < $1",
                vec![Arg::Int(before_ms)],
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn create_session(&self, s: &SessionRecord) -> Result<()> {
        let mut tx = self.conn().write().await?;
        tx.exec(
            &format!(
                "INSERT INTO auth_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ),
            vec![
                Arg::from(&s.id_hash),
                Arg::from(&s.principal.user_entity_ref),
                Arg::from(refs_json(&s.principal.ownership_refs)),
                Arg::from(&s.provider),
                Arg::from(&s.profile),
                Arg::Int(s.created_at_ms),
                Arg::Int(s.expires_at_ms),
            ],
        )
        .await?;
        tx.commit().await
    }

    async fn session(&self, id_hash: &str, now_ms: i64) -> Result<Option<SessionRecord>> {
        let mut c = self.conn().read().await?;
        let rows = c
            .rows(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM auth_sessions WHERE id_hash = $1 AND expires_at > $2"
                ),
                vec![Arg::from(id_hash), Arg::Int(now_ms)],
            )
            .await?;
        rows.first().map(session_record).transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let mut tx = self.conn().write().await?;
        tx.exec(
            "DELETE FROM auth_sessions WHERE id_hash = $1",
            vec![Arg::from(id_hash)],
        )
        .await?;
        tx.commit().await
    }

    async fn delete_expired_sessions(&self, now_ms: i64) -> Result<u64> {
        let mut tx = self.conn().write().await?;
        let n = tx
            .exec(
                "DELETE FROM auth_sessions WHERE expires_at <= $1",
                vec![Arg::Int(now_ms)],
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn create_api_token(&self, t: &ApiTokenRecord, token_hash: &str) -> Result<()> {
        let mut tx = self.conn().write().await?;
        tx.exec(
            "INSERT INTO auth_api_tokens (id, token_hash, user_entity_ref, ownership_refs, name, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                Arg::from(&t.id),
                Arg::from(token_hash),
                Arg::from(&t.principal.user_entity_ref),
                Arg::from(refs_json(&t.principal.ownership_refs)),
                Arg::from(&t.name),
                Arg::Int(t.created_at_ms),
                Arg::from(t.expires_at_ms),
            ],
        )
        .await?;
        tx.commit().await
    }

    async fn use_api_token(&self, token_hash: &str, now_ms: i64) -> Result<Option<ApiTokenRecord>> {
        let mut tx = self.conn().write().await?;
        let rows = tx
            .rows(
                &format!(
                    "UPDATE auth_api_tokens SET last_used_at = $2 \
                     WHERE token_hash = $1 AND revoked_at IS NULL \
                     AND (expires_at IS NULL OR expires_at > $2) \
                     RETURNING {TOKEN_COLUMNS}"
                ),
                vec![Arg::from(token_hash), Arg::Int(now_ms)],
            )
            .await?;
        tx.commit().await?;
        rows.first().map(token_record).transpose()
    }

    async fn list_api_tokens(&self, user_entity_ref: &str) -> Result<Vec<ApiTokenRecord>> {
        let mut c = self.conn().read().await?;
        let rows = c
            .rows(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM auth_api_tokens \
                     WHERE user_entity_ref = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id"
                ),
                vec![Arg::from(user_entity_ref)],
            )
            .await?;
        rows.iter().map(token_record).collect()
    }

    async fn revoke_api_token(&self, user_entity_ref: &str, id: &str, now_ms: i64) -> Result<()> {
        let mut tx = self.conn().write().await?;
        let n = tx
            .exec(
                "UPDATE auth_api_tokens SET revoked_at = $3 \
                 WHERE id = $1 AND user_entity_ref = $2 AND revoked_at IS NULL",
                vec![Arg::from(id), Arg::from(user_entity_ref), Arg::Int(now_ms)],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("No API token with id {id}")));
        }
        tx.commit().await
    }

    async fn append_audit(&self, e: &NewAuditEvent, now_ms: i64) -> Result<i64> {
        let mut tx = self.conn().write().await?;
        let rows = tx
            .rows(
                "INSERT INTO audit_events (created_at, actor, action, method, path, outcome, status, detail, ip) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                vec![
                    Arg::Int(now_ms),
                    Arg::from(&e.actor),
                    Arg::from(&e.action),
                    Arg::from(&e.method),
                    Arg::from(&e.path),
                    Arg::from(&e.outcome),
                    Arg::Int(e.status),
                    Arg::from(e.detail.clone()),
                    Arg::from(e.ip.clone()),
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(rows.first().map(|r| r.int(0)).unwrap_or_default())
    }

    async fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEventRecord>> {
        let mut conditions = Vec::new();
        let mut args = Vec::new();
        for (column, value) in [
            ("actor", &q.actor),
            ("action", &q.action),
            ("outcome", &q.outcome),
        ] {
            if let Some(v) = value {
                args.push(Arg::from(v.as_str()));
                conditions.push(format!("{column} = ${}", args.len()));
            }
        }
        if let Some(before) = q.before {
            args.push(Arg::Int(before));
            conditions.push(format!("id < ${}", args.len()));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        args.push(Arg::Int(i64::from(q.limit.clamp(1, 500))));
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events {filter} ORDER BY id DESC LIMIT ${}",
            args.len()
        );
        let mut c = self.conn().read().await?;
        Ok(c.rows(&sql, args).await?.iter().map(audit_record).collect())
    }
}
