//! PATCH requests (RFC 7644 §3.5.2): parsing the `PatchOp` message into typed operations,
//! and applying them to a resource ([`PatchRequest::apply`], in `apply.rs`).

mod apply;
mod attribute;

pub use apply::Patched;

use crate::error::ScimError;
use crate::json;
use crate::limits::Limits;
use crate::path::PatchPath;
use serde_json::Value;

use crate::urn::PATCH_OP as PATCH_OP_SCHEMA;

/// The operation kinds; `op` is matched ignoring case (`"Replace"` is common in the wild).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    Add,
    Replace,
    Remove,
}

impl PatchOpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Replace => "replace",
            Self::Remove => "remove",
        }
    }
}

/// One operation, checked: `add` and `replace` carry a value (an object when there is no
/// path), `remove` carries a path.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    /// For `remove` this is optional: with a path to a multi-valued attribute it lists the
    /// values to remove (an extension Microsoft Entra ID uses for group members).
    pub value: Option<Value>,
}

/// A parsed PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

impl PatchRequest {
    /// Parses a request body; malformed JSON is `invalidSyntax`.
    pub fn from_slice(body: &[u8], limits: &Limits) -> Result<Self, ScimError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| ScimError::invalid_syntax("the request body is not valid JSON"))?;
        Self::from_json(&value, limits)
    }

    /// Checks a request body already read as JSON. Member names (`schemas`, `Operations`,
    /// `op`, `path`, `value`) are matched ignoring case.
    pub fn from_json(body: &Value, limits: &Limits) -> Result<Self, ScimError> {
        let Value::Object(body) = body else {
            return Err(ScimError::invalid_syntax(
                "a PATCH request body is a JSON object",
            ));
        };
        let has_schema = json::get(body, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|schemas| {
                schemas.iter().any(|s| {
                    s.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
                })
            });
        if !has_schema {
            return Err(ScimError::invalid_syntax(format!(
                "'schemas' must contain {PATCH_OP_SCHEMA}"
            )));
        }
        let operations = match json::get(body, "Operations") {
            Some(Value::Array(operations)) if !operations.is_empty() => operations,
            _ => {
                return Err(ScimError::invalid_syntax(
                    "'Operations' must be a non-empty array",
                ));
            }
        };
        if operations.len() > limits.max_operations {
            return Err(ScimError::payload_too_large(format!(
                "a PATCH request holds at most {} operations",
                limits.max_operations
            )));
        }
        let operations = operations
            .iter()
            .enumerate()
            .map(|(index, operation)| parse_operation(index, operation, limits))
            .collect::<Result<_, _>>()?;
        Ok(Self { operations })
    }
}

fn parse_operation(
    index: usize,
    operation: &Value,
    limits: &Limits,
) -> Result<PatchOperation, ScimError> {
    let Value::Object(operation) = operation else {
        return Err(ScimError::invalid_syntax(format!(
            "operation {index} is not a JSON object"
        )));
    };
    let op = match json::get(operation, "op").and_then(Value::as_str) {
        Some(op) if op.eq_ignore_ascii_case("add") => PatchOpKind::Add,
        Some(op) if op.eq_ignore_ascii_case("replace") => PatchOpKind::Replace,
        Some(op) if op.eq_ignore_ascii_case("remove") => PatchOpKind::Remove,
        _ => {
            return Err(ScimError::invalid_syntax(format!(
                "operation {index}: 'op' must be \"add\", \"replace\" or \"remove\""
            )));
        }
    };
    let path = match json::get(operation, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) => Some(PatchPath::parse_with(path, limits).map_err(
            |error| ScimError {
                detail: format!("operation {index}: {}", error.detail),
                ..error
            },
        )?),
        Some(_) => {
            return Err(ScimError::invalid_path(format!(
                "operation {index}: 'path' must be a string"
            )));
        }
    };
    let value = json::get(operation, "value").cloned();
    match (op, &path, &value) {
        (PatchOpKind::Remove, None, _) => Err(ScimError::no_target(format!(
            "operation {index}: \"remove\" needs a 'path'"
        ))),
        (PatchOpKind::Add | PatchOpKind::Replace, _, None) => Err(ScimError::invalid_value(
            format!("operation {index}: \"{}\" needs a 'value'", op.as_str()),
        )),
        (PatchOpKind::Add | PatchOpKind::Replace, None, Some(value)) if !value.is_object() => {
            Err(ScimError::invalid_value(format!(
                "operation {index}: without a 'path', 'value' must be an object of attributes"
            )))
        }
        _ => Ok(PatchOperation { op, path, value }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimType;
    use serde_json::json;

    fn parse(body: Value) -> Result<PatchRequest, ScimError> {
        PatchRequest::from_json(&body, &Limits::DEFAULT)
    }

    #[test]
    fn parses_operations_ignoring_case() {
        let request = parse(json!({
            "schemas": [PATCH_OP_SCHEMA],
            "operations": [
                {"op": "Add", "path": "members", "value": [{"value": "1"}]},
                {"OP": "replace", "value": {"active": false}},
                {"op": "REMOVE", "Path": "emails[type eq \"work\"]"}
            ]
        }))
        .unwrap();
        let kinds: Vec<_> = request.operations.iter().map(|o| o.op).collect();
        assert_eq!(
            kinds,
            [PatchOpKind::Add, PatchOpKind::Replace, PatchOpKind::Remove]
        );
        assert!(
            request.operations[2]
                .path
                .as_ref()
                .unwrap()
                .filter
                .is_some()
        );
    }

    #[test]
    fn refuses_malformed_requests_with_the_rfc_types() {
        let op = |o: Value| json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [o]});
        let cases = [
            (json!([]), ScimType::InvalidSyntax),
            (
                json!({"Operations": [{"op": "add", "value": {}}]}),
                ScimType::InvalidSyntax,
            ),
            (
                json!({"schemas": [PATCH_OP_SCHEMA], "Operations": []}),
                ScimType::InvalidSyntax,
            ),
            (
                op(json!({"op": "move", "path": "a"})),
                ScimType::InvalidSyntax,
            ),
            (op(json!("add")), ScimType::InvalidSyntax),
            (op(json!({"op": "remove"})), ScimType::NoTarget),
            (
                op(json!({"op": "add", "path": "a"})),
                ScimType::InvalidValue,
            ),
            (
                op(json!({"op": "replace", "value": "x"})),
                ScimType::InvalidValue,
            ),
            (
                op(json!({"op": "add", "path": "a[", "value": 1})),
                ScimType::InvalidPath,
            ),
            (
                op(json!({"op": "add", "path": 7, "value": 1})),
                ScimType::InvalidPath,
            ),
        ];
        for (body, expected) in cases {
            let error = parse(body.clone()).unwrap_err();
            assert_eq!(error.scim_type, Some(expected), "{body}: {error}");
        }
        let error = PatchRequest::from_slice(b"{not json", &Limits::DEFAULT).unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidSyntax));
    }

    #[test]
    fn caps_the_number_of_operations() {
        let operations: Vec<Value> = (0..101)
            .map(|_| json!({"op": "remove", "path": "nickName"}))
            .collect();
        let error =
            parse(json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations})).unwrap_err();
        assert_eq!((error.status, error.scim_type), (413, None));
    }
}
