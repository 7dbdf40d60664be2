//! SCIM resources and queries mapped onto Tessera's domain: `User` and `Group` JSON to and
//! from `tessera_core` values, SCIM filters to `UserFilter`, `sortBy` to `UserSort`.
//! Everything SCIM-shaped stops here; the core services never see JSON of SCIM's making.

mod fields;
pub mod filter;
pub mod group;
pub mod sort;
pub mod user;

pub use fields::{Location, rfc3339};

use crate::schema::{
    AttributeType, CustomAttribute, ResourceSchemas, fixed_user_extension, tessera_user_extension,
};
use tessera_core::attributes::{AttributeSchema, AttributeType as Kind};

/// The tenant's custom attributes as SCIM attributes of Tessera's extension. `json`
/// attributes have no SCIM type and are left out; so are names the extension reserves
/// (an older schema may hold one), which the admin API shows instead.
pub fn custom_attributes(schema: &AttributeSchema) -> Vec<CustomAttribute> {
    schema
        .attributes
        .iter()
        .filter_map(|definition| {
            let kind = match definition.kind {
                Kind::String | Kind::Date | Kind::Enum => AttributeType::String,
                Kind::Number => AttributeType::Decimal,
                Kind::Boolean => AttributeType::Boolean,
                Kind::Json => return None,
            };
            let mut attribute = CustomAttribute::new(definition.name.clone(), kind);
            attribute.required = definition.required;
            attribute.description = definition.description.clone().unwrap_or_else(|| {
                if definition.kind == Kind::Date {
                    "A calendar date, YYYY-MM-DD.".to_owned()
                } else {
                    String::new()
                }
            });
            attribute.canonical_values = definition.enum_values.clone();
            Some(attribute)
        })
        .fold(Vec::new(), |mut accepted, attribute| {
            accepted.push(attribute);
            if tessera_user_extension(&accepted).is_err() {
                accepted.pop();
            }
            accepted
        })
}

/// The schemas of the tenant's Users.
pub fn user_schemas(schema: &AttributeSchema) -> ResourceSchemas {
    // `custom_attributes` keeps only what the extension accepts, so this holds.
    let extension = tessera_user_extension(&custom_attributes(schema))
        .unwrap_or_else(|_| fixed_user_extension());
    ResourceSchemas::user(extension)
}

/// The weak ETag of a resource version (`meta.version` and the `ETag` header).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The version an `If-Match` / `If-None-Match` ETag names, strong or weak; `None` for
/// anything else (which then matches no version).
pub fn version_of(etag: &str) -> Option<i64> {
    let etag = etag.trim();
    let quoted = etag.strip_prefix("W/").unwrap_or(etag);
    quoted.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip_and_nonsense_names_no_version() {
        assert_eq!(etag(7), "W/\"7\"");
        assert_eq!(version_of(&etag(7)), Some(7));
        assert_eq!(version_of("\"7\""), Some(7));
        for other in ["7", "W/7", "\"x\"", "", "W/\"\""] {
            assert_eq!(version_of(other), None, "{other}");
        }
    }
}
