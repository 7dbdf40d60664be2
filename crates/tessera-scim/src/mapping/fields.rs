//! Reading attributes of a client's resource: names match ignoring case (RFC 7643 §2.1),
//! `null` and empty values count as unassigned (§2.5), and a value of the wrong type is an
//! `invalidValue` error naming the attribute (never quoting the value).

use crate::error::ScimError;
use crate::json;
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// The attributes of one JSON object of a request, with the path that leads to it.
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Fields<'a> {
    pub fn new(object: &'a Map<String, Value>, prefix: &str) -> Self {
        Self {
            object,
            prefix: prefix.to_owned(),
        }
    }

    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn wrong_type(&self, name: &str, expected: &str) -> ScimError {
        ScimError::invalid_value(format!("'{}' must be {expected}", self.path(name)))
    }

    /// Refuses members that are neither in `names` nor one of the `urns`.
    pub fn refuse_unknown(&self, names: &[&str], urns: &[&str]) -> Result<(), ScimError> {
        let known = |key: &str| {
            names
                .iter()
                .chain(urns)
                .any(|name| name.eq_ignore_ascii_case(key))
        };
        match self.object.keys().find(|key| !known(key)) {
            Some(key) => Err(ScimError::invalid_syntax(format!(
                "unknown attribute '{}'",
                self.path(key)
            ))),
            None => Ok(()),
        }
    }

    pub fn value(&self, name: &str) -> Option<&'a Value> {
        json::get(self.object, name)
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, ScimError> {
        match self.value(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.is_empty() => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(self.wrong_type(name, "a string")),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ScimError> {
        match self.value(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            // Some provisioning clients (Entra ID among them) send booleans as text.
            Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(self.wrong_type(name, "true or false")),
        }
    }

    pub fn object(&self, name: &str) -> Result<Option<Fields<'a>>, ScimError> {
        match self.value(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(object)) => {
                Ok(Some(Fields::new(object, &self.path(&format!("{name}.")))))
            }
            Some(_) => Err(self.wrong_type(name, "an object")),
        }
    }

    /// The objects of a multi-valued complex attribute.
    pub fn items(&self, name: &str) -> Result<Vec<Fields<'a>>, ScimError> {
        match self.value(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::Object(object) => Ok(Fields::new(
                        object,
                        &self.path(&format!("{name}[{index}].")),
                    )),
                    _ => Err(self.wrong_type(&format!("{name}[{index}]"), "an object")),
                })
                .collect(),
            Some(_) => Err(self.wrong_type(name, "an array")),
        }
    }
}

/// Where resources live: the SCIM base URL the request used (with its tenant prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    base: String,
}

impl Location {
    /// `base` is the service's root, e.g. `https://id.example.com/t/acme/scim/v2`.
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn user(&self, id: &str) -> String {
        format!("{}/Users/{id}", self.base)
    }

    pub fn group(&self, id: &str) -> String {
        format!("{}/Groups/{id}", self.base)
    }
}

/// RFC 3339 text of a time, as `meta.created` and `meta.lastModified` carry it.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
