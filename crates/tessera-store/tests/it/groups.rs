//! Groups: round trips, listing, membership, uniqueness, events, optimistic locking (A51,
//! A52), tenant isolation (A50) and membership in user filters.

use crate::conformance;
use crate::fixtures::{code, core, person, tenant};
use std::collections::BTreeSet;
use std::sync::Arc;
use tessera_core::auth::Authorized;
use tessera_core::event::{EventQuery, kinds};
use tessera_core::group::{GroupName, GroupQuery, NameMatch};
use tessera_core::ids::UserId;
use tessera_core::page::PageRequest;
use tessera_core::service::NewGroup;
use tessera_core::store::Store;
use tessera_core::user_filter::{CompareOp, FilterValue, UserField, UserFilter, UserSort};
use tessera_core::{Core, CoreError, ErrorCode};

async fn users(core: &Core, auth: &Authorized, n: usize) -> Vec<UserId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let user = core
            .create_user(
                auth,
                person("U", &i.to_string(), &format!("u{i}@example.com")),
            )
            .await
            .unwrap();
        ids.push(user.id);
    }
    ids
}

fn group(name: &str, members: &[UserId]) -> NewGroup {
    NewGroup {
        display_name: GroupName::parse(name).unwrap(),
        external_id: None,
        members: members.to_vec(),
    }
}

