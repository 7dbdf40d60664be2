//! The edits one PATCH operation makes inside one container (the resource root or an
//! extension object): add, replace and remove of an attribute, of a sub-attribute, and of
//! the values a filter selects (RFC 7644 §3.5.2.1–3).

use super::PatchOpKind;
use crate::attr_path::AttrPath;
use crate::error::ScimError;
use crate::filter::Filter;
use crate::filter::eval::element_matches;
use crate::json;
use crate::rules::SchemaRules;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// `add` or `replace` of a whole attribute.
///
/// - `add` to a multi-valued attribute appends the values not already there; `add` to a
///   complex attribute sets the given sub-attributes; otherwise the value is set.
/// - `replace` of a complex single-valued attribute sets the given sub-attributes and leaves
///   the others (RFC 7644 §3.5.2.3); any other attribute is replaced whole.
/// - A `null` value is "unassigned" (RFC 7643 §2.5): `add` ignores it, `replace` removes.
pub(super) fn write(
    container: &mut Map<String, Value>,
    name: &str,
    value: &Value,
    kind: PatchOpKind,
    multi_valued: bool,
) {
    if value.is_null() {
        if kind == PatchOpKind::Replace {
            json::remove(container, name);
        }
        return;
    }
    let wrapped = || match value {
        Value::Array(_) => value.clone(),
        _ if multi_valued => Value::Array(vec![value.clone()]),
        _ => value.clone(),
    };
    match (json::get_mut(container, name), value) {
        (Some(Value::Array(items)), _) if kind == PatchOpKind::Add => {
            // Compared by their JSON text (canonical: object keys are sorted), so adding
            // many members to a large group stays linear.
            let mut present: HashSet<String> = items.iter().map(Value::to_string).collect();
            let first_new = items.len();
            for item in as_list(value) {
                if present.insert(item.to_string()) {
                    items.push(item.clone());
                }
            }
            let appended: Vec<usize> = (first_new..items.len()).collect();
            keep_single_primary(items, &appended);
        }
        (Some(Value::Object(existing)), Value::Object(sub_values)) if !multi_valued => {
            merge(existing, sub_values);
        }
        (Some(slot), _) => *slot = wrapped(),
        (None, _) => json::insert(container, name, wrapped()),
    }
}

/// Sets each given sub-attribute (`null` removes it).
fn merge(existing: &mut Map<String, Value>, sub_values: &Map<String, Value>) {
    for (sub, sub_value) in sub_values {
        if sub_value.is_null() {
            json::remove(existing, sub);
        } else {
            json::insert(existing, sub, sub_value.clone());
        }
    }
}

/// `add` or `replace` of `name.sub`: on a complex attribute, or on every value of a
/// multi-valued one (a path without a filter selects all values).
pub(super) fn write_sub(
    container: &mut Map<String, Value>,
    attr: &AttrPath,
    sub: &str,
    value: &Value,
    kind: PatchOpKind,
    rules: &dyn SchemaRules,
) -> Result<(), ScimError> {
    let sub_multi = rules.is_multi_valued(&attr.parent().with_sub(sub));
    match json::get_mut(container, &attr.name) {
        Some(Value::Object(object)) => write(object, sub, value, kind, sub_multi),
        Some(Value::Array(items)) => {
            for item in items.iter_mut() {
                if let Value::Object(object) = item {
                    write(object, sub, value, kind, sub_multi);
                }
            }
        }
        Some(_) => return Err(no_sub_attributes(attr)),
        None if value.is_null() => {}
        None if rules.is_multi_valued(&attr.parent()) => {
            return Err(ScimError::no_target(format!(
                "'{}' has no values whose '{sub}' could be set",
                attr.name
            )));
        }
        None => {
            let mut object = Map::new();
            write(&mut object, sub, value, kind, sub_multi);
            json::insert(container, &attr.name, Value::Object(object));
        }
    }
    Ok(())
}

