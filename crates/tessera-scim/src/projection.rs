//! `attributes` and `excludedAttributes` (RFC 7644 §3.9) with each attribute's `returned`
//! characteristic (RFC 7643 §7):
//!
//! - `never` is never returned (`password`); `always` is always returned (`id`), even when
//!   excluded or not listed; `schemas` is always returned;
//! - with `attributes`, only the listed attributes (and `always` ones) are returned; a listed
//!   complex attribute comes whole, a listed sub-attribute comes alone in its parent;
//! - otherwise `default` attributes are returned unless excluded, and `request` ones are not;
//! - `attributes` wins when a request gives both (RFC 7644 calls them alternatives);
//! - unprefixed names resolve to the core schema first, then to the extensions; a whole
//!   extension can be named by its URN; attributes absent from every schema count as `default`.

use crate::attr_path::{AttrPath, looks_like_urn, parse_attr_word};
use crate::error::ScimError;
use crate::json;
use crate::limits::Limits;
use crate::schema::{AttributeDefinition, ResourceSchemas, Returned};
use crate::syntax::{Reason, Subject, SyntaxError};
use serde_json::{Map, Value};

/// The attribute lists of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeSelection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

impl AttributeSelection {
    /// Parses the comma-separated query parameters (or the same members of a `.search`
    /// body, joined with commas). Errors are `invalidPath`.
    pub fn parse(
        attributes: Option<&str>,
        excluded: Option<&str>,
        limits: &Limits,
    ) -> Result<Self, ScimError> {
        let parse = |text: Option<&str>| {
            text.map_or(Ok(Vec::new()), |text| parse_list(text, limits))
                .map_err(|error| error.into_scim(Subject::AttributeList))
        };
        Ok(Self {
            attributes: parse(attributes)?,
            excluded: parse(excluded)?,
        })
    }
}

fn parse_list(text: &str, limits: &Limits) -> Result<Vec<AttrPath>, SyntaxError> {
    if text.len() > limits.max_length {
        return Err(SyntaxError::whole(Reason::TooLong(limits.max_length)));
    }
    let mut paths = Vec::new();
    let mut offset = 0;
    for item in text.split(',') {
        let start = offset + (item.len() - item.trim_start().len());
        offset += item.len() + 1;
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        if paths.len() == limits.max_terms {
            return Err(SyntaxError::at(
                start,
                Reason::TooManyTerms(limits.max_terms),
            ));
        }
        paths.push(parse_attr_word(item).map_err(|reason| SyntaxError::at(start, reason))?);
    }
    Ok(paths)
}

/// `resource` with only the attributes the request and the schemas allow.
pub fn project(
    resource: &Value,
    schemas: &ResourceSchemas,
    selection: &AttributeSelection,
) -> Value {
    let Value::Object(root) = resource else {
        return resource.clone();
    };
    let wanted = Wanted::resolve_all(&selection.attributes, schemas);
    let excluded = Wanted::resolve_all(&selection.excluded, schemas);
    let core = schemas.core();
    let mut out = Map::new();
    for (key, value) in root {
        if key.eq_ignore_ascii_case("schemas") {
            out.insert(key.clone(), value.clone());
            continue;
        }
        if looks_like_urn(key) {
            let projected = match (schemas.extension(key), value) {
                (Some(extension), Value::Object(members)) => {
                    let members = project_members(
                        members,
                        &extension.id,
                        |name| extension.attribute(name),
                        &wanted,
                        &excluded,
                    );
                    (!members.is_empty()).then_some(Value::Object(members))
                }
                // An extension no schema describes: all or nothing.
                _ => match decide(key, None, None, &wanted, &excluded) {
                    Decision::Keep(_) => Some(value.clone()),
                    Decision::Drop => None,
                },
            };
            if let Some(projected) = projected {
                out.insert(key.clone(), projected);
            }
            continue;
        }
        let definition = |name: &str| {
            core.attribute(name).or_else(|| {
                schemas
                    .common()
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(name))
            })
        };
        out.extend(project_members(
            [(key, value)],
            &core.id,
            definition,
            &wanted,
            &excluded,
        ));
    }
    Value::Object(out)
}

/// A resolved entry of an attribute list: a schema, and an attribute (None: the whole
/// schema) with an optional sub-attribute.
#[derive(Debug)]
struct Wanted {
    schema: String,
    name: Option<String>,
    sub: Option<String>,
}

impl Wanted {
    fn resolve_all(entries: &[AttrPath], schemas: &ResourceSchemas) -> Vec<Wanted> {
        entries
            .iter()
            .map(|entry| Self::resolve(entry, schemas))
            .collect()
    }

