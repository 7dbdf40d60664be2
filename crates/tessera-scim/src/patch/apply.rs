//! Applies a [`PatchRequest`] to a resource held as JSON, all operations or none (RFC 7644
//! §3.5.2: a PATCH is atomic). The engine knows the grammar and RFC 7644's rules, not
//! mutability: it reports which attributes each operation touched, and the caller refuses
//! changes to read-only or immutable ones (or diffs old and new) and validates the result
//! against the schema.
//!
//! Paths are resolved case-insensitively. A URN prefix naming the core schema addresses the
//! top level; any other URN prefix addresses the extension object under that URN, which is
//! created when needed and listed in `schemas`, and dropped from both when emptied.

use super::{PatchOpKind, PatchOperation, PatchRequest, attribute};
use crate::attr_path::{AttrPath, looks_like_urn};
use crate::error::ScimError;
use crate::json;
use crate::path::PatchPath;
use crate::rules::SchemaRules;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// The outcome of a PATCH.
#[derive(Debug, Clone, PartialEq)]
pub struct Patched {
    /// The resource after every operation.
    pub resource: Value,
    /// The attributes the operations addressed, each once, in order: `urn` is the extension
    /// schema for extension attributes and `None` for core ones; `sub` is set when an
    /// operation addressed a sub-attribute. Path-less operations report each attribute of
    /// their value. For the caller's mutability checks.
    pub touched: Vec<AttrPath>,
    /// Whether the resource differs from the input (no new version when false).
    pub changed: bool,
}

impl PatchRequest {
    /// Applies every operation to a copy of `resource` (a JSON object). The first failing
    /// operation fails the whole request; its detail names the operation's index.
    pub fn apply(&self, resource: &Value, rules: &dyn SchemaRules) -> Result<Patched, ScimError> {
        let Value::Object(original) = resource else {
            return Err(ScimError::with_status(
                500,
                "the resource to patch is not a JSON object",
            ));
        };
        let mut root = original.clone();
        let mut touched = Vec::new();
        for (index, operation) in self.operations.iter().enumerate() {
            apply_operation(&mut root, operation, rules, &mut touched).map_err(|error| {
                ScimError {
                    detail: format!("operation {index}: {}", error.detail),
                    ..error
                }
            })?;
        }
        let touched = deduplicate(touched);
        tidy_extensions(&mut root, &touched);
        let changed = root != *original;
        Ok(Patched {
            resource: Value::Object(root),
            touched,
            changed,
        })
    }
}

fn apply_operation(
    root: &mut Map<String, Value>,
    operation: &PatchOperation,
    rules: &dyn SchemaRules,
    touched: &mut Vec<AttrPath>,
) -> Result<(), ScimError> {
    let Some(path) = &operation.path else {
        let Some(Value::Object(attributes)) = &operation.value else {
            return Err(ScimError::invalid_value(
                "without a 'path', 'value' must be an object of attributes",
            ));
        };
        for (name, value) in attributes {
            apply_pathless(root, name, value, operation.op, rules, touched)?;
        }
        return Ok(());
    };
    let attr = &path.attr;
    // `urn:…:enterprise:2.0:User` parses as URN `urn:…:2.0` and name `User`.
    if let (None, None, Some(urn)) = (&path.filter, &attr.sub, &attr.urn) {
        let whole = format!("{urn}:{}", attr.name);
        if rules.is_extension_schema(&whole) {
            return whole_extension(root, &whole, operation, rules, touched);
        }
    }
    let extension = attr.urn.as_deref().filter(|urn| !rules.is_core_schema(urn));
    note(
        touched,
        AttrPath {
            urn: extension.map(str::to_owned),
            name: attr.name.clone(),
            sub: attr.sub.clone(),
        },
    );
    match extension {
        None => edit(root, path, operation, rules),
        Some(urn) if operation.op == PatchOpKind::Remove && json::get(root, urn).is_none() => {
            match path.filter {
                Some(_) => Err(ScimError::no_target(format!(
                    "the value filter matched no value of '{}'",
                    attr.name
                ))),
                None => Ok(()),
            }
        }
        Some(urn) => {
            let (key, mut object) = json::take_object(root, urn);
            let result = edit(&mut object, path, operation, rules);
            root.insert(key, Value::Object(object));
            result
        }
    }
}

/// One operation with a path, inside the container that holds the attribute.
fn edit(
    container: &mut Map<String, Value>,
    path: &PatchPath,
    operation: &PatchOperation,
    rules: &dyn SchemaRules,
) -> Result<(), ScimError> {
    let attr = &path.attr;
    let value = operation.value.as_ref();
    match (&path.filter, &attr.sub, operation.op) {
        (Some(filter), _, kind) => {
            attribute::apply_filtered(container, attr, filter, kind, value, rules)
        }
        (None, None, PatchOpKind::Remove) => {
            attribute::remove(container, &attr.name, value);
            Ok(())
        }
        (None, None, kind) => {
            let multi_valued = rules.is_multi_valued(attr);
            attribute::write(
                container,
                &attr.name,
                value.unwrap_or(&Value::Null),
                kind,
                multi_valued,
            );
            Ok(())
        }
        (None, Some(sub), PatchOpKind::Remove) => attribute::remove_sub(container, attr, sub),
        (None, Some(sub), kind) => attribute::write_sub(
            container,
            attr,
            sub,
            value.unwrap_or(&Value::Null),
            kind,
            rules,
        ),
    }
}