/// `remove` of a whole attribute. With a value and a multi-valued attribute, only the listed
/// values go (Entra ID removes group members this way); a complex value is identified by its
/// `value` sub-attribute.
pub(super) fn remove(container: &mut Map<String, Value>, name: &str, values: Option<&Value>) {
    let Some(values) = values else {
        json::remove(container, name);
        return;
    };
    let emptied = match json::get_mut(container, name) {
        Some(Value::Array(items)) => {
            let targets = ValueSet::new(values);
            items.retain(|item| !targets.contains(item));
            items.is_empty()
        }
        Some(single) => ValueSet::new(values).contains(single),
        None => false,
    };
    if emptied {
        json::remove(container, name);
    }
}

/// `remove` of `name.sub`, from a complex attribute or from every value of a multi-valued one.
pub(super) fn remove_sub(
    container: &mut Map<String, Value>,
    attr: &AttrPath,
    sub: &str,
) -> Result<(), ScimError> {
    let emptied = match json::get_mut(container, &attr.name) {
        Some(Value::Object(object)) => {
            json::remove(object, sub);
            !json::is_assigned_object(object)
        }
        Some(Value::Array(items)) => {
            for item in items.iter_mut() {
                if let Value::Object(object) = item {
                    json::remove(object, sub);
                }
            }
            items.retain(json::is_assigned);
            items.is_empty()
        }
        Some(_) => return Err(no_sub_attributes(attr)),
        None => false,
    };
    if emptied {
        json::remove(container, &attr.name);
    }
    Ok(())
}

/// An operation on the values of `attr` that `filter` selects, optionally on their
/// sub-attribute `sub`.
///
/// - `remove`: removes the selected values (or their `sub`); none selected is `noTarget`.
/// - `replace`: replaces each selected value whole (or its `sub`); none selected is
///   `noTarget` (RFC 7644 §3.5.2.3).
/// - `add`: sets `sub` on (or merges the value object into) each selected value; when none
///   is selected and the filter is a conjunction of `eq` tests, a new value is made from
///   those tests and the given value (`emails[type eq "work"].value` adds a work email, as
///   Entra ID expects); otherwise `noTarget`.
pub(super) fn apply_filtered(
    container: &mut Map<String, Value>,
    attr: &AttrPath,
    filter: &Filter,
    kind: PatchOpKind,
    value: Option<&Value>,
    rules: &dyn SchemaRules,
) -> Result<(), ScimError> {
    let parent = attr.parent();
    if json::get(container, &attr.name).is_none() && kind == PatchOpKind::Add {
        json::insert(container, &attr.name, Value::Array(Vec::new()));
    }
    let items = match json::get_mut(container, &attr.name) {
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ScimError::invalid_path(format!(
                "a value filter selects values of a multi-valued attribute, and '{}' is not one",
                attr.name
            )));
        }
        None => return Err(no_match(attr)),
    };
    let selected: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| element_matches(filter, &parent, item, rules))
        .map(|(index, _)| index)
        .collect();
    let sub_multi = attr.sub.is_some() && rules.is_multi_valued(attr);
    match kind {
        PatchOpKind::Remove => {
            if selected.is_empty() {
                return Err(no_match(attr));
            }
            remove_selected(items, &selected, attr.sub.as_deref());
            if items.is_empty() {
                json::remove(container, &attr.name);
            }
        }
        PatchOpKind::Replace => {
            if selected.is_empty() {
                return Err(no_match(attr));
            }
            let value = value.unwrap_or(&Value::Null);
            if value.is_null() && attr.sub.is_none() {
                // Replacing values with null unassigns them.
                remove_selected(items, &selected, None);
            } else {
                for &index in &selected {
                    match (&attr.sub, items.get_mut(index)) {
                        (Some(sub), Some(Value::Object(object))) => {
                            write(object, sub, value, kind, sub_multi)
                        }
                        (None, Some(item)) => *item = value.clone(),
                        _ => {}
                    }
                }
                keep_single_primary(items, &selected);
            }
            if items.is_empty() {
                json::remove(container, &attr.name);
            }
        }
        PatchOpKind::Add => {
            let value = value.unwrap_or(&Value::Null);
            let mut touched = selected.clone();
            if selected.is_empty() {
                let mut template = Map::new();
                if !equalities(filter, &mut template) {
                    return Err(no_match(attr));
                }
                items.push(Value::Object(template));
                touched.push(items.len() - 1);
            }
            for &index in &touched {
                match (&attr.sub, items.get_mut(index)) {
                    (Some(sub), Some(Value::Object(object))) => {
                        write(object, sub, value, kind, sub_multi)
                    }
                    (None, Some(Value::Object(object))) => match value {
                        Value::Object(sub_values) => merge(object, sub_values),
                        _ => return Err(not_an_object(attr)),
                    },
                    _ => {}
                }
            }
            keep_single_primary(items, &touched);
        }
    }
    Ok(())
}