async fn group_events(
    store: &Arc<dyn Store>,
    auth: &Authorized,
    kind: &str,
) -> Vec<serde_json::Value> {
    store
        .list_events(
            auth.tenant_id(),
            &EventQuery {
                kinds: vec![kind.into()],
                ..EventQuery::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.payload)
        .collect()
}

async fn groups_round_trip_list_and_members(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    let ids = users(&core, &auth, 4).await;
    let mut new = group("Engineering", &ids[..2]);
    new.external_id = Some("ENG-1".into());
    let eng = core.create_group(&auth, new).await.unwrap();
    assert_eq!(eng.version, 1);
    assert_eq!(core.get_group(&auth, eng.id).await.unwrap(), eng);
    let sales = core
        .create_group(&auth, group("Sales", &ids[1..3]))
        .await
        .unwrap();
    core.create_group(&auth, group("Support", &[]))
        .await
        .unwrap();

    let list = |query: GroupQuery, offset: u64, limit: u32| {
        let (core, auth) = (core.clone(), auth.clone());
        async move {
            let page = core
                .list_groups(&auth, &query, offset, limit)
                .await
                .unwrap();
            let names: Vec<String> = page
                .groups
                .iter()
                .map(|g| g.display_name.as_str().to_owned())
                .collect();
            (page.total, names)
        }
    };
    assert_eq!(
        list(GroupQuery::default(), 0, 2).await,
        (3, vec!["Engineering".into(), "Sales".into()])
    );
    assert_eq!(
        list(GroupQuery::default(), 2, 2).await,
        (3, vec!["Support".into()])
    );
    let by_name = |how, text: &str| GroupQuery {
        display_name: Some((how, text.to_owned())),
        external_id: None,
    };
    assert_eq!(
        list(by_name(NameMatch::Equals, "ENGINEERING"), 0, 10)
            .await
            .1,
        ["Engineering"]
    );
    assert_eq!(
        list(by_name(NameMatch::StartsWith, "s"), 0, 10).await.1,
        ["Sales", "Support"]
    );
    assert_eq!(
        list(by_name(NameMatch::Contains, "PPO"), 0, 10).await.1,
        ["Support"]
    );
    assert_eq!(
        list(by_name(NameMatch::Contains, "%"), 0, 10).await.0,
        0,
        "wildcards are literal"
    );
    let external = GroupQuery {
        display_name: None,
        external_id: Some("ENG-1".into()),
    };
    assert_eq!(list(external, 0, 10).await.1, ["Engineering"]);

    let of_user = |user: UserId| {
        let (core, auth) = (core.clone(), auth.clone());
        async move {
            core.groups_of_user(&auth, user)
                .await
                .unwrap()
                .into_iter()
                .map(|g| g.display_name.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(of_user(ids[1]).await, ["Engineering", "Sales"]);
    assert!(of_user(ids[3]).await.is_empty());

    // add (again) and remove; the version counts each change
    let changed = core
        .change_group_members(&auth, eng.id, Some(1), &[ids[1], ids[3]], &[ids[0]])
        .await
        .unwrap();
    assert_eq!(changed.version, 2);
    let members = core.group_members(&auth, eng.id, 0, 10).await.unwrap();
    let set: BTreeSet<UserId> = members.members.iter().copied().collect();
    assert_eq!(set, BTreeSet::from([ids[1], ids[3]]));
    assert_eq!(members.total, 2);
    let first = core.group_members(&auth, eng.id, 0, 1).await.unwrap();
    let second = core.group_members(&auth, eng.id, 1, 1).await.unwrap();
    assert_eq!(
        (first.total, first.members.len(), second.members.len()),
        (2, 1, 1)
    );
    assert_ne!(first.members, second.members);
    // a stale version is an edit conflict, and changes nothing
    assert_eq!(
        code(
            core.change_group_members(&auth, eng.id, Some(1), &[ids[0]], &[])
                .await
        ),
        ErrorCode::EditConflict
    );
    // replace: name, external id and members
    let mut replacement = group("Platform", &[ids[0]]);
    replacement.external_id = None;
    let replaced = core
        .replace_group(&auth, eng.id, None, replacement)
        .await
        .unwrap();
    assert_eq!((replaced.version, replaced.external_id.clone()), (3, None));
    assert_eq!(
        core.group_members(&auth, eng.id, 0, 10)
            .await
            .unwrap()
            .members,
        [ids[0]]
    );
    // deleting a user ends its memberships, and the group's version moves on
    let sales_before = core.get_group(&auth, sales.id).await.unwrap().version;
    core.delete_user(&auth, ids[1]).await.unwrap();
    assert_eq!(
        core.group_members(&auth, sales.id, 0, 10)
            .await
            .unwrap()
            .members,
        [ids[2]]
    );
    assert_eq!(
        core.get_group(&auth, sales.id).await.unwrap().version,
        sales_before + 1
    );
    // deleting a group
    core.delete_group(&auth, sales.id, None).await.unwrap();
    assert_eq!(
        code(core.get_group(&auth, sales.id).await),
        ErrorCode::NotFound
    );
    assert!(of_user(ids[2]).await.is_empty());

    let created = group_events(&store, &auth, kinds::GROUP_CREATED).await;
    assert_eq!(created.len(), 3);
    assert_eq!(created[0]["members"], 2);
    let updated = group_events(&store, &auth, kinds::GROUP_UPDATED).await;
    assert_eq!(updated.len(), 3, "two edits and the deleted member");
    assert_eq!(updated[2]["reason"], "user deleted");
    assert_eq!(
        updated[2]["removed"],
        serde_json::json!([ids[1].to_string()])
    );
    assert_eq!(updated[0]["added_count"], 2);
    assert_eq!(
        updated[0]["removed"],
        serde_json::json!([ids[0].to_string()])
    );
    assert_eq!(
        group_events(&store, &auth, kinds::GROUP_DELETED)
            .await
            .len(),
        1
    );
}

async fn a50_members_and_groups_stay_in_their_tenant(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, acme) = tenant(&core, "acme").await;
    let (_, globex) = tenant(&core, "globex").await;
    let mine = users(&core, &acme, 1).await;
    let theirs = users(&core, &globex, 1).await;
    let refused = core
        .create_group(&acme, group("Mixed", &[mine[0], theirs[0]]))
        .await;
    assert_eq!(code(refused), ErrorCode::Validation);
    let unknown = core
        .create_group(
            &acme,
            group("Ghosts", &[UserId::from_uuid(uuid::Uuid::nil())]),
        )
        .await;
    assert_eq!(code(unknown), ErrorCode::Validation);
    let ours = core
        .create_group(&acme, group("Ours", &mine))
        .await
        .unwrap();
    assert_eq!(
        code(
            core.change_group_members(&acme, ours.id, None, &theirs, &[])
                .await
        ),
        ErrorCode::Validation
    );
    assert_eq!(
        code(core.get_group(&globex, ours.id).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(core.delete_group(&globex, ours.id, None).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(core.group_members(&globex, ours.id, 0, 10).await),
        ErrorCode::NotFound
    );
    // the same name in another tenant is another group
    core.create_group(&globex, group("ours", &theirs))
        .await
        .unwrap();
    assert_eq!(
        core.group_members(&acme, ours.id, 0, 10)
            .await
            .unwrap()
            .members,
        mine
    );
}

async fn a51_failed_group_writes_leave_nothing(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    let ids = users(&core, &auth, 2).await;
    let first = core
        .create_group(&auth, group("Admins", &ids[..1]))
        .await
        .unwrap();
    let other = core
        .create_group(&auth, group("Others", &ids[1..]))
        .await
        .unwrap();
    // A40 for groups: the same name in another case is taken
    let again = core.create_group(&auth, group("ADMINS", &ids)).await;
    assert!(
        matches!(
            again,
            Err(CoreError::Duplicate {
                field: "display_name"
            })
        ),
        "{again:?}"
    );
    let renamed = core
        .replace_group(&auth, other.id, None, group("admins", &ids))
        .await;
    assert!(
        matches!(
            renamed,
            Err(CoreError::Duplicate {
                field: "display_name"
            })
        ),
        "{renamed:?}"
    );
    let page = core
        .list_groups(&auth, &GroupQuery::default(), 0, 10)
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(
        core.get_group(&auth, other.id).await.unwrap(),
        other,
        "no half-applied replace"
    );
    assert_eq!(
        core.group_members(&auth, other.id, 0, 10)
            .await
            .unwrap()
            .members,
        &ids[1..]
    );
    assert_eq!(
        core.group_members(&auth, first.id, 0, 10)
            .await
            .unwrap()
            .members,
        &ids[..1]
    );
    assert_eq!(
        group_events(&store, &auth, kinds::GROUP_CREATED)
            .await
            .len(),
        2
    );
    assert!(
        group_events(&store, &auth, kinds::GROUP_UPDATED)
            .await
            .is_empty()
    );
    // a retry with a free name succeeds
    core.replace_group(&auth, other.id, None, group("Operators", &ids))
        .await
        .unwrap();
}

async fn a52_concurrent_group_edits_lose_nothing(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    let ids = users(&core, &auth, 6).await;
    let target = core.create_group(&auth, group("Busy", &[])).await.unwrap();
    let mut tasks = Vec::new();
    for id in ids.clone() {
        let (core, auth) = (core.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            core.change_group_members(&auth, target.id, None, &[id], &[])
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let members = core.group_members(&auth, target.id, 0, 100).await.unwrap();
    assert_eq!(members.total, 6, "every add applied");
    assert_eq!(core.get_group(&auth, target.id).await.unwrap().version, 7);
}

async fn membership_in_user_filters(store: Arc<dyn Store>) {
    let (core, _) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    let ids = users(&core, &auth, 3).await;
    let admins = core
        .create_group(&auth, group("Admins", &ids[..2]))
        .await
        .unwrap();
    core.create_group(&auth, group("Readers", &ids[1..2]))
        .await
        .unwrap();
    let find = |filter: UserFilter| {
        let (core, auth) = (core.clone(), auth.clone());
        async move {
            let found = core
                .filter_users(&auth, &filter, UserSort::default(), 0, 10)
                .await
                .unwrap();
            found.users.into_iter().map(|u| u.id).collect::<Vec<_>>()
        }
    };
    let text = |s: &str| FilterValue::Text(s.to_owned());
    let member_of = UserFilter::condition(
        UserField::GroupId,
        CompareOp::Eq,
        text(&admins.id.to_string()),
    );
    assert_eq!(find(member_of).await, &ids[..2]);
    let not_member = UserFilter::condition(
        UserField::GroupId,
        CompareOp::Ne,
        text(&admins.id.to_string()),
    );
    assert_eq!(find(not_member).await, &ids[2..]);
    assert_eq!(
        find(UserFilter::present(UserField::GroupId)).await,
        &ids[..2]
    );
    let by_name = UserFilter::condition(UserField::GroupDisplayName, CompareOp::Sw, text("READ"));
    assert_eq!(find(by_name).await, &ids[1..2]);
    // `ne`: in no group of that name, whatever other groups (none included).
    let not_reader =
        UserFilter::condition(UserField::GroupDisplayName, CompareOp::Ne, text("readers"));
    let mut expected = vec![ids[0]];
    expected.extend_from_slice(&ids[2..]);
    assert_eq!(find(not_reader).await, expected);
    let garbage = UserFilter::condition(UserField::GroupId, CompareOp::Eq, text("not-an-id"));
    assert!(find(garbage).await.is_empty());
}

conformance!(
    groups_round_trip_list_and_members,
    a50_members_and_groups_stay_in_their_tenant,
    a51_failed_group_writes_leave_nothing,
    a52_concurrent_group_edits_lose_nothing,
    membership_in_user_filters,
);
