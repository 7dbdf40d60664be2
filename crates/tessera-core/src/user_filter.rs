//! Domain-level search terms over users: `and`/`or`/`not` over typed conditions on named
//! fields, with SCIM's operators and case-exactness, and the sort orders. They say nothing
//! of SCIM (the SCIM layer maps its filters onto them) and never become SQL text: the store
//! compiles them with bound values, taking column and JSON names only from these enums.
//!
//! Semantics (the reference is `tessera_scim::filter::eval`):
//! - a condition on an absent value is false, `ne` included (`ne` is `not eq`, so it holds
//!   when the value is absent); `pr` holds for a non-null, non-empty value;
//! - text compares case-insensitively (Unicode lower case) unless `case_exact`; ordering
//!   operators order text by code point, numbers numerically, times as times; booleans
//!   know only `eq`/`ne`; a value of another type than the field's never matches;
//! - an element filter (`Email`, `Phone`, `Address`) holds when one email (phone, address)
//!   satisfies all of it at once, as SCIM's `emails[type eq "work" and value co "@x"]`.
//!   SCIM's `emails.type ne "work"` (no email is of type work) is
//!   `Not(Email(kind eq "work"))`; SCIM's `x eq null` is `Not(x pr)`;
//! - deleted users never match.

use crate::error::FieldError;
use time::OffsetDateTime;

/// Most conditions one filter may hold.
pub const MAX_CONDITIONS: usize = 64;
/// Deepest nesting of `and`/`or`/`not`/element filters.
pub const MAX_DEPTH: usize = 16;

/// The comparison operators (RFC 7644 table 3, without `pr`, which is [`Test::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A typed comparison value.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Bool(bool),
    Timestamp(OffsetDateTime),
    Number(f64),
}

/// What a condition checks of its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// The field has a non-null, non-empty value (`pr`).
    Present,
    Compare(CompareOp, FilterValue),
}

/// One condition on a field of type `F`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition<F> {
    pub field: F,
    pub test: Test,
    /// Compare text exactly rather than ignoring case.
    pub case_exact: bool,
}

impl<F> Condition<F> {
    pub fn new(field: F, test: Test) -> Self {
        Self {
            field,
            test,
            case_exact: false,
        }
    }

    pub fn compare(field: F, op: CompareOp, value: FilterValue) -> Self {
        Self::new(field, Test::Compare(op, value))
    }

    pub fn exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
}

/// `and`/`or`/`not` over conditions on the fields of one email, phone number or address.
#[derive(Debug, Clone, PartialEq)]
pub enum ElementFilter<F> {
    And(Vec<ElementFilter<F>>),
    Or(Vec<ElementFilter<F>>),
    Not(Box<ElementFilter<F>>),
    Condition(Condition<F>),
}

/// Single-valued fields of a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserField {
    /// The id, as text.
    Id,
    Username,
    /// The status name (`light`, `active`, `disabled`).
    Status,
    /// Time of creation.
    Created,
    /// Time of the last change.
    Updated,
    GivenName,
    FamilyName,
    MiddleName,
    /// The display name (OIDC `name`).
    DisplayName,
    HonorificPrefix,
    HonorificSuffix,
    Nickname,
    Title,
    UserType,
    Locale,
    Zoneinfo,
    PreferredLanguage,
    ProfileUrl,
    AnalyticsId,
    Enterprise(EnterpriseField),
    /// The value of the user's external id of this source (SCIM `externalId` is `scim`).
    ExternalId {
        source: String,
    },
    /// A custom attribute of the tenant's schema, by name.
    Attribute(String),
    /// The id (as text) of a group the user is a member of; `pr`: a member of any group.
    GroupId,
    /// The display name of a group the user is a member of.
    GroupDisplayName,
}

/// Fields of the enterprise part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnterpriseField {
    EmployeeNumber,
    CostCenter,
    Organization,
    Division,
    Department,
    /// The manager's user id, as text.
    Manager,
}

/// Fields of one email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailField {
    Value,
    Kind,
    Primary,
    Verified,
}

/// Fields of one phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneField {
    Value,
    Kind,
    Primary,
}

/// Fields of one postal address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressField {
    Kind,
    Formatted,
    StreetAddress,
    Locality,
    Region,
    PostalCode,
    Country,
    Primary,
}

/// A filter over users.
#[derive(Debug, Clone, PartialEq)]
pub enum UserFilter {
    /// All hold (an empty list: every user).
    And(Vec<UserFilter>),
    /// One holds (an empty list: no user).
    Or(Vec<UserFilter>),
    Not(Box<UserFilter>),
    Condition(Condition<UserField>),
    /// One of the user's emails satisfies the whole element filter.
    Email(ElementFilter<EmailField>),
    Phone(ElementFilter<PhoneField>),
    Address(ElementFilter<AddressField>),
}

