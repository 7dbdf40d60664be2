//! Filtered lists: sorting, offset paging with totals, and refusals of filters over the
//! limits or with values no database can hold (A33–A35), on both backends.

use crate::conformance;
use crate::filter_fixture::fixture;
use crate::fixtures::{code, core, tenant};
use std::sync::Arc;
use tessera_core::ErrorCode;
use tessera_core::attributes::AttributeSchema;
use tessera_core::store::{Store, StoreError};
use tessera_core::user_filter::{
    CompareOp, FilterValue, UserField, UserFilter, UserSort, UserSortKey,
};

fn names(users: &[tessera_core::user::User]) -> Vec<String> {
    users
        .iter()
        .map(|u| u.username().unwrap().as_str().to_owned())
        .collect()
}

async fn sorting_and_offset_paging(store: Arc<dyn Store>) {
    let (core, clock) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    fixture(&core, &clock, &auth).await;
    let all = UserFilter::all();
    let sorted = |key, descending| UserSort { key, descending };
    let by_username = core
        .filter_users(&auth, &all, sorted(UserSortKey::Username, false), 0, 3)
        .await
        .unwrap();
    assert_eq!(by_username.total, 7);
    assert_eq!(names(&by_username.users), ["alice", "Bob", "carol.öberg"]);
    let next = core
        .filter_users(&auth, &all, sorted(UserSortKey::Username, false), 3, 3)
        .await
        .unwrap();
    assert_eq!(names(&next.users), ["dave", "erin", "frank"]);
    let last = core
        .filter_users(&auth, &all, sorted(UserSortKey::Username, true), 0, 2)
        .await
        .unwrap();
    assert_eq!(names(&last.users), ["grace", "frank"]);
    let beyond = core
        .filter_users(&auth, &all, UserSort::default(), 100, 10)
        .await
        .unwrap();
    assert_eq!((beyond.total, beyond.users.len()), (7, 0));
    // users without a display name come last ascending, first descending
    let display = core
        .filter_users(&auth, &all, sorted(UserSortKey::DisplayName, false), 0, 7)
        .await
        .unwrap();
    assert_eq!(names(&display.users)[..2], ["alice", "Bob"]);
    let display = core
        .filter_users(&auth, &all, sorted(UserSortKey::DisplayName, true), 0, 7)
        .await
        .unwrap();
    assert_eq!(names(&display.users)[5..], ["Bob", "alice"]);
    let family = core
        .filter_users(&auth, &all, sorted(UserSortKey::FamilyName, false), 0, 3)
        .await
        .unwrap();
    assert_eq!(names(&family.users), ["dave", "Bob", "frank"]);
    let by_email = core
        .filter_users(&auth, &all, sorted(UserSortKey::PrimaryEmail, false), 0, 2)
        .await
        .unwrap();
    assert_eq!(names(&by_email.users), ["alice", "Bob"]);
    let created = core
        .filter_users(&auth, &all, sorted(UserSortKey::Created, true), 0, 1)
        .await
        .unwrap();
    assert_eq!(names(&created.users), ["grace"]);
    clock.advance(time::Duration::minutes(1));
    let alice = by_username.users[0].id;
    core.disable_user(&auth, alice).await.unwrap();
    let updated = core
        .filter_users(&auth, &all, sorted(UserSortKey::Updated, true), 0, 1)
        .await
        .unwrap();
    assert_eq!(names(&updated.users), ["alice"], "changed last");
    // a filtered page counts the whole match
    let filter = UserFilter::condition(
        UserField::Username,
        CompareOp::Ne,
        FilterValue::Text("alice".into()),
    );
    let page = core
        .filter_users(&auth, &filter, UserSort::default(), 1, 2)
        .await
        .unwrap();
    assert_eq!(page.total, 6);
    assert_eq!(names(&page.users), ["carol.öberg", "dave"]);
    // tenant isolation
    let (_, other) = tenant(&core, "globex").await;
    let none = core
        .filter_users(&other, &all, UserSort::default(), 0, 10)
        .await
        .unwrap();
    assert_eq!((none.total, none.users.len()), (0, 0));
}

async fn a34_oversized_and_unstorable_filters_are_refused(store: Arc<dyn Store>) {
    let (core, clock) = core(store.clone()).await;
    let (acme, auth) = tenant(&core, "acme").await;
    fixture(&core, &clock, &auth).await;
    let leaf = UserFilter::condition(
        UserField::Nickname,
        CompareOp::Eq,
        FilterValue::Text("x".into()),
    );
    let wide = UserFilter::Or(vec![leaf.clone(); 65]);
    let mut deep = leaf.clone();
    for _ in 0..16 {
        deep = UserFilter::negate(deep);
    }
    for filter in [&wide, &deep] {
        assert_eq!(
            code(
                core.filter_users(&auth, filter, UserSort::default(), 0, 10)
                    .await
            ),
            ErrorCode::Validation
        );
        // the store does not trust its callers either
        let refused = store
            .filter_users(
                acme.id,
                filter,
                &AttributeSchema::default(),
                UserSort::default(),
                0,
                10,
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Rejected(_))),
            "{refused:?}"
        );
    }
    let bad = [
        UserFilter::condition(
            UserField::Nickname,
            CompareOp::Co,
            FilterValue::Text("a\0b".into()),
        ),
        UserFilter::condition(
            UserField::Attribute("nope".into()),
            CompareOp::Eq,
            FilterValue::Text("x".into()),
        ),
        UserFilter::condition(
            UserField::Attribute("score".into()),
            CompareOp::Gt,
            FilterValue::Number(f64::NAN),
        ),
    ];
    for filter in &bad {
        assert_eq!(
            code(
                core.filter_users(&auth, filter, UserSort::default(), 0, 10)
                    .await
            ),
            ErrorCode::Validation,
            "{filter:?}"
        );
    }
    // hostile text is matched literally, never an error
    for value in [
        "'",
        "\"",
        "\\",
        "%",
        "_",
        "'; DROP TABLE users; --",
        "\u{1f}",
        "😀",
    ] {
        for op in [
            CompareOp::Eq,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
        ] {
            let filter =
                UserFilter::condition(UserField::Username, op, FilterValue::Text(value.to_owned()));
            core.filter_users(&auth, &filter, UserSort::default(), 0, 10)
                .await
                .unwrap();
        }
    }
    let still = core
        .filter_users(&auth, &UserFilter::all(), UserSort::default(), 0, 10)
        .await
        .unwrap();
    assert_eq!(still.total, 7);
}

conformance!(
    sorting_and_offset_paging,
    a34_oversized_and_unstorable_filters_are_refused,
);