    fn resolve(entry: &AttrPath, schemas: &ResourceSchemas) -> Wanted {
        if let (Some(urn), None) = (&entry.urn, &entry.sub) {
            let whole = format!("{urn}:{}", entry.name);
            if schemas.extension(&whole).is_some() || whole.eq_ignore_ascii_case(&schemas.core().id)
            {
                return Wanted {
                    schema: whole,
                    name: None,
                    sub: None,
                };
            }
        }
        let schema = match schemas.resolve(entry) {
            Some((id, _)) => id.to_owned(),
            None => entry
                .urn
                .clone()
                .unwrap_or_else(|| schemas.core().id.clone()),
        };
        Wanted {
            schema,
            name: Some(entry.name.clone()),
            sub: entry.sub.clone(),
        }
    }

    fn is_for(&self, schema: &str, name: &str) -> bool {
        self.schema.eq_ignore_ascii_case(schema)
            && self
                .name
                .as_deref()
                .is_none_or(|n| n.eq_ignore_ascii_case(name))
    }
}

/// Which sub-attributes of a kept attribute to keep.
enum SubRule<'a> {
    All { with_request: bool },
    Only(Vec<&'a str>),
    Except(Vec<&'a str>),
}

enum Decision<'a> {
    Keep(SubRule<'a>),
    Drop,
}

fn decide<'a>(
    schema: &str,
    name: Option<&str>,
    definition: Option<&AttributeDefinition>,
    wanted: &'a [Wanted],
    excluded: &'a [Wanted],
) -> Decision<'a> {
    let returned = definition.map_or(Returned::Default, |d| d.returned);
    let name = name.unwrap_or_default();
    let whole = |list: &[Wanted]| {
        list.iter()
            .any(|w| w.is_for(schema, name) && (w.name.is_none() || w.sub.is_none()))
    };
    let subs = |list: &'a [Wanted]| -> Vec<&'a str> {
        list.iter()
            .filter(|w| w.name.is_some() && w.is_for(schema, name))
            .filter_map(|w| w.sub.as_deref())
            .collect()
    };
    match returned {
        Returned::Never => Decision::Drop,
        Returned::Always => Decision::Keep(SubRule::All {
            with_request: false,
        }),
        _ if !wanted.is_empty() => {
            if whole(wanted) {
                return Decision::Keep(SubRule::All { with_request: true });
            }
            let subs = subs(wanted);
            if subs.is_empty() {
                Decision::Drop
            } else {
                Decision::Keep(SubRule::Only(subs))
            }
        }
        Returned::Request => Decision::Drop,
        _ if whole(excluded) => Decision::Drop,
        _ => Decision::Keep(SubRule::Except(subs(excluded))),
    }
}

fn project_members<'d, 'm>(
    members: impl IntoIterator<Item = (&'m String, &'m Value)>,
    schema: &str,
    definition: impl Fn(&str) -> Option<&'d AttributeDefinition>,
    wanted: &[Wanted],
    excluded: &[Wanted],
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in members {
        let definition = definition(name);
        if let Decision::Keep(rule) = decide(schema, Some(name), definition, wanted, excluded)
            && let Some(value) = project_value(value, definition, &rule)
        {
            out.insert(name.clone(), value);
        }
    }
    out
}

/// Applies a sub-attribute rule to a value; None when nothing is left of a non-empty value.
fn project_value(
    value: &Value,
    definition: Option<&AttributeDefinition>,
    rule: &SubRule<'_>,
) -> Option<Value> {
    match value {
        Value::Object(object) => {
            let projected = project_object(object, definition, rule);
            (!projected.is_empty() || object.is_empty()).then_some(Value::Object(projected))
        }
        Value::Array(items) => {
            let projected: Vec<Value> = items
                .iter()
                .filter_map(|item| project_value(item, definition, rule))
                .collect();
            (!projected.is_empty() || items.is_empty()).then_some(Value::Array(projected))
        }
        other => Some(other.clone()),
    }
}

fn project_object(
    object: &Map<String, Value>,
    definition: Option<&AttributeDefinition>,
    rule: &SubRule<'_>,
) -> Map<String, Value> {
    let listed =
        |list: &[&str], name: &str| list.iter().any(|entry| entry.eq_ignore_ascii_case(name));
    let mut out = Map::new();
    for (name, value) in object {
        let returned = definition
            .and_then(|d| d.sub_attribute(name))
            .map_or(Returned::Default, |s| s.returned);
        let keep = match (returned, rule) {
            (Returned::Never, _) => false,
            (Returned::Always, _) => true,
            (returned, SubRule::All { with_request }) => {
                returned != Returned::Request || *with_request
            }
            (_, SubRule::Only(subs)) => listed(subs, name),
            (returned, SubRule::Except(subs)) => {
                returned != Returned::Request && !listed(subs, name)
            }
        };
        if keep {
            json::insert(&mut out, name, value.clone());
        }
    }
    out
}
