//! LDAP sign-in and LDAP org ingestion against a real OpenLDAP slapd
//! (see `common::slapd`), seeded with a small organisation whose groups nest
//! through `member` (no memberOf overlay).

mod common;

use common::server::config;
use common::slapd::{self, Slapd, ADMIN_DN, ADMIN_PASSWORD, SEED};
use greenroom::auth::ldap::{LdapLogin, LdapLoginConfig, LdapLoginError};
use greenroom::catalog::processing::run_until_idle;
use greenroom::catalog::providers::ldap::ldap_org_providers;
use greenroom::catalog::providers::run_once;
use greenroom::config::Config;
use greenroom_model::Entity;
use serde_json::{json, Value};

const ALICE_DN: &str = "uid=alice,ou=people,dc=example,dc=org";
const ALICE_PASSWORD: &str = "alice-password";
const BOB_PASSWORD: &str = "bob-password";
const EVIL_PASSWORD: &str = "evil-password";

fn ldap_login(url: &str) -> LdapLogin {
    LdapLogin::new(
        LdapLoginConfig::from_value(&json!({
            "url": url,
            "bind": {"dn": ADMIN_DN, "secret": ADMIN_PASSWORD},
            "users": {
                "baseDn": "ou=people,dc=example,dc=org",
                "filter": "(objectClass=inetOrgPerson)"
            }
        }))
        .expect("valid LDAP login config"),
    )
}

fn org_provider_config(url: &str) -> Value {
    json!({
        "ldapOrg": {
            "default": {
                "target": url,
                "bind": {"dn": ADMIN_DN, "secret": ADMIN_PASSWORD},
                "users": [{
                    "dn": "ou=people,dc=example,dc=org",
                    "options": {"filter": "(objectClass=inetOrgPerson)", "scope": "sub"},
                    "map": {"rdn": "uid", "name": "uid", "displayName": "cn", "email": "mail"}
                }],
                "groups": {
                    "dn": "ou=groups,dc=example,dc=org",
                    "options": {"filter": "(objectClass=groupOfNames)", "scope": "sub"},
                    "map": {"type": "businessCategory", "members": "member"}
                },
                "schedule": {"frequency": {"minutes": 60}, "timeout": {"minutes": 5}}
            }
        }
    })
}

fn find<'a>(entities: &'a [Entity], kind: &str, name: &str) -> &'a Entity {
    entities
        .iter()
        .find(|e| e["kind"] == kind && e["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} among {entities:#?}"))
}

/// A simple bind on a fresh connection; returns the LDAP result code.
async fn raw_bind(url: &str, dn: &str, password: &str) -> u32 {
    let (conn, mut ldap) = ldap3::LdapConnAsync::new(url).await.expect("connect");
    tokio::spawn(async move {
        let _ = conn.drive().await;
    });
    let rc = ldap.simple_bind(dn, password).await.expect("bind").rc;
    let _ = ldap.unbind().await;
    rc
}

