//! Schemas (RFC 7643 §7): the attribute model, the User, enterprise User and Group schemas
//! Tessera supports, its own User extension with the tenant's custom attributes, the
//! `ServiceProviderConfig` and `ResourceType` resources, and [`ResourceSchemas`], which
//! answers schema questions for filters, PATCH and projection.
//!
//! These describe exactly what Tessera stores: `/Schemas` must be truthful, so attributes
//! Tessera does not keep (ims, photos, entitlements, roles, x509Certificates) are left out.

mod attribute;
mod meta;
mod resources;
mod service_provider;
mod standard;
mod tessera;

pub use attribute::{AttributeDefinition, AttributeType, Mutability, Returned, Uniqueness};
pub use meta::{resource_type_schema, schema_schema, service_provider_config_schema};
pub use resources::ResourceSchemas;
pub use service_provider::{
    AuthenticationScheme, BulkSupport, FilterSupport, ResourceType, SchemaExtension,
    ServiceProviderConfig, ServiceProviderConfigBuilder, Support,
};
pub use standard::{common_attributes, enterprise_user_schema, group_schema, user_schema};
pub use tessera::{
    CustomAttribute, CustomAttributeError, EMAIL_PURPOSES, MAX_CUSTOM_ATTRIBUTES,
    fixed_user_extension, tessera_user_extension,
};

use serde::{Deserialize, Serialize};

/// A schema resource (RFC 7643 §7), as served by `/Schemas`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    /// The schema URN.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub attributes: Vec<AttributeDefinition>,
    #[serde(default)]
    pub meta: Option<Meta>,
}

impl Schema {
    /// The attribute called `name`, ignoring case.
    pub fn attribute(&self, name: &str) -> Option<&AttributeDefinition> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
    }
}

/// Written with `schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"]`, which SCIM
/// clients expect on every resource of the `/Schemas` endpoint.
impl Serialize for Schema {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            schemas: [&'static str; 1],
            id: &'a str,
            name: &'a str,
            description: &'a str,
            attributes: &'a [AttributeDefinition],
            #[serde(skip_serializing_if = "Option::is_none")]
            meta: &'a Option<Meta>,
        }
        Wire {
            schemas: [crate::urn::SCHEMA],
            id: &self.id,
            name: &self.name,
            description: &self.description,
            attributes: &self.attributes,
            meta: &self.meta,
        }
        .serialize(serializer)
    }
}

/// Resource metadata (RFC 7643 §3.1 `meta`). Times are RFC 3339 text, made by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Meta {
    /// `meta` with a resource type and a location, as on schema and resource-type resources.
    pub fn located(resource_type: impl Into<String>, location: impl Into<String>) -> Self {
        Self {
            resource_type: Some(resource_type.into()),
            location: Some(location.into()),
            ..Self::default()
        }
    }
}
