//! Filtered user lists (SCIM searches, and any surface that wants them): the filter is
//! checked here — limits, attribute names, values the store cannot hold — and compiled to
//! SQL by the store.

use super::Core;
use crate::attributes::{AttributeSchema, AttributeType};
use crate::auth::Authorized;
use crate::error::{CoreError, FieldError};
use crate::page::MAX_PAGE_SIZE;
use crate::user_filter::{
    Condition, ElementFilter, FilterValue, FilteredUsers, Test, UserField, UserFilter, UserSort,
};

fn check_value<F>(condition: &Condition<F>) -> Result<(), FieldError> {
    match &condition.test {
        Test::Compare(_, FilterValue::Text(text)) if text.contains('\0') => Err(FieldError::new(
            "filter",
            "values must not contain NUL characters",
        )),
        Test::Compare(_, FilterValue::Number(n)) if !n.is_finite() => {
            Err(FieldError::new("filter", "numbers must be finite"))
        }
        _ => Ok(()),
    }
}

fn check_elements<F>(filter: &ElementFilter<F>) -> Result<(), FieldError> {
    match filter {
        ElementFilter::And(items) | ElementFilter::Or(items) => {
            items.iter().try_for_each(check_elements)
        }
        ElementFilter::Not(inner) => check_elements(inner),
        ElementFilter::Condition(condition) => check_value(condition),
    }
}

/// Every value storable, every attribute declared and filterable.
fn check(filter: &UserFilter, schema: &AttributeSchema) -> Result<(), FieldError> {
    match filter {
        UserFilter::And(items) | UserFilter::Or(items) => {
            items.iter().try_for_each(|item| check(item, schema))
        }
        UserFilter::Not(inner) => check(inner, schema),
        UserFilter::Condition(condition) => {
            check_value(condition)?;
            if let UserField::ExternalId { source } = &condition.field
                && source.contains('\0')
            {
                return Err(FieldError::new(
                    "filter",
                    "external id sources must not contain NUL characters",
                ));
            }
            if let UserField::Attribute(name) = &condition.field {
                match schema.definition(name) {
                    None => {
                        return Err(FieldError::new(
                            "filter",
                            format!("no custom attribute '{name}'"),
                        ));
                    }
                    Some(definition) if definition.kind == AttributeType::Json => {
                        return Err(FieldError::new(
                            "filter",
                            format!("the json attribute '{name}' cannot be filtered"),
                        ));
                    }
                    Some(_) => {}
                }
            }
            Ok(())
        }
        UserFilter::Email(inner) => check_elements(inner),
        UserFilter::Phone(inner) => check_elements(inner),
        UserFilter::Address(inner) => check_elements(inner),
    }
}

impl Core {
    /// The users matching `filter` in `sort` order: the total, and at most `limit` (capped
    /// at the largest page) after skipping `offset`. Deleted users never match.
    pub async fn filter_users(
        &self,
        auth: &Authorized,
        filter: &UserFilter,
        sort: UserSort,
        offset: u64,
        limit: u32,
    ) -> Result<FilteredUsers, CoreError> {
        filter
            .check_limits()
            .map_err(|e| CoreError::Validation(vec![e]))?;
        let schema = self.cached_attribute_schema(auth.tenant_id()).await?;
        check(filter, &schema).map_err(|e| CoreError::Validation(vec![e]))?;
        Ok(self
            .parts
            .store
            .filter_users(
                auth.tenant_id(),
                filter,
                &schema,
                sort,
                offset,
                limit.min(MAX_PAGE_SIZE),
            )
            .await?)
    }
}
