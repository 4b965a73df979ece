//! Backstage identity tokens (reference 7.2): ES256 JWTs with `sub` (the user
//! entity ref) and `ent` (ownership refs), signed by a key that lives only in
//! this process's memory. Its public half is published in the database, so
//! every replica verifies every replica's tokens, and served as JWKS. Keys
//! rotate daily and stay published until the last token they signed expired.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use greenroom_store::{AuthStore, Principal, SigningKeyRecord};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_json::{json, Value};
use tokio::sync::{Mutex, RwLock};

/// The JWT `typ` of user tokens and of the nested limited-user proof.
pub const USER_TOKEN_TYPE: &str = "vnd.backstage.user";
const LIMITED_USER_TOKEN_TYPE: &str = "vnd.backstage.limited-user";
const AUDIENCE: &str = "backstage";
/// Backstage caps a token's size; anything longer is refused unread.
const MAX_TOKEN_CHARS: usize = 32_768;
/// How long one key signs before a new one is made.
const KEY_ROTATION: Duration = Duration::from_secs(24 * 3600);
/// An unknown `kid` triggers a reload of the published keys at most this often
/// (a new replica's key), so forged kids cannot hammer the database.
const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported token type or algorithm")]
    Unsupported,
    #[error("token signed by an unknown key")]
    UnknownKey,
    #[error("invalid token signature")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token issued for another issuer or audience")]
    WrongIssuer,
    #[error("token storage failed: {0}")]
    Store(String),
}

struct SigningKey {
    kid: String,
    pair: EcdsaKeyPair,
    created: Instant,
}

