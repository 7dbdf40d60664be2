//! SCIM `Group` resources and Tessera groups. Members are users; `display` of a member is
//! filled in by the server and ignored in requests, as are `id` and `meta`.

use super::fields::{Fields, Location, rfc3339};
use crate::error::ScimError;
use crate::json;
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
