//! `ServiceProviderConfig` (RFC 7643 §5) and `ResourceType` (§6): what the server supports,
//! with its limits, and which endpoints serve which schemas. Built from the server's real
//! settings so they stay truthful.

use super::Meta;
use crate::urn;
use serde::{Deserialize, Serialize};

/// `{"supported": bool}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Support {
    pub supported: bool,
}

/// Bulk support and its limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkSupport {
    pub supported: bool,
    pub max_operations: u64,
    /// Bytes.
    pub max_payload_size: u64,
}

/// Filter support and the largest page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterSupport {
    pub supported: bool,
    pub max_results: u64,
}

/// One authentication scheme (RFC 7643 §5 `authenticationSchemes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationScheme {
    /// `oauth`, `oauth2`, `oauthbearertoken`, `httpbasic` or `httpdigest`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_uri: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

impl AuthenticationScheme {
    /// Bearer tokens (RFC 6750): Tessera's API tokens with the `scim` scope.
    pub fn oauth_bearer_token() -> Self {
        Self {
            kind: "oauthbearertoken".to_owned(),
            name: "OAuth Bearer Token".to_owned(),
            description: "Authentication with a bearer API token that has the 'scim' scope"
                .to_owned(),
            spec_uri: Some("https://www.rfc-editor.org/info/rfc6750".to_owned()),
            documentation_uri: None,
            primary: true,
        }
    }
}

/// The service provider's configuration. Every feature member is present, as RFC 7643 §5
/// requires, even when unsupported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceProviderConfig {
    #[serde(default)]
    pub documentation_uri: Option<String>,
    pub patch: Support,
    pub bulk: BulkSupport,
    pub filter: FilterSupport,
    pub change_password: Support,
    pub sort: Support,
    pub etag: Support,
    pub authentication_schemes: Vec<AuthenticationScheme>,
    #[serde(default)]
    pub meta: Option<Meta>,
}

impl ServiceProviderConfig {
    /// A builder that starts with every feature unsupported and no authentication scheme.
    pub fn builder() -> ServiceProviderConfigBuilder {
        ServiceProviderConfigBuilder {
            config: Self::default(),
        }
    }
}

impl Serialize for ServiceProviderConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            schemas: [&'static str; 1],
            #[serde(skip_serializing_if = "Option::is_none")]
            documentation_uri: &'a Option<String>,
            patch: Support,
            bulk: BulkSupport,
            filter: FilterSupport,
            change_password: Support,
            sort: Support,
            etag: Support,
            authentication_schemes: &'a [AuthenticationScheme],
            #[serde(skip_serializing_if = "Option::is_none")]
            meta: &'a Option<Meta>,
        }
        Wire {
            schemas: [urn::SERVICE_PROVIDER_CONFIG],
            documentation_uri: &self.documentation_uri,
            patch: self.patch,
            bulk: self.bulk,
            filter: self.filter,
            change_password: self.change_password,
            sort: self.sort,
            etag: self.etag,
            authentication_schemes: &self.authentication_schemes,
            meta: &self.meta,
        }
        .serialize(serializer)
    }
}

/// Builds a [`ServiceProviderConfig`]; each call turns a feature on.
#[derive(Debug, Clone)]
pub struct ServiceProviderConfigBuilder {
    config: ServiceProviderConfig,
}

impl ServiceProviderConfigBuilder {
    pub fn documentation_uri(mut self, uri: impl Into<String>) -> Self {
        self.config.documentation_uri = Some(uri.into());
        self
    }

    pub fn patch(mut self) -> Self {
        self.config.patch.supported = true;
        self
    }

    pub fn bulk(mut self, max_operations: u64, max_payload_size: u64) -> Self {
        self.config.bulk = BulkSupport {
            supported: true,
            max_operations,
            max_payload_size,
        };
        self
    }

    pub fn filter(mut self, max_results: u64) -> Self {
        self.config.filter = FilterSupport {
            supported: true,
            max_results,
        };
        self
    }

    pub fn change_password(mut self) -> Self {
        self.config.change_password.supported = true;
        self
    }

    pub fn sort(mut self) -> Self {
        self.config.sort.supported = true;
        self
    }

    pub fn etag(mut self) -> Self {
        self.config.etag.supported = true;
        self
    }

    pub fn authentication_scheme(mut self, scheme: AuthenticationScheme) -> Self {
        self.config.authentication_schemes.push(scheme);
        self
    }

