//! Case-insensitive access to JSON objects: SCIM attribute names ignore case (RFC 7643
//! §2.1), so `userName`, `username` and `USERNAME` are one key. When a key exists the
//! existing spelling is kept.

use serde_json::{Map, Value};

/// The key of `object` equal to `name` ignoring ASCII case (the first, if several).
pub(crate) fn key_of(object: &Map<String, Value>, name: &str) -> Option<String> {
    if object.contains_key(name) {
        return Some(name.to_owned());
    }
    object
        .keys()
        .find(|key| key.eq_ignore_ascii_case(name))
        .cloned()
}

pub(crate) fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = object.get(name) {
        return Some(value);
    }
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

pub(crate) fn get_mut<'a>(object: &'a mut Map<String, Value>, name: &str) -> Option<&'a mut Value> {
    if object.contains_key(name) {
        return object.get_mut(name);
    }
    object
        .iter_mut()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

pub(crate) fn remove(object: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = key_of(object, name)?;
    object.remove(&key)
}

/// Sets `name`, under its existing spelling if it has one.
pub(crate) fn insert(object: &mut Map<String, Value>, name: &str, value: Value) {
    let key = key_of(object, name).unwrap_or_else(|| name.to_owned());
    object.insert(key, value);
}

/// Takes `name` out of `object` as an object (empty when missing or not an object),
/// with the key's spelling, so the caller can edit it and put it back.
pub(crate) fn take_object(
    object: &mut Map<String, Value>,
    name: &str,
) -> (String, Map<String, Value>) {
    let key = key_of(object, name).unwrap_or_else(|| name.to_owned());
    let inner = match object.remove(&key) {
        Some(Value::Object(inner)) => inner,
        _ => Map::new(),
    };
    (key, inner)
}

/// Whether a value counts as assigned (RFC 7643 §2.5: null and empty are unassigned).
pub(crate) fn is_assigned(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_assigned),
        Value::Object(map) => map.values().any(is_assigned),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Whether an object has at least one assigned member.
pub(crate) fn is_assigned_object(object: &Map<String, Value>) -> bool {
    object.values().any(is_assigned)
}
