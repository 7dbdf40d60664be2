//! The schemas of the discovery resources themselves (RFC 7643 §8.7.2):
//! `ServiceProviderConfig`, `ResourceType` and `Schema`, so that `/Schemas` describes every
//! resource Tessera serves. Every attribute is read-only. Descriptions are shortened from
//! the RFC's.
//!
//! Where §8.7.2 disagrees with the prose of §5 and §6 or with a verified erratum, these
//! follow the prose and the errata, so that the resources Tessera serves validate against
//! their own schemas; each place says so.

use super::{AttributeDefinition as A, AttributeType, Mutability, Schema};
use crate::urn;

fn string(name: &str, description: &str) -> A {
    A::string(name)
        .description(description)
        .mutability(Mutability::ReadOnly)
}

fn boolean(name: &str, description: &str) -> A {
    A::boolean(name)
        .description(description)
        .mutability(Mutability::ReadOnly)
}

fn integer(name: &str, description: &str) -> A {
    A::new(name, AttributeType::Integer)
        .description(description)
        .mutability(Mutability::ReadOnly)
}

/// A reference attribute; `types` are only ever `uri` or `external`.
fn reference(name: &str, types: &[&str], description: &str) -> A {
    A::reference(name, types)
        .description(description)
        .mutability(Mutability::ReadOnly)
}

fn complex(name: &str, description: &str, sub_attributes: Vec<A>) -> A {
    A::complex(name, sub_attributes)
        .description(description)
        .mutability(Mutability::ReadOnly)
}

/// A `ServiceProviderConfig` feature: a required complex attribute whose first
/// sub-attribute is the required `supported` flag.
fn feature(name: &str, description: &str, limits: Vec<A>) -> A {
    let mut sub_attributes =
        vec![boolean("supported", "Whether the operation is supported.").required()];
    sub_attributes.extend(limits);
    complex(name, description, sub_attributes).required()
}

/// The `ServiceProviderConfig` schema (`urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig`).
///
/// Named `ServiceProviderConfig` rather than §8.7.2's "Service Provider Configuration": the
/// name is what clients and conformance tools (scim2-tester) match on, like `User` and
/// `Group`. `etag` and the authentication schemes' `type` are required by §5 but missing
/// from §8.7.2's representation; `primary` appears in §8.5's example. Tessera serves all
/// three, so they are described here.
pub fn service_provider_config_schema() -> Schema {
    let authentication_schemes = complex(
        "authenticationSchemes",
        "The supported authentication schemes.",
        vec![
            string("type", "The authentication scheme.")
                .required()
                .canonical_values(&[
                    "oauth",
                    "oauth2",
                    "oauthbearertoken",
                    "httpbasic",
                    "httpdigest",
                ]),
            string(
                "name",
                "The common authentication scheme name, e.g., HTTP Basic.",
            )
            .required(),
            string("description", "A description of the authentication scheme.").required(),
            reference(
                "specUri",
                &["external"],
                "An HTTP-addressable URL pointing to the authentication scheme's specification.",
            ),
            reference(
                "documentationUri",
                &["external"],
                "An HTTP-addressable URL pointing to the authentication scheme's usage documentation.",
            ),
            boolean(
                "primary",
                "Whether this is the preferred authentication scheme.",
            ),
        ],
    )
    .multi_valued()
    .required();
    Schema {
        id: urn::SERVICE_PROVIDER_CONFIG.to_owned(),
        name: "ServiceProviderConfig".to_owned(),
        description: "Schema for representing the service provider's configuration".to_owned(),
        attributes: vec![
            reference(
                "documentationUri",
                &["external"],
                "An HTTP-addressable URL pointing to the service provider's help documentation.",
            ),
            feature("patch", "PATCH configuration options.", Vec::new()),
            feature(
                "bulk",
                "Bulk configuration options.",
                vec![
                    integer("maxOperations", "The maximum number of operations.").required(),
                    integer("maxPayloadSize", "The maximum payload size in bytes.").required(),
                ],
            ),
            feature(
                "filter",
                "Filter options.",
                vec![
                    integer(
                        "maxResults",
                        "The maximum number of resources returned in a response.",
                    )
                    .required(),
                ],
            ),
            feature(
                "changePassword",
                "Configuration options related to changing a password.",
                Vec::new(),
            ),
            feature("sort", "Sort result options.", Vec::new()),
            feature("etag", "ETag configuration options.", Vec::new()),
            authentication_schemes,
        ],
        meta: None,
    }
}

