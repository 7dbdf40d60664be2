//! Custom attributes: each tenant declares a schema of typed attributes, and every value
//! written to a user is checked against it. Scalar values are also indexed for search.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use time::Date;
use time::macros::format_description;

/// Most attributes a tenant may declare.
pub const MAX_ATTRIBUTES: usize = 100;
/// Longest string value, in bytes: values are keys of the search index, and PostgreSQL
/// refuses index entries over ~2.7 KB.
pub const MAX_STRING_BYTES: usize = 1024;
/// Largest `json` value, serialised.
pub const MAX_JSON_BYTES: usize = 16 * 1024;

/// The type of a custom attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    String,
    Number,
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of `enum_values`.
    Enum,
    /// Any JSON value up to 16 KiB; not searchable.
    Json,
}

/// One declared attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeDefinition {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AttributeType,
    #[serde(default)]
    pub required: bool,
    /// Whether the value is personal data (exported, erased on deletion, hidden from analysts).
    #[serde(default = "yes")]
    pub personal_data: bool,
    /// Whether the user may change it in the account console.
    #[serde(default)]
    pub user_editable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The allowed values of an `enum` attribute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A tenant's attribute schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeSchema {
    pub attributes: Vec<AttributeDefinition>,
}

use crate::error::FieldError;

fn problem(name: &str, reason: impl Into<String>) -> FieldError {
    FieldError::new(name, reason)
}

fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl AttributeSchema {
    /// Checks the schema itself: names, duplicates, enum values, size.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.attributes.len() > MAX_ATTRIBUTES {
            errors.push(problem(
                "attributes",
                format!("at most {MAX_ATTRIBUTES} attributes"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for definition in &self.attributes {
            let name = &definition.name;
            if !is_valid_name(name) {
                errors.push(problem(
                    name,
                    "names start with a letter and have up to 64 letters, digits or '_'",
                ));
            }
            if !seen.insert(name.to_ascii_lowercase()) {
                errors.push(problem(name, "declared twice"));
            }
            match (definition.kind, definition.enum_values.is_empty()) {
                (AttributeType::Enum, true) => {
                    errors.push(problem(name, "an enum needs enum_values"))
                }
                (AttributeType::Enum, false) => {
                    let bad = |v: &String| {
                        v.is_empty() || v.len() > 200 || v.chars().any(char::is_control)
                    };
                    if definition.enum_values.len() > 500 || definition.enum_values.iter().any(bad)
                    {
                        errors.push(problem(
                            name,
                            "at most 500 enum_values of 1-200 bytes, no control characters",
                        ));
                    }
                }
                (_, false) => {
                    errors.push(problem(name, "enum_values only apply to enum attributes"))
                }
                (_, true) => {}
            }
            if definition
                .description
                .as_ref()
                .is_some_and(|d| d.len() > 1000)
            {
                errors.push(problem(
                    name,
                    "the description is longer than 1000 characters",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    pub fn definition(&self, name: &str) -> Option<&AttributeDefinition> {
        self.attributes
            .iter()
            .find(|definition| definition.name == name)
    }

    /// Checks a user's attribute values: every key declared, every value of its type,
    /// every required attribute present.
    pub fn validate_values(&self, values: &Map<String, Value>) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        for (name, value) in values {
            match self.definition(name) {
                None => errors.push(problem(
                    name,
                    "not declared in the tenant's attribute schema",
                )),
                Some(definition) => {
                    if let Err(reason) = check_value(definition, value) {
                        errors.push(problem(name, reason));
                    }
                }
            }
        }
        for definition in self.attributes.iter().filter(|d| d.required) {
            if !values.contains_key(&definition.name) {
                errors.push(problem(&definition.name, "required"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The searchable form of each scalar value: what the store indexes.
    pub fn index_entries(&self, values: &Map<String, Value>) -> BTreeMap<String, String> {
        values
            .iter()
            .filter_map(|(name, value)| {
                let definition = self.definition(name)?;
                Some((name.clone(), canonical_text(definition.kind, value)?))
            })
            .collect()
    }

    /// Turns a search term typed as text into the indexed form of attribute `name`.
    pub fn search_term(&self, name: &str, text: &str) -> Result<String, FieldError> {
        let definition = self
            .definition(name)
            .ok_or_else(|| problem(name, "no such attribute"))?;
        let value = match definition.kind {
            AttributeType::Json => return Err(problem(name, "json attributes are not searchable")),
            AttributeType::Number => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| problem(name, "not a number"))?,
            AttributeType::Boolean => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(problem(name, "not true or false")),
            },
            _ => Value::String(text.to_owned()),
        };
        check_value(definition, &value).map_err(|reason| problem(name, reason))?;
        canonical_text(definition.kind, &value).ok_or_else(|| problem(name, "not searchable"))
    }
}

fn check_value(definition: &AttributeDefinition, value: &Value) -> Result<(), String> {
    match (definition.kind, value) {
        (AttributeType::String | AttributeType::Enum | AttributeType::Date, Value::String(s))
            if s.contains('\0') =>
        {
            Err("must not contain NUL characters".to_owned())
        }
        (AttributeType::String, Value::String(s)) if s.len() <= MAX_STRING_BYTES => Ok(()),
        (AttributeType::String, Value::String(_)) => {
            Err(format!("longer than {MAX_STRING_BYTES} bytes"))
        }
        (AttributeType::Number, Value::Number(_)) => Ok(()),
        (AttributeType::Boolean, Value::Bool(_)) => Ok(()),
        (AttributeType::Date, Value::String(s)) => parse_date(s).map(|_| ()),
        (AttributeType::Enum, Value::String(s)) if definition.enum_values.contains(s) => Ok(()),
        (AttributeType::Enum, Value::String(_)) => Err(format!(
            "must be one of: {}",
            definition.enum_values.join(", ")
        )),
        (AttributeType::Json, value) => {
            let size = serde_json::to_vec(value)
                .map(|bytes| bytes.len())
                .unwrap_or(usize::MAX);
            if size > MAX_JSON_BYTES {
                Err(format!("larger than {MAX_JSON_BYTES} bytes"))
            } else if contains_nul(value) {
                // PostgreSQL's jsonb cannot store \u0000.
                Err("must not contain NUL characters".to_owned())
            } else {
                Ok(())
            }
        }
        (kind, _) => Err(format!("must be a {}", type_name(kind))),
    }
}

fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, item)| key.contains('\0') || contains_nul(item)),
        _ => false,
    }
}

fn type_name(kind: AttributeType) -> &'static str {
    match kind {
        AttributeType::String | AttributeType::Enum => "string",
        AttributeType::Number => "number",
        AttributeType::Boolean => "boolean",
        AttributeType::Date => "date (YYYY-MM-DD)",
        AttributeType::Json => "JSON value",
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| "must be a date (YYYY-MM-DD)".to_owned())
}

/// One text form per value, so that `5`, `5.0` and `5e0` are found by the same search.
fn canonical_text(kind: AttributeType, value: &Value) -> Option<String> {
    match (kind, value) {
        (AttributeType::Json, _) => None,
        (_, Value::String(s)) => Some(s.clone()),
        (_, Value::Bool(b)) => Some(b.to_string()),
        (_, Value::Number(n)) => {
            let float = n.as_f64()?;
            // Integral values within f64's exact range print without a fraction.
            if float.fract() == 0.0 && float.abs() < 9_007_199_254_740_992.0 {
                Some(format!("{}", float as i64))
            } else {
                Some(float.to_string())
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> AttributeSchema {
        serde_json::from_value(json!({"attributes": [
            {"name": "country", "type": "enum", "enum_values": ["DE", "FR"], "required": true},
            {"name": "score", "type": "number"},
            {"name": "newsletter", "type": "boolean"},
            {"name": "birthday", "type": "date"},
            {"name": "prefs", "type": "json"},
            {"name": "nickname", "type": "string"}
        ]}))
        .unwrap()
    }

    #[test]
    fn valid_values_pass_and_are_indexed_canonically() {
        let values = json!({"country": "DE", "score": 5.0, "newsletter": true, "birthday": "1990-02-28", "prefs": {"a": 1}});
        let map = values.as_object().unwrap();
        schema().validate_values(map).unwrap();
        let index = schema().index_entries(map);
        assert_eq!(index.get("score").map(String::as_str), Some("5"));
        assert_eq!(index.get("newsletter").map(String::as_str), Some("true"));
        assert!(!index.contains_key("prefs"));
        assert_eq!(schema().search_term("score", "5").unwrap(), "5");
    }

    #[test]
    fn every_problem_is_reported() {
        let values =
            json!({"score": "five", "birthday": "1990-02-30", "unknown": 1, "nickname": 3});
        let errors = schema()
            .validate_values(values.as_object().unwrap())
            .unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(text.join("\n"), @r"
        birthday: must be a date (YYYY-MM-DD)
        nickname: must be a string
        score: must be a number
        unknown: not declared in the tenant's attribute schema
        country: required
        ");
    }

    proptest::proptest! {
        #[test]
        fn search_terms_never_panic(name in "[a-z]{1,12}", text in "\\PC{0,100}") {
            let _ = schema().search_term(&name, &text);
            let _ = schema().search_term("score", &text);
            let _ = schema().search_term("birthday", &text);
        }
    }

    #[test]
    fn schema_rules() {
        let bad: AttributeSchema = serde_json::from_value(json!({"attributes": [
            {"name": "1x", "type": "string"},
            {"name": "a", "type": "enum"},
            {"name": "A", "type": "string", "enum_values": ["x"]}
        ]}))
        .unwrap();
        assert_eq!(bad.validate().unwrap_err().len(), 4);
        schema().validate().unwrap();
    }
}
