//! Group use cases: create, read, list, replace, change members, delete, and the groups of
//! a user. Writes name the version they read (optimistic locking): with an
//! `expected_version` from the caller (an ETag) a stale one is an edit conflict at once;
//! without one the read-modify-write is retried on conflict.

use super::{Core, retry_on_conflict};
use crate::auth::Authorized;
use crate::error::{CoreError, FieldError};
use crate::event::{Event, kinds};
use crate::group::{
    Group, GroupName, GroupPage, GroupQuery, MAX_MEMBERS_PER_CHANGE, MemberPage, check_external_id,
};
use crate::ids::{GroupId, UserId};
use crate::page::MAX_PAGE_SIZE;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// Input of group creation and replacement.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub display_name: GroupName,
    pub external_id: Option<String>,
    pub members: Vec<UserId>,
}

/// Member ids listed in events, at most; beyond, events carry counts only.
const MAX_IDS_IN_EVENT: usize = 100;

fn subject(id: GroupId) -> String {
    format!("group:{id}")
}

fn ids(list: &[UserId]) -> Value {
    if list.len() <= MAX_IDS_IN_EVENT {
        json!(list.iter().map(ToString::to_string).collect::<Vec<_>>())
    } else {
        Value::Null
    }
}

fn distinct(list: &[UserId]) -> Vec<UserId> {
    list.iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn check_external(external_id: &Option<String>) -> Result<(), CoreError> {
    match external_id {
        Some(value) => check_external_id(value).map_err(|e| CoreError::Validation(vec![e])),
        None => Ok(()),
    }
}

impl Core {
    /// Members must be users of the tenant that are not deleted (A50).
    async fn check_members(&self, auth: &Authorized, members: &[UserId]) -> Result<(), CoreError> {
        if members.len() > MAX_MEMBERS_PER_CHANGE {
            return Err(CoreError::invalid(
                "members",
                format!("at most {MAX_MEMBERS_PER_CHANGE} per request"),
            ));
        }
        let live: BTreeSet<UserId> = self
            .parts
            .store
            .live_users(auth.tenant_id(), members)
            .await?
            .into_iter()
            .collect();
        let unknown: Vec<FieldError> = members
            .iter()
            .filter(|id| !live.contains(id))
            .map(|id| FieldError::new("members", format!("no user {id}")))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Validation(unknown))
        }
    }

    pub async fn create_group(&self, auth: &Authorized, new: NewGroup) -> Result<Group, CoreError> {
        check_external(&new.external_id)?;
        let members = distinct(&new.members);
        self.check_members(auth, &members).await?;
        let now = self.parts.clock.now();
        let group = Group {
            id: GroupId::new_at(now),
            tenant_id: auth.tenant_id(),
            display_name: new.display_name,
            external_id: new.external_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let event = Event::new(
            group.tenant_id,
            now,
            auth.actor(),
            kinds::GROUP_CREATED,
            subject(group.id),
            json!({"members": members.len(), "added": ids(&members)}),
        );
        self.parts
            .store
            .insert_group(&group, &members, &event)
            .await?;
        Ok(group)
    }

    pub async fn get_group(&self, auth: &Authorized, id: GroupId) -> Result<Group, CoreError> {
        self.parts
            .store
            .group_by_id(auth.tenant_id(), id)
            .await?
            .ok_or(CoreError::NotFound("group"))
    }

    /// Groups by display name, `limit` capped at the largest page.
    pub async fn list_groups(
        &self,
        auth: &Authorized,
        query: &GroupQuery,
        offset: u64,
        limit: u32,
    ) -> Result<GroupPage, CoreError> {
        let too_long = |text: &str| text.chars().count() > 256 || text.contains('\0');
        if query
            .display_name
            .as_ref()
            .is_some_and(|(_, t)| too_long(t))
            || query.external_id.as_deref().is_some_and(too_long)
        {
            return Err(CoreError::invalid(
                "filter",
                "at most 256 characters, no NUL characters",
            ));
        }
        Ok(self
            .parts
            .store
            .list_groups(auth.tenant_id(), query, offset, limit.min(MAX_PAGE_SIZE))
            .await?)
    }

    /// Replaces name, external id and the whole member list (SCIM `PUT`).
    pub async fn replace_group(
        &self,
        auth: &Authorized,
        id: GroupId,
        expected_version: Option<i64>,
        new: NewGroup,
    ) -> Result<Group, CoreError> {
        check_external(&new.external_id)?;
        let members = distinct(&new.members);
        self.check_members(auth, &members).await?;
        self.edit_group(auth, id, expected_version, |current, store_version| {
            let next = Group {
                display_name: new.display_name.clone(),
                external_id: new.external_id.clone(),
                ..current.clone()
            };
            let members = members.clone();
            Box::pin(async move {
                let now = self.parts.clock.now();
                let next = Group {
                    updated_at: now,
                    version: store_version + 1,
                    ..next
                };
                let event = Event::new(
                    next.tenant_id,
                    now,
                    auth.actor(),
                    kinds::GROUP_UPDATED,
                    subject(id),
                    json!({"replaced": true, "members": members.len()}),
                );
                self.parts
                    .store
                    .replace_group(&next, store_version, Some(&members), &event)
                    .await?;
                Ok(next)
            })
        })
        .await
    }

    /// Changes name and external id and leaves the members as they are (a SCIM `PATCH` that
    /// renames), so concurrent member changes are kept.
    pub async fn rename_group(
        &self,
        auth: &Authorized,
        id: GroupId,
        expected_version: Option<i64>,
        display_name: GroupName,
        external_id: Option<String>,
    ) -> Result<Group, CoreError> {
        check_external(&external_id)?;
        self.edit_group(auth, id, expected_version, |current, store_version| {
            let next = Group {
                display_name: display_name.clone(),
                external_id: external_id.clone(),
                ..current.clone()
            };
            Box::pin(async move {
                let now = self.parts.clock.now();
                let next = Group {
                    updated_at: now,
                    version: store_version + 1,
                    ..next
                };
                let event = Event::new(
                    next.tenant_id,
                    now,
                    auth.actor(),
                    kinds::GROUP_UPDATED,
                    subject(id),
                    json!({"renamed": true}),
                );
                self.parts
                    .store
                    .replace_group(&next, store_version, None, &event)
                    .await?;
                Ok(next)
            })
        })
        .await
    }

    /// Adds and removes members (SCIM `PATCH` of `members`).
    pub async fn change_group_members(
        &self,
        auth: &Authorized,
        id: GroupId,
        expected_version: Option<i64>,
        add: &[UserId],
        remove: &[UserId],
    ) -> Result<Group, CoreError> {
        let (add, remove) = (distinct(add), distinct(remove));
        self.check_members(auth, &add).await?;
        if remove.len() > MAX_MEMBERS_PER_CHANGE {
            return Err(CoreError::invalid(
                "members",
                format!("at most {MAX_MEMBERS_PER_CHANGE} per request"),
            ));
        }
        self.edit_group(auth, id, expected_version, |current, store_version| {
            let current = current.clone();
            let (add, remove) = (add.clone(), remove.clone());
            Box::pin(async move {
                let now = self.parts.clock.now();
                let next = Group {
                    updated_at: now,
                    version: store_version + 1,
                    ..current
                };
                let event = Event::new(
                    next.tenant_id,
                    now,
                    auth.actor(),
                    kinds::GROUP_UPDATED,
                    subject(id),
                    json!({"added": ids(&add), "removed": ids(&remove),
                           "added_count": add.len(), "removed_count": remove.len()}),
                );
                self.parts
                    .store
                    .change_group_members(&next, store_version, &add, &remove, &event)
                    .await?;
                Ok(next)
            })
        })
        .await
    }

    pub async fn delete_group(
        &self,
        auth: &Authorized,
        id: GroupId,
        expected_version: Option<i64>,
    ) -> Result<(), CoreError> {
        self.edit_group(auth, id, expected_version, |current, store_version| {
            let tenant = current.tenant_id;
            Box::pin(async move {
                let now = self.parts.clock.now();
                let event = Event::new(
                    tenant,
                    now,
                    auth.actor(),
                    kinds::GROUP_DELETED,
                    subject(id),
                    json!({}),
                );
                self.parts
                    .store
                    .delete_group(tenant, id, store_version, &event)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// Reads the group and applies `change` at its version: with `expected_version` once,
    /// a different stored version being an edit conflict; without, retried on conflict.
    async fn edit_group<'s, T>(
        &'s self,
        auth: &'s Authorized,
        id: GroupId,
        expected_version: Option<i64>,
        change: impl Fn(
            &Group,
            i64,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<T, CoreError>> + Send + 's>,
        >,
    ) -> Result<T, CoreError> {
        let attempt = || async {
            let current = self.get_group(auth, id).await?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(CoreError::EditConflict);
            }
            change(&current, current.version).await
        };
        match expected_version {
            Some(_) => attempt().await,
            None => retry_on_conflict(attempt).await,
        }
    }

    /// The groups `user` is a member of.
    pub async fn groups_of_user(
        &self,
        auth: &Authorized,
        user: UserId,
    ) -> Result<Vec<Group>, CoreError> {
        let mut groups = self.groups_of_users(auth, &[user]).await?;
        Ok(groups.remove(&user).unwrap_or_default())
    }

    /// The groups of each of `users` (a list page), in one query.
    pub async fn groups_of_users(
        &self,
        auth: &Authorized,
        users: &[UserId],
    ) -> Result<HashMap<UserId, Vec<Group>>, CoreError> {
        let mut by_user: HashMap<UserId, Vec<Group>> = HashMap::new();
        if users.is_empty() {
            return Ok(by_user);
        }
        for (user, group) in self
            .parts
            .store
            .groups_of_users(auth.tenant_id(), users)
            .await?
        {
            by_user.entry(user).or_default().push(group);
        }
        Ok(by_user)
    }

    /// A page of the group's members.
    pub async fn group_members(
        &self,
        auth: &Authorized,
        id: GroupId,
        offset: u64,
        limit: u32,
    ) -> Result<MemberPage, CoreError> {
        self.get_group(auth, id).await?;
        Ok(self
            .parts
            .store
            .group_members(auth.tenant_id(), id, offset, limit.min(MAX_PAGE_SIZE))
            .await?)
    }
}