impl UserFilter {
    /// Every user that is not deleted.
    pub fn all() -> Self {
        Self::And(Vec::new())
    }

    pub fn condition(field: UserField, op: CompareOp, value: FilterValue) -> Self {
        Self::Condition(Condition::compare(field, op, value))
    }

    pub fn present(field: UserField) -> Self {
        Self::Condition(Condition::new(field, Test::Present))
    }

    pub fn negate(inner: UserFilter) -> Self {
        Self::Not(Box::new(inner))
    }

    /// Refuses filters larger than [`MAX_CONDITIONS`] or deeper than [`MAX_DEPTH`]: the
    /// store does not trust its callers to have checked.
    pub fn check_limits(&self) -> Result<(), FieldError> {
        let mut conditions = 0;
        if !self.within(1, &mut conditions) {
            return Err(FieldError::new(
                "filter",
                format!("at most {MAX_CONDITIONS} conditions nested at most {MAX_DEPTH} deep"),
            ));
        }
        Ok(())
    }

    fn within(&self, depth: usize, conditions: &mut usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match self {
            Self::And(items) | Self::Or(items) => {
                items.iter().all(|item| item.within(depth + 1, conditions))
            }
            Self::Not(inner) => inner.within(depth + 1, conditions),
            Self::Condition(_) => {
                *conditions += 1;
                *conditions <= MAX_CONDITIONS
            }
            Self::Email(inner) => inner.within(depth + 1, conditions),
            Self::Phone(inner) => inner.within(depth + 1, conditions),
            Self::Address(inner) => inner.within(depth + 1, conditions),
        }
    }
}

impl<F> ElementFilter<F> {
    pub fn condition(field: F, op: CompareOp, value: FilterValue) -> Self {
        Self::Condition(Condition::compare(field, op, value))
    }

    fn within(&self, depth: usize, conditions: &mut usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match self {
            Self::And(items) | Self::Or(items) => {
                items.iter().all(|item| item.within(depth + 1, conditions))
            }
            Self::Not(inner) => inner.within(depth + 1, conditions),
            Self::Condition(_) => {
                *conditions += 1;
                *conditions <= MAX_CONDITIONS
            }
        }
    }
}

/// What a user list is ordered by; ties are broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSortKey {
    /// Creation order (the id order).
    #[default]
    Created,
    Updated,
    Username,
    DisplayName,
    GivenName,
    FamilyName,
    PrimaryEmail,
}

/// A sort order: users without the key's value come last in ascending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserSort {
    pub key: UserSortKey,
    pub descending: bool,
}

/// The result of a filtered list: how many users match in all, and the page asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct FilteredUsers {
    pub total: u64,
    pub users: Vec<crate::user::User>,
}

/// The storage port of filtered user lists.
#[async_trait::async_trait]
pub trait UserFilterStore: Send + Sync {
    /// The users of `tenant` (never deleted ones) that match `filter`, in `sort` order: how
    /// many match in all, and at most `limit` of them after skipping `offset`. Custom
    /// attribute conditions are resolved against `schema`; an attribute it does not declare,
    /// a `json` attribute or a filter over the limits is refused as `Rejected`.
    async fn filter_users(
        &self,
        tenant: crate::ids::TenantId,
        filter: &UserFilter,
        schema: &crate::attributes::AttributeSchema,
        sort: UserSort,
        offset: u64,
        limit: u32,
    ) -> crate::store::StoreResult<FilteredUsers>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf() -> UserFilter {
        UserFilter::condition(
            UserField::Username,
            CompareOp::Eq,
            FilterValue::Text("a".into()),
        )
    }

    #[test]
    fn limits_count_conditions_and_depth() {
        assert!(UserFilter::Or(vec![leaf(); 64]).check_limits().is_ok());
        assert!(UserFilter::Or(vec![leaf(); 65]).check_limits().is_err());
        let mut deep = leaf();
        for _ in 0..15 {
            deep = UserFilter::negate(deep);
        }
        assert!(deep.check_limits().is_ok());
        assert!(UserFilter::negate(deep).check_limits().is_err());
        let elements = UserFilter::Email(ElementFilter::And(vec![
            ElementFilter::condition(
                EmailField::Kind,
                CompareOp::Eq,
                FilterValue::Text("work".into())
            );
            65
        ]));
        assert!(elements.check_limits().is_err());
    }
}
