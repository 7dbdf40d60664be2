//! Evaluates a filter against a resource in JSON: the PATCH engine's value filters
//! (`emails[type eq "work"]`) and in-memory checks in tests. It is also the reference
//! semantics the store's SQL compilation must agree with:
//!
//! - an attribute with several values (a multi-valued attribute, or a sub-attribute of
//!   one) matches when **any** value matches;
//! - a complex value compared without a sub-attribute is compared by its `value`
//!   sub-attribute (`emails co "@example.com"` means `emails.value co …`);
//! - `ne` is the negation of `eq`: it matches when no value is equal, including when the
//!   attribute is absent; `eq null` matches an absent or null attribute;
//! - strings compare case-insensitively (Unicode lower case) unless the rules say the
//!   attribute is case-exact; `gt`/`ge`/`lt`/`le` order strings by code point, numbers
//!   numerically; booleans support only `eq`/`ne`; a value of another type never matches;
//! - `pr` matches a non-null, non-empty value (an empty string, array or object is absent).

use super::{CompValue, CompareOp, Filter, qualify};
use crate::attr_path::AttrPath;
use crate::json;
use crate::rules::SchemaRules;
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;

/// Whether `resource` (a SCIM resource as a JSON object) matches `filter`.
pub fn matches(filter: &Filter, resource: &Value, rules: &dyn SchemaRules) -> bool {
    match resource {
        Value::Object(root) => evaluate(filter, Scope::Root(root), rules),
        _ => false,
    }
}

/// Whether one value of the multi-valued attribute `parent` matches `filter`, as inside
/// `parent[filter]`. A simple (non-object) value is seen as `{"value": element}`.
pub fn element_matches(
    filter: &Filter,
    parent: &AttrPath,
    element: &Value,
    rules: &dyn SchemaRules,
) -> bool {
    evaluate(filter, Scope::Element { parent, element }, rules)
}

/// What attribute paths are resolved against.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Root(&'a Map<String, Value>),
    Element {
        parent: &'a AttrPath,
        element: &'a Value,
    },
}

fn evaluate(filter: &Filter, scope: Scope<'_>, rules: &dyn SchemaRules) -> bool {
    match filter {
        Filter::And(left, right) => evaluate(left, scope, rules) && evaluate(right, scope, rules),
        Filter::Or(left, right) => evaluate(left, scope, rules) || evaluate(right, scope, rules),
        Filter::Not(inner) => !evaluate(inner, scope, rules),
        Filter::Present(attr) => values(scope, attr, rules)
            .into_iter()
            .any(json::is_assigned),
        Filter::Compare { attr, op, value } => compare_attribute(scope, attr, *op, value, rules),
        Filter::ValuePath { attr, filter } => match scope {
            Scope::Root(_) => values(scope, attr, rules).into_iter().any(|element| {
                evaluate(
                    filter,
                    Scope::Element {
                        parent: attr,
                        element,
                    },
                    rules,
                )
            }),
            // The parser refuses nested value paths; a hand-built one matches nothing.
            Scope::Element { .. } => false,
        },
    }
}

fn compare_attribute(
    scope: Scope<'_>,
    attr: &AttrPath,
    op: CompareOp,
    expected: &CompValue,
    rules: &dyn SchemaRules,
) -> bool {
    let qualified = match scope {
        Scope::Root(_) => attr.clone(),
        Scope::Element { parent, .. } => qualify(parent, attr),
    };
    let exact = rules.is_case_exact(&qualified);
    let exact_value =
        qualified.sub.is_none() && rules.is_case_exact(&qualified.clone().with_sub("value"));
    // A complex value is compared by its `value` sub-attribute.
    let leaves: Vec<(&Value, bool)> = values(scope, attr, rules)
        .into_iter()
        .filter_map(|value| match value {
            Value::Object(object) => json::get(object, "value").map(|inner| (inner, exact_value)),
            other => Some((other, exact)),
        })
        .collect();
    match (op, expected) {
        (CompareOp::Eq, CompValue::Null) => leaves.iter().all(|(value, _)| value.is_null()),
        (CompareOp::Ne, CompValue::Null) => leaves.iter().any(|(value, _)| !value.is_null()),
        (CompareOp::Ne, _) => !leaves
            .iter()
            .any(|(value, exact)| compare(value, CompareOp::Eq, expected, *exact)),
        _ => leaves
            .iter()
            .any(|(value, exact)| compare(value, op, expected, *exact)),
    }
}

