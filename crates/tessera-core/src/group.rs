//! Groups of users (SCIM `Group`): a display name unique per tenant ignoring case, an
//! optional external id, and members, who are users of the same tenant. Membership lives in
//! its own table; a user's groups are read from it, never stored on the user.

use crate::error::FieldError;
use crate::event::Event;
use crate::ids::{GroupId, TenantId, UserId};
use crate::store::StoreResult;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// Longest display name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 256;
/// Longest external id, in characters.
pub const MAX_GROUP_EXTERNAL_ID_CHARS: usize = 256;
/// Most members one request may add, remove or set.
pub const MAX_MEMBERS_PER_CHANGE: usize = 10_000;

/// A group's display name: shown as typed, unique by its case-folded key.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GroupName {
    original: String,
    key: String,
}

impl GroupName {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let original = input.trim();
        if !(1..=MAX_GROUP_NAME_CHARS).contains(&original.chars().count())
            || original.chars().any(char::is_control)
        {
            return Err(FieldError::new(
                "display_name",
                format!("1-{MAX_GROUP_NAME_CHARS} characters, no control characters"),
            ));
        }
        Ok(Self {
            original: original.to_owned(),
            key: original.to_lowercase(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The case-folded form used for uniqueness and look-ups.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl PartialEq for GroupName {
    fn eq(&self, other: &Self) -> bool {
        self.original == other.original
    }
}

impl Eq for GroupName {}

impl fmt::Debug for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupName({:?})", self.original)
    }
}

impl fmt::Display for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl TryFrom<String> for GroupName {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<GroupName> for String {
    fn from(value: GroupName) -> Self {
        value.original
    }
}

/// Checks an external id: 1-256 characters, no control characters.
pub fn check_external_id(value: &str) -> Result<(), FieldError> {
    if (1..=MAX_GROUP_EXTERNAL_ID_CHARS).contains(&value.chars().count())
        && !value.chars().any(char::is_control)
    {
        Ok(())
    } else {
        Err(FieldError::new(
            "external_id",
            format!("1-{MAX_GROUP_EXTERNAL_ID_CHARS} characters, no control characters"),
        ))
    }
}

/// A group of one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub tenant_id: TenantId,
    pub display_name: GroupName,
    pub external_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Bumped by every change, members included (the SCIM ETag).
    pub version: i64,
}

/// How a group list matches display names (ignoring case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    Equals,
    StartsWith,
    Contains,
}

/// Filters of the group list; all given filters must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupQuery {
    pub display_name: Option<(NameMatch, String)>,
    /// Equal, exactly.
    pub external_id: Option<String>,
}

/// One page of groups, ordered by display name, and how many match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPage {
    pub total: u64,
    pub groups: Vec<Group>,
}

/// One page of a group's members (by user id order), and how many there are.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberPage {
    pub total: u64,
    pub members: Vec<UserId>,
}

/// The storage port of groups. Every change writes its event in the same transaction and
/// bumps the group's version; member ids that are not users of the group's tenant (or are
/// deleted) are never stored.
#[async_trait::async_trait]
pub trait GroupStore: Send + Sync {
    async fn insert_group(
        &self,
        group: &Group,
        members: &[UserId],
        event: &Event,
    ) -> StoreResult<()>;
    async fn group_by_id(&self, tenant: TenantId, id: GroupId) -> StoreResult<Option<Group>>;
    async fn list_groups(
        &self,
        tenant: TenantId,
        query: &GroupQuery,
        offset: u64,
        limit: u32,
    ) -> StoreResult<GroupPage>;
    /// Replaces name and external id, and the members when `members` is given, if the
    /// stored version is `expected_version`.
    async fn replace_group(
        &self,
        group: &Group,
        expected_version: i64,
        members: Option<&[UserId]>,
        event: &Event,
    ) -> StoreResult<()>;
    /// Adds and removes members and stores `group`'s version and time, if the stored
    /// version is `expected_version`. Adding a member twice is no error.
    async fn change_group_members(
        &self,
        group: &Group,
        expected_version: i64,
        add: &[UserId],
        remove: &[UserId],
        event: &Event,
    ) -> StoreResult<()>;
    /// Deletes the group and its memberships if its version is `expected_version`.
    async fn delete_group(
        &self,
        tenant: TenantId,
        id: GroupId,
        expected_version: i64,
        event: &Event,
    ) -> StoreResult<()>;
    /// Which of `users` are users of `tenant` that are not deleted (those that may be
    /// members), in one round trip per few hundred ids.
    async fn live_users(&self, tenant: TenantId, users: &[UserId]) -> StoreResult<Vec<UserId>>;
    /// The groups each of `users` is a member of (pairs of member and group, by group name).
    async fn groups_of_users(
        &self,
        tenant: TenantId,
        users: &[UserId],
    ) -> StoreResult<Vec<(UserId, Group)>>;
    async fn group_members(
        &self,
        tenant: TenantId,
        group: GroupId,
        offset: u64,
        limit: u32,
    ) -> StoreResult<MemberPage>;
}