pub struct TokenIssuer {
    store: Arc<dyn AuthStore>,
    issuer: String,
    lifetime: Duration,
    /// How long one key signs ([`KEY_ROTATION`]; shorter in tests).
    rotation: Duration,
    rng: SystemRandom,
    current: Mutex<Option<Arc<SigningKey>>>,
    /// kid -> uncompressed P-256 public point, of every published key.
    known: RwLock<HashMap<String, Vec<u8>>>,
    last_reload: Mutex<Option<Instant>>,
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenIssuer {
    /// `issuer` is `<backend.baseUrl>/api/auth`; `lifetime` the validity of
    /// each token (`auth.backstageTokenExpiration`).
    pub fn new(store: Arc<dyn AuthStore>, issuer: String, lifetime: Duration) -> Self {
        Self {
            store,
            issuer,
            lifetime,
            rotation: KEY_ROTATION,
            rng: SystemRandom::new(),
            current: Mutex::new(None),
            known: RwLock::new(HashMap::new()),
            last_reload: Mutex::new(None),
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Keys older than this are of no use: every token they signed expired.
    fn publish_window(&self) -> Duration {
        self.rotation + self.lifetime
    }

    async fn signing_key(&self) -> Result<Arc<SigningKey>, TokenError> {
        let mut current = self.current.lock().await;
        if let Some(key) = current
            .as_ref()
            .filter(|k| k.created.elapsed() < self.rotation)
        {
            return Ok(key.clone());
        }
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.rng)
            .map_err(|_| TokenError::Store("key generation failed".into()))?;
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &self.rng)
                .map_err(|_| TokenError::Store("key generation failed".into()))?;
        let kid = uuid::Uuid::new_v4().to_string();
        let point = pair.public_key().as_ref().to_vec();
        let now_ms = chrono::Utc::now().timestamp_millis();
        self.store
            .add_signing_key(&SigningKeyRecord {
                kid: kid.clone(),
                public_jwk: public_jwk(&kid, &point).to_string(),
                created_at_ms: now_ms,
            })
            .await
            .map_err(|e| TokenError::Store(e.to_string()))?;
        // Old keys leave the database once nothing they signed can be valid.
        let horizon = now_ms - self.publish_window().as_millis() as i64;
        if let Err(e) = self.store.delete_signing_keys_before(horizon).await {
            tracing::warn!(error = %e, "could not delete expired signing keys");
        }
        self.known.write().await.insert(kid.clone(), point);
        tracing::info!(kid = %kid, "new identity token signing key");
        let key = Arc::new(SigningKey {
            kid,
            pair,
            created: Instant::now(),
        });
        *current = Some(key.clone());
        Ok(key)
    }

    fn sign(&self, key: &SigningKey, header: &Value, claims: &Value) -> Result<String, TokenError> {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = key
            .pair
            .sign(&self.rng, input.as_bytes())
            .map_err(|_| TokenError::Store("signing failed".into()))?;
        Ok(format!("{input}.{}", b64(signature.as_ref())))
    }

    /// A user token for `principal`, and its lifetime in seconds.
    pub async fn issue(&self, principal: &Principal) -> Result<(String, u64), TokenError> {
        let key = self.signing_key().await?;
        let iat = now_secs();
        let exp = iat + self.lifetime.as_secs() as i64;
        // The limited-user proof Backstage nests in every user token (`uip`).
        let proof = self.sign(
            &key,
            &json!({"typ": LIMITED_USER_TOKEN_TYPE, "alg": "ES256", "kid": key.kid}),
            &json!({"sub": principal.user_entity_ref, "iat": iat, "exp": exp}),
        )?;
        let proof_signature = proof.rsplit('.').next().unwrap_or_default().to_string();
        let token = self.sign(
            &key,
            &json!({"typ": USER_TOKEN_TYPE, "alg": "ES256", "kid": key.kid}),
            &json!({
                "iss": self.issuer,
                "sub": principal.user_entity_ref,
                "ent": principal.ownership_refs,
                "aud": AUDIENCE,
                "iat": iat,
                "exp": exp,
                "uip": proof_signature,
            }),
        )?;
        Ok((token, self.lifetime.as_secs()))
    }

    async fn public_key(&self, kid: &str) -> Result<Vec<u8>, TokenError> {
        if let Some(point) = self.known.read().await.get(kid) {
            return Ok(point.clone());
        }
        {
            let mut last = self.last_reload.lock().await;
            if last.is_some_and(|t| t.elapsed() < RELOAD_AT_MOST_EVERY) {
                return Err(TokenError::UnknownKey);
            }
            *last = Some(Instant::now());
        }
        self.reload().await?;
        self.known
            .read()
            .await
            .get(kid)
            .cloned()
            .ok_or(TokenError::UnknownKey)
    }

    /// Re-reads the published keys (other replicas' keys appear there).
    async fn reload(&self) -> Result<(), TokenError> {
        let since =
            chrono::Utc::now().timestamp_millis() - self.publish_window().as_millis() as i64;
        let records = self
            .store
            .signing_keys(since)
            .await
            .map_err(|e| TokenError::Store(e.to_string()))?;
        let mut known = HashMap::new();
        for record in records {
            if let Some(point) = point_of_jwk(&record.public_jwk) {
                known.insert(record.kid, point);
            }
        }
        *self.known.write().await = known;
        Ok(())
    }

    /// Verifies a user token: ES256 by a published key, not expired, for this
    /// issuer and audience; returns who it stands for.
    pub async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let decode = |part: &str| -> Result<Value, TokenError> {
            let bytes = URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| TokenError::Malformed)?;
            serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
        };
        let header = decode(h)?;
        // Only what we issue: no `alg: none`, no HMAC with the public key as secret.
        if header["alg"] != "ES256" || header["typ"] != USER_TOKEN_TYPE {
            return Err(TokenError::Unsupported);
        }
        let kid = header["kid"].as_str().ok_or(TokenError::Malformed)?;
        let point = self.public_key(kid).await?;
        let signature = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| TokenError::Malformed)?;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(format!("{h}.{c}").as_bytes(), &signature)
            .map_err(|_| TokenError::BadSignature)?;
        let claims = decode(c)?;
        let exp = claims["exp"].as_i64().ok_or(TokenError::Malformed)?;
        if exp <= now_secs() {
            return Err(TokenError::Expired);
        }
        if claims["iss"] != self.issuer.as_str() || claims["aud"] != AUDIENCE {
            return Err(TokenError::WrongIssuer);
        }
        let sub = claims["sub"].as_str().ok_or(TokenError::Malformed)?;
        greenroom_model::EntityRef::parse(sub, None, "default")
            .map_err(|_| TokenError::Malformed)?;
        let ent = claims["ent"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Principal {
            user_entity_ref: sub.to_string(),
            ownership_refs: ent,
        })
    }

    /// `GET /api/auth/.well-known/jwks.json`: every key whose tokens may
    /// still be valid, this replica's and the others'.
    pub async fn jwks(&self) -> Result<Value, TokenError> {
        let since =
            chrono::Utc::now().timestamp_millis() - self.publish_window().as_millis() as i64;
        let keys: Vec<Value> = self
            .store
            .signing_keys(since)
            .await
            .map_err(|e| TokenError::Store(e.to_string()))?
            .iter()
            .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
            .collect();
        Ok(json!({ "keys": keys }))
    }
}

/// The JWK of an uncompressed P-256 point (`04 || x || y`).
fn public_jwk(kid: &str, point: &[u8]) -> Value {
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": b64(&point[1..33]),
        "y": b64(&point[33..65]),
        "kid": kid,
        "alg": "ES256",
        "use": "sig",
    })
}