/// The values `attr` selects in `scope`, with arrays flattened one level.
fn values<'a>(scope: Scope<'a>, attr: &AttrPath, rules: &dyn SchemaRules) -> Vec<&'a Value> {
    let top = match scope {
        Scope::Root(root) => {
            container(root, attr.urn.as_deref(), rules).and_then(|c| json::get(c, &attr.name))
        }
        Scope::Element {
            element: Value::Object(object),
            ..
        } => json::get(object, &attr.name),
        Scope::Element { element, .. } => {
            attr.name.eq_ignore_ascii_case("value").then_some(element)
        }
    };
    let mut out = Vec::new();
    for value in flatten(top) {
        match &attr.sub {
            None => out.push(value),
            Some(sub) => {
                if let Value::Object(object) = value {
                    out.extend(flatten(json::get(object, sub)));
                }
            }
        }
    }
    out
}

/// The object holding attributes of schema `urn`: the root for the core schema (or no
/// URN), the extension object otherwise.
pub(crate) fn container<'a>(
    root: &'a Map<String, Value>,
    urn: Option<&str>,
    rules: &dyn SchemaRules,
) -> Option<&'a Map<String, Value>> {
    match urn {
        None => Some(root),
        Some(urn) if rules.is_core_schema(urn) => Some(root),
        Some(urn) => json::get(root, urn).and_then(Value::as_object),
    }
}

fn flatten(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    }
}

/// One actual value against the comparison value.
pub(crate) fn compare(actual: &Value, op: CompareOp, expected: &CompValue, exact: bool) -> bool {
    match (actual, expected) {
        (Value::String(actual), CompValue::String(expected)) => {
            compare_strings(actual, op, expected, exact)
        }
        (Value::Number(actual), CompValue::Number(expected)) => {
            compare_numbers(actual, expected).is_some_and(|ordering| ordered(op, ordering))
        }
        (Value::Bool(actual), CompValue::Bool(expected)) => match op {
            CompareOp::Eq => actual == expected,
            CompareOp::Ne => actual != expected,
            _ => false,
        },
        (Value::Null, CompValue::Null) => op == CompareOp::Eq,
        _ => false,
    }
}

fn compare_strings(actual: &str, op: CompareOp, expected: &str, exact: bool) -> bool {
    let (actual, expected) = if exact {
        (actual.to_owned(), expected.to_owned())
    } else {
        (actual.to_lowercase(), expected.to_lowercase())
    };
    match op {
        CompareOp::Co => actual.contains(&expected),
        CompareOp::Sw => actual.starts_with(&expected),
        CompareOp::Ew => actual.ends_with(&expected),
        _ => ordered(op, actual.cmp(&expected)),
    }
}

/// Integers compare exactly; anything else as f64.
fn compare_numbers(actual: &Number, expected: &Number) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (actual.as_i64(), expected.as_i64()) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (actual.as_u64(), expected.as_u64()) {
        return Some(a.cmp(&b));
    }
    actual.as_f64()?.partial_cmp(&expected.as_f64()?)
}

fn ordered(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::DefaultRules;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "userName": "BJensen",
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "active": true,
            "loginCount": 12,
            "title": "",
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "meta": {"lastModified": "2011-05-13T04:42:34Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"}
        })
    }

    fn check(filter: &str) -> bool {
        matches(&Filter::parse(filter).unwrap(), &user(), &DefaultRules)
    }

    #[test]
    fn follows_the_reference_semantics() {
        let cases = [
            (r#"userName eq "bjensen""#, true),
            (r#"USERNAME Eq "BJENSEN""#, true),
            (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
            (r#"name.familyName co "ens""#, true),
            (r#"userName sw "bj" and userName ew "sen""#, true),
            (r#"emails co "@jensen.org""#, true),
            (r#"emails.type eq "home""#, true),
            (
                r#"emails[type eq "work" and value co "@example.com"]"#,
                true,
            ),
            (
                r#"emails[type eq "home" and value co "@example.com"]"#,
                false,
            ),
            (r#"emails[not (primary eq true)]"#, true),
            (r#"title pr"#, false),
            (r#"nickName pr"#, false),
            (r#"nickName ne "x""#, true),
            (r#"nickName eq null"#, true),
            (r#"userName ne null"#, true),
            (r#"emails.type ne "work""#, false),
            (r#"active eq true and not (active eq false)"#, true),
            (r#"loginCount gt 11 and loginCount le 12.0"#, true),
            (r#"loginCount eq "12""#, false),
            (r#"meta.lastModified gt "2011-05-13T04:42:33Z""#, true),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:tessera:2.0:User:employeeNumber pr"#,
                false,
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(check(filter), expected, "{filter}");
        }
    }

    #[test]
    fn case_exactness_comes_from_the_rules() {
        let exact_everywhere = |_: &AttrPath| true;
        let filter = Filter::parse(r#"userName eq "bjensen""#).unwrap();
        assert!(!matches(&filter, &user(), &exact_everywhere));
        let filter = Filter::parse(r#"emails[type eq "WORK"]"#).unwrap();
        let exact_types = |attr: &AttrPath| attr.sub.as_deref() == Some("type");
        assert!(!matches(&filter, &user(), &exact_types));
        assert!(matches(&filter, &user(), &DefaultRules));
    }
}
