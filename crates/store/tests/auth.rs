//! The sign-in storage contract, on SQLite and PostgreSQL: signing keys by
//! age, sessions that expire, API tokens that stop at once when revoked or
//! expired, and the audit log's filters and paging.

use std::sync::Arc;

use greenroom_store::testing::TestPostgres;
use greenroom_store::*;

fn alice() -> Principal {
    Principal {
        user_entity_ref: "user:default/alice".into(),
        ownership_refs: vec!["user:default/alice".into(), "group:default/team-a".into()],
    }
}

async fn signing_keys_by_age(store: Arc<dyn AuthStore>) {
    for (kid, at) in [("old", 1_000), ("mid", 2_000), ("new", 3_000)] {
        store
            .add_signing_key(&SigningKeyRecord {
                kid: kid.into(),
                public_jwk: format!("{{\"kid\":\"{kid}\"}}"),
                created_at_ms: at,
            })
            .await
            .unwrap();
    }
    let kids = |keys: Vec<SigningKeyRecord>| keys.into_iter().map(|k| k.kid).collect::<Vec<_>>();
    assert_eq!(
        kids(store.signing_keys(2_000).await.unwrap()),
        ["new", "mid"]
    );
    assert_eq!(store.delete_signing_keys_before(2_000).await.unwrap(), 1);
    assert_eq!(kids(store.signing_keys(0).await.unwrap()), ["new", "mid"]);
}

async fn sessions_expire(store: Arc<dyn AuthStore>) {
    let session = SessionRecord {
        id_hash: "h1".into(),
        principal: alice(),
        provider: "github".into(),
        profile: r#"{"displayName":"Alice"}"#.into(),
        created_at_ms: 1_000,
        expires_at_ms: 5_000,
    };
    store.create_session(&session).await.unwrap();
    assert_eq!(store.session("h1", 4_999).await.unwrap(), Some(session));
    assert_eq!(store.session("h1", 5_000).await.unwrap(), None);
    assert_eq!(store.session("other", 1_000).await.unwrap(), None);
    assert_eq!(store.delete_expired_sessions(5_000).await.unwrap(), 1);
    store
        .create_session(&SessionRecord {
            id_hash: "h2".into(),
            principal: alice(),
            provider: "ldap".into(),
            profile: "{}".into(),
            created_at_ms: 1_000,
            expires_at_ms: 9_000,
        })
        .await
        .unwrap();
    store.delete_session("h2").await.unwrap();
    assert_eq!(store.session("h2", 1_000).await.unwrap(), None);
}

async fn api_tokens_stop_when_revoked_or_expired(store: Arc<dyn AuthStore>) {
    let token = |id: &str, expires: Option<i64>| ApiTokenRecord {
        id: id.into(),
        principal: alice(),
        name: format!("script {id}"),
        created_at_ms: 1_000,
        expires_at_ms: expires,
        last_used_at_ms: None,
        revoked_at_ms: None,
    };
    store
        .create_api_token(&token("t1", None), "hash1")
        .await
        .unwrap();
    store
        .create_api_token(&token("t2", Some(5_000)), "hash2")
        .await
        .unwrap();
    let used = store.use_api_token("hash1", 2_000).await.unwrap().unwrap();
    assert_eq!(used.principal, alice());
    assert_eq!(used.last_used_at_ms, Some(2_000));
    assert!(store.use_api_token("hash2", 4_000).await.unwrap().is_some());
    assert!(
        store.use_api_token("hash2", 5_000).await.unwrap().is_none(),
        "expired"
    );
    assert!(store.use_api_token("nope", 1_000).await.unwrap().is_none());

    let listed = store.list_api_tokens("user:default/alice").await.unwrap();
    assert_eq!(listed.len(), 2);
    // Someone else cannot revoke Alice's token.
    assert!(matches!(
        store
            .revoke_api_token("user:default/bob", "t1", 3_000)
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .revoke_api_token("user:default/alice", "t1", 3_000)
        .await
        .unwrap();
    assert!(store.use_api_token("hash1", 3_001).await.unwrap().is_none());
    assert!(matches!(
        store
            .revoke_api_token("user:default/alice", "t1", 3_000)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let listed = store.list_api_tokens("user:default/alice").await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["t2"]
    );
    // A token hash is unique.
    assert!(store
        .create_api_token(&token("t3", None), "hash2")
        .await
        .is_err());
}

async fn audit_filters_and_pages(store: Arc<dyn AuthStore>) {
    let event = |actor: &str, action: &str, outcome: &str| NewAuditEvent {
        actor: actor.into(),
        action: action.into(),
        method: "POST".into(),
        path: "/api/catalog/locations".into(),
        outcome: outcome.into(),
        status: if outcome == "allowed" { 201 } else { 403 },
        detail: None,
        ip: Some("127.0.0.1".into()),
    };
    let mut ids = Vec::new();
    for i in 0..5 {
        let actor = if i % 2 == 0 {
            "user:default/alice"
        } else {
            "user:default/bob"
        };
        let outcome = if i == 3 { "denied" } else { "allowed" };
        ids.push(
            store
                .append_audit(&event(actor, "catalog.location.create", outcome), 1_000 + i)
                .await
                .unwrap(),
        );
    }
    let all = store
        .query_audit(&AuditQuery {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let alice = store
        .query_audit(&AuditQuery {
            actor: Some("user:default/alice".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(alice.len(), 3);
    let denied = store
        .query_audit(&AuditQuery {
            outcome: Some("denied".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].event.status, 403);
    assert_eq!(denied[0].event.actor, "user:default/bob");
    let page = store
        .query_audit(&AuditQuery {
            before: Some(ids[2]),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, ids[1]);
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let store = greenroom_store::SqlStore::sqlite(None).await.unwrap();
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = super::TestPostgres::create().await else { return };
                    let store = db.store().await;
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )*
        }
    };
}

contract!(
    signing_keys_by_age,
    sessions_expire,
    api_tokens_stop_when_revoked_or_expired,
    audit_filters_and_pages,
);
