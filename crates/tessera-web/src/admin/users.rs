//! `/admin/v1/users`: create (light accounts or with a password hash), read, search,
//! merge-patch, disable, enable and delete users of the request's tenant.

use super::user_dto::{UserCreate, UserPatchInput, UserResponse};
use super::{ListResponse, PageParams, parse_id};
use crate::AppState;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::tenant::RequestTenant;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use tessera_core::api_token::Scope;
use tessera_core::ids::UserId;
use tessera_core::service::UserSearch;
use tessera_core::user::UserStatus;
use utoipa::IntoParams;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/users", get(search).post(create))
        .route(
            "/admin/v1/users/{id}",
            get(read).patch(update).delete(remove),
        )
        .route("/admin/v1/users/{id}/disable", post(disable))
        .route("/admin/v1/users/{id}/enable", post(enable))
        .route("/admin/v1/users/{id}/password", post(set_password))
        .route(
            "/admin/v1/users/{id}/collected-attributes",
            get(collected_attributes),
        )
}

/// Search filters; all given filters must match. Attribute filters are written
/// `attribute.<name>=<value>`, e.g. `attribute.country=DE`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "documents the query string, which is parsed as pairs"
)]
pub struct SearchParams {
    /// Any of the user's email addresses, case-insensitively.
    pub email: Option<String>,
    /// Given, family or display name starts with this, case-insensitively.
    pub name: Option<String>,
    /// `light`, `active`, `disabled` or `deleted` (deleted users are left out otherwise).
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn parse_search(pairs: Vec<(String, String)>) -> Result<(UserSearch, PageParams), ApiError> {
    let mut search = UserSearch::default();
    let mut page = PageParams::default();
    for (key, value) in pairs {
        if page.take(&key, &value)? {
            continue;
        }
        match key.as_str() {
            "email" => search.email = Some(value),
            "name" => search.name = Some(value),
            "status" => {
                search.status = Some(UserStatus::parse(&value).ok_or_else(|| {
                    ApiError::bad_request("status: must be light, active, disabled or deleted")
                })?)
            }
            other => match other.strip_prefix("attribute.") {
                Some(name) if search.attributes.len() < 10 => {
                    search.attributes.push((name.to_owned(), value))
                }
                Some(_) => return Err(ApiError::bad_request("at most 10 attribute filters")),
                None => {
                    return Err(ApiError::bad_request(format!(
                        "unknown query parameter '{other}'"
                    )));
                }
            },
        }
    }
    Ok((search, page))
}

#[utoipa::path(get, path = "/admin/v1/users", tag = "users", params(SearchParams),
    responses((status = 200, body = ListResponse<UserResponse>), (status = 400, body = Problem)), security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ListResponse<UserResponse>>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersRead)?;
    let (search, page) = parse_search(pairs)?;
    let users = state
        .core
        .search_users(&auth, search, page.to_request()?)
        .await?;
    Ok(Json(ListResponse::from_page(users, UserResponse::from)))
}

#[utoipa::path(post, path = "/admin/v1/users", tag = "users", request_body = UserCreate,
    responses((status = 201, body = UserResponse), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    OriginalUri(original): OriginalUri,
    ApiJson(input): ApiJson<UserCreate>,
) -> Result<impl IntoResponse, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersWrite)?;
    let user = state
        .core
        .create_user(&auth, input.into_new_user()?)
        .await?;
    let location = super::location_of(&original, user.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(UserResponse::from(user)),
    ))
}

#[utoipa::path(get, path = "/admin/v1/users/{id}", tag = "users",
    responses((status = 200, body = UserResponse), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<UserResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersRead)?;
    let id: UserId = parse_id(&id, "user")?;
    Ok(Json(state.core.get_user(&auth, id).await?.into()))
}

/// One attribute progressive profiling collected: which app asked, and when.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CollectedAttribute {
    /// `given_name`, `birthdate`, `attributes.<name>`…
    pub attribute: String,
    pub client_id: String,
    /// RFC 3339.
    pub collected_at: String,
}

/// The attributes progressive profiling collected from the user, newest first (the latest
/// collection of each).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CollectedAttributes {
    pub items: Vec<CollectedAttribute>,
}

#[utoipa::path(get, path = "/admin/v1/users/{id}/collected-attributes", tag = "users",
    responses((status = 200, body = CollectedAttributes), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn collected_attributes(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<CollectedAttributes>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersRead)?;
    let id: UserId = parse_id(&id, "user")?;
    let items = state
        .core
        .collected_attributes(&auth, id)
        .await?
        .into_iter()
        .map(|c| CollectedAttribute {
            attribute: c.attribute,
            client_id: c.client_id,
            collected_at: super::rfc3339(c.collected_at),
        })
        .collect();
    Ok(Json(CollectedAttributes { items }))
}

#[utoipa::path(patch, path = "/admin/v1/users/{id}", tag = "users", request_body(content = UserPatchInput, content_type = "application/merge-patch+json"),
    responses((status = 200, body = UserResponse), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UserPatchInput>,
) -> Result<Json<UserResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersWrite)?;
    let id: UserId = parse_id(&id, "user")?;
    Ok(Json(
        state
            .core
            .update_user(&auth, id, &input.into_patch()?)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/admin/v1/users/{id}", tag = "users",
    responses((status = 204, description = "erased; a tombstone keeps the id"), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersWrite)?;
    let id: UserId = parse_id(&id, "user")?;
    state.core.delete_user(&auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/admin/v1/users/{id}/disable", tag = "users",
    responses((status = 200, body = UserResponse), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn disable(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<UserResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersWrite)?;
    let id: UserId = parse_id(&id, "user")?;
    Ok(Json(state.core.disable_user(&auth, id).await?.into()))
}

#[utoipa::path(post, path = "/admin/v1/users/{id}/enable", tag = "users",
    responses((status = 200, body = UserResponse), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn enable(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<UserResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersWrite)?;
    let id: UserId = parse_id(&id, "user")?;
    Ok(Json(state.core.enable_user(&auth, id).await?.into()))
}

/// Input of `POST /admin/v1/users/{id}/password`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    /// The new password: checked against the policy, hashed with Argon2id, never stored.
    #[schema(value_type = String, format = Password)]
    pub password: secrecy::SecretString,
}

#[utoipa::path(post, path = "/admin/v1/users/{id}/password", tag = "users", request_body = PasswordInput,
    responses((status = 200, body = UserResponse, description = "set; a light account becomes active"),
        (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn set_password(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PasswordInput>,
) -> Result<Json<UserResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersWrite)?;
    let id: UserId = parse_id(&id, "user")?;
    Ok(Json(
        state
            .core
            .set_user_password(&auth, id, input.password)
            .await?
            .into(),
    ))
}
