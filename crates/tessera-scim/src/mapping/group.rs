//! SCIM `Group` resources and Tessera groups. Members are users; `display` of a member is
//! filled in by the server and ignored in requests, as are `id` and `meta`.

use super::fields::{Fields, Location, rfc3339};
use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::json;
use crate::patch::{PatchOpKind, PatchRequest};
use crate::urn;
use serde_json::{Map, Value, json};
use tessera_core::group::{Group, GroupName};
use tessera_core::ids::UserId;
use tessera_core::service::NewGroup;

/// The resource of `group`; `members` is `None` when the request excluded them (so they
/// were not read).
pub fn render_group(group: &Group, members: Option<&[UserId]>, location: &Location) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([urn::CORE_GROUP]));
    out.insert("id".into(), json!(group.id.to_string()));
    if let Some(external) = &group.external_id {
        out.insert("externalId".into(), json!(external));
    }
    out.insert("displayName".into(), json!(group.display_name.as_str()));
    if let Some(members) = members.filter(|members| !members.is_empty()) {
        let members = members
            .iter()
            .map(|id| {
                let id = id.to_string();
                json!({"value": id, "$ref": location.user(&id), "type": "User"})
            })
            .collect();
        out.insert("members".into(), Value::Array(members));
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": rfc3339(group.created_at),
            "lastModified": rfc3339(group.updated_at),
            "location": location.group(&group.id.to_string()),
            "version": super::etag(group.version),
        }),
    );
    Value::Object(out)
}

/// A group's next state from a client's resource (POST, PUT, or a PATCH result).
pub fn read_group(resource: &Value) -> Result<NewGroup, ScimError> {
    let Value::Object(root) = resource else {
        return Err(ScimError::invalid_syntax("a Group is a JSON object"));
    };
    let listed = match json::get(root, "schemas") {
        Some(Value::Array(schemas)) => {
            schemas.iter().all(|schema| {
                schema
                    .as_str()
                    .is_some_and(|uri| uri.eq_ignore_ascii_case(urn::CORE_GROUP))
            }) && !schemas.is_empty()
        }
        _ => false,
    };
    if !listed {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must list {} (and nothing else)",
            urn::CORE_GROUP
        )));
    }
    let fields = Fields::new(root, "");
    fields.refuse_unknown(
        &[
            "schemas",
            "id",
            "externalId",
            "meta",
            "displayName",
            "members",
        ],
        &[],
    )?;
    let Some(name) = fields.string("displayName")? else {
        return Err(ScimError::invalid_value("displayName is required"));
    };
    let display_name = GroupName::parse(&name)
        .map_err(|e| ScimError::invalid_value(format!("displayName: {}", e.reason)))?;
    let mut members = Vec::new();
    for (index, member) in fields.items("members")?.iter().enumerate() {
        member.refuse_unknown(&["value", "$ref", "type", "display"], &[])?;
        if let Some(kind) = member.string("type")?
            && !kind.eq_ignore_ascii_case("User")
        {
            return Err(ScimError::invalid_value(format!(
                "members[{index}].type: only Users can be members"
            )));
        }
        members.push(member_id(member.string("value")?.as_deref(), index)?);
    }
    Ok(NewGroup {
        display_name,
        external_id: fields.string("externalId")?,
        members,
    })
}

/// A member's user id; anything else names no user of the tenant.
pub fn member_id(value: Option<&str>, index: usize) -> Result<UserId, ScimError> {
    value.and_then(|text| text.parse().ok()).ok_or_else(|| {
        ScimError::invalid_value(format!("members[{index}].value: not the id of a User"))
    })
}

/// Members added and members removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChanges {
    pub add: Vec<UserId>,
    pub remove: Vec<UserId>,
}