/// The `ResourceType` schema (`urn:ietf:params:scim:schemas:core:2.0:ResourceType`).
///
/// `schemaExtensions` is multi-valued, as verified erratum 7522 corrects, and optional, as
/// §6 says (§8.7.2 marks it required, but a resource type without extensions, such as
/// `Group`, has none to list).
pub fn resource_type_schema() -> Schema {
    Schema {
        id: urn::RESOURCE_TYPE.to_owned(),
        name: "ResourceType".to_owned(),
        description: "Specifies the schema that describes a SCIM resource type".to_owned(),
        attributes: vec![
            string(
                "id",
                "The resource type's server unique id, often the same as its name.",
            ),
            string("name", "The resource type name, e.g., 'User'.").required(),
            string(
                "description",
                "The resource type's human-readable description.",
            ),
            reference(
                "endpoint",
                &["uri"],
                "The resource type's endpoint, relative to the base URL, e.g., '/Users'.",
            )
            .required(),
            reference(
                "schema",
                &["uri"],
                "The resource type's primary/base schema URI.",
            )
            .required()
            .case_exact(),
            complex(
                "schemaExtensions",
                "The URIs of the resource type's schema extensions.",
                vec![
                    reference("schema", &["uri"], "The URI of a schema extension.")
                        .required()
                        .case_exact(),
                    boolean(
                        "required",
                        "Whether a resource of this type must include the schema extension.",
                    )
                    .required(),
                ],
            )
            .multi_valued(),
        ],
        meta: None,
    }
}

/// The members of an attribute definition, as `attributes` and `subAttributes` list them,
/// without `subAttributes` itself.
fn attribute_definition_members() -> Vec<A> {
    vec![
        string("name", "The attribute's name.")
            .required()
            .case_exact(),
        // §8.7.2 lists seven types; `binary` (§2.3.6) is an attribute type too.
        string("type", "The attribute's data type.")
            .required()
            .canonical_values(&[
                "string",
                "complex",
                "boolean",
                "decimal",
                "integer",
                "dateTime",
                "reference",
                "binary",
            ]),
        boolean("multiValued", "Whether the attribute is multi-valued.").required(),
        string(
            "description",
            "A human-readable description of the attribute.",
        )
        .case_exact(),
        boolean("required", "Whether the attribute is required."),
        string(
            "canonicalValues",
            "A collection of suggested canonical values.",
        )
        .multi_valued()
        .case_exact(),
        boolean("caseExact", "Whether a string attribute is case sensitive."),
        string(
            "mutability",
            "Whether and how the attribute may be modified.",
        )
        .case_exact()
        .canonical_values(&["readOnly", "readWrite", "immutable", "writeOnly"]),
        string("returned", "When the attribute is returned in a response.")
            .case_exact()
            .canonical_values(&["always", "never", "default", "request"]),
        string("uniqueness", "How unique a value must be.")
            .case_exact()
            .canonical_values(&["none", "server", "global"]),
        string(
            "referenceTypes",
            "The resource types a reference attribute may refer to, e.g., 'User'.",
        )
        .multi_valued()
        .case_exact(),
    ]
}

