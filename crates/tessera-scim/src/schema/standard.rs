//! The RFC 7643 schemas Tessera supports: the common attributes (§3.1), User (§4.1, as in
//! §8.7.1, without ims, photos, entitlements, roles and x509Certificates), the enterprise
//! User extension (§4.3) and Group (§4.2). Descriptions follow the RFC's.

use super::{AttributeDefinition as A, Mutability, Returned, Schema, Uniqueness};
use crate::urn;

/// `id`, `externalId` and `meta` (RFC 7643 §3.1). Every resource has them, but RFC 7643
/// §8.7.1 lists them in no schema's `attributes`, so they live here, apart.
pub fn common_attributes() -> Vec<A> {
    vec![
        A::string("id")
            .description("A unique identifier for a SCIM resource as defined by the service provider.")
            .case_exact()
            .mutability(Mutability::ReadOnly)
            .returned(Returned::Always)
            .uniqueness(Uniqueness::Server),
        A::string("externalId")
            .description("A String that is an identifier for the resource as defined by the provisioning client.")
            .case_exact(),
        A::complex(
            "meta",
            vec![
                A::string("resourceType")
                    .description("The name of the resource type of the resource.")
                    .case_exact()
                    .mutability(Mutability::ReadOnly),
                A::new("created", super::AttributeType::DateTime)
                    .description("The DateTime that the resource was added to the service provider.")
                    .mutability(Mutability::ReadOnly),
                A::new("lastModified", super::AttributeType::DateTime)
                    .description("The most recent DateTime that the details of this resource were updated.")
                    .mutability(Mutability::ReadOnly),
                A::reference("location", &["uri"])
                    .description("The URI of the resource being returned.")
                    .case_exact()
                    .mutability(Mutability::ReadOnly),
                A::string("version")
                    .description("The version of the resource being returned.")
                    .case_exact()
                    .mutability(Mutability::ReadOnly),
            ],
        )
        .description("A complex attribute containing resource metadata.")
        .mutability(Mutability::ReadOnly),
    ]
}

fn string(name: &str, description: &str) -> A {
    A::string(name).description(description)
}

/// `value`, `type` and `primary`: the shape of `emails` and `phoneNumbers` (`display` is
/// left out: Tessera keeps no display form of an address or number).
fn contact_values(name: &str, description: &str, value: &str, types: &[&str]) -> A {
    A::complex(
        name,
        vec![
            string("value", value),
            string("type", "A label indicating the attribute's function.").canonical_values(types),
            A::boolean("primary").description(
                "A Boolean value indicating the 'primary' or preferred attribute value.",
            ),
        ],
    )
    .description(description)
    .multi_valued()
}

/// Suggested language tags (RFC 7643 §2.3.1: canonical values are suggestions): the
/// languages Tessera's pages speak first, then common ones.
const LANGUAGE_TAGS: [&str; 12] = [
    "en", "de", "en-US", "en-GB", "de-DE", "de-CH", "fr", "fr-FR", "es", "it", "nl", "pt-BR",
];