#[tokio::test]
async fn sign_in_checks_the_password_with_the_directory() {
    if !slapd::available() {
        return;
    }
    let slapd = Slapd::start(SEED);
    let login = ldap_login(slapd.url());

    let alice = login
        .authenticate("alice", ALICE_PASSWORD)
        .await
        .expect("alice signs in");
    assert_eq!(alice.provider, "ldap");
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.ldap_dn.as_deref(), Some(ALICE_DN));
    assert_eq!(alice.email.as_deref(), Some("alice@example.org"));
    assert_eq!(alice.display_name.as_deref(), Some("Alice Anderson"));
    // The username comes from the directory's entry, not from what was typed.
    let shouted = login.authenticate("ALICE", ALICE_PASSWORD).await.unwrap();
    assert_eq!(shouted.username, "alice");

    let refused =
        |r: Result<_, LdapLoginError>| matches!(r, Err(LdapLoginError::InvalidCredentials));
    assert!(refused(login.authenticate("alice", "wrong").await));
    assert!(refused(login.authenticate("alice", BOB_PASSWORD).await));
    assert!(refused(login.authenticate("nobody", ALICE_PASSWORD).await));

    // This directory accepts an unauthenticated bind (DN, empty password)...
    assert_eq!(raw_bind(slapd.url(), ALICE_DN, "").await, 0);
    // ...and reports a wrong password as invalidCredentials (49).
    assert_eq!(raw_bind(slapd.url(), ALICE_DN, "wrong").await, 49);
    // so only the sign-in code's own guard stops an empty password.
    assert!(refused(login.authenticate("alice", "").await));

    // Filter metacharacters in the username match literally. Unescaped,
    // each of these would select exactly alice (or ev*il) and then succeed
    // with that user's password.
    assert!(refused(login.authenticate("*", ALICE_PASSWORD).await));
    assert!(refused(login.authenticate("al*", ALICE_PASSWORD).await));
    assert!(refused(
        login.authenticate("alice)(uid=*", ALICE_PASSWORD).await
    ));
    assert!(refused(login.authenticate("e*", EVIL_PASSWORD).await));
    let evil = login
        .authenticate("ev*il", EVIL_PASSWORD)
        .await
        .expect("a uid with * in it signs in");
    assert_eq!(
        evil.ldap_dn.as_deref(),
        Some("uid=ev*il,ou=people,dc=example,dc=org")
    );

    // Nothing listens on a port slapd just gave up.
    let url = slapd.url().to_string();
    drop(slapd);
    match ldap_login(&url).authenticate("alice", ALICE_PASSWORD).await {
        Err(LdapLoginError::Unavailable(message)) => {
            assert!(!message.contains(ALICE_PASSWORD), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn org_provider_reads_users_and_nested_groups() {
    if !slapd::available() {
        return;
    }
    let slapd = Slapd::start(SEED);
    let providers = ldap_org_providers(Some(&org_provider_config(slapd.url()))).unwrap();
    let [provider] = providers.as_slice() else {
        panic!("one provider expected");
    };
    assert_eq!(provider.name(), "LdapOrgEntityProvider:default");
    let entities = provider.read().await.expect("read the directory");
    assert_eq!(entities.len(), 9, "5 users and 4 groups: {entities:#?}");

    let alice = find(&entities, "User", "alice");
    assert_eq!(alice["apiVersion"], "backstage.io/v1alpha1");
    assert_eq!(
        alice["spec"],
        json!({
            "profile": {"displayName": "Alice Anderson", "email": "alice@example.org"},
            "memberOf": ["backend"]
        })
    );
    let annotations = &alice["metadata"]["annotations"];
    assert_eq!(annotations["backstage.io/ldap-dn"], ALICE_DN);
    assert_eq!(annotations["backstage.io/ldap-rdn"], "alice");
    let uuid = annotations["backstage.io/ldap-uuid"]
        .as_str()
        .expect("entryUUID is read");
    assert_eq!(uuid.len(), 36, "{uuid}");
    assert_eq!(annotations["backstage.io/managed-by-location"], slapd.url());
    assert_eq!(
        annotations["backstage.io/managed-by-origin-location"],
        slapd.url()
    );

    assert_eq!(
        find(&entities, "User", "bob")["spec"]["memberOf"],
        json!(["backend"])
    );
    assert_eq!(
        find(&entities, "User", "carol")["spec"]["memberOf"],
        json!(["frontend"])
    );
    // `member: uid=Dave,ou=People,...` still names dave.
    assert_eq!(
        find(&entities, "User", "dave")["spec"]["memberOf"],
        json!(["admins", "engineering"])
    );
    // The uid `ev*il` becomes a valid entity name; the DN keeps the original.
    let evil = find(&entities, "User", "ev-il");
    assert_eq!(
        evil["metadata"]["annotations"]["backstage.io/ldap-dn"],
        "uid=ev*il,ou=people,dc=example,dc=org"
    );
    assert_eq!(evil["spec"]["memberOf"], json!([]));

    let engineering = find(&entities, "Group", "engineering");
    assert_eq!(engineering["spec"]["type"], "department");
    assert_eq!(
        engineering["spec"]["children"],
        json!(["backend", "frontend"])
    );
    assert!(engineering["spec"].get("parent").is_none());
    let backend = find(&entities, "Group", "backend");
    assert_eq!(backend["spec"]["type"], "team");
    assert_eq!(backend["spec"]["parent"], "engineering");
    assert_eq!(backend["spec"]["children"], json!([]));
    assert_eq!(
        backend["spec"]["profile"],
        json!({"displayName": "backend"})
    );
    assert_eq!(backend["metadata"]["description"], "Backend team");
    assert_eq!(
        find(&entities, "Group", "frontend")["spec"]["parent"],
        "engineering"
    );
    let admins = find(&entities, "Group", "admins");
    assert!(admins["spec"].get("parent").is_none());
    assert_eq!(
        admins["metadata"]["annotations"]["backstage.io/ldap-dn"],
        "cn=admins,ou=groups,dc=example,dc=org"
    );
    for entity in &entities {
        greenroom_model::validate_entity(&Value::Object(entity.clone()))
            .unwrap_or_else(|e| panic!("invalid entity {entity:#?}: {e:?}"));
    }

    // A directory that cannot be reached fails the run (so the previous
    // entities stay) instead of yielding an empty organisation.
    drop(slapd);
    assert!(provider.read().await.is_err());
}

#[tokio::test]
async fn ingested_entities_are_stitched_into_the_catalog() {
    if !slapd::available() {
        return;
    }
    let slapd = Slapd::start(SEED);
    // No locations: the provider is the only source of entities.
    let mut app_config = config(&[]);
    app_config["catalog"]["providers"] = org_provider_config(slapd.url());
    let state = greenroom::connect(Config::from_value(app_config).expect("valid config"))
        .await
        .expect("connect");
    let providers_section = state.config.catalog.providers.as_ref().map(|s| &s.0);
    let providers = ldap_org_providers(providers_section).expect("ldapOrg config");
    assert_eq!(providers.len(), 1);
    let written = run_once(providers[0].as_ref(), state.store.as_ref())
        .await
        .expect("provider run");
    assert_eq!(written, 9);
    run_until_idle(state.store.as_ref(), &state.pipeline)
        .await
        .expect("process the catalog");

    let alice = state
        .store
        .entity_by_ref("user:default/alice")
        .await
        .unwrap()
        .expect("alice is in the catalog");
    assert_eq!(alice["spec"]["memberOf"], json!(["backend"]));
    assert!(
        has_relation(&alice, "memberOf", "group:default/backend"),
        "{alice:#?}"
    );
    let backend = state
        .store
        .entity_by_ref("group:default/backend")
        .await
        .unwrap()
        .expect("backend is in the catalog");
    assert!(
        has_relation(&backend, "childOf", "group:default/engineering"),
        "{backend:#?}"
    );
    assert!(
        has_relation(&backend, "hasMember", "user:default/alice"),
        "{backend:#?}"
    );
    let engineering = state
        .store
        .entity_by_ref("group:default/engineering")
        .await
        .unwrap()
        .expect("engineering is in the catalog");
    assert!(
        has_relation(&engineering, "parentOf", "group:default/frontend"),
        "{engineering:#?}"
    );
    assert!(
        has_relation(&engineering, "hasMember", "user:default/dave"),
        "{engineering:#?}"
    );
}

fn has_relation(entity: &Entity, kind: &str, target: &str) -> bool {
    entity["relations"].as_array().is_some_and(|relations| {
        relations
            .iter()
            .any(|r| r["type"] == kind && r["targetRef"] == target)
    })
}