/// The `Schema` schema (`urn:ietf:params:scim:schemas:core:2.0:Schema`).
pub fn schema_schema() -> Schema {
    // An attribute definition is recursive: `subAttributes` holds attribute definitions.
    // Like §8.7.2, the recursion stops at the second level: `subAttributes` has the same
    // members as `attributes` but no further `subAttributes`, which also keeps complex
    // attributes at most two levels deep, as scim2-tester requires to build its models.
    let sub_attributes = complex(
        "subAttributes",
        "The sub-attributes of a complex attribute.",
        attribute_definition_members(),
    )
    .multi_valued();
    let mut members = attribute_definition_members();
    members.push(sub_attributes);
    Schema {
        id: urn::SCHEMA.to_owned(),
        name: "Schema".to_owned(),
        description: "Specifies the schema that describes a SCIM schema".to_owned(),
        attributes: vec![
            string("id", "The unique URI of the schema.").required(),
            string("name", "The schema's human-readable name, e.g., 'User'.").required(),
            string("description", "The schema's human-readable description."),
            complex("attributes", "The attributes of the schema.", members)
                .multi_valued()
                .required(),
        ],
        meta: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Returned;

    fn all() -> [Schema; 3] {
        [
            service_provider_config_schema(),
            resource_type_schema(),
            schema_schema(),
        ]
    }

    /// Calls `check` on every attribute and sub-attribute, at any depth.
    fn each_attribute(attributes: &[A], check: &mut impl FnMut(&A)) {
        for attribute in attributes {
            check(attribute);
            each_attribute(&attribute.sub_attributes, check);
        }
    }

    /// How many complex attributes deep the definition goes (0 for a simple attribute).
    fn complex_depth(attribute: &A) -> usize {
        if attribute.kind == AttributeType::Complex {
            1 + attribute
                .sub_attributes
                .iter()
                .map(complex_depth)
                .max()
                .unwrap_or(0)
        } else {
            0
        }
    }

    #[test]
    fn names_and_ids_are_those_of_rfc_7643_section_8_7_2() {
        let [config, resource_type, schema] = all();
        assert_eq!(
            (config.name.as_str(), config.id.as_str()),
            ("ServiceProviderConfig", urn::SERVICE_PROVIDER_CONFIG)
        );
        assert_eq!(
            (resource_type.name.as_str(), resource_type.id.as_str()),
            ("ResourceType", urn::RESOURCE_TYPE)
        );
        assert_eq!(
            (schema.name.as_str(), schema.id.as_str()),
            ("Schema", urn::SCHEMA)
        );
    }

    #[test]
    fn every_attribute_is_read_only_and_returned_by_default() {
        for schema in all() {
            each_attribute(&schema.attributes, &mut |attribute| {
                assert_eq!(
                    attribute.mutability,
                    Mutability::ReadOnly,
                    "{} {}",
                    schema.name,
                    attribute.name
                );
                assert_eq!(attribute.returned, Returned::Default, "{}", attribute.name);
            });
        }
    }

    #[test]
    fn complex_attributes_nest_at_most_two_levels() {
        for schema in all() {
            for attribute in &schema.attributes {
                assert!(
                    complex_depth(attribute) <= 2,
                    "{} {}",
                    schema.name,
                    attribute.name
                );
            }
        }
        let schema = schema_schema();
        let attributes = schema.attribute("attributes").unwrap();
        assert_eq!(complex_depth(attributes), 2);
        let sub_attributes = attributes.sub_attribute("subAttributes").unwrap();
        let names = |attribute: &A| {
            attribute
                .sub_attributes
                .iter()
                .map(|sub| sub.name.clone())
                .collect::<Vec<_>>()
        };
        let mut expected = names(attributes);
        expected.retain(|name| name != "subAttributes");
        assert_eq!(names(sub_attributes), expected);
    }

    #[test]
    fn references_are_to_uris_or_external_resources_only() {
        let mut references = 0;
        for schema in all() {
            each_attribute(&schema.attributes, &mut |attribute| {
                assert_eq!(
                    attribute.kind == AttributeType::Reference,
                    !attribute.reference_types.is_empty(),
                    "{}",
                    attribute.name
                );
                for kind in &attribute.reference_types {
                    assert!(kind == "uri" || kind == "external", "{kind}");
                    references += 1;
                }
            });
        }
        assert_eq!(references, 6);
    }

    #[test]
    fn follows_the_rfc_where_it_matters() {
        let config = service_provider_config_schema();
        for feature in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
            let attribute = config.attribute(feature).unwrap();
            assert!(attribute.required && !attribute.multi_valued, "{feature}");
            assert!(attribute.sub_attribute("supported").unwrap().required);
        }
        let bulk = config.attribute("bulk").unwrap();
        assert_eq!(
            bulk.sub_attribute("maxPayloadSize").unwrap().kind,
            AttributeType::Integer
        );
        assert!(
            config
                .attribute("authenticationSchemes")
                .unwrap()
                .multi_valued
        );
        assert!(!config.attribute("documentationUri").unwrap().required);

        let resource_type = resource_type_schema();
        let extensions = resource_type.attribute("schemaExtensions").unwrap();
        assert!(extensions.multi_valued && !extensions.required);
        assert!(resource_type.attribute("schema").unwrap().is_case_exact());
        assert!(resource_type.attribute("endpoint").unwrap().required);

        let schema = schema_schema();
        let attributes = schema.attribute("attributes").unwrap();
        assert!(attributes.multi_valued && attributes.required);
        let returned = attributes.sub_attribute("returned").unwrap();
        assert_eq!(
            returned.canonical_values,
            ["always", "never", "default", "request"]
        );
        assert!(returned.is_case_exact());
        assert!(!attributes.sub_attribute("type").unwrap().is_case_exact());
    }

    #[test]
    fn serialises_as_schema_resources() {
        for schema in all() {
            let value = serde_json::to_value(&schema).unwrap();
            assert_eq!(value["schemas"], serde_json::json!([urn::SCHEMA]));
            assert_eq!(value["id"], schema.id.as_str());
            assert_eq!(value["name"], schema.name.as_str());
            let text = serde_json::to_string(&schema).unwrap();
            assert_eq!(serde_json::from_str::<Schema>(&text).unwrap(), schema);
        }
        let value = serde_json::to_value(schema_schema()).unwrap();
        let attributes = &value["attributes"][3];
        assert_eq!(attributes["name"], "attributes");
        assert_eq!(attributes["mutability"], "readOnly");
        assert!(attributes.get("caseExact").is_none());
        let sub_attributes = attributes["subAttributes"]
            .as_array()
            .unwrap()
            .last()
            .unwrap();
        assert_eq!(sub_attributes["name"], "subAttributes");
        assert!(
            sub_attributes["subAttributes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|member| member.get("subAttributes").is_none())
        );
    }
}