/// The members a PATCH adds and removes, when that is all it does: `add` of `members`
/// values, `remove` of `members[value eq "…"]` or of `members` with listed values (as
/// Entra ID sends). Such a PATCH needs no read of the member list, which matters for large
/// groups. `None` when the request does anything else; then the whole group is patched.
pub fn member_changes(request: &PatchRequest) -> Option<Result<MemberChanges, ScimError>> {
    let mut add: Vec<UserId> = Vec::new();
    let mut remove: Vec<UserId> = Vec::new();
    for operation in &request.operations {
        let path = operation.path.as_ref()?;
        let core_urn = path
            .attr
            .urn
            .as_deref()
            .is_none_or(|urn| urn.eq_ignore_ascii_case(urn::CORE_GROUP));
        if !path.attr.name.eq_ignore_ascii_case("members") || path.attr.sub.is_some() || !core_urn {
            return None;
        }
        let ids = match (operation.op, &path.filter, &operation.value) {
            (PatchOpKind::Add, None, Some(value)) => member_values(value),
            (PatchOpKind::Remove, None, Some(value)) => member_values(value),
            (PatchOpKind::Remove, Some(filter), None) => match filter {
                Filter::Compare {
                    attr,
                    op: CompareOp::Eq,
                    value: CompValue::String(id),
                } if attr.name.eq_ignore_ascii_case("value") && attr.sub.is_none() => {
                    Some(vec![Some(id.clone())])
                }
                _ => None,
            },
            _ => None,
        }?;
        for (index, id) in ids.into_iter().enumerate() {
            let id = match member_id(id.as_deref(), index) {
                Ok(id) => id,
                Err(error) => return Some(Err(error)),
            };
            match operation.op {
                PatchOpKind::Add => {
                    remove.retain(|other| *other != id);
                    add.push(id);
                }
                _ => {
                    add.retain(|other| *other != id);
                    remove.push(id);
                }
            }
        }
    }
    Some(Ok(MemberChanges { add, remove }))
}

/// The `value` of each member object in a PATCH value (an array, or one object).
fn member_values(value: &Value) -> Option<Vec<Option<String>>> {
    let one = |item: &Value| match item {
        Value::Object(member) => Some(
            json::get(member, "value")
                .and_then(Value::as_str)
                .map(str::to_owned),
        ),
        _ => None,
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        Value::Object(_) => one(value).map(|id| vec![id]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use serde_json::json;

    const A: &str = "01a227b4-c92c-72ea-b3c9-a19c6f3beb63";
    const B: &str = "01a227b4-c92c-72ea-b3c9-a19c6f3beb64";

    fn request(operations: Value) -> PatchRequest {
        PatchRequest::from_json(
            &json!({"schemas": [crate::urn::PATCH_OP], "Operations": operations}),
            &Limits::DEFAULT,
        )
        .unwrap()
    }

    #[test]
    fn member_adds_and_removes_need_no_read() {
        let MemberChanges { add, remove } = member_changes(&request(json!([
            {"op": "add", "path": "members", "value": [{"value": A}]},
            {"op": "remove", "path": format!("members[value eq \"{B}\"]")},
        ])))
        .unwrap()
        .unwrap();
        assert_eq!(add, [A.parse::<UserId>().unwrap()]);
        assert_eq!(remove, [B.parse::<UserId>().unwrap()]);
        let MemberChanges { remove, .. } = member_changes(&request(json!([
            {"op": "Remove", "path": "members", "value": [{"value": A}, {"value": B}]},
        ])))
        .unwrap()
        .unwrap();
        assert_eq!(remove.len(), 2);
    }

    #[test]
    fn anything_else_patches_the_whole_group() {
        for operations in [
            json!([{"op": "replace", "path": "members", "value": [{"value": A}]}]),
            json!([{"op": "remove", "path": "members"}]),
            json!([{"op": "replace", "path": "displayName", "value": "x"}]),
            json!([{"op": "add", "value": {"members": [{"value": A}]}}]),
            json!([{"op": "remove", "path": "members[display eq \"x\"]"}]),
        ] {
            assert!(
                member_changes(&request(operations.clone())).is_none(),
                "{operations}"
            );
        }
        let bad = member_changes(&request(json!([
            {"op": "add", "path": "members", "value": [{"value": "not-a-user"}]},
        ])))
        .unwrap();
        assert!(bad.is_err());
    }
}
