//! Tessera's User extension (`urn:ietf:params:scim:schemas:extension:tessera:2.0:User`):
//! fixed attributes every tenant has, plus the tenant's custom attributes, so `/Schemas`
//! describes each tenant truthfully.
//!
//! Email purposes are modelled as `emailPurposes`, a multi-valued complex attribute of
//! `{value: address, purposes: [...]}` in this extension, rather than as a new
//! sub-attribute of the core `emails`: clients that know only RFC 7643 keep reading `emails`
//! unchanged, and the core schema stays the RFC's. An address's purposes are matched to
//! `emails` by `value`, ignoring case.

use super::{AttributeDefinition as A, AttributeType, Mutability, Returned, Schema};
use crate::attr_path::is_attr_name;
use crate::urn;

/// The purposes an email address can serve (Tessera's admin API uses the same words).
pub const EMAIL_PURPOSES: [&str; 4] = ["signin", "security", "billing", "marketing"];

/// Most custom attributes a tenant may declare (as the admin API allows).
pub const MAX_CUSTOM_ATTRIBUTES: usize = 100;

/// The fixed attributes' names, which custom attributes may not reuse.
const FIXED: [&str; 3] = ["status", "emailPurposes", "analyticsId"];

/// A tenant's custom attribute, as the caller maps it from its own attribute schema (for
/// example an `enum` becomes a string with canonical values, a `date` a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAttribute {
    pub name: String,
    /// Any type but `complex`.
    pub kind: AttributeType,
    pub multi_valued: bool,
    pub description: String,
    pub required: bool,
    /// The allowed values, if the attribute is an enumeration.
    pub canonical_values: Vec<String>,
}

impl CustomAttribute {
    /// An optional, single-valued attribute with no description.
    pub fn new(name: impl Into<String>, kind: AttributeType) -> Self {
        Self {
            name: name.into(),
            kind,
            multi_valued: false,
            description: String::new(),
            required: false,
            canonical_values: Vec::new(),
        }
    }
}

/// Why a list of custom attributes cannot become a schema. Names are the tenant's
/// configuration, not user data, so they are quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomAttributeError {
    /// The name is not a SCIM attribute name (a letter, then letters, digits, `-`, `_`).
    #[error("custom attribute '{0}': not a valid SCIM attribute name")]
    InvalidName(String),
    /// The name is one of the extension's fixed attributes.
    #[error("custom attribute '{0}': the name is reserved by Tessera")]
    Reserved(String),
    /// Two attributes share a name, ignoring case.
    #[error("custom attribute '{0}': declared twice")]
    Duplicate(String),
    /// Complex attributes need sub-attributes, which custom attributes do not have.
    #[error("custom attribute '{0}': complex attributes are not supported")]
    Complex(String),
    /// More than [`MAX_CUSTOM_ATTRIBUTES`].
    #[error("at most {MAX_CUSTOM_ATTRIBUTES} custom attributes")]
    TooMany,
}

impl CustomAttributeError {
    /// A stable code for logs and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidName(_) => "invalid_name",
            Self::Reserved(_) => "reserved_name",
            Self::Duplicate(_) => "duplicate_name",
            Self::Complex(_) => "complex_not_supported",
            Self::TooMany => "too_many",
        }
    }
}

/// The fixed attributes of Tessera's extension.
fn fixed_attributes() -> Vec<A> {
    let purposes: Vec<&str> = EMAIL_PURPOSES.to_vec();
    vec![
        A::string("status")
            .description("The account's status: 'light' (known, without credentials), 'active' or 'disabled'. Derived: set 'active' to false to disable. Returned when asked for with 'attributes'.")
            .canonical_values(&["light", "active", "disabled"])
            .mutability(Mutability::ReadOnly)
            .returned(Returned::Request),
        A::complex(
            "emailPurposes",
            vec![
                A::string("value").description("An email address of the user, as in 'emails'.").required(),
                A::string("purposes")
                    .description("What the address may be used for.")
                    .multi_valued()
                    .canonical_values(&purposes),
            ],
        )
        .description("The purposes each email address of the user serves. Read-only here: purposes such as marketing are the user's choice, made in the account console (or recorded through the admin API).")
        .multi_valued()
        .mutability(Mutability::ReadOnly),
        A::string("analyticsId")
            .description("The anonymous identifier a web-analytics tool gave the visitor, for later correlation.")
            .case_exact(),
    ]
}

