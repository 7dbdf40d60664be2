//! `/admin/v1/tenants`: operators create and list tenants; a tenant's own admins read and
//! update it.

use super::{ListResponse, PageParams, rfc3339};
use crate::AppState;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, Problem};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tessera_core::CoreError;
use tessera_core::api_token::Scope;
use tessera_core::error::FieldError;
use tessera_core::service::{DomainChange, NewTenant, TenantPatch};
use tessera_core::tenant::{Domain, Tenant, TenantSettings, TenantSlug};
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/tenants", get(list).post(create))
        .route("/admin/v1/tenants/{slug}", get(read).patch(update))
}

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantResponse {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub slug: String,
    pub display_name: String,
    /// Custom domains that serve this tenant.
    pub domains: Vec<String>,
    #[schema(value_type = Object)]
    pub settings: TenantSettings,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Tenant> for TenantResponse {
    fn from(tenant: Tenant) -> Self {
        Self {
            id: tenant.id.to_string(),
            slug: tenant.slug.to_string(),
            display_name: tenant.display_name,
            domains: tenant.domains.into_iter().map(String::from).collect(),
            settings: tenant.settings,
            created_at: rfc3339(tenant.created_at),
            updated_at: rfc3339(tenant.updated_at),
        }
    }
}

/// Input of `POST /admin/v1/tenants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantCreate {
    pub slug: String,
    pub display_name: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: TenantSettings,
}

/// Input of `PATCH /admin/v1/tenants/{slug}`: fields left out stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatchInput {
    pub display_name: Option<String>,
    pub domains: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub settings: Option<TenantSettings>,
}

fn parse_domains(domains: &[String]) -> Result<Vec<Domain>, ApiError> {
    let mut errors = Vec::new();
    let parsed: Vec<Domain> = domains
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            Domain::parse(d)
                .map_err(|e| errors.push(FieldError::new(&format!("domains[{i}]"), e.to_string())))
                .ok()
        })
        .collect();
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(ApiError::invalid(errors))
    }
}

async fn tenant_named(state: &AppState, slug: &str) -> Result<Tenant, ApiError> {
    state
        .core
        .tenant_by_slug(slug)
        .await?
        .ok_or_else(|| CoreError::NotFound("tenant").into())
}

#[utoipa::path(get, path = "/admin/v1/tenants", tag = "tenants", params(PageParams),
    responses((status = 200, body = ListResponse<TenantResponse>), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ListResponse<TenantResponse>>, ApiError> {
    let operator = caller.authorize_operator()?;
    let page = state
        .core
        .list_tenants(&operator, PageParams::from_pairs(pairs)?.to_request()?)
        .await?;
    Ok(Json(ListResponse::from_page(page, TenantResponse::from)))
}

#[utoipa::path(post, path = "/admin/v1/tenants", tag = "tenants", request_body = TenantCreate,
    responses((status = 201, body = TenantResponse), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(input): ApiJson<TenantCreate>,
) -> Result<impl IntoResponse, ApiError> {
    let operator = caller.authorize_operator()?;
    let slug = TenantSlug::parse(&input.slug)
        .map_err(|e| ApiError::invalid(vec![FieldError::new("slug", e.to_string())]))?;
    let new = NewTenant {
        slug,
        display_name: input.display_name,
        domains: parse_domains(&input.domains)?,
        settings: input.settings,
    };
    let tenant = state.core.create_tenant(&operator, new).await?;
    let location = format!("/admin/v1/tenants/{}", tenant.slug);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(TenantResponse::from(tenant)),
    ))
}

#[utoipa::path(get, path = "/admin/v1/tenants/{slug}", tag = "tenants",
    responses((status = 200, body = TenantResponse), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
) -> Result<Json<TenantResponse>, ApiError> {
    let tenant = tenant_named(&state, &slug).await?;
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    Ok(Json(state.core.get_tenant(&auth).await?.into()))
}

#[utoipa::path(patch, path = "/admin/v1/tenants/{slug}", tag = "tenants", request_body = TenantPatchInput,
    responses((status = 200, body = TenantResponse), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<TenantPatchInput>,
) -> Result<Json<TenantResponse>, ApiError> {
    let tenant = tenant_named(&state, &slug).await?;
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let domains = match input.domains.as_deref().map(parse_domains).transpose()? {
        Some(domains) => Some(DomainChange::new(&caller.authorize_operator()?, domains)),
        None => None,
    };
    let patch = TenantPatch {
        display_name: input.display_name,
        domains,
        settings: input.settings,
    };
    Ok(Json(state.core.update_tenant(&auth, patch).await?.into()))
}
