//! The schemas of one resource type: its core schema, its extensions and the common
//! attributes. Resolves attribute paths to definitions, and so answers [`SchemaRules`] for
//! filters and PATCH, and drives attribute projection.

use super::{
    AttributeDefinition, Schema, common_attributes, enterprise_user_schema, group_schema,
    user_schema,
};
use crate::attr_path::AttrPath;
use crate::rules::SchemaRules;

/// A resource type's schemas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSchemas {
    core: Schema,
    extensions: Vec<Schema>,
    common: Vec<AttributeDefinition>,
}

impl ResourceSchemas {
    pub fn new(core: Schema, extensions: Vec<Schema>) -> Self {
        Self {
            core,
            extensions,
            common: common_attributes(),
        }
    }

    /// Users: the core schema, the enterprise extension and Tessera's extension (built by
    /// [`super::tessera_user_extension`] from the tenant's custom attributes).
    pub fn user(tessera_extension: Schema) -> Self {
        Self::new(
            user_schema(),
            vec![enterprise_user_schema(), tessera_extension],
        )
    }

    /// Groups: the core schema, no extensions.
    pub fn group() -> Self {
        Self::new(group_schema(), Vec::new())
    }

    pub fn core(&self) -> &Schema {
        &self.core
    }

    pub fn extensions(&self) -> &[Schema] {
        &self.extensions
    }

    /// `id`, `externalId`, `meta`.
    pub fn common(&self) -> &[AttributeDefinition] {
        &self.common
    }

    /// The extension schema with this URN, ignoring case.
    pub fn extension(&self, uri: &str) -> Option<&Schema> {
        self.extensions
            .iter()
            .find(|schema| schema.id.eq_ignore_ascii_case(uri))
    }

    /// The definition `attr` names: its sub-attribute's when it has one. Without a URN the
    /// core schema and the common attributes are searched first, then the extensions
    /// (clients write `employeeNumber` for the enterprise one).
    pub fn definition(&self, attr: &AttrPath) -> Option<&AttributeDefinition> {
        let (_, top) = self.resolve(attr)?;
        match &attr.sub {
            None => Some(top),
            Some(sub) => top.sub_attribute(sub),
        }
    }

    /// The schema URN and the definition of `attr`'s top-level attribute.
    pub(crate) fn resolve(&self, attr: &AttrPath) -> Option<(&str, &AttributeDefinition)> {
        let in_core = || {
            self.core
                .attribute(&attr.name)
                .or_else(|| {
                    self.common
                        .iter()
                        .find(|c| c.name.eq_ignore_ascii_case(&attr.name))
                })
                .map(|definition| (self.core.id.as_str(), definition))
        };
        match &attr.urn {
            Some(urn) if urn.eq_ignore_ascii_case(&self.core.id) => in_core(),
            Some(urn) => {
                let schema = self.extension(urn)?;
                Some((schema.id.as_str(), schema.attribute(&attr.name)?))
            }
            None => in_core().or_else(|| {
                self.extensions.iter().find_map(|schema| {
                    schema
                        .attribute(&attr.name)
                        .map(|definition| (schema.id.as_str(), definition))
                })
            }),
        }
    }
}

impl SchemaRules for ResourceSchemas {
    fn is_case_exact(&self, attr: &AttrPath) -> bool {
        self.definition(attr)
            .is_some_and(AttributeDefinition::is_case_exact)
    }

    fn is_multi_valued(&self, attr: &AttrPath) -> bool {
        self.definition(attr)
            .is_some_and(|definition| definition.multi_valued)
    }

    fn is_core_schema(&self, uri: &str) -> bool {
        uri.eq_ignore_ascii_case(&self.core.id)
    }

    fn is_extension_schema(&self, uri: &str) -> bool {
        self.extension(uri).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tessera_user_extension;
    use crate::urn;

    fn users() -> ResourceSchemas {
        ResourceSchemas::user(tessera_user_extension(&[]).unwrap())
    }

    #[test]
    fn resolves_prefixed_unprefixed_common_and_sub_attributes() {
        let schemas = users();
        let find = |text: &str| {
            schemas
                .definition(&AttrPath::parse(text).unwrap())
                .map(|d| d.name.clone())
        };
        assert_eq!(find("USERNAME").as_deref(), Some("userName"));
        assert_eq!(find("name.FamilyName").as_deref(), Some("familyName"));
        assert_eq!(find("id").as_deref(), Some("id"));
        assert_eq!(find("meta.lastModified").as_deref(), Some("lastModified"));
        assert_eq!(find("employeeNumber").as_deref(), Some("employeeNumber"));
        assert_eq!(
            find(&format!("{}:manager.value", urn::ENTERPRISE_USER)).as_deref(),
            Some("value")
        );
        assert_eq!(
            find(&format!("{}:userName", urn::CORE_USER)).as_deref(),
            Some("userName")
        );
        assert_eq!(find(&format!("{}:userName", urn::ENTERPRISE_USER)), None);
        assert_eq!(find("nope"), None);
    }

    #[test]
    fn answers_schema_rules_from_definitions() {
        let schemas = users();
        assert!(schemas.is_case_exact(&AttrPath::new("id")));
        assert!(!schemas.is_case_exact(&AttrPath::new("userName")));
        assert!(schemas.is_case_exact(&AttrPath::new("analyticsId")));
        assert!(schemas.is_multi_valued(&AttrPath::new("emails")));
        assert!(schemas.is_multi_valued(&AttrPath::new("emailPurposes").with_sub("purposes")));
        assert!(!schemas.is_multi_valued(&AttrPath::new("name")));
        assert!(schemas.is_core_schema(&urn::CORE_USER.to_uppercase()));
        assert!(schemas.is_extension_schema(urn::TESSERA_USER));
        assert!(!ResourceSchemas::group().is_extension_schema(urn::ENTERPRISE_USER));
    }
}