/// Builds the extension schema from the tenant's custom attributes, after the fixed ones.
pub fn tessera_user_extension(custom: &[CustomAttribute]) -> Result<Schema, CustomAttributeError> {
    if custom.len() > MAX_CUSTOM_ATTRIBUTES {
        return Err(CustomAttributeError::TooMany);
    }
    let mut attributes = fixed_attributes();
    for attribute in custom {
        let name = &attribute.name;
        if !is_attr_name(name) || name.starts_with('$') {
            return Err(CustomAttributeError::InvalidName(name.clone()));
        }
        if FIXED.iter().any(|fixed| fixed.eq_ignore_ascii_case(name)) {
            return Err(CustomAttributeError::Reserved(name.clone()));
        }
        if attributes
            .iter()
            .any(|seen| seen.name.eq_ignore_ascii_case(name))
        {
            return Err(CustomAttributeError::Duplicate(name.clone()));
        }
        if attribute.kind == AttributeType::Complex {
            return Err(CustomAttributeError::Complex(name.clone()));
        }
        let mut definition =
            A::new(name.clone(), attribute.kind).description(attribute.description.clone());
        definition.multi_valued = attribute.multi_valued;
        definition.required = attribute.required;
        definition.canonical_values = attribute.canonical_values.clone();
        attributes.push(definition);
    }
    Ok(extension(attributes))
}

/// The extension with the fixed attributes only.
pub fn fixed_user_extension() -> Schema {
    extension(fixed_attributes())
}

fn extension(attributes: Vec<A>) -> Schema {
    Schema {
        id: urn::TESSERA_USER.to_owned(),
        name: "TesseraUser".to_owned(),
        description: "Tessera's account attributes and the tenant's custom attributes".to_owned(),
        attributes,
        meta: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_custom_attributes_after_the_fixed_ones() {
        let mut country = CustomAttribute::new("country", AttributeType::String);
        country.canonical_values = vec!["DE".into(), "FR".into()];
        let mut interests = CustomAttribute::new("interests", AttributeType::String);
        interests.multi_valued = true;
        let schema = tessera_user_extension(&[country, interests]).unwrap();
        let names: Vec<&str> = schema.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "status",
                "emailPurposes",
                "analyticsId",
                "country",
                "interests"
            ]
        );
        assert_eq!(
            schema.attribute("status").unwrap().mutability,
            Mutability::ReadOnly
        );
        assert!(schema.attribute("interests").unwrap().multi_valued);
        assert_eq!(
            schema.attribute("country").unwrap().canonical_values,
            ["DE", "FR"]
        );
    }

    #[test]
    fn refuses_bad_names_reserved_names_duplicates_and_complex_types() {
        let attr = |name: &str, kind| CustomAttribute::new(name, kind);
        let cases = [
            (vec![attr("1st", AttributeType::String)], "invalid_name"),
            (vec![attr("$ref", AttributeType::String)], "invalid_name"),
            (vec![attr("a.b", AttributeType::String)], "invalid_name"),
            (vec![attr("STATUS", AttributeType::String)], "reserved_name"),
            (
                vec![
                    attr("x", AttributeType::String),
                    attr("X", AttributeType::Integer),
                ],
                "duplicate_name",
            ),
            (
                vec![attr("x", AttributeType::Complex)],
                "complex_not_supported",
            ),
        ];
        for (custom, code) in cases {
            assert_eq!(tessera_user_extension(&custom).unwrap_err().code(), code);
        }
        let many: Vec<_> = (0..101)
            .map(|i| attr(&format!("a{i}"), AttributeType::Boolean))
            .collect();
        assert_eq!(
            tessera_user_extension(&many).unwrap_err(),
            CustomAttributeError::TooMany
        );
    }
}
