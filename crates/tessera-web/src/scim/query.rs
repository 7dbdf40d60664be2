//! List parameters (RFC 7644 §3.4.2): `filter`, `sortBy`, `sortOrder`, `startIndex`,
//! `count`, `attributes` and `excludedAttributes`, from a query string or a `.search` body,
//! and the `ListResponse` that answers them.

use serde_json::{Value, json};
use tessera_core::page::MAX_PAGE_SIZE;
use tessera_scim::{AttributeSelection, Limits, ScimError, urn};

/// The largest page (`count`), advertised as `filter.maxResults`.
pub const MAX_RESULTS: u32 = MAX_PAGE_SIZE;

#[derive(Debug, Default)]
pub struct ListQuery {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    /// 1-based; values below 1 count as 1.
    pub start_index: u64,
    pub count: u32,
    pub selection: AttributeSelection,
}

#[derive(Default)]
struct Raw {
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    attributes: Option<String>,
    excluded: Option<String>,
}

impl Raw {
    fn finish(self) -> Result<ListQuery, ScimError> {
        Ok(ListQuery {
            filter: self.filter,
            sort_by: self.sort_by,
            sort_order: self.sort_order,
            start_index: self.start_index.unwrap_or(1).max(1).unsigned_abs(),
            // RFC 7644 §3.4.2.4: a negative count is 0; the default is the maximum.
            count: self.count.map_or(MAX_RESULTS, |count| {
                u32::try_from(count.clamp(0, i64::from(MAX_RESULTS))).unwrap_or(MAX_RESULTS)
            }),
            selection: AttributeSelection::parse(
                self.attributes.as_deref(),
                self.excluded.as_deref(),
                &Limits::DEFAULT,
            )?,
        })
    }
}

fn integer(name: &str, text: &str) -> Result<i64, ScimError> {
    text.trim()
        .parse()
        .map_err(|_| ScimError::invalid_value(format!("{name}: must be an integer")))
}

/// The parameters of a `GET` on a collection. Unknown parameters are refused.
pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<ListQuery, ScimError> {
    let mut raw = Raw::default();
    for (key, value) in pairs {
        match key.as_str() {
            "filter" => raw.filter = Some(value),
            "sortBy" => raw.sort_by = Some(value),
            "sortOrder" => raw.sort_order = Some(value),
            "startIndex" => raw.start_index = Some(integer("startIndex", &value)?),
            "count" => raw.count = Some(integer("count", &value)?),
            "attributes" => raw.attributes = Some(value),
            "excludedAttributes" => raw.excluded = Some(value),
            other => {
                return Err(ScimError::invalid_value(format!(
                    "unknown query parameter '{other}'"
                )));
            }
        }
    }
    raw.finish()
}

/// Only `attributes` and `excludedAttributes`, for requests on one resource.
pub fn selection_from_pairs(pairs: Vec<(String, String)>) -> Result<AttributeSelection, ScimError> {
    let mut attributes = None;
    let mut excluded = None;
    for (key, value) in pairs {
        match key.as_str() {
            "attributes" => attributes = Some(value),
            "excludedAttributes" => excluded = Some(value),
            other => {
                return Err(ScimError::invalid_value(format!(
                    "unknown query parameter '{other}'"
                )));
            }
        }
    }
    AttributeSelection::parse(attributes.as_deref(), excluded.as_deref(), &Limits::DEFAULT)
}

/// The parameters of a `POST …/.search` (a `SearchRequest` message).
pub fn from_search(body: &Value) -> Result<ListQuery, ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax(
            "a SearchRequest is a JSON object",
        ));
    };
    let mut raw = Raw::default();
    let mut has_schema = false;
    for (key, value) in body {
        let text = |name: &str| match value {
            Value::String(text) => Ok(Some(text.clone())),
            Value::Null => Ok(None),
            _ => Err(ScimError::invalid_value(format!(
                "{name}: must be a string"
            ))),
        };
        let number = |name: &str| match value {
            Value::Number(n) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| ScimError::invalid_value(format!("{name}: must be an integer"))),
            Value::String(s) => integer(name, s).map(Some),
            Value::Null => Ok(None),
            _ => Err(ScimError::invalid_value(format!(
                "{name}: must be an integer"
            ))),
        };
        let list = |name: &str| match value {
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str().map(str::to_owned).ok_or_else(|| {
                        ScimError::invalid_value(format!("{name}: must be a list of strings"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|items| Some(items.join(","))),
            Value::String(text) => Ok(Some(text.clone())),
            Value::Null => Ok(None),
            _ => Err(ScimError::invalid_value(format!(
                "{name}: must be a list of strings"
            ))),
        };
        match key.to_ascii_lowercase().as_str() {
            "schemas" => {
                has_schema = value.as_array().is_some_and(|schemas| {
                    schemas.iter().any(|s| {
                        s.as_str()
                            .is_some_and(|s| s.eq_ignore_ascii_case(urn::SEARCH_REQUEST))
                    })
                });
            }
            "filter" => raw.filter = text("filter")?,
            "sortby" => raw.sort_by = text("sortBy")?,
            "sortorder" => raw.sort_order = text("sortOrder")?,
            "startindex" => raw.start_index = number("startIndex")?,
            "count" => raw.count = number("count")?,
            "attributes" => raw.attributes = list("attributes")?,
            "excludedattributes" => raw.excluded = list("excludedAttributes")?,
            _ => {
                return Err(ScimError::invalid_syntax(format!(
                    "unknown member '{key}' of a SearchRequest"
                )));
            }
        }
    }
    if !has_schema {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must list {}",
            urn::SEARCH_REQUEST
        )));
    }
    raw.finish()
}

/// A `ListResponse` message.
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [urn::LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn paging_defaults_and_clamps() {
        let query = from_pairs(Vec::new()).unwrap();
        assert_eq!((query.start_index, query.count), (1, MAX_RESULTS));
        let query = from_pairs(pairs(&[("startIndex", "-4"), ("count", "-1")])).unwrap();
        assert_eq!((query.start_index, query.count), (1, 0));
        let query = from_pairs(pairs(&[("count", "100000")])).unwrap();
        assert_eq!(query.count, MAX_RESULTS);
        assert!(from_pairs(pairs(&[("count", "ten")])).is_err());
        assert!(from_pairs(pairs(&[("limit", "10")])).is_err());
    }

    #[test]
    fn search_bodies_read_like_query_strings() {
        let body = json!({
            "schemas": [urn::SEARCH_REQUEST],
            "filter": "userName sw \"a\"",
            "attributes": ["userName", "emails"],
            "startIndex": 3,
            "count": 10,
            "sortOrder": "descending"
        });
        let query = from_search(&body).unwrap();
        assert_eq!(query.filter.as_deref(), Some("userName sw \"a\""));
        assert_eq!((query.start_index, query.count), (3, 10));
        assert_eq!(query.selection.attributes.len(), 2);
        assert!(from_search(&json!({"filter": "x pr"})).is_err());
        assert!(from_search(&json!({"schemas": [urn::SEARCH_REQUEST], "count": true})).is_err());
    }
}
