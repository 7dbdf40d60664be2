//! SCIM errors as RFC 7644 §3.12 defines them: an HTTP status, an optional `scimType` and a
//! human-readable `detail`, serialised into the `urn:ietf:params:scim:api:messages:2.0:Error`
//! schema. Details are written by this crate and its callers for developers: they never echo
//! request values (a filter or a PATCH value may carry a password or personal data).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::urn::ERROR as ERROR_SCHEMA;

/// The `scimType` codes of RFC 7644 §3.12 (table 9). Their text is a stable API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    /// The filter syntax was invalid, or an attribute or operator was not understood.
    InvalidFilter,
    /// The filter yields more results than the server is willing to compute or return.
    TooMany,
    /// One or more of the attribute values are already in use or reserved.
    Uniqueness,
    /// The attempted modification is incompatible with an attribute's mutability.
    Mutability,
    /// The request body structure was invalid or did not conform to the schema.
    InvalidSyntax,
    /// The `path` attribute was invalid or malformed.
    InvalidPath,
    /// The `path` did not yield an attribute or value that could be operated on.
    NoTarget,
    /// A required value was missing, or a value was not compatible with the operation or type.
    InvalidValue,
    /// The protocol version in the request is not supported.
    InvalidVers,
    /// The request cannot be completed because it would disclose sensitive information.
    Sensitive,
}

impl ScimType {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
        }
    }

    /// The code for its wire text (exact match: RFC 7644 spells them in camelCase).
    pub fn from_code(code: &str) -> Option<Self> {
        const ALL: [ScimType; 10] = [
            ScimType::InvalidFilter,
            ScimType::TooMany,
            ScimType::Uniqueness,
            ScimType::Mutability,
            ScimType::InvalidSyntax,
            ScimType::InvalidPath,
            ScimType::NoTarget,
            ScimType::InvalidValue,
            ScimType::InvalidVers,
            ScimType::Sensitive,
        ];
        ALL.into_iter().find(|kind| kind.as_str() == code)
    }

    /// The HTTP status RFC 7644 table 9 pairs with this code.
    pub fn status(self) -> u16 {
        match self {
            Self::Uniqueness => 409,
            Self::Sensitive => 403,
            _ => 400,
        }
    }
}

impl std::fmt::Display for ScimType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SCIM error response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}{}: {detail}", scim_type.map(|t| format!(" {t}")).unwrap_or_default())]
pub struct ScimError {
    /// The HTTP status code.
    pub status: u16,
    /// The `scimType`, for the 400/403/409 errors that have one.
    pub scim_type: Option<ScimType>,
    /// What went wrong, for a developer. Never includes request values.
    pub detail: String,
}

impl ScimError {
    /// An error with a `scimType`, at the status RFC 7644 gives that type.
    pub fn typed(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self {
            status: scim_type.status(),
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }

    /// An error with a status and no `scimType` (404, 412, 413, 500…).
    pub fn with_status(status: u16, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type: None,
            detail: detail.into(),
        }
    }

    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidFilter, detail)
    }

    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::TooMany, detail)
    }

    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::Uniqueness, detail)
    }

    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::Mutability, detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidSyntax, detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidPath, detail)
    }

    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::NoTarget, detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidValue, detail)
    }

    pub fn invalid_version(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::InvalidVers, detail)
    }

    pub fn sensitive(detail: impl Into<String>) -> Self {
        Self::typed(ScimType::Sensitive, detail)
    }

    /// 404: the resource does not exist (or is not visible to the caller).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::with_status(404, detail)
    }

    /// 412: an `If-Match` or `If-None-Match` precondition failed.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::with_status(412, detail)
    }

    /// 413: a request exceeds an advertised size or operation limit.
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::with_status(413, detail)
    }
}

/// The wire form: `status` is a string, as in RFC 7644 §3.12's examples.
#[derive(Serialize, Deserialize)]
struct Wire {
    schemas: Vec<String>,
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none", default)]
    scim_type: Option<String>,
    #[serde(default)]
    detail: String,
    status: StatusText,
}

/// `status` as written (a string), read leniently (a string or a number).
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum StatusText {
    Text(String),
    Number(u16),
}

impl Serialize for ScimError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire {
            schemas: vec![ERROR_SCHEMA.to_owned()],
            scim_type: self.scim_type.map(|t| t.as_str().to_owned()),
            detail: self.detail.clone(),
            status: StatusText::Text(self.status.to_string()),
        }
        .serialize(serializer)
    }
}

/// Reading errors back is for SCIM clients (outbound provisioning) and tests. An unknown
/// `scimType` is dropped rather than refused: peers invent their own.
impl<'de> Deserialize<'de> for ScimError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        let status = match wire.status {
            StatusText::Number(n) => n,
            StatusText::Text(text) => text.trim().parse().map_err(D::Error::custom)?,
        };
        Ok(Self {
            status,
            scim_type: wire.scim_type.as_deref().and_then(ScimType::from_code),
            detail: wire.detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_to_the_error_schema_with_status_as_text() {
        let error = ScimError::invalid_filter("expected an operator at byte 9");
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({
                "schemas": [ERROR_SCHEMA],
                "scimType": "invalidFilter",
                "detail": "expected an operator at byte 9",
                "status": "400"
            })
        );
    }

    #[test]
    fn errors_without_a_type_leave_it_out() {
        let value = serde_json::to_value(ScimError::not_found("no such user")).unwrap();
        assert_eq!(value["status"], "404");
        assert!(value.get("scimType").is_none());
    }

    #[test]
    fn statuses_follow_rfc_7644_table_9() {
        assert_eq!(ScimError::uniqueness("taken").status, 409);
        assert_eq!(ScimError::sensitive("no").status, 403);
        assert_eq!(ScimError::no_target("none").status, 400);
        assert_eq!(
            ScimType::from_code("invalidVers"),
            Some(ScimType::InvalidVers)
        );
        assert_eq!(ScimType::from_code("InvalidVers"), None);
    }

    #[test]
    fn reads_back_what_it_writes_and_numeric_statuses() {
        let error = ScimError::mutability("id is readOnly");
        let text = serde_json::to_string(&error).unwrap();
        assert_eq!(serde_json::from_str::<ScimError>(&text).unwrap(), error);
        let peer: ScimError = serde_json::from_value(json!({
            "schemas": [ERROR_SCHEMA], "status": 409, "scimType": "somethingElse"
        }))
        .unwrap();
        assert_eq!((peer.status, peer.scim_type), (409, None));
    }

    #[test]
    fn display_names_status_and_type() {
        assert_eq!(
            ScimError::invalid_path("bad").to_string(),
            "400 invalidPath: bad"
        );
        assert_eq!(ScimError::not_found("gone").to_string(), "404: gone");
    }
}
