//! Users: round trips, identifiers, uniqueness, atomicity, concurrency and search.

use crate::conformance;
use crate::fixtures::{
    code, core, email, person, schema, tenant, with_attributes, with_external_id,
};
use serde_json::json;
use std::sync::Arc;
use tessera_core::email::Email;
use tessera_core::event::{EventQuery, kinds};
use tessera_core::page::PageRequest;
use tessera_core::password_hash::PasswordHash;
use tessera_core::service::{NewUser, UserSearch};
use tessera_core::store::Store;
use tessera_core::user::{ProfilePatch, UserStatus};
use tessera_core::{CoreError, ErrorCode};

async fn user_round_trip_and_lookups(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    core.put_attribute_schema(&auth, schema()).await.unwrap();
    let mut new = with_attributes(
        with_external_id(person("Ada", "Lovelace", "Ada@Example.COM"), "crm", "C-1"),
        json!({"country": "GB", "score": 9.5}),
    );
    new.profile.emails.push(email("ada@work.example"));
    new.profile
        .phone_numbers
        .push(tessera_core::user::UserPhone {
            value: tessera_core::phone::ContactNumber::parse("+44 20 7946 0000").unwrap(),
            primary: false,
            verified: true,
            kind: None,
        });
    let created = core.create_user(&auth, new).await.unwrap();
    assert_eq!(
        created.status,
        UserStatus::Light,
        "no credentials: a light account"
    );
    // No number was marked primary: the flags stay as given, the first counts as primary.
    assert!(!created.profile.phone_numbers[0].primary);
    assert_eq!(
        created.profile.primary_phone().unwrap().value.as_str(),
        "+442079460000"
    );

    let by_id = store
        .user_by_id(acme.id, created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_id, created);
    // A40: any spelling finds the user; the typed spelling is kept for display
    let by_email = store
        .user_by_email(acme.id, &Email::parse("ada@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, created.id);
    assert_eq!(
        by_email.primary_email().unwrap().as_str(),
        "Ada@Example.COM"
    );
    // only the primary address is a sign-in identifier
    assert!(
        store
            .user_by_email(acme.id, &Email::parse("ada@work.example").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .user_by_external_id(acme.id, "crm", "C-1")
            .await
            .unwrap()
            .unwrap()
            .id,
        created.id
    );

    // tenant isolation: the default tenant sees none of it
    let other = core.default_tenant().id;
    assert!(store.user_by_id(other, created.id).await.unwrap().is_none());
    assert!(
        store
            .user_by_email(other, &Email::parse("ada@example.com").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .user_by_external_id(other, "crm", "C-1")
            .await
            .unwrap()
            .is_none()
    );

    let events = store
        .list_events(
            acme.id,
            &EventQuery {
                subject: Some(format!("user:{}", created.id)),
                ..EventQuery::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1);
    assert_eq!(events.items[0].kind, kinds::USER_CREATED);
    assert_eq!(
        events.items[0].payload,
        json!({"status": "light", "source": "admin_api"})
    );
}

async fn a_password_hash_makes_an_active_user(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    let mut new = person("Bo", "B", "bo@example.com");
    new.password_hash = Some(
        PasswordHash::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        )
        .unwrap(),
    );
    let user = core.create_user(&auth, new).await.unwrap();
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!(
        core.get_user(&auth, user.id).await.unwrap().password_hash,
        user.password_hash
    );
}

async fn a40_duplicate_primary_email_is_refused_and_writes_nothing(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    core.create_user(&auth, person("Ada", "L", "alice@example.com"))
        .await
        .unwrap();
    let duplicate = core
        .create_user(&auth, person("Eve", "E", "Alice@Example.COM"))
        .await;
    assert!(
        matches!(duplicate, Err(CoreError::Duplicate { field: "email" })),
        "{duplicate:?}"
    );
    let users = store
        .search_users(acme.id, &Default::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(users.items.len(), 1, "no second user row");
    let created = store
        .list_events(
            acme.id,
            &EventQuery {
                kinds: vec![kinds::USER_CREATED.into()],
                ..EventQuery::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(created.items.len(), 1, "no event for the refused user");
    // the same address in another tenant is another identity
    let (_, globex) = tenant(&core, "globex").await;
    core.create_user(&globex, person("Alice", "G", "alice@example.com"))
        .await
        .unwrap();
}

async fn external_ids_are_unique_per_source(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    core.create_user(
        &auth,
        with_external_id(person("A", "A", "a@example.com"), "crm", "1"),
    )
    .await
    .unwrap();
    let again = core
        .create_user(
            &auth,
            with_external_id(person("B", "B", "b@example.com"), "crm", "1"),
        )
        .await;
    assert!(
        matches!(
            again,
            Err(CoreError::Duplicate {
                field: "external_id"
            })
        ),
        "{again:?}"
    );
    core.create_user(
        &auth,
        with_external_id(person("C", "C", "c@example.com"), "shop", "1"),
    )
    .await
    .unwrap();
}

async fn updates_rebuild_the_lookups(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    core.put_attribute_schema(&auth, schema()).await.unwrap();
    let user = core
        .create_user(
            &auth,
            with_attributes(
                person("Ada", "L", "old@example.com"),
                json!({"country": "GB"}),
            ),
        )
        .await
        .unwrap();
    let patch = ProfilePatch {
        emails: Some(vec![email("new@example.com")]),
        attributes: Some(json!({"country": "FR", "vip": true}).as_object().cloned()),
        family_name: Some(None),
        ..ProfilePatch::default()
    };
    let updated = core.update_user(&auth, user.id, &patch).await.unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.profile.family_name, None);
    assert!(
        store
            .user_by_email(acme.id, &Email::parse("old@example.com").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .user_by_email(acme.id, &Email::parse("new@example.com").unwrap())
            .await
            .unwrap()
            .unwrap(),
        updated
    );
    let search = |country: &str| UserSearch {
        attributes: vec![("country".into(), country.into())],
        ..UserSearch::default()
    };
    assert!(
        core.search_users(&auth, search("GB"), PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        core.search_users(&auth, search("FR"), PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // the old address is free again
    core.create_user(&auth, person("Other", "O", "old@example.com"))
        .await
        .unwrap();
    // an invalid patch changes nothing
    let bad = ProfilePatch {
        attributes: Some(json!({"score": "high"}).as_object().cloned()),
        ..ProfilePatch::default()
    };
    assert_eq!(
        code(core.update_user(&auth, user.id, &bad).await),
        ErrorCode::Validation
    );
    assert_eq!(core.get_user(&auth, user.id).await.unwrap(), updated);
}

async fn a52_concurrent_updates_lose_nothing(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    let user = core
        .create_user(&auth, person("Ada", "L", "ada@example.com"))
        .await
        .unwrap();
    let names: [&'static str; 5] = ["given_name", "family_name", "name", "locale", "zoneinfo"];
    let mut tasks = Vec::new();
    for (i, field) in names.into_iter().enumerate() {
        let (core, auth) = (core.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            let value = Some(Some(if field == "locale" {
                "de".to_owned()
            } else if field == "zoneinfo" {
                "Europe/Berlin".to_owned()
            } else {
                format!("v{i}")
            }));
            let patch = match field {
                "given_name" => ProfilePatch {
                    given_name: value,
                    ..ProfilePatch::default()
                },
                "family_name" => ProfilePatch {
                    family_name: value,
                    ..ProfilePatch::default()
                },
                "name" => ProfilePatch {
                    name: value,
                    ..ProfilePatch::default()
                },
                "locale" => ProfilePatch {
                    locale: value,
                    ..ProfilePatch::default()
                },
                _ => ProfilePatch {
                    zoneinfo: value,
                    ..ProfilePatch::default()
                },
            };
            core.update_user(&auth, user.id, &patch).await.unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let last = core.get_user(&auth, user.id).await.unwrap();
    assert_eq!(
        last.version,
        1 + names.len() as i64,
        "every update applied exactly once"
    );
    assert_eq!(last.profile.given_name.as_deref(), Some("v0"));
    assert_eq!(last.profile.family_name.as_deref(), Some("v1"));
    assert_eq!(last.profile.name.as_deref(), Some("v2"));
    assert_eq!(last.profile.locale.as_deref(), Some("de"));
    assert_eq!(last.profile.zoneinfo.as_deref(), Some("Europe/Berlin"));
}

async fn search_by_email_name_status_and_attribute(store: Arc<dyn Store>) {
    let (core, clock) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    core.put_attribute_schema(&auth, schema()).await.unwrap();
    let mut ids = Vec::new();
    for (given, family, address, country, score) in [
        ("Ada", "Lovelace", "ada@example.com", "GB", 5),
        ("Åsa", "Öberg", "asa@example.se", "SE", 5),
        ("Adam", "Smith", "adam@example.com", "GB", 7),
        ("Bob", "100%_Real", "bob@example.com", "US", 5),
    ] {
        clock.advance(time::Duration::milliseconds(1));
        let mut new = with_attributes(
            person(given, family, address),
            json!({"country": country, "score": score}),
        );
        new.profile.emails.push(email(&format!("alt.{address}")));
        ids.push(core.create_user(&auth, new).await.unwrap().id);
    }
    let find = |search: UserSearch| {
        let (core, auth) = (core.clone(), auth.clone());
        async move {
            core.search_users(&auth, search, PageRequest::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|u| u.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        find(UserSearch {
            email: Some("ALT.ADA@example.com".into()),
            ..Default::default()
        })
        .await,
        vec![ids[0]]
    );
    assert_eq!(
        find(UserSearch {
            name: Some("ad".into()),
            ..Default::default()
        })
        .await,
        vec![ids[0], ids[2]]
    );
    assert_eq!(
        find(UserSearch {
            name: Some("öb".into()),
            ..Default::default()
        })
        .await,
        vec![ids[1]]
    );
    assert_eq!(
        find(UserSearch {
            name: Some("100%_".into()),
            ..Default::default()
        })
        .await,
        vec![ids[3]]
    );
    assert!(
        find(UserSearch {
            name: Some("%".into()),
            ..Default::default()
        })
        .await
        .is_empty(),
        "wildcards are literal"
    );
    assert_eq!(
        find(UserSearch {
            attributes: vec![("country".into(), "GB".into())],
            ..Default::default()
        })
        .await,
        vec![ids[0], ids[2]]
    );
    assert_eq!(
        find(UserSearch {
            attributes: vec![("score".into(), "5.0".into())],
            ..Default::default()
        })
        .await,
        vec![ids[0], ids[1], ids[3]]
    );
    let both = UserSearch {
        attributes: vec![
            ("country".into(), "GB".into()),
            ("score".into(), "5".into()),
        ],
        name: Some("a".into()),
        ..Default::default()
    };
    assert_eq!(find(both).await, vec![ids[0]]);
    let email_and_attribute = UserSearch {
        email: Some("alt.adam@example.com".into()),
        attributes: vec![("country".into(), "GB".into())],
        ..Default::default()
    };
    assert_eq!(
        find(email_and_attribute).await,
        vec![ids[2]],
        "an email drives the search, attributes probe"
    );
    let email_wrong_attribute = UserSearch {
        email: Some("adam@example.com".into()),
        attributes: vec![("country".into(), "SE".into())],
        ..Default::default()
    };
    assert!(find(email_wrong_attribute).await.is_empty());
    let bad = core
        .search_users(
            &auth,
            UserSearch {
                attributes: vec![("score".into(), "x".into())],
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await;
    assert_eq!(code(bad), ErrorCode::Validation);

    core.disable_user(&auth, ids[1]).await.unwrap();
    core.delete_user(&auth, ids[3]).await.unwrap();
    assert_eq!(
        find(UserSearch {
            status: Some(UserStatus::Disabled),
            ..Default::default()
        })
        .await,
        vec![ids[1]]
    );
    assert_eq!(
        find(UserSearch::default()).await,
        vec![ids[0], ids[1], ids[2]],
        "deleted users are left out"
    );
    assert_eq!(
        find(UserSearch {
            status: Some(UserStatus::Deleted),
            ..Default::default()
        })
        .await,
        vec![ids[3]]
    );

    let first = core
        .search_users(
            &auth,
            UserSearch::default(),
            PageRequest::new(None, Some(2)),
        )
        .await
        .unwrap();
    let rest = core
        .search_users(
            &auth,
            UserSearch::default(),
            PageRequest::new(first.next_after, Some(2)),
        )
        .await
        .unwrap();
    assert_eq!(first.items.len() + rest.items.len(), 3);
    assert_eq!(rest.next_after, None);
}

async fn lifecycle_disable_enable_delete(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    let user = core
        .create_user(
            &auth,
            with_external_id(person("Ada", "L", "ada@example.com"), "crm", "9"),
        )
        .await
        .unwrap();
    assert_eq!(
        core.disable_user(&auth, user.id).await.unwrap().status,
        UserStatus::Disabled
    );
    assert_eq!(
        core.enable_user(&auth, user.id).await.unwrap().status,
        UserStatus::Light
    );
    core.delete_user(&auth, user.id).await.unwrap();
    assert_eq!(
        code(core.get_user(&auth, user.id).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(core.delete_user(&auth, user.id).await),
        ErrorCode::NotFound
    );
    let tombstone = store.user_by_id(acme.id, user.id).await.unwrap().unwrap();
    assert_eq!(tombstone.status, UserStatus::Deleted);
    assert_eq!(
        tombstone.profile,
        Default::default(),
        "no personal data left"
    );
    assert!(
        store
            .user_by_external_id(acme.id, "crm", "9")
            .await
            .unwrap()
            .is_none()
    );
    core.create_user(&auth, person("New", "Owner", "ada@example.com"))
        .await
        .unwrap();
    let kinds_seen: Vec<String> = store
        .list_events(
            acme.id,
            &EventQuery {
                subject: Some(format!("user:{}", user.id)),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds_seen,
        [
            kinds::USER_CREATED,
            kinds::USER_DISABLED,
            kinds::USER_ENABLED,
            kinds::USER_DELETED
        ]
    );
}

async fn a51_batches_are_all_or_nothing(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    core.put_attribute_schema(&auth, schema()).await.unwrap();
    core.create_user(&auth, person("Taken", "T", "taken@example.com"))
        .await
        .unwrap();
    let mut batch: Vec<NewUser> = (0..1200)
        .map(|i| {
            with_attributes(
                person("P", &i.to_string(), &format!("p{i}@example.com")),
                json!({"country": "DE", "score": i}),
            )
        })
        .collect();
    batch.push(person("Dup", "D", "TAKEN@example.com"));
    let failed = core.create_users(&auth, batch.clone(), "import").await;
    assert!(
        matches!(failed, Err(CoreError::Duplicate { field: "email" })),
        "{failed:?}"
    );
    let users = store
        .search_users(acme.id, &Default::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(users.items.len(), 1, "nothing of the failed batch was kept");
    batch.pop();
    let created = core.create_users(&auth, batch, "import").await.unwrap();
    assert_eq!(created.len(), 1200);
    let de = core
        .search_users(
            &auth,
            UserSearch {
                attributes: vec![("score".into(), "1199".into())],
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(de.items.len(), 1);
    let within = core
        .create_users(
            &auth,
            vec![
                person("A", "A", "same@example.com"),
                person("B", "B", "Same@example.com"),
            ],
            "import",
        )
        .await;
    assert!(matches!(
        within,
        Err(CoreError::Duplicate { field: "email" })
    ));
}

conformance!(
    user_round_trip_and_lookups,
    a_password_hash_makes_an_active_user,
    a40_duplicate_primary_email_is_refused_and_writes_nothing,
    external_ids_are_unique_per_source,
    updates_rebuild_the_lookups,
    a52_concurrent_updates_lose_nothing,
    search_by_email_name_status_and_attribute,
    lifecycle_disable_enable_delete,
    a51_batches_are_all_or_nothing,
);
