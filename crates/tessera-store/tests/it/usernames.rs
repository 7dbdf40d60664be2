//! Usernames and the profile fields SCIM added: defaults, uniqueness ignoring case (A40),
//! tombstones, round trips of every new field, the manager check.

use crate::conformance;
use crate::fixtures::{code, core, email, person, tenant};
use std::sync::Arc;
use tessera_core::page::PageRequest;
use tessera_core::phone::ContactNumber;
use tessera_core::service::NewUser;
use tessera_core::store::Store;
use tessera_core::user::{
    Address, Enterprise, EnterprisePatch, Profile, ProfilePatch, UserPhone, Username,
};
use tessera_core::{CoreError, ErrorCode};

fn named(username: &str, address: &str) -> NewUser {
    let mut new = person("A", "B", address);
    new.profile.username = Some(Username::parse(username).unwrap());
    new
}

async fn usernames_default_to_the_email_then_the_id(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    let from_email = core
        .create_user(&auth, person("Ada", "L", "Ada@Example.COM"))
        .await
        .unwrap();
    assert_eq!(from_email.username().unwrap().as_str(), "Ada@Example.COM");
    let bare = core.create_user(&auth, NewUser::default()).await.unwrap();
    assert_eq!(bare.username().unwrap().as_str(), bare.id.to_string());
    // the username does not follow the email
    let patch = ProfilePatch {
        emails: Some(vec![email("new@example.com")]),
        ..ProfilePatch::default()
    };
    let moved = core
        .update_user(&auth, from_email.id, &patch)
        .await
        .unwrap();
    assert_eq!(moved.username().unwrap().as_str(), "Ada@Example.COM");
    assert_eq!(core.get_user(&auth, moved.id).await.unwrap(), moved);
    // the freed address makes a new user, which is named by its id: its email is free but
    // the name it would default to is kept by the first user
    let successor = core
        .create_user(&auth, person("New", "Owner", "ada@example.com"))
        .await
        .unwrap();
    assert_eq!(
        successor.username().unwrap().as_str(),
        successor.id.to_string()
    );
}