/// One member of a path-less `add` or `replace` value: an attribute, or a schema URN whose
/// object holds attributes of that schema. `schemas` is ignored: the engine keeps it.
fn apply_pathless(
    root: &mut Map<String, Value>,
    name: &str,
    value: &Value,
    kind: PatchOpKind,
    rules: &dyn SchemaRules,
    touched: &mut Vec<AttrPath>,
) -> Result<(), ScimError> {
    if name.eq_ignore_ascii_case("schemas") {
        return Ok(());
    }
    if !looks_like_urn(name) {
        let attr = AttrPath::new(name);
        attribute::write(root, name, value, kind, rules.is_multi_valued(&attr));
        note(touched, attr);
        return Ok(());
    }
    let Value::Object(attributes) = value else {
        return Err(ScimError::invalid_value(
            "a schema URN member holds an object of attributes",
        ));
    };
    if rules.is_core_schema(name) {
        for (inner, inner_value) in attributes
            .iter()
            .filter(|(inner, _)| !looks_like_urn(inner))
        {
            let attr = AttrPath::new(inner);
            attribute::write(root, inner, inner_value, kind, rules.is_multi_valued(&attr));
            note(touched, attr);
        }
    } else {
        write_extension(root, name, attributes, kind, rules, touched);
    }
    Ok(())
}

/// Writes attributes into the extension object `urn`, creating it when missing.
fn write_extension(
    root: &mut Map<String, Value>,
    urn: &str,
    attributes: &Map<String, Value>,
    kind: PatchOpKind,
    rules: &dyn SchemaRules,
    touched: &mut Vec<AttrPath>,
) {
    let (key, mut object) = json::take_object(root, urn);
    for (name, value) in attributes {
        // Clients copy the resource's habit of naming its schemas into the value
        // (`{"schemas": [urn], …}`); it is not an attribute of the extension.
        if name.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let attr = AttrPath::new(name).with_urn(urn);
        attribute::write(&mut object, name, value, kind, rules.is_multi_valued(&attr));
        note(touched, attr);
    }
    root.insert(key, Value::Object(object));
}

/// A path naming a whole extension schema: `add`/`replace` set its attributes, `remove`
/// drops the extension.
fn whole_extension(
    root: &mut Map<String, Value>,
    urn: &str,
    operation: &PatchOperation,
    rules: &dyn SchemaRules,
    touched: &mut Vec<AttrPath>,
) -> Result<(), ScimError> {
    if operation.op == PatchOpKind::Remove {
        if let Some(Value::Object(removed)) = json::remove(root, urn) {
            for name in removed.keys() {
                note(touched, AttrPath::new(name).with_urn(urn));
            }
        }
        unlist_schema(root, urn);
        return Ok(());
    }
    let Some(Value::Object(attributes)) = &operation.value else {
        return Err(ScimError::invalid_value(
            "a path naming an extension schema needs an object of attributes",
        ));
    };
    write_extension(root, urn, attributes, operation.op, rules, touched);
    Ok(())
}

/// Records a touched attribute once. A linear `contains` would make a path-less value with
/// thousands of members quadratic, so the list is deduplicated at the end instead.
fn note(touched: &mut Vec<AttrPath>, attr: AttrPath) {
    touched.push(attr);
}

/// Drops repeated entries, keeping the first of each.
fn deduplicate(touched: Vec<AttrPath>) -> Vec<AttrPath> {
    let mut seen = HashSet::new();
    touched
        .into_iter()
        .filter(|attr| seen.insert(attr.clone()))
        .collect()
}

/// Each extension the request touched is listed in `schemas` while it holds a value, and
/// removed with its listing once empty (RFC 7643 §2.5: empty is unassigned).
fn tidy_extensions(root: &mut Map<String, Value>, touched: &[AttrPath]) {
    let mut urns: Vec<&str> = Vec::new();
    for urn in touched.iter().filter_map(|attr| attr.urn.as_deref()) {
        if !urns.iter().any(|seen| seen.eq_ignore_ascii_case(urn)) {
            urns.push(urn);
        }
    }
    for urn in urns {
        let assigned = json::get(root, urn)
            .and_then(Value::as_object)
            .is_some_and(json::is_assigned_object);
        if assigned {
            let key = json::key_of(root, urn).unwrap_or_else(|| urn.to_owned());
            list_schema(root, &key);
        } else {
            json::remove(root, urn);
            unlist_schema(root, urn);
        }
    }
}

fn list_schema(root: &mut Map<String, Value>, urn: &str) {
    if let Some(Value::Array(schemas)) = json::get_mut(root, "schemas") {
        let listed = schemas
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)));
        if !listed {
            schemas.push(Value::String(urn.to_owned()));
        }
    }
}

fn unlist_schema(root: &mut Map<String, Value>, urn: &str) {
    if let Some(Value::Array(schemas)) = json::get_mut(root, "schemas") {
        schemas.retain(|s| !s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)));
    }
}