    pub fn meta(mut self, meta: Meta) -> Self {
        self.config.meta = Some(meta);
        self
    }

    pub fn build(self) -> ServiceProviderConfig {
        self.config
    }
}

/// An extension schema a resource type uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaExtension {
    pub schema: String,
    pub required: bool,
}

/// A resource type (RFC 7643 §6).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceType {
    pub id: String,
    pub name: String,
    /// Relative to the SCIM base, e.g. `/Users`.
    pub endpoint: String,
    #[serde(default)]
    pub description: String,
    pub schema: String,
    #[serde(default)]
    pub schema_extensions: Vec<SchemaExtension>,
    #[serde(default)]
    pub meta: Option<Meta>,
}

impl ResourceType {
    /// `User` at `/Users`, with the enterprise and Tessera extensions, both optional.
    pub fn user() -> Self {
        Self {
            id: "User".to_owned(),
            name: "User".to_owned(),
            endpoint: "/Users".to_owned(),
            description: "User Account".to_owned(),
            schema: urn::CORE_USER.to_owned(),
            schema_extensions: vec![
                SchemaExtension {
                    schema: urn::ENTERPRISE_USER.to_owned(),
                    required: false,
                },
                SchemaExtension {
                    schema: urn::TESSERA_USER.to_owned(),
                    required: false,
                },
            ],
            meta: None,
        }
    }

    /// `Group` at `/Groups`.
    pub fn group() -> Self {
        Self {
            id: "Group".to_owned(),
            name: "Group".to_owned(),
            endpoint: "/Groups".to_owned(),
            description: "Group".to_owned(),
            schema: urn::CORE_GROUP.to_owned(),
            schema_extensions: Vec::new(),
            meta: None,
        }
    }
}

impl Serialize for ResourceType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            schemas: [&'static str; 1],
            id: &'a str,
            name: &'a str,
            endpoint: &'a str,
            description: &'a str,
            schema: &'a str,
            #[serde(skip_serializing_if = "<[SchemaExtension]>::is_empty")]
            schema_extensions: &'a [SchemaExtension],
            #[serde(skip_serializing_if = "Option::is_none")]
            meta: &'a Option<Meta>,
        }
        Wire {
            schemas: [urn::RESOURCE_TYPE],
            id: &self.id,
            name: &self.name,
            endpoint: &self.endpoint,
            description: &self.description,
            schema: &self.schema,
            schema_extensions: &self.schema_extensions,
            meta: &self.meta,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_every_feature_as_rfc_7643_section_5_requires() {
        let config = ServiceProviderConfig::builder()
            .patch()
            .bulk(1000, 1_048_576)
            .filter(200)
            .sort()
            .etag()
            .authentication_scheme(AuthenticationScheme::oauth_bearer_token())
            .meta(Meta::located(
                "ServiceProviderConfig",
                "https://id.example.com/scim/v2/ServiceProviderConfig",
            ))
            .build();
        let value = serde_json::to_value(&config).unwrap();
        assert_eq!(
            value,
            json!({
                "schemas": [urn::SERVICE_PROVIDER_CONFIG],
                "patch": {"supported": true},
                "bulk": {"supported": true, "maxOperations": 1000, "maxPayloadSize": 1048576},
                "filter": {"supported": true, "maxResults": 200},
                "changePassword": {"supported": false},
                "sort": {"supported": true},
                "etag": {"supported": true},
                "authenticationSchemes": [{
                    "type": "oauthbearertoken",
                    "name": "OAuth Bearer Token",
                    "description": "Authentication with a bearer API token that has the 'scim' scope",
                    "specUri": "https://www.rfc-editor.org/info/rfc6750",
                    "primary": true
                }],
                "meta": {
                    "resourceType": "ServiceProviderConfig",
                    "location": "https://id.example.com/scim/v2/ServiceProviderConfig"
                }
            })
        );
        assert_eq!(
            serde_json::from_value::<ServiceProviderConfig>(value).unwrap(),
            config
        );
    }

    #[test]
    fn resource_types_list_their_extensions() {
        let value = serde_json::to_value(ResourceType::user()).unwrap();
        assert_eq!(value["schemas"], json!([urn::RESOURCE_TYPE]));
        assert_eq!(
            value["schemaExtensions"][0],
            json!({"schema": urn::ENTERPRISE_USER, "required": false})
        );
        let group = serde_json::to_value(ResourceType::group()).unwrap();
        assert!(group.get("schemaExtensions").is_none());
        assert_eq!(group["endpoint"], "/Groups");
    }
}
