//! The store contract: every test runs against SQLite and PostgreSQL.

use std::collections::HashSet;

use greenroom_model::filter::{EntityFilter, OrderField, SortOrder};
use greenroom_model::relations::Relation;
use greenroom_model::Entity;
use greenroom_store::testing::TestPostgres;
use greenroom_store::*;
use serde_json::json;

fn entity(kind: &str, name: &str, spec: serde_json::Value) -> Entity {
    json!({"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name, "namespace": "default"}, "spec": spec})
        .as_object()
        .unwrap()
        .clone()
}

fn deferred(e: Entity, key: &str) -> DeferredEntity {
    DeferredEntity::new(&e, Some(key.to_string())).unwrap()
}

fn rel(s: &str, t: &str, d: &str) -> Relation {
    Relation {
        source_ref: s.into(),
        relation_type: t.into(),
        target_ref: d.into(),
    }
}

/// Processes everything due with a trivial pipeline: the processed entity is the
/// unprocessed one; `relations_for` and `children_for` decide the outputs.
async fn process_all(
    store: &dyn CatalogStore,
    relations_for: impl Fn(&str) -> Vec<Relation>,
    children_for: impl Fn(&str) -> Vec<DeferredEntity>,
) {
    for _ in 0..20 {
        let claimed = store.claim_due(100, 60).await.unwrap();
        if claimed.is_empty() {
            break;
        }
        let results = claimed
            .into_iter()
            .map(|c| {
                let relations = relations_for(&c.entity_ref);
                let children = children_for(&c.entity_ref);
                ProcessedResult {
                    result_hash: format!(
                        "{:?}{:?}{:?}",
                        c.unprocessed,
                        relations,
                        children.iter().map(|d| d.json()).collect::<Vec<_>>()
                    ),
                    entity_id: c.entity_id,
                    entity_ref: c.entity_ref,
                    claim_token: c.claim_token,
                    location_key: c.location_key,
                    processed: Some(c.unprocessed),
                    relations,
                    children,
                    errors: vec![],
                    refresh_keys: vec![],
                    next_refresh_secs: 3600,
                }
            })
            .collect();
        store.write_processed(results).await.unwrap();
    }
    while store.stitch_pending(100).await.unwrap() > 0 {}
}

async fn seed_org(store: &dyn CatalogStore) {
    let entities = vec![
        deferred(
            entity("Group", "team-a", json!({"type": "team", "children": []})),
            "file:/org.yaml",
        ),
        deferred(
            entity(
                "Component",
                "svc-b",
                json!({"type": "service", "owner": "team-a", "lifecycle": "production"}),
            ),
            "file:/org.yaml",
        ),
        deferred(
            entity(
                "Component",
                "svc-a",
                json!({"type": "service", "owner": "team-a", "lifecycle": "experimental"}),
            ),
            "file:/org.yaml",
        ),
        deferred(
            entity(
                "Component",
                "web-c",
                json!({"type": "website", "owner": "team-a", "lifecycle": "production"}),
            ),
            "file:/org.yaml",
        ),
        deferred(
            entity(
                "API",
                "api-d",
                json!({"type": "openapi", "owner": "team-a", "lifecycle": "production", "definition": "x"}),
            ),
            "file:/org.yaml",
        ),
    ];
    store
        .replace_provider_entities("test-provider", entities)
        .await
        .unwrap();
    process_all(
        store,
        |r| {
            if r.starts_with("component:") || r.starts_with("api:") {
                vec![
                    rel(r, "ownedBy", "group:default/team-a"),
                    rel("group:default/team-a", "ownerOf", r),
                ]
            } else {
                vec![]
            }
        },
        |_| vec![],
    )
    .await;
}

fn names(items: &[Entity]) -> Vec<String> {
    items
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn kind_is(k: &str) -> EntityFilter {
    EntityFilter::Key {
        key: "kind".into(),
        values: Some(vec![k.into()]),
    }
}

async fn stitches_entities_with_relations_both_ways(store: &dyn CatalogStore) {
    seed_org(store).await;
    let team = store
        .entity_by_ref("group:default/team-a")
        .await
        .unwrap()
        .expect("team stitched");
    let owner_of: HashSet<&str> = team["relations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "ownerOf")
        .map(|r| r["targetRef"].as_str().unwrap())
        .collect();
    assert_eq!(owner_of.len(), 4, "{team:?}");
    let svc = store
        .entity_by_ref("Component:default/SVC-A")
        .await
        .unwrap()
        .expect("case-insensitive ref");
    assert_eq!(svc["relations"][0]["type"], "ownedBy");
    let uid = svc["metadata"]["uid"].as_str().unwrap();
    assert_eq!(
        store.entity_by_uid(uid).await.unwrap().unwrap()["metadata"]["name"],
        "svc-a"
    );
    assert!(svc["metadata"]["etag"].is_string());
    assert_eq!(store.pending_work().await.unwrap().unstitched, 0);
}

async fn filters_or_and_exists_not_prefix(store: &dyn CatalogStore) {
    seed_org(store).await;
    let q = |filter| EntityQuery {
        filter: Some(filter),
        order: vec![OrderField {
            field: "metadata.name".into(),
            order: SortOrder::Asc,
        }],
        ..Default::default()
    };
    let page = store
        .query_entities(&q(kind_is("component")))
        .await
        .unwrap();
    assert_eq!(names(&page.items), vec!["svc-a", "svc-b", "web-c"]);
    let and = EntityFilter::All(vec![
        kind_is("COMPONENT"),
        EntityFilter::Key {
            key: "Spec.Type".into(),
            values: Some(vec!["Service".into()]),
        },
    ]);
    assert_eq!(
        names(&store.query_entities(&q(and)).await.unwrap().items),
        vec!["svc-a", "svc-b"]
    );
    let or = EntityFilter::Any(vec![kind_is("api"), kind_is("group")]);
    assert_eq!(
        names(&store.query_entities(&q(or)).await.unwrap().items),
        vec!["api-d", "team-a"]
    );
    let exists = EntityFilter::Key {
        key: "spec.definition".into(),
        values: None,
    };
    assert_eq!(
        names(&store.query_entities(&q(exists)).await.unwrap().items),
        vec!["api-d"]
    );
    let not = EntityFilter::All(vec![
        kind_is("component"),
        EntityFilter::Not(Box::new(EntityFilter::Key {
            key: "spec.lifecycle".into(),
            values: Some(vec!["production".into()]),
        })),
    ]);
    assert_eq!(
        names(&store.query_entities(&q(not)).await.unwrap().items),
        vec!["svc-a"]
    );
    let prefix = EntityFilter::HasPrefix {
        key: "metadata.name".into(),
        prefix: "SVC".into(),
    };
    assert_eq!(
        names(&store.query_entities(&q(prefix)).await.unwrap().items),
        vec!["svc-a", "svc-b"]
    );
    let by_relation = EntityFilter::Key {
        key: "relations.ownedby".into(),
        values: Some(vec!["group:default/team-a".into()]),
    };
    assert_eq!(
        store
            .query_entities(&q(by_relation))
            .await
            .unwrap()
            .items
            .len(),
        4
    );
}

async fn pages_with_keyset_cursors_and_totals(store: &dyn CatalogStore) {
    seed_org(store).await;
    let order = vec![OrderField {
        field: "metadata.name".into(),
        order: SortOrder::Desc,
    }];
    let first = store
        .query_entities(&EntityQuery {
            order: order.clone(),
            page: Page::Offset {
                offset: 0,
                limit: 2,
            },
            count_total: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&first.items), vec!["web-c", "team-a"]);
    assert_eq!(first.total_items, Some(5));
    assert!(first.has_more);
    let (v, id) = first.keys.last().unwrap().clone();
    let second = store
        .query_entities(&EntityQuery {
            order: order.clone(),
            page: Page::After {
                sort_value: v,
                row_key: id,
                limit: 2,
                backwards: false,
            },
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&second.items), vec!["svc-b", "svc-a"]);
    assert!(second.has_more);
    let (v, id) = second.keys.first().unwrap().clone();
    let back = store
        .query_entities(&EntityQuery {
            order: order.clone(),
            page: Page::After {
                sort_value: v,
                row_key: id,
                limit: 2,
                backwards: true,
            },
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&back.items), vec!["web-c", "team-a"]);
    let (v, id) = second.keys.last().unwrap().clone();
    let last = store
        .query_entities(&EntityQuery {
            order,
            page: Page::After {
                sort_value: v,
                row_key: id,
                limit: 2,
                backwards: false,
            },
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&last.items), vec!["api-d"]);
    assert!(!last.has_more);
    // A damaged cursor is refused as bad input, not a database error.
    let damaged = store
        .query_entities(&EntityQuery {
            order: vec![OrderField {
                field: "metadata.name".into(),
                order: SortOrder::Desc,
            }],
            page: Page::After {
                sort_value: Some("svc-a".into()),
                row_key: "not-a-row-key".into(),
                limit: 2,
                backwards: false,
            },
            ..Default::default()
        })
        .await;
    assert!(matches!(damaged, Err(StoreError::Input(_))), "{damaged:?}");
    // Full-text over a chosen field.
    let ft = store
        .query_entities(&EntityQuery {
            full_text: Some(FullTextFilter {
                term: "WEB".into(),
                fields: vec!["metadata.name".into()],
            }),
            count_total: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&ft.items), vec!["web-c"]);
    assert_eq!(ft.total_items, Some(1));
}

async fn every_order_field_applies_with_missing_values_last(store: &dyn CatalogStore) {
    seed_org(store).await;
    let order = vec![
        OrderField {
            field: "spec.lifecycle".into(),
            order: SortOrder::Desc,
        },
        OrderField {
            field: "metadata.name".into(),
            order: SortOrder::Asc,
        },
    ];
    let page = store
        .query_entities(&EntityQuery {
            order,
            all_order_fields: true,
            page: Page::Offset {
                offset: 0,
                limit: 10,
            },
            ..Default::default()
        })
        .await
        .unwrap();
    // production (api-d, svc-b, web-c), experimental (svc-a), then team-a without a lifecycle.
    assert_eq!(
        names(&page.items),
        vec!["api-d", "svc-b", "web-c", "svc-a", "team-a"]
    );
}

async fn facets_and_refs(store: &dyn CatalogStore) {
    seed_org(store).await;
    let f = store
        .facets(
            &["spec.type".into(), "kind".into()],
            Some(&kind_is("component")),
        )
        .await
        .unwrap();
    assert_eq!(f[0].0, "spec.type");
    assert_eq!(
        f[0].1,
        vec![
            FacetCount {
                value: "service".into(),
                count: 2
            },
            FacetCount {
                value: "website".into(),
                count: 1
            }
        ]
    );
    assert_eq!(
        f[1].1,
        vec![FacetCount {
            value: "Component".into(),
            count: 3
        }]
    );
    let items = store
        .entities_by_refs(
            &[
                "component:default/web-c".into(),
                "component:default/missing".into(),
                "API:default/api-d".into(),
            ],
            None,
        )
        .await
        .unwrap();
    assert_eq!(items[0].as_ref().unwrap()["metadata"]["name"], "web-c");
    assert!(items[1].is_none());
    assert_eq!(items[2].as_ref().unwrap()["kind"], "API");
    let filtered = store
        .entities_by_refs(&["component:default/web-c".into()], Some(&kind_is("api")))
        .await
        .unwrap();
    assert!(filtered[0].is_none());
    let kinds = store.counts_by_kind().await.unwrap();
    assert!(kinds.contains(&("Component".to_string(), 3)));
}

async fn location_key_conflicts_keep_the_first(store: &dyn CatalogStore) {
    store
        .replace_provider_entities(
            "p1",
            vec![deferred(
                entity("Component", "dup", json!({"owner": "first"})),
                "url:https://a/catalog.yaml",
            )],
        )
        .await
        .unwrap();
    store
        .replace_provider_entities(
            "p2",
            vec![deferred(
                entity("Component", "DUP", json!({"owner": "second"})),
                "url:https://b/catalog.yaml",
            )],
        )
        .await
        .unwrap();
    process_all(store, |_| vec![], |_| vec![]).await;
    let e = store
        .entity_by_ref("component:default/dup")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e["spec"]["owner"], "first");
    // The same through processing: a child emitted under another key is refused and reported.
    let claimed = store.claim_due(10, 60).await.unwrap();
    assert!(claimed.is_empty());
    let parent = store
        .entity_by_ref("component:default/dup")
        .await
        .unwrap()
        .unwrap();
    store
        .schedule_refresh("component:default/dup", false)
        .await
        .unwrap();
    let c = store.claim_due(10, 60).await.unwrap().pop().unwrap();
    let report = store
        .write_processed(vec![ProcessedResult {
            entity_id: c.entity_id,
            entity_ref: c.entity_ref,
            claim_token: c.claim_token,
            location_key: c.location_key,
            processed: Some(parent.clone()),
            relations: vec![],
            children: vec![deferred(
                entity("Component", "dup", json!({})),
                "url:https://c/x.yaml",
            )],
            errors: vec![],
            refresh_keys: vec![],
            result_hash: "h2".into(),
            next_refresh_secs: 3600,
        }])
        .await
        .unwrap();
    assert_eq!(report.conflicts.len(), 1);
    assert_eq!(
        report.conflicts[0].1.as_deref(),
        Some("url:https://a/catalog.yaml")
    );
}

async fn orphans_are_marked_then_deleted(store: &dyn CatalogStore) {
    // A location entity emits two children; then stops emitting one.
    store
        .replace_provider_entities(
            "config",
            vec![deferred(
                entity("Location", "root", json!({})),
                "file:/root.yaml",
            )],
        )
        .await
        .unwrap();
    let both = |r: &str| {
        if r == "location:default/root" {
            vec![
                deferred(entity("Component", "kept", json!({})), "file:/root.yaml"),
                deferred(entity("Component", "dropped", json!({})), "file:/root.yaml"),
            ]
        } else {
            vec![]
        }
    };
    process_all(store, |_| vec![], both).await;
    assert!(store
        .entity_by_ref("component:default/dropped")
        .await
        .unwrap()
        .is_some());
    store
        .schedule_refresh("location:default/root", false)
        .await
        .unwrap();
    let one = |r: &str| {
        if r == "location:default/root" {
            vec![deferred(
                entity("Component", "kept", json!({})),
                "file:/root.yaml",
            )]
        } else {
            vec![]
        }
    };
    process_all(store, |_| vec![], one).await;
    let dropped = store
        .entity_by_ref("component:default/dropped")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        dropped["metadata"]["annotations"]["backstage.io/orphan"],
        "true"
    );
    let kept = store
        .entity_by_ref("component:default/kept")
        .await
        .unwrap()
        .unwrap();
    assert!(kept["metadata"]
        .get("annotations")
        .and_then(|a| a.get("backstage.io/orphan"))
        .is_none());
    assert_eq!(
        store.parent_refs("component:default/kept").await.unwrap(),
        vec!["location:default/root"]
    );
    assert_eq!(store.delete_orphans().await.unwrap(), 1);
    while store.stitch_pending(100).await.unwrap() > 0 {}
    assert!(store
        .entity_by_ref("component:default/dropped")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .entity_by_ref("component:default/kept")
        .await
        .unwrap()
        .is_some());
}

async fn locations_add_conflict_and_delete_prunes_subtree(store: &dyn CatalogStore) {
    let spec = LocationSpec {
        kind: "url".into(),
        target: "https://example.com/catalog-info.yaml".into(),
    };
    let loc_entity = entity(
        "Location",
        "generated-abc",
        json!({"type": "url", "target": spec.target}),
    );
    let loc = store.add_location(&spec, loc_entity.clone()).await.unwrap();
    assert_eq!(
        loc.entity_ref.as_deref(),
        Some("location:default/generated-abc")
    );
    assert!(
        matches!(store.add_location(&spec, loc_entity).await, Err(StoreError::Conflict(m)) if m == "Location url:https://example.com/catalog-info.yaml already exists")
    );
    assert_eq!(store.list_locations().await.unwrap().len(), 1);
    assert_eq!(
        store
            .find_location("url", &spec.target)
            .await
            .unwrap()
            .unwrap()
            .id,
        loc.id
    );
    let children = |r: &str| {
        if r == "location:default/generated-abc" {
            vec![deferred(
                entity("Component", "from-url", json!({})),
                "url:https://example.com/catalog-info.yaml",
            )]
        } else if r == "component:default/from-url" {
            vec![deferred(
                entity("Component", "grandchild", json!({})),
                "url:https://example.com/x.yaml",
            )]
        } else {
            vec![]
        }
    };
    process_all(store, |_| vec![], children).await;
    assert!(store
        .entity_by_ref("component:default/grandchild")
        .await
        .unwrap()
        .is_some());
    store.delete_location(&loc.id).await.unwrap();
    while store.stitch_pending(100).await.unwrap() > 0 {}
    assert!(store.get_location(&loc.id).await.unwrap().is_none());
    for r in [
        "location:default/generated-abc",
        "component:default/from-url",
        "component:default/grandchild",
    ] {
        assert!(
            store.entity_by_ref(r).await.unwrap().is_none(),
            "{r} should be gone"
        );
    }
    assert!(matches!(
        store.delete_location(&loc.id).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn delete_by_uid_reschedules_parents(store: &dyn CatalogStore) {
    store
        .replace_provider_entities(
            "config",
            vec![deferred(
                entity("Location", "root", json!({})),
                "file:/root.yaml",
            )],
        )
        .await
        .unwrap();
    let children = |r: &str| {
        if r == "location:default/root" {
            vec![deferred(
                entity("Component", "child", json!({})),
                "file:/root.yaml",
            )]
        } else {
            vec![]
        }
    };
    process_all(store, |_| vec![], children).await;
    let child = store
        .entity_by_ref("component:default/child")
        .await
        .unwrap()
        .unwrap();
    let uid = child["metadata"]["uid"].as_str().unwrap().to_string();
    assert!(store.delete_entity_by_uid(&uid).await.unwrap());
    assert!(store.entity_by_uid(&uid).await.unwrap().is_none());
    // The parent is due again and re-emits the child.
    process_all(store, |_| vec![], children).await;
    assert!(store
        .entity_by_ref("component:default/child")
        .await
        .unwrap()
        .is_some());
}

async fn claims_are_exclusive_and_leased(store: &dyn CatalogStore) {
    let many: Vec<DeferredEntity> = (0..50)
        .map(|i| deferred(entity("Component", &format!("c{i}"), json!({})), "file:/x"))
        .collect();
    store.replace_provider_entities("p", many).await.unwrap();
    let (a, b) = tokio::join!(store.claim_due(30, 60), store.claim_due(30, 60));
    let (a, b) = (a.unwrap(), b.unwrap());
    let ids_a: HashSet<String> = a.iter().map(|c| c.entity_id.clone()).collect();
    assert!(
        b.iter().all(|c| !ids_a.contains(&c.entity_id)),
        "no entity claimed twice"
    );
    assert_eq!(a.len() + b.len(), 50);
    assert!(
        store.claim_due(10, 60).await.unwrap().is_empty(),
        "leased entities are not due"
    );
    assert_eq!(store.pending_work().await.unwrap().unprocessed, 50);
}

async fn errors_are_kept_on_the_entity(store: &dyn CatalogStore) {
    store
        .replace_provider_entities(
            "p",
            vec![deferred(
                entity("Component", "broken", json!({})),
                "file:/x",
            )],
        )
        .await
        .unwrap();
    let c = store.claim_due(10, 60).await.unwrap().pop().unwrap();
    store
        .write_processed(vec![ProcessedResult {
            entity_id: c.entity_id,
            entity_ref: c.entity_ref,
            claim_token: c.claim_token,
            location_key: c.location_key,
            processed: None,
            relations: vec![],
            children: vec![],
            errors: vec![ProcessingError {
                name: "InputError".into(),
                message: "spec.owner is required".into(),
            }],
            refresh_keys: vec![],
            result_hash: "err".into(),
            next_refresh_secs: 60,
        }])
        .await
        .unwrap();
    while store.stitch_pending(100).await.unwrap() > 0 {}
    let e = store
        .entity_by_ref("component:default/broken")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        e["status"]["items"][0]["message"],
        "InputError: spec.owner is required"
    );
    let seq = store.change_sequence().await.unwrap();
    assert!(seq > 0);
}

/// The result of a claim, as a pipeline that copies the entity would write it.
fn copied_result(c: ClaimedEntity, hash: &str) -> ProcessedResult {
    ProcessedResult {
        entity_id: c.entity_id,
        entity_ref: c.entity_ref,
        claim_token: c.claim_token,
        location_key: c.location_key,
        processed: Some(c.unprocessed),
        relations: vec![],
        children: vec![],
        errors: vec![],
        refresh_keys: vec![],
        result_hash: hash.into(),
        next_refresh_secs: 3600,
    }
}

/// Provider `p` emits `component:default/svc` with the given description.
async fn provide_svc(store: &dyn CatalogStore, description: &str) {
    let mut e = entity("Component", "svc", json!({}));
    e["metadata"]["description"] = json!(description);
    store
        .replace_provider_entities("p", vec![deferred(e, "file:/x")])
        .await
        .unwrap();
}

/// New input (a re-emitted changed entity, or a refresh request) that arrives
/// while an entity is being processed must not be swallowed by writing the
/// result of that older run: the entity stays due and is processed again.
async fn input_arriving_during_processing_is_not_lost(store: &dyn CatalogStore) {
    provide_svc(store, "v1").await;
    let stale = store.claim_due(10, 60).await.unwrap().pop().unwrap();
    // The parent re-emits the entity, changed, while the old run is in flight.
    provide_svc(store, "v2").await;
    store
        .write_processed(vec![copied_result(stale, "v1")])
        .await
        .unwrap();
    let again = store.claim_due(10, 60).await.unwrap();
    assert_eq!(again.len(), 1, "the changed entity is processed again");
    assert_eq!(again[0].unprocessed["metadata"]["description"], "v2");

    // A refresh request during a run is kept the same way.
    let in_flight = again.into_iter().next().unwrap();
    assert!(store
        .schedule_refresh("component:default/svc", false)
        .await
        .unwrap());
    store
        .write_processed(vec![copied_result(in_flight, "v2")])
        .await
        .unwrap();
    assert_eq!(
        store.claim_due(10, 60).await.unwrap().len(),
        1,
        "the refresh requested during the run is honoured"
    );
}

async fn a_superseded_claim_cannot_overwrite_the_newer_result(store: &dyn CatalogStore) {
    provide_svc(store, "v1").await;
    // A run whose lease has already run out (a slow worker or a stalled replica)...
    let slow = store.claim_due(10, -1).await.unwrap().pop().unwrap();
    // ...meanwhile the input changes and another worker claims and finishes it.
    provide_svc(store, "v2").await;
    let fast = store.claim_due(10, 60).await.unwrap().pop().unwrap();
    assert_eq!(fast.entity_id, slow.entity_id);
    assert_ne!(fast.claim_token, slow.claim_token);
    store
        .write_processed(vec![copied_result(fast, "v2")])
        .await
        .unwrap();
    // The slow run finishes last with the old input: it must not win.
    store
        .write_processed(vec![copied_result(slow, "v1")])
        .await
        .unwrap();
    while store.stitch_pending(100).await.unwrap() > 0 {}
    let stitched = store
        .entity_by_ref("component:default/svc")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stitched["metadata"]["description"], "v2");
    assert!(
        store.claim_due(10, 60).await.unwrap().is_empty(),
        "nothing is left to process: the newer run's result stands"
    );
}

/// Stitching reads a batch's inputs before it takes the write transaction;
/// a newer result written in between must win over what that batch read.
/// Each round queues version i, then stitches it while version i + 1 is
/// processed; whatever the interleaving, once the queue drains the entity
/// served is the last one processed.
async fn a_result_written_while_stitching_is_not_overwritten(store: &dyn CatalogStore) {
    let process = |version: String| async move {
        provide_svc(store, &version).await;
        for claimed in store.claim_due(10, 60).await.unwrap() {
            let result = copied_result(claimed, &version);
            store.write_processed(vec![result]).await.unwrap();
        }
    };
    let description = || async {
        store
            .entity_by_ref("component:default/svc")
            .await
            .unwrap()
            .unwrap()["metadata"]["description"]
            .clone()
    };
    for i in (0..40).step_by(2) {
        process(format!("v{i}")).await;
        let stitch = async {
            // Let the newer result's write start first in half of the rounds.
            if i % 4 == 0 {
                tokio::task::yield_now().await;
            }
            store.stitch_pending(100).await.unwrap()
        };
        tokio::join!(process(format!("v{}", i + 1)), stitch);
        while store.stitch_pending(100).await.unwrap() > 0 {}
        assert_eq!(description().await, format!("v{}", i + 1), "round {i}");
    }
}

async fn location_update_keeps_the_id_and_replaces_the_subtree(store: &dyn CatalogStore) {
    let spec = |target: &str| LocationSpec {
        kind: "url".into(),
        target: target.into(),
    };
    let loc_entity = |name: &str, target: &str| {
        entity("Location", name, json!({"type": "url", "target": target}))
    };
    let old_target = "https://example.com/old.yaml";
    let new_target = "https://example.com/new.yaml";
    let loc = store
        .add_location(&spec(old_target), loc_entity("generated-old", old_target))
        .await
        .unwrap();
    let children = |r: &str| match r {
        "location:default/generated-old" => vec![deferred(
            entity("Component", "from-old", json!({})),
            "url:https://example.com/old.yaml",
        )],
        "location:default/generated-new" => vec![deferred(
            entity("Component", "from-new", json!({})),
            "url:https://example.com/new.yaml",
        )],
        _ => vec![],
    };
    process_all(store, |_| vec![], children).await;
    assert!(store
        .entity_by_ref("component:default/from-old")
        .await
        .unwrap()
        .is_some());

    let updated = store
        .update_location(
            &loc.id,
            &spec(new_target),
            loc_entity("generated-new", new_target),
        )
        .await
        .unwrap();
    assert_eq!(updated.id, loc.id);
    assert_eq!(updated.target, new_target);
    assert_eq!(
        updated.entity_ref.as_deref(),
        Some("location:default/generated-new")
    );
    process_all(store, |_| vec![], children).await;
    let got = store.get_location(&loc.id).await.unwrap().unwrap();
    assert_eq!(
        (got.target.as_str(), got.entity_ref),
        (new_target, updated.entity_ref)
    );
    for (r, present) in [
        ("location:default/generated-old", false),
        ("component:default/from-old", false),
        ("location:default/generated-new", true),
        ("component:default/from-new", true),
    ] {
        assert_eq!(
            store.entity_by_ref(r).await.unwrap().is_some(),
            present,
            "{r}"
        );
    }

    // Another location's type and target, and unknown ids, are refused.
    let other = store
        .add_location(&spec(old_target), loc_entity("generated-old", old_target))
        .await
        .unwrap();
    assert!(matches!(
        store
            .update_location(
                &other.id,
                &spec(new_target),
                loc_entity("generated-new", new_target)
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .update_location(
                "nope",
                &spec(new_target),
                loc_entity("generated-new", new_target)
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.list_locations().await.unwrap().len(), 2);
}

fn key_is(key: &str, value: &str) -> EntityFilter {
    EntityFilter::Key {
        key: key.into(),
        values: Some(vec![value.into()]),
    }
}

async fn names_matching(store: &dyn CatalogStore, filter: EntityFilter) -> Vec<String> {
    let page = store
        .query_entities(&EntityQuery {
            filter: Some(filter),
            ..Default::default()
        })
        .await
        .unwrap();
    names(&page.items)
}

async fn restitching_replaces_changed_search_rows(store: &dyn CatalogStore) {
    let long = "x".repeat(300);
    let write = |spec: serde_json::Value, description: &str, owner: &'static str| {
        let mut e = entity("Component", "svc", spec);
        e["metadata"]["description"] = json!(description);
        async move {
            store
                .replace_provider_entities("test-provider", vec![deferred(e, "file:/a.yaml")])
                .await
                .unwrap();
            process_all(
                store,
                move |r| {
                    if r.starts_with("component:") {
                        vec![rel(r, "ownedBy", owner)]
                    } else {
                        vec![]
                    }
                },
                |_| vec![],
            )
            .await;
        }
    };
    write(
        json!({"type": "service", "owner": "team-a", "tags": ["a", "b"]}),
        "short",
        "group:default/team-a",
    )
    .await;
    assert_eq!(
        names_matching(store, key_is("spec.type", "service")).await,
        vec!["svc"]
    );
    assert_eq!(
        names_matching(store, key_is("metadata.description", "short")).await,
        vec!["svc"]
    );

    write(
        json!({"type": "website", "owner": "team-b", "tags": ["b", "c"]}),
        &long,
        "group:default/team-b",
    )
    .await;
    let none: Vec<String> = vec![];
    assert_eq!(
        names_matching(store, key_is("spec.type", "website")).await,
        vec!["svc"]
    );
    assert_eq!(
        names_matching(store, key_is("spec.type", "service")).await,
        none
    );
    assert_eq!(names_matching(store, key_is("spec.tags", "a")).await, none);
    assert_eq!(
        names_matching(store, key_is("spec.tags", "b")).await,
        vec!["svc"]
    );
    assert_eq!(
        names_matching(store, key_is("spec.tags", "c")).await,
        vec!["svc"]
    );
    assert_eq!(
        names_matching(store, key_is("relations.ownedBy", "group:default/team-b")).await,
        vec!["svc"]
    );
    assert_eq!(
        names_matching(store, key_is("relations.ownedBy", "group:default/team-a")).await,
        none
    );
    // A value too long to index keeps the key findable without a value.
    assert_eq!(
        names_matching(store, key_is("metadata.description", "short")).await,
        none
    );
    let has_description = EntityFilter::Key {
        key: "metadata.description".into(),
        values: None,
    };
    assert_eq!(
        names_matching(store, has_description.clone()).await,
        vec!["svc"]
    );
    let facets = store.facets(&["spec.type".into()], None).await.unwrap();
    assert_eq!(facets[0].1.len(), 1, "{facets:?}");
    assert_eq!(
        (facets[0].1[0].value.as_str(), facets[0].1[0].count),
        ("website", 1)
    );

    // And back: the null-valued row gives way to the short value again.
    write(
        json!({"type": "website", "owner": "team-b"}),
        "short",
        "group:default/team-b",
    )
    .await;
    assert_eq!(
        names_matching(store, key_is("metadata.description", "short")).await,
        vec!["svc"]
    );
    assert_eq!(names_matching(store, key_is("spec.tags", "b")).await, none);
    assert_eq!(names_matching(store, has_description).await, vec!["svc"]);
}

/// Walks every page of an ordered, filtered query by cursor.
async fn all_pages(
    store: &dyn CatalogStore,
    filter: EntityFilter,
    order: SortOrder,
) -> Vec<String> {
    let order = vec![OrderField {
        field: "metadata.name".into(),
        order,
    }];
    let mut page = Page::Offset {
        offset: 0,
        limit: 3,
    };
    let mut out = Vec::new();
    loop {
        let result = store
            .query_entities(&EntityQuery {
                filter: Some(filter.clone()),
                order: order.clone(),
                page: page.clone(),
                count_total: true,
                ..Default::default()
            })
            .await
            .unwrap();
        out.extend(names(&result.items));
        if !result.has_more {
            return out;
        }
        let (v, id) = result.keys.last().unwrap().clone();
        page = Page::After {
            sort_value: v,
            row_key: id,
            limit: 3,
            backwards: false,
        };
    }
}

async fn ordered_pages_agree_across_query_plans(store: &SqlStore) {
    let entities: Vec<DeferredEntity> = (0..20)
        .map(|i| {
            let kind = if i % 4 == 0 { "API" } else { "Component" };
            let owner = if i % 3 == 0 { "team-a" } else { "team-b" };
            deferred(
                entity(
                    kind,
                    &format!("e-{:02}", (i * 7) % 20),
                    json!({"type": "service", "owner": owner}),
                ),
                "file:/many.yaml",
            )
        })
        .collect();
    store
        .replace_provider_entities("test-provider", entities)
        .await
        .unwrap();
    process_all(store, |_| vec![], |_| vec![]).await;
    let filters = [
        kind_is("component"),
        EntityFilter::All(vec![kind_is("component"), key_is("spec.owner", "team-a")]),
        key_is("spec.owner", "nobody"),
    ];
    for filter in filters {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            store.set_selective_rows(0); // always walk the sort index
            let walked = all_pages(store, filter.clone(), order).await;
            store.set_selective_rows(i64::MAX); // always read the filter's rows and sort
            let sorted = all_pages(store, filter.clone(), order).await;
            assert_eq!(walked, sorted, "{filter:?} {order:?}");
            let mut expected = walked.clone();
            expected.sort();
            if order == SortOrder::Desc {
                expected.reverse();
            }
            assert_eq!(walked, expected, "{filter:?} {order:?}");
        }
    }
    assert_eq!(
        all_pages(store, kind_is("component"), SortOrder::Asc)
            .await
            .len(),
        15
    );
    // Refreshed statistics leave the answers as they were.
    store.refresh_statistics().await.unwrap();
    assert_eq!(
        all_pages(store, kind_is("component"), SortOrder::Asc)
            .await
            .len(),
        15
    );
}

/// The page of all entities matching `filter`, with its total.
async fn counted(store: &dyn CatalogStore, filter: EntityFilter) -> EntityPage {
    store
        .query_entities(&EntityQuery {
            filter: Some(filter),
            count_total: true,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// Totals agree with the rows a query returns, for the single key=value
/// filter (counted from the search index alone) and for combined filters.
async fn totals_match_the_matching_entities(store: &dyn CatalogStore) {
    seed_org(store).await;
    let filters = [
        kind_is("component"),
        key_is("spec.type", "service"),
        key_is("metadata.name", "no-such-entity"),
        EntityFilter::All(vec![kind_is("component"), key_is("spec.type", "service")]),
        EntityFilter::Key {
            key: "kind".into(),
            values: Some(vec!["component".into(), "api".into()]),
        },
    ];
    for filter in filters {
        let page = counted(store, filter.clone()).await;
        assert_eq!(
            page.total_items,
            Some(page.items.len() as u64),
            "{filter:?}"
        );
    }
    let components = counted(store, kind_is("component")).await;
    let before = components.total_items.unwrap();
    assert!(before > 0);
    // A deleted entity leaves the count with its rows.
    let uid = components.items[0]["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(store.delete_entity_by_uid(&uid).await.unwrap());
    let after = counted(store, kind_is("component")).await;
    assert_eq!(after.total_items, Some(before - 1));
}

/// A follower that remembers the last sequence it saw gets exactly the
/// entities written after it; deletions show as refs that are gone.
async fn changed_entities_follow_the_sequence(store: &dyn CatalogStore) {
    provide_svc(store, "v1").await;
    process_all(store, |_| vec![], |_| vec![]).await;
    let all = store
        .entities_changed_after(&ChangeCursor::default(), 1000)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].entity_ref, "component:default/svc");
    assert_eq!(all[0].entity["metadata"]["description"], "v1");
    let seen = all[0].seq;
    assert!(seen > 0 && seen <= store.change_sequence().await.unwrap());
    // A page boundary inside one write's rows (same sequence) loses nothing.
    let same = ChangeCursor {
        seq: seen,
        entity_ref: String::new(),
    };
    assert_eq!(
        store
            .entities_changed_after(&same, 1000)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .entities_changed_after(&ChangeCursor::after(&all[0]), 1000)
        .await
        .unwrap()
        .is_empty());

    provide_svc(store, "v2").await;
    process_all(store, |_| vec![], |_| vec![]).await;
    let changed = store
        .entities_changed_after(&ChangeCursor::after(&all[0]), 1000)
        .await
        .unwrap();
    assert_eq!(changed.len(), 1, "only what was written after {seen}");
    assert_eq!(changed[0].entity["metadata"]["description"], "v2");
    assert!(changed[0].seq > seen);
    assert_eq!(
        store.all_entity_refs().await.unwrap(),
        vec!["component:default/svc"]
    );

    store.replace_provider_entities("p", vec![]).await.unwrap();
    process_all(store, |_| vec![], |_| vec![]).await;
    store.delete_orphans().await.unwrap();
    process_all(store, |_| vec![], |_| vec![]).await;
    assert!(store.all_entity_refs().await.unwrap().is_empty());
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let store = greenroom_store::SqlStore::sqlite(None).await.unwrap();
                    super::$name(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = super::TestPostgres::create().await else { return };
                    let store = db.store().await;
                    super::$name(&store).await;
                }
            )*
        }
    };
}

contract!(
    changed_entities_follow_the_sequence,
    input_arriving_during_processing_is_not_lost,
    stitches_entities_with_relations_both_ways,
    filters_or_and_exists_not_prefix,
    pages_with_keyset_cursors_and_totals,
    facets_and_refs,
    every_order_field_applies_with_missing_values_last,
    location_key_conflicts_keep_the_first,
    orphans_are_marked_then_deleted,
    locations_add_conflict_and_delete_prunes_subtree,
    delete_by_uid_reschedules_parents,
    claims_are_exclusive_and_leased,
    errors_are_kept_on_the_entity,
    restitching_replaces_changed_search_rows,
    ordered_pages_agree_across_query_plans,
    a_superseded_claim_cannot_overwrite_the_newer_result,
    location_update_keeps_the_id_and_replaces_the_subtree,
    totals_match_the_matching_entities,
    a_result_written_while_stitching_is_not_overwritten,
);
