//! Discovery (RFC 7644 §4): what this server supports and which schemas it serves, built
//! from its real limits and the tenant's custom attributes, so it never promises more.

use super::error::ScimFailure;
use super::query::{MAX_RESULTS, list_response};
use super::reply::ScimReply;
use super::{BULK_MAX_OPERATIONS, Scim};
use crate::AppState;
use axum::extract::{Path, State};
use serde_json::Value;
use tessera_scim::ScimError;
use tessera_scim::mapping::{Location, user_schemas};
use tessera_scim::schema::{
    AuthenticationScheme, Meta, ResourceType, Schema, ServiceProviderConfig, group_schema,
    resource_type_schema, schema_schema, service_provider_config_schema,
};

fn to_json(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

pub async fn service_provider_config(State(state): State<AppState>, scim: Scim) -> ScimReply {
    let body_limit = u64::try_from(state.settings.body_limit_bytes).unwrap_or(u64::MAX);
    let max_operations = u64::try_from(BULK_MAX_OPERATIONS).unwrap_or(u64::MAX);
    let config = ServiceProviderConfig::builder()
        .patch()
        .bulk(max_operations, body_limit)
        .filter(u64::from(MAX_RESULTS))
        .change_password()
        .sort()
        .etag()
        .authentication_scheme(AuthenticationScheme::oauth_bearer_token())
        .meta(Meta::located(
            "ServiceProviderConfig",
            format!("{}/ServiceProviderConfig", scim.location.base()),
        ))
        .build();
    ScimReply::ok(to_json(config))
}

fn all_resource_types(location: &Location) -> Vec<ResourceType> {
    [ResourceType::user(), ResourceType::group()]
        .into_iter()
        .map(|mut kind| {
            kind.meta = Some(Meta::located(
                "ResourceType",
                format!("{}/ResourceTypes/{}", location.base(), kind.id),
            ));
            kind
        })
        .collect()
}

pub async fn resource_types(scim: Scim) -> ScimReply {
    let kinds: Vec<Value> = all_resource_types(&scim.location)
        .into_iter()
        .map(to_json)
        .collect();
    ScimReply::ok(list_response(kinds.len() as u64, 1, kinds))
}

pub async fn resource_type(scim: Scim, Path(name): Path<String>) -> Result<ScimReply, ScimFailure> {
    all_resource_types(&scim.location)
        .into_iter()
        .find(|kind| kind.id.eq_ignore_ascii_case(&name))
        .map(|kind| ScimReply::ok(to_json(kind)))
        .ok_or_else(|| ScimFailure(ScimError::not_found("no such resource type")))
}

/// The tenant's schemas: User, the enterprise and Tessera extensions, Group.
async fn all_schemas(state: &AppState, scim: &Scim) -> Result<Vec<Schema>, ScimFailure> {
    let custom = state.core.attribute_schema(&scim.auth).await?;
    let users = user_schemas(&custom);
    let mut schemas = vec![users.core().clone()];
    schemas.extend(users.extensions().iter().cloned());
    schemas.push(group_schema());
    schemas.extend([
        service_provider_config_schema(),
        resource_type_schema(),
        schema_schema(),
    ]);
    for schema in &mut schemas {
        schema.meta = Some(Meta::located(
            "Schema",
            format!("{}/Schemas/{}", scim.location.base(), schema.id),
        ));
    }
    Ok(schemas)
}

pub async fn schemas(State(state): State<AppState>, scim: Scim) -> Result<ScimReply, ScimFailure> {
    let schemas: Vec<Value> = all_schemas(&state, &scim)
        .await?
        .into_iter()
        .map(to_json)
        .collect();
    Ok(ScimReply::ok(list_response(
        schemas.len() as u64,
        1,
        schemas,
    )))
}

pub async fn schema(
    State(state): State<AppState>,
    scim: Scim,
    Path(id): Path<String>,
) -> Result<ScimReply, ScimFailure> {
    all_schemas(&state, &scim)
        .await?
        .into_iter()
        .find(|schema| schema.id.eq_ignore_ascii_case(&id))
        .map(|schema| ScimReply::ok(to_json(schema)))
        .ok_or_else(|| ScimFailure(ScimError::not_found("no such schema")))
}
