//! SCIM sorting (RFC 7644 §3.4.2.3) on `/Users` mapped to the domain's [`UserSort`]. Only
//! the keys the store orders by are accepted; any other `sortBy` is refused rather than
//! ignored, so a client never pages through an order it did not ask for.

use crate::attr_path::AttrPath;
use crate::error::ScimError;
use crate::urn;
use tessera_core::user_filter::{UserSort, UserSortKey};

/// The order of a user list from the `sortBy` and `sortOrder` parameters.
///
/// No `sortBy` (or an empty one) is creation order. `sortOrder` is `ascending` (the default)
/// or `descending`, ignoring case, and applies to the default order as well. Errors are
/// `invalidValue`: an unsupported or malformed `sortBy`, another `sortOrder`.
pub fn user_sort(sort_by: Option<&str>, sort_order: Option<&str>) -> Result<UserSort, ScimError> {
    let key = match sort_by.map(str::trim).filter(|text| !text.is_empty()) {
        None => UserSortKey::default(),
        Some(text) => sort_key(text)?,
    };
    let descending = match sort_order {
        None => false,
        Some(order) if order.eq_ignore_ascii_case("ascending") => false,
        Some(order) if order.eq_ignore_ascii_case("descending") => true,
        Some(_) => {
            return Err(ScimError::invalid_value(
                "sortOrder must be 'ascending' or 'descending'",
            ));
        }
    };
    Ok(UserSort { key, descending })
}

fn sort_key(text: &str) -> Result<UserSortKey, ScimError> {
    // The text did not parse, so it is not quoted: it may be anything.
    let path = AttrPath::parse(text)
        .map_err(|_| ScimError::invalid_value("sortBy must be an attribute path"))?;
    let unsupported = || {
        ScimError::invalid_value(format!(
            "cannot sort by '{path}': users sort by id, userName, displayName, name.givenName, \
             name.familyName, emails, meta.created or meta.lastModified"
        ))
    };
    if path
        .urn
        .as_deref()
        .is_some_and(|uri| !uri.eq_ignore_ascii_case(urn::CORE_USER))
    {
        return Err(unsupported());
    }
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub.as_deref().map(str::to_ascii_lowercase);
    match (name.as_str(), sub.as_deref()) {
        // Ids are UUIDv7, minted in creation order.
        ("id", None) | ("meta", Some("created")) => Ok(UserSortKey::Created),
        ("meta", Some("lastmodified")) => Ok(UserSortKey::Updated),
        ("username", None) => Ok(UserSortKey::Username),
        ("displayname", None) => Ok(UserSortKey::DisplayName),
        ("name", Some("givenname")) => Ok(UserSortKey::GivenName),
        ("name", Some("familyname")) => Ok(UserSortKey::FamilyName),
        // RFC 7644 sorts a multi-valued attribute by its primary value.
        ("emails", None | Some("value")) => Ok(UserSortKey::PrimaryEmail),
        _ => Err(unsupported()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimType;

    fn key(sort_by: &str) -> UserSortKey {
        user_sort(Some(sort_by), None).unwrap().key
    }

    #[test]
    fn maps_each_supported_attribute_ignoring_case() {
        let cases = [
            ("meta.created", UserSortKey::Created),
            ("id", UserSortKey::Created),
            ("META.LASTMODIFIED", UserSortKey::Updated),
            ("userName", UserSortKey::Username),
            ("displayname", UserSortKey::DisplayName),
            ("name.givenName", UserSortKey::GivenName),
            ("name.familyName", UserSortKey::FamilyName),
            ("emails", UserSortKey::PrimaryEmail),
            ("emails.value", UserSortKey::PrimaryEmail),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                UserSortKey::Username,
            ),
        ];
        for (sort_by, expected) in cases {
            assert_eq!(key(sort_by), expected, "{sort_by}");
        }
    }

    #[test]
    fn defaults_to_creation_order_ascending() {
        assert_eq!(user_sort(None, None).unwrap(), UserSort::default());
        assert_eq!(user_sort(Some(" "), None).unwrap(), UserSort::default());
        assert_eq!(
            user_sort(None, Some("Descending")).unwrap(),
            UserSort {
                key: UserSortKey::Created,
                descending: true
            }
        );
        let sort = user_sort(Some("userName"), Some("ASCENDING")).unwrap();
        assert!(!sort.descending);
    }

    #[test]
    fn refuses_other_attributes_and_orders_as_invalid_value() {
        for (sort_by, sort_order) in [
            (Some("nickName"), None),
            (Some("emails.type"), None),
            (Some("name"), None),
            (
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
                None,
            ),
            (Some("a.b.c"), None),
            (Some("userName"), Some("up")),
            (None, Some("")),
        ] {
            let error = user_sort(sort_by, sort_order).unwrap_err();
            assert_eq!(error.scim_type, Some(ScimType::InvalidValue), "{sort_by:?}");
        }
        let error = user_sort(Some("nickName"), None).unwrap_err();
        assert!(error.detail.starts_with("cannot sort by 'nickName'"));
        let error = user_sort(Some("secret value!"), None).unwrap_err();
        assert!(!error.detail.contains("secret"));
    }
}
