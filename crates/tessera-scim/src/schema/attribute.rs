//! The attribute-definition model of RFC 7643 §7, serialising to the JSON of the `/Schemas`
//! endpoint (§8.7), with chainable constructors so schema definitions read like the RFC.

use serde::{Deserialize, Serialize};

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttributeType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

/// Whether and how an attribute may be changed (RFC 7643 §7 `mutability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    #[default]
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// When an attribute is returned (RFC 7643 §7 `returned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    /// Always, even when excluded.
    Always,
    /// Never (passwords).
    Never,
    /// Unless excluded, or unless `attributes` lists others.
    #[default]
    Default,
    /// Only when named in `attributes`.
    Request,
}

/// How unique a value is (RFC 7643 §7 `uniqueness`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    #[default]
    None,
    Server,
    Global,
}

/// One attribute definition. `caseExact` is written for every non-complex attribute and
/// omitted for complex ones, as in RFC 7643 §8.7.1; empty `subAttributes`,
/// `canonicalValues` and `referenceTypes` are omitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDefinition {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AttributeType,
    pub multi_valued: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    /// None on complex attributes, which have no `caseExact`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_exact: Option<bool>,
    #[serde(default)]
    pub mutability: Mutability,
    #[serde(default)]
    pub returned: Returned,
    #[serde(default)]
    pub uniqueness: Uniqueness,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<AttributeDefinition>,
}

impl AttributeDefinition {
    /// A single-valued, optional, read-write attribute, returned by default, not unique and
    /// not case-exact: RFC 7643 §2.2's defaults.
    pub fn new(name: impl Into<String>, kind: AttributeType) -> Self {
        Self {
            name: name.into(),
            kind,
            multi_valued: false,
            description: String::new(),
            required: false,
            canonical_values: Vec::new(),
            case_exact: (kind != AttributeType::Complex).then_some(false),
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        }
    }

    /// A string attribute.
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, AttributeType::String)
    }

    /// A boolean attribute.
    pub fn boolean(name: impl Into<String>) -> Self {
        Self::new(name, AttributeType::Boolean)
    }

    /// A reference attribute to the given `referenceTypes`.
    pub fn reference(name: impl Into<String>, types: &[&str]) -> Self {
        Self::new(name, AttributeType::Reference).reference_types(types)
    }

    /// A complex attribute with these sub-attributes.
    pub fn complex(name: impl Into<String>, sub_attributes: Vec<AttributeDefinition>) -> Self {
        Self {
            sub_attributes,
            ..Self::new(name, AttributeType::Complex)
        }
    }

    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    pub fn multi_valued(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn case_exact(mut self) -> Self {
        if self.kind != AttributeType::Complex {
            self.case_exact = Some(true);
        }
        self
    }

    pub fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    pub fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    pub fn uniqueness(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    pub fn canonical_values(mut self, values: &[&str]) -> Self {
        self.canonical_values = values.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    pub fn reference_types(mut self, types: &[&str]) -> Self {
        self.reference_types = types.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// Whether string comparisons are case-exact (false for complex attributes).
    pub fn is_case_exact(&self) -> bool {
        self.case_exact == Some(true)
    }

    /// The sub-attribute called `name`, ignoring case.
    pub fn sub_attribute(&self, name: &str) -> Option<&AttributeDefinition> {
        self.sub_attributes
            .iter()
            .find(|sub| sub.name.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_like_rfc_7643_section_8_7_1() {
        let user_name = AttributeDefinition::string("userName")
            .description("Unique identifier for the User.")
            .required()
            .uniqueness(Uniqueness::Server);
        assert_eq!(
            serde_json::to_value(&user_name).unwrap(),
            json!({
                "name": "userName", "type": "string", "multiValued": false,
                "description": "Unique identifier for the User.", "required": true,
                "caseExact": false, "mutability": "readWrite", "returned": "default",
                "uniqueness": "server"
            })
        );
        let name =
            AttributeDefinition::complex("name", vec![AttributeDefinition::string("formatted")]);
        let value = serde_json::to_value(&name).unwrap();
        assert!(value.get("caseExact").is_none());
        assert_eq!(value["subAttributes"][0]["name"], "formatted");
        let password = AttributeDefinition::string("password")
            .mutability(Mutability::WriteOnly)
            .returned(Returned::Never);
        let value = serde_json::to_value(&password).unwrap();
        assert_eq!(
            (value["mutability"].as_str(), value["returned"].as_str()),
            (Some("writeOnly"), Some("never"))
        );
        let kind = serde_json::to_value(AttributeType::DateTime).unwrap();
        assert_eq!(kind, "dateTime");
    }

    #[test]
    fn reads_back_what_it_writes() {
        let groups = AttributeDefinition::complex(
            "groups",
            vec![
                AttributeDefinition::reference("$ref", &["User", "Group"])
                    .mutability(Mutability::ReadOnly),
            ],
        )
        .multi_valued()
        .mutability(Mutability::ReadOnly);
        let text = serde_json::to_string(&groups).unwrap();
        assert_eq!(
            serde_json::from_str::<AttributeDefinition>(&text).unwrap(),
            groups
        );
    }
}
