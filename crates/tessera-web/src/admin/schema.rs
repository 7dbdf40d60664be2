//! `/admin/v1/schema`: the tenant's custom attribute schema.

use crate::AppState;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::tenant::RequestTenant;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tessera_core::api_token::Scope;
use tessera_core::attributes::{AttributeDefinition, AttributeSchema};
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/v1/schema", get(read).put(replace))
}

/// The attribute schema: `{"attributes": [{"name", "type", "required", "personal_data",
/// "user_editable", "description", "enum_values"}]}`; `type` is one of string, number,
/// boolean, date, enum, json.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaBody {
    #[schema(value_type = Vec<Object>)]
    pub attributes: Vec<AttributeDefinition>,
}

impl From<AttributeSchema> for SchemaBody {
    fn from(schema: AttributeSchema) -> Self {
        Self {
            attributes: schema.attributes,
        }
    }
}

#[utoipa::path(get, path = "/admin/v1/schema", tag = "schema", responses((status = 200, body = SchemaBody)), security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
) -> Result<Json<SchemaBody>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersRead)?;
    Ok(Json(state.core.attribute_schema(&auth).await?.into()))
}

#[utoipa::path(put, path = "/admin/v1/schema", tag = "schema", request_body = SchemaBody,
    responses((status = 200, body = SchemaBody), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    ApiJson(body): ApiJson<SchemaBody>,
) -> Result<Json<SchemaBody>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let schema = AttributeSchema {
        attributes: body.attributes,
    };
    Ok(Json(
        state.core.put_attribute_schema(&auth, schema).await?.into(),
    ))
}
