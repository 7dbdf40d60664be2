//! `/admin/v1/api-tokens`: create (the secret is shown once), list, read and revoke the
//! tenant's API tokens.

use super::{ListResponse, PageParams, parse_id, rfc3339};
use crate::AppState;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::tenant::RequestTenant;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tessera_core::api_token::{ApiToken, Scope};
use tessera_core::error::FieldError;
use tessera_core::ids::ApiTokenId;
use tessera_core::service::NewApiToken;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/api-tokens", get(list).post(create))
        .route("/admin/v1/api-tokens/{id}", get(read).delete(revoke))
}

/// An API token (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub name: String,
    /// Any of `users:read`, `users:write`, `scim`, `admin`.
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<ApiToken> for TokenResponse {
    fn from(token: ApiToken) -> Self {
        Self {
            id: token.id.to_string(),
            name: token.name,
            scopes: token.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_by: token.created_by.to_string(),
            created_at: rfc3339(token.created_at),
            expires_at: token.expires_at.map(rfc3339),
            revoked_at: token.revoked_at.map(rfc3339),
        }
    }
}

/// A new token with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    #[serde(flatten)]
    pub token: TokenResponse,
    /// The bearer secret. Tessera keeps only its hash: store it now.
    pub secret: String,
}

/// Input of `POST /admin/v1/api-tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    pub name: String,
    pub scopes: Vec<String>,
    /// RFC 3339 time after which the token stops working.
    pub expires_at: Option<String>,
}

fn parse_new_token(input: TokenCreate) -> Result<NewApiToken, ApiError> {
    let mut errors = Vec::new();
    let scopes = input
        .scopes
        .iter()
        .filter_map(|s| {
            Scope::parse(s).or_else(|| {
                errors.push(FieldError::new(
                    "scopes",
                    format!("unknown scope '{s}' (users:read, users:write, scim, admin)"),
                ));
                None
            })
        })
        .collect();
    let expires_at = input.expires_at.as_deref().and_then(|text| {
        OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|_| errors.push(FieldError::new("expires_at", "must be an RFC 3339 time")))
            .ok()
    });
    if errors.is_empty() {
        Ok(NewApiToken {
            name: input.name,
            scopes,
            expires_at,
        })
    } else {
        Err(ApiError::invalid(errors))
    }
}

#[utoipa::path(get, path = "/admin/v1/api-tokens", tag = "api-tokens", params(PageParams),
    responses((status = 200, body = ListResponse<TokenResponse>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ListResponse<TokenResponse>>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let page = state
        .core
        .list_api_tokens(&auth, PageParams::from_pairs(pairs)?.to_request()?)
        .await?;
    Ok(Json(ListResponse::from_page(page, TokenResponse::from)))
}

#[utoipa::path(post, path = "/admin/v1/api-tokens", tag = "api-tokens", request_body = TokenCreate,
    responses((status = 201, body = TokenCreated), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    OriginalUri(original): OriginalUri,
    ApiJson(input): ApiJson<TokenCreate>,
) -> Result<impl IntoResponse, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let created = state
        .core
        .create_api_token(&auth, parse_new_token(input)?)
        .await?;
    let location = super::location_of(&original, created.token.id);
    let body = TokenCreated {
        secret: created.secret.expose_secret().to_owned(),
        token: created.token.into(),
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    ))
}

#[utoipa::path(get, path = "/admin/v1/api-tokens/{id}", tag = "api-tokens",
    responses((status = 200, body = TokenResponse), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<TokenResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let id: ApiTokenId = parse_id(&id, "api token")?;
    Ok(Json(state.core.get_api_token(&auth, id).await?.into()))
}

#[utoipa::path(delete, path = "/admin/v1/api-tokens/{id}", tag = "api-tokens",
    responses((status = 200, body = TokenResponse, description = "revoked"), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<TokenResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let id: ApiTokenId = parse_id(&id, "api token")?;
    Ok(Json(state.core.revoke_api_token(&auth, id).await?.into()))
}
