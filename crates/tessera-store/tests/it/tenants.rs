//! Tenants and attribute schemas.

use crate::conformance;
use crate::fixtures::{code, core, operator, schema, tenant};
use std::sync::Arc;
use tessera_core::ErrorCode;
use tessera_core::auth::Authorized;
use tessera_core::event::{EventQuery, kinds};
use tessera_core::page::PageRequest;
use tessera_core::service::{DomainChange, TenantPatch};
use tessera_core::store::{Store, StoreError};
use tessera_core::tenant::{Domain, TenantSettings, TenantSlug};

async fn default_tenant_is_created_once(store: Arc<dyn Store>) {
    let (first, _) = core(store.clone()).await;
    let (second, _) = core(store.clone()).await;
    assert_eq!(first.default_tenant().id, second.default_tenant().id);
    let all = store.list_tenants(PageRequest::default()).await.unwrap();
    assert_eq!(all.items.len(), 1);
    let events = store
        .list_events(
            first.default_tenant().id,
            &EventQuery::default(),
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1, "one tenant.created event");
    assert_eq!(events.items[0].kind, kinds::TENANT_CREATED);
}

async fn tenants_round_trip_by_id_slug_and_domain(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    let patch = TenantPatch {
        display_name: Some("ACME Corp".into()),
        domains: Some(DomainChange::new(
            &operator(&core),
            vec![Domain::parse("Login.Acme.Example").unwrap()],
        )),
        settings: Some(TenantSettings {
            default_locale: Some("de".into()),
            ..TenantSettings::default()
        }),
    };
    let updated = core.update_tenant(&auth, patch).await.unwrap();
    assert_eq!(updated.version, 2);
    let by_id = store.tenant_by_id(acme.id).await.unwrap().unwrap();
    assert_eq!(by_id, updated);
    assert_eq!(
        store
            .tenant_by_slug(&TenantSlug::parse("acme").unwrap())
            .await
            .unwrap(),
        Some(updated.clone())
    );
    assert_eq!(
        store
            .tenant_by_domain(&Domain::parse("login.acme.example").unwrap())
            .await
            .unwrap(),
        Some(updated.clone())
    );
    assert_eq!(
        core.tenant_by_domain("LOGIN.ACME.EXAMPLE").await.unwrap(),
        Some(updated)
    );
    assert_eq!(core.tenant_by_slug("nope").await.unwrap(), None);
    assert_eq!(core.tenant_by_slug("Bad Slug!").await.unwrap(), None);
}

async fn slugs_and_domains_are_unique(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, acme) = tenant(&core, "acme").await;
    let (_, globex) = tenant(&core, "globex").await;
    let operator_less = Authorized::for_system(core.default_tenant());
    let domain = Domain::parse("id.shared.example").unwrap();
    core.update_tenant(
        &acme,
        TenantPatch {
            domains: Some(DomainChange::new(&operator(&core), vec![domain.clone()])),
            ..TenantPatch::default()
        },
    )
    .await
    .unwrap();
    let taken = core
        .update_tenant(
            &globex,
            TenantPatch {
                domains: Some(DomainChange::new(&operator(&core), vec![domain])),
                ..TenantPatch::default()
            },
        )
        .await;
    assert!(
        matches!(
            taken,
            Err(tessera_core::CoreError::Duplicate { field: "domain" })
        ),
        "{taken:?}"
    );
    // a failed update leaves no trace: version and events unchanged
    let globex_now = core.get_tenant(&globex).await.unwrap();
    assert_eq!(globex_now.version, 1);
    let updates = store
        .list_events(
            globex.tenant_id(),
            &EventQuery {
                kinds: vec![kinds::TENANT_UPDATED.into()],
                ..EventQuery::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(updates.items.is_empty());
    let mut duplicate = core.get_tenant(&operator_less).await.unwrap();
    duplicate.id =
        tessera_core::ids::TenantId::new_at(duplicate.created_at + time::Duration::seconds(1));
    let event = tessera_core::event::Event::new(
        duplicate.id,
        duplicate.created_at,
        &tessera_core::event::Actor::System,
        "tenant.created",
        "x".into(),
        serde_json::json!({}),
    );
    assert!(matches!(
        store.insert_tenant(&duplicate, &event).await,
        Err(StoreError::Duplicate { field: "slug" })
    ));
}

async fn stale_tenant_update_is_a_version_conflict(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (acme, _) = tenant(&core, "acme").await;
    let mut next = acme.clone();
    next.display_name = "Changed".into();
    next.version = 2;
    let event = tessera_core::event::Event::new(
        acme.id,
        acme.created_at,
        &tessera_core::event::Actor::System,
        kinds::TENANT_UPDATED,
        "t".into(),
        serde_json::json!({}),
    );
    store.update_tenant(&next, 1, &event).await.unwrap();
    assert!(matches!(
        store.update_tenant(&next, 1, &event).await,
        Err(StoreError::VersionConflict)
    ));
}

async fn tenants_list_in_pages(store: Arc<dyn Store>) {
    let (core, clock) = core(store.clone()).await;
    for i in 0..5 {
        clock.advance(time::Duration::milliseconds(1));
        tenant(&core, &format!("tenant-{i}")).await;
    }
    let first = store
        .list_tenants(PageRequest::new(None, Some(4)))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 4);
    let second = store
        .list_tenants(PageRequest::new(first.next_after, Some(4)))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 2);
    assert_eq!(second.next_after, None);
    let slugs: Vec<String> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|t| t.slug.to_string())
        .collect();
    assert_eq!(
        slugs,
        [
            "default", "tenant-0", "tenant-1", "tenant-2", "tenant-3", "tenant-4"
        ]
    );
}

async fn attribute_schema_is_per_tenant(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, acme) = tenant(&core, "acme").await;
    let (_, globex) = tenant(&core, "globex").await;
    assert!(
        core.attribute_schema(&acme)
            .await
            .unwrap()
            .attributes
            .is_empty()
    );
    core.put_attribute_schema(&acme, schema()).await.unwrap();
    assert_eq!(core.attribute_schema(&acme).await.unwrap(), schema());
    assert!(
        core.attribute_schema(&globex)
            .await
            .unwrap()
            .attributes
            .is_empty()
    );
    let mut invalid = schema();
    invalid.attributes[1].name = "country".into();
    assert_eq!(
        code(core.put_attribute_schema(&acme, invalid).await),
        ErrorCode::Validation
    );
    assert_eq!(
        core.attribute_schema(&acme).await.unwrap(),
        schema(),
        "unchanged after a refused update"
    );
}

conformance!(
    default_tenant_is_created_once,
    tenants_round_trip_by_id_slug_and_domain,
    slugs_and_domains_are_unique,
    stale_tenant_update_is_a_version_conflict,
    tenants_list_in_pages,
    attribute_schema_is_per_tenant,
);

mod storage_size {
    use std::sync::Arc;
    use tessera_core::store::Store;

    async fn storage_size_is_reported(store: Arc<dyn Store>) {
        let (core, _) = crate::fixtures::core(store.clone()).await;
        let before = store.storage_bytes().await.unwrap();
        assert!(before > 0);
        let (_, auth) = crate::fixtures::tenant(&core, "acme").await;
        let batch = (0..2000)
            .map(|i| crate::fixtures::person("P", "Q", &format!("p{i}@example.com")))
            .collect();
        core.create_users(&auth, batch, "test").await.unwrap();
        assert!(store.storage_bytes().await.unwrap() > before);
    }

    crate::conformance!(storage_size_is_reported);
}