/// The core User schema (`urn:ietf:params:scim:schemas:core:2.0:User`).
pub fn user_schema() -> Schema {
    let name = A::complex(
        "name",
        vec![
            string(
                "formatted",
                "The full name, including all middle names, titles, and suffixes as appropriate.",
            ),
            string(
                "familyName",
                "The family name of the User, or last name in most Western languages.",
            ),
            string(
                "givenName",
                "The given name of the User, or first name in most Western languages.",
            ),
            string("middleName", "The middle name(s) of the User."),
            string(
                "honorificPrefix",
                "The honorific prefix(es) of the User, or title in most Western languages.",
            ),
            string(
                "honorificSuffix",
                "The honorific suffix(es) of the User, or suffix in most Western languages.",
            ),
        ],
    )
    .description("The components of the user's real name.");
    let addresses = A::complex(
        "addresses",
        vec![
            string(
                "formatted",
                "The full mailing address, formatted for display or use with a mailing label.",
            ),
            string("streetAddress", "The full street address component."),
            string("locality", "The city or locality component."),
            string("region", "The state or region component."),
            string("postalCode", "The zip code or postal code component."),
            string(
                "country",
                "The country name component, as an ISO 3166-1 alpha-2 code.",
            ),
            string("type", "A label indicating the attribute's function.")
                .canonical_values(&["work", "home", "other"]),
            A::boolean("primary")
                .description("A Boolean value indicating the 'primary' or preferred address."),
        ],
    )
    .description("A physical mailing address for this User.")
    .multi_valued();
    let groups = A::complex(
        "groups",
        vec![
            string("value", "The identifier of the User's group.").mutability(Mutability::ReadOnly),
            A::reference("$ref", &["User", "Group"])
                .description("The URI of the corresponding 'Group' resource to which the user belongs.")
                .mutability(Mutability::ReadOnly),
            string("display", "A human-readable name, primarily used for display purposes.")
                .mutability(Mutability::ReadOnly),
            string("type", "A label indicating the attribute's function.")
                .canonical_values(&["direct", "indirect"])
                .mutability(Mutability::ReadOnly),
        ],
    )
    .description("A list of groups to which the user belongs, either through direct membership or indirectly.")
    .multi_valued()
    .mutability(Mutability::ReadOnly);
    Schema {
        id: urn::CORE_USER.to_owned(),
        name: "User".to_owned(),
        description: "User Account".to_owned(),
        attributes: vec![
            string("userName", "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.")
                .required()
                .uniqueness(Uniqueness::Server),
            name,
            string("displayName", "The name of the User, suitable for display to end-users."),
            string("nickName", "The casual way to address the user in real life."),
            A::reference("profileUrl", &["external"]).description("A fully qualified URL pointing to a page representing the User's online profile."),
            string("title", "The user's title, such as \"Vice President\"."),
            string("userType", "Used to identify the relationship between the organization and the user."),
            string("preferredLanguage", "Indicates the User's preferred written or spoken language, as a BCP 47 language tag. The canonical values are suggestions; any well-formed tag is accepted.")
                .canonical_values(&LANGUAGE_TAGS),
            string("locale", "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations, as a BCP 47 language tag. The canonical values are suggestions; any well-formed tag is accepted.")
                .canonical_values(&LANGUAGE_TAGS),
            string("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
            A::boolean("active").description("A Boolean value indicating the User's administrative status."),
            string("password", "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.")
                .mutability(Mutability::WriteOnly)
                .returned(Returned::Never),
            contact_values("emails", "Email addresses for the user.", "Email addresses for the user.", &["work", "home", "other"]),
            contact_values("phoneNumbers", "Phone numbers for the User.", "Phone number of the User.", &["work", "home", "mobile", "fax", "pager", "other"]),
            addresses,
            groups,
        ],
        meta: None,
    }
}

/// The enterprise User extension (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`).
pub fn enterprise_user_schema() -> Schema {
    let manager = A::complex(
        "manager",
        vec![
            string(
                "value",
                "The id of the SCIM resource representing the User's manager.",
            ),
            A::reference("$ref", &["User"])
                .description("The URI of the SCIM resource representing the User's manager."),
            string("displayName", "The displayName of the User's manager.")
                .mutability(Mutability::ReadOnly),
        ],
    )
    .description("The User's manager.");
    Schema {
        id: urn::ENTERPRISE_USER.to_owned(),
        name: "EnterpriseUser".to_owned(),
        description: "Enterprise User".to_owned(),
        attributes: vec![
            string(
                "employeeNumber",
                "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.",
            ),
            string("costCenter", "Identifies the name of a cost center."),
            string("organization", "Identifies the name of an organization."),
            string("division", "Identifies the name of a division."),
            string("department", "Identifies the name of a department."),
            manager,
        ],
        meta: None,
    }
}

/// The core Group schema (`urn:ietf:params:scim:schemas:core:2.0:Group`). Members are
/// Users only for now, and `display` is filled in by the server.
pub fn group_schema() -> Schema {
    let members = A::complex(
        "members",
        vec![
            string("value", "Identifier of the member of this Group.")
                .case_exact()
                .mutability(Mutability::Immutable),
            A::reference("$ref", &["User", "Group"])
                .description(
                    "The URI corresponding to a SCIM resource that is a member of this Group.",
                )
                .mutability(Mutability::Immutable),
            string("display", "A human-readable name for the member.")
                .mutability(Mutability::ReadOnly),
            string(
                "type",
                "A label indicating the type of resource, e.g., 'User' or 'Group'.",
            )
            .canonical_values(&["User", "Group"])
            .mutability(Mutability::Immutable),
        ],
    )
    .description("A list of members of the Group.")
    .multi_valued();
    Schema {
        id: urn::CORE_GROUP.to_owned(),
        name: "Group".to_owned(),
        description: "Group".to_owned(),
        attributes: vec![
            string("displayName", "A human-readable name for the Group.").required(),
            members,
        ],
        meta: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_user_schema_serialises_as_the_rfc_shows() {
        let value = serde_json::to_value(user_schema()).unwrap();
        assert_eq!(value["schemas"], json!([urn::SCHEMA]));
        assert_eq!(value["id"], urn::CORE_USER);
        let names: Vec<&str> = value["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "userName",
                "name",
                "displayName",
                "nickName",
                "profileUrl",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
                "active",
                "password",
                "emails",
                "phoneNumbers",
                "addresses",
                "groups"
            ]
        );
        let password = &value["attributes"][11];
        assert_eq!(
            (
                password["mutability"].as_str(),
                password["returned"].as_str()
            ),
            (Some("writeOnly"), Some("never"))
        );
        let emails = &value["attributes"][12];
        assert_eq!(emails["multiValued"], true);
        assert_eq!(
            emails["subAttributes"][1]["canonicalValues"],
            json!(["work", "home", "other"])
        );
        assert!(value.get("meta").is_none());
    }

    #[test]
    fn group_members_and_common_attributes_have_the_rfc_characteristics() {
        let group = group_schema();
        let members = group.attribute("MEMBERS").unwrap();
        assert_eq!(
            members.sub_attribute("value").unwrap().mutability,
            Mutability::Immutable
        );
        assert!(members.sub_attribute("$ref").is_some());
        let common = common_attributes();
        assert_eq!(common[0].returned, Returned::Always);
        assert!(common[0].is_case_exact());
        assert_eq!(
            enterprise_user_schema()
                .attribute("manager")
                .unwrap()
                .sub_attributes
                .len(),
            3
        );
    }
}