fn point_of_jwk(jwk: &str) -> Option<Vec<u8>> {
    let jwk: Value = serde_json::from_str(jwk).ok()?;
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str()?).ok()?;
    let y = URL_SAFE_NO_PAD.decode(jwk["y"].as_str()?).ok()?;
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    let mut point = vec![4u8];
    point.extend(x);
    point.extend(y);
    Some(point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenroom_store::SqlStore;

    async fn issuer(lifetime: u64) -> TokenIssuer {
        let store: Arc<dyn AuthStore> = Arc::new(SqlStore::sqlite(None).await.unwrap());
        TokenIssuer::new(
            store,
            "http://localhost:7007/api/auth".into(),
            Duration::from_secs(lifetime),
        )
    }

    fn alice() -> Principal {
        Principal {
            user_entity_ref: "user:default/alice".into(),
            ownership_refs: vec!["user:default/alice".into(), "group:default/team-a".into()],
        }
    }

    fn reencode(token: &str, part: usize, edit: impl FnOnce(&mut Value)) -> String {
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut value: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[part]).unwrap()).unwrap();
        edit(&mut value);
        parts[part] = b64(value.to_string().as_bytes());
        parts.join(".")
    }

    #[tokio::test]
    async fn issues_backstage_shaped_tokens_that_verify() {
        let issuer = issuer(3600).await;
        let (token, expires) = issuer.issue(&alice()).await.unwrap();
        assert_eq!(expires, 3600);
        let header = reencode(&token, 0, |_| {});
        assert_eq!(header, token, "re-encoding is stable");
        let claims: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["sub"], "user:default/alice");
        assert_eq!(claims["ent"][1], "group:default/team-a");
        assert_eq!(claims["aud"], "backstage");
        assert_eq!(claims["iss"], "http://localhost:7007/api/auth");
        assert_eq!(issuer.verify(&token).await.unwrap(), alice());
        let jwks = issuer.jwks().await.unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
        assert_eq!(jwks["keys"][0]["crv"], "P-256");
    }

    #[tokio::test]
    async fn refuses_tampered_expired_foreign_and_algorithm_swapped_tokens() {
        let issuer = issuer(3600).await;
        let (token, _) = issuer.issue(&alice()).await.unwrap();
        // A changed claim breaks the signature.
        let tampered = reencode(&token, 1, |c| c["sub"] = json!("user:default/admin"));
        assert_eq!(
            issuer.verify(&tampered).await,
            Err(TokenError::BadSignature)
        );
        let more_groups = reencode(&token, 1, |c| c["ent"] = json!(["group:default/admins"]));
        assert_eq!(
            issuer.verify(&more_groups).await,
            Err(TokenError::BadSignature)
        );
        // `alg: none` and HS256 are refused before any key is looked at.
        let none = reencode(&token, 0, |h| h["alg"] = json!("none"));
        assert_eq!(issuer.verify(&none).await, Err(TokenError::Unsupported));
        let hs = reencode(&token, 0, |h| h["alg"] = json!("HS256"));
        assert_eq!(issuer.verify(&hs).await, Err(TokenError::Unsupported));
        // Signed by another issuer's key (same kid claimed, different key).
        let other = self::issuer(3600).await;
        let (foreign, _) = other.issue(&alice()).await.unwrap();
        assert_eq!(issuer.verify(&foreign).await, Err(TokenError::UnknownKey));
        let kid = reencode(&token, 0, |_| {})
            .split('.')
            .next()
            .unwrap()
            .to_string();
        let mut parts: Vec<&str> = foreign.split('.').collect();
        parts[0] = &kid;
        assert_eq!(
            issuer.verify(&parts.join(".")).await,
            Err(TokenError::BadSignature)
        );
        // Garbage.
        assert_eq!(issuer.verify("a.b").await, Err(TokenError::Malformed));
        assert_eq!(
            issuer.verify(&"x".repeat(40_000)).await,
            Err(TokenError::Malformed)
        );
    }

    #[tokio::test]
    async fn keys_rotate_and_tokens_of_the_previous_key_stay_valid() {
        let mut issuer = issuer(3600).await;
        issuer.rotation = Duration::from_millis(50);
        let (first, _) = issuer.issue(&alice()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        let (second, _) = issuer.issue(&alice()).await.unwrap();
        let kid = |t: &str| -> Value {
            let h = URL_SAFE_NO_PAD
                .decode(t.split('.').next().unwrap())
                .unwrap();
            serde_json::from_slice::<Value>(&h).unwrap()["kid"].clone()
        };
        assert_ne!(
            kid(&first),
            kid(&second),
            "a new key signs after the rotation"
        );
        assert_eq!(issuer.verify(&first).await.unwrap(), alice());
        assert_eq!(issuer.verify(&second).await.unwrap(), alice());
        let jwks = issuer.jwks().await.unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
    }

    #[tokio::test]
    async fn expired_tokens_are_refused() {
        let issuer = issuer(0).await;
        let (token, _) = issuer.issue(&alice()).await.unwrap();
        assert_eq!(issuer.verify(&token).await, Err(TokenError::Expired));
    }

    #[tokio::test]
    async fn another_replica_verifies_through_the_published_key() {
        let store: Arc<dyn AuthStore> = Arc::new(SqlStore::sqlite(None).await.unwrap());
        let a = TokenIssuer::new(
            store.clone(),
            "http://x/api/auth".into(),
            Duration::from_secs(60),
        );
        let b = TokenIssuer::new(store, "http://x/api/auth".into(), Duration::from_secs(60));
        let (token, _) = a.issue(&alice()).await.unwrap();
        assert_eq!(b.verify(&token).await.unwrap(), alice());
    }
}