async fn a40_usernames_are_unique_ignoring_case(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    let first = core
        .create_user(&auth, named("Alice", "alice@example.com"))
        .await
        .unwrap();
    let again = core
        .create_user(&auth, named("ALICE", "other@example.com"))
        .await;
    assert!(
        matches!(again, Err(CoreError::Duplicate { field: "username" })),
        "{again:?}"
    );
    // an email equal to another user's default username: the username is what clashes
    let taken_email = core
        .create_user(&auth, person("E", "E", "alice@example.com"))
        .await;
    assert!(
        matches!(taken_email, Err(CoreError::Duplicate { field: "email" })),
        "{taken_email:?}"
    );
    let second = core
        .create_user(&auth, named("bob", "bob@example.com"))
        .await
        .unwrap();
    let rename = ProfilePatch {
        username: Some(Username::parse("aLiCe").unwrap()),
        ..ProfilePatch::default()
    };
    assert!(matches!(
        core.update_user(&auth, second.id, &rename).await,
        Err(CoreError::Duplicate { field: "username" })
    ));
    // the same user may change the case of its own name
    let recased = core.update_user(&auth, first.id, &rename).await.unwrap();
    assert_eq!(recased.username().unwrap().as_str(), "aLiCe");
    // another tenant is another namespace
    let (_, globex) = tenant(&core, "globex").await;
    core.create_user(&globex, named("alice", "alice@example.com"))
        .await
        .unwrap();
    // deleting frees the name; the tombstone keeps none
    core.delete_user(&auth, first.id).await.unwrap();
    let tombstone = store.user_by_id(acme.id, first.id).await.unwrap().unwrap();
    assert_eq!(tombstone.username(), None);
    core.create_user(&auth, named("Alice", "new@example.com"))
        .await
        .unwrap();
    // within one batch too
    let batch = core
        .create_users(
            &auth,
            vec![named("x", "x1@example.com"), named("X", "x2@example.com")],
            "import",
        )
        .await;
    assert!(matches!(
        batch,
        Err(CoreError::Duplicate { field: "username" })
    ));
    let users = store
        .search_users(acme.id, &Default::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(users.items.len(), 2, "bob and the new Alice: {users:?}");
}

async fn new_profile_fields_round_trip_and_merge(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    let boss = core
        .create_user(&auth, person("Boss", "B", "boss@example.com"))
        .await
        .unwrap();
    let mut new = person("Ada", "Lovelace", "ada@example.com");
    new.profile.emails[0].kind = Some(" work ".into());
    new.profile.phone_numbers.push(UserPhone {
        value: ContactNumber::parse("+44 20 7946 0000").unwrap(),
        primary: true,
        verified: false,
        kind: Some("mobile".into()),
    });
    new.profile = Profile {
        middle_name: Some("Augusta".into()),
        honorific_prefix: Some("Lady".into()),
        honorific_suffix: Some("FRS".into()),
        nickname: Some("Ada".into()),
        profile_url: Some("https://example.com/ada".into()),
        title: Some("Analyst".into()),
        user_type: Some("Employee".into()),
        preferred_language: Some("en-GB".into()),
        addresses: vec![Address {
            kind: Some("home".into()),
            formatted: Some("12 St James's Square\nLondon".into()),
            locality: Some("London".into()),
            country: Some("GB".into()),
            primary: true,
            ..Address::default()
        }],
        enterprise: Enterprise {
            employee_number: Some("1815".into()),
            department: Some("Engines".into()),
            manager: Some(boss.id),
            ..Enterprise::default()
        },
        analytics_id: Some("GA1.2.3".into()),
        ..new.profile
    };
    let created = core.create_user(&auth, new).await.unwrap();
    assert_eq!(created.profile.emails[0].kind.as_deref(), Some("work"));
    let stored = store
        .user_by_id(acme.id, created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, created);

    let patch = ProfilePatch {
        nickname: Some(None),
        title: Some(Some("Countess".into())),
        enterprise: Some(Some(EnterprisePatch {
            department: Some(Some("Mathematics".into())),
            manager: Some(None),
            ..EnterprisePatch::default()
        })),
        ..ProfilePatch::default()
    };
    let patched = core.update_user(&auth, created.id, &patch).await.unwrap();
    assert_eq!(patched.profile.nickname, None);
    assert_eq!(patched.profile.title.as_deref(), Some("Countess"));
    assert_eq!(
        patched.profile.enterprise,
        Enterprise {
            employee_number: Some("1815".into()),
            department: Some("Mathematics".into()),
            ..Enterprise::default()
        }
    );
    assert_eq!(
        patched.profile.addresses, created.profile.addresses,
        "left out: kept"
    );

    // a manager from another tenant, or oneself, is refused
    let (_, globex) = tenant(&core, "globex").await;
    let stranger = core
        .create_user(&globex, person("S", "S", "s@example.com"))
        .await
        .unwrap();
    for manager in [stranger.id, created.id] {
        let patch = ProfilePatch {
            enterprise: Some(Some(EnterprisePatch {
                manager: Some(Some(manager)),
                ..EnterprisePatch::default()
            })),
            ..ProfilePatch::default()
        };
        assert_eq!(
            code(core.update_user(&auth, created.id, &patch).await),
            ErrorCode::Validation
        );
    }
    let invalid = ProfilePatch {
        profile_url: Some(Some("ftp://example.com".into())),
        preferred_language: Some(Some("not a tag".into())),
        ..ProfilePatch::default()
    };
    match core.update_user(&auth, created.id, &invalid).await {
        Err(CoreError::Validation(errors)) => assert_eq!(errors.len(), 2, "{errors:?}"),
        other => panic!("{other:?}"),
    }
}

conformance!(
    usernames_default_to_the_email_then_the_id,
    a40_usernames_are_unique_ignoring_case,
    new_profile_fields_round_trip_and_merge,
);