fn remove_selected(items: &mut Vec<Value>, selected: &[usize], sub: Option<&str>) {
    match sub {
        None => {
            let mut doomed = vec![false; items.len()];
            for &index in selected {
                if let Some(slot) = doomed.get_mut(index) {
                    *slot = true;
                }
            }
            let mut flags = doomed.into_iter();
            items.retain(|_| !flags.next().unwrap_or(false));
        }
        Some(sub) => {
            for &index in selected {
                if let Some(Value::Object(object)) = items.get_mut(index) {
                    json::remove(object, sub);
                }
            }
            items.retain(json::is_assigned);
        }
    }
}

/// Collects `name eq value` tests of a conjunction; false if the filter is anything else.
fn equalities(filter: &Filter, out: &mut Map<String, Value>) -> bool {
    match filter {
        Filter::And(left, right) => equalities(left, out) && equalities(right, out),
        Filter::Compare {
            attr,
            op: crate::filter::CompareOp::Eq,
            value,
        } if attr.is_simple() => {
            let value = value.to_json();
            if value.is_null() {
                return false;
            }
            out.insert(attr.name.clone(), value);
            true
        }
        _ => false,
    }
}

/// RFC 7643 §2.4: at most one value is `primary`. When an operation made `candidates`
/// primary, the last of them wins and the others are set to `false`.
fn keep_single_primary(items: &mut [Value], candidates: &[usize]) {
    let is_primary = |item: &Value| {
        item.as_object()
            .and_then(|object| json::get(object, "primary"))
            == Some(&Value::Bool(true))
    };
    let Some(&winner) = candidates
        .iter()
        .rev()
        .find(|&&index| items.get(index).is_some_and(is_primary))
    else {
        return;
    };
    for (index, item) in items.iter_mut().enumerate() {
        if index != winner
            && is_primary(item)
            && let Value::Object(object) = item
        {
            json::insert(object, "primary", Value::Bool(false));
        }
    }
}

fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// The values a `remove` lists, for linear-time matching: a complex value is identified
/// by its `value` sub-attribute when it has one, any other value by its whole JSON text.
struct ValueSet {
    by_value: HashSet<String>,
    whole: HashSet<String>,
}

impl ValueSet {
    fn new(values: &Value) -> Self {
        let mut set = Self {
            by_value: HashSet::new(),
            whole: HashSet::new(),
        };
        for value in as_list(values) {
            match Self::identity(value) {
                Some(identity) => set.by_value.insert(identity),
                None => set.whole.insert(value.to_string()),
            };
        }
        set
    }

    fn identity(value: &Value) -> Option<String> {
        value
            .as_object()
            .and_then(|object| json::get(object, "value"))
            .map(Value::to_string)
    }

    fn contains(&self, item: &Value) -> bool {
        match Self::identity(item) {
            Some(identity) if self.by_value.contains(&identity) => true,
            _ => self.whole.contains(&item.to_string()),
        }
    }
}

fn no_match(attr: &AttrPath) -> ScimError {
    ScimError::no_target(format!(
        "the value filter matched no value of '{}'",
        attr.name
    ))
}

fn no_sub_attributes(attr: &AttrPath) -> ScimError {
    ScimError::invalid_path(format!(
        "'{}' is not complex and has no sub-attributes",
        attr.name
    ))
}

fn not_an_object(attr: &AttrPath) -> ScimError {
    ScimError::invalid_value(format!(
        "adding to values of '{}' selected by a filter needs an object of sub-attributes",
        attr.name
    ))
}
