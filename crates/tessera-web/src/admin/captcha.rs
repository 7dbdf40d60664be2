//! `/admin/v1/captcha-secret`: the secret of the tenant's external captcha (hCaptcha,
//! Turnstile, reCAPTCHA), which its `siteverify` endpoint wants beside each token. It is
//! write-only: sealed at rest, never returned; `GET` says whether one is set.

use crate::AppState;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::tenant::RequestTenant;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tessera_core::api_token::Scope;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/admin/v1/captcha-secret",
        get(read).put(replace).delete(remove),
    )
}

/// The secret the provider gave with the site key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptchaSecretInput {
    #[schema(value_type = String)]
    pub secret: SecretString,
}

/// Whether the tenant's captcha secret is set (never the secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct CaptchaSecretStatus {
    pub secret_set: bool,
}

#[utoipa::path(get, path = "/admin/v1/captcha-secret", tag = "tenants",
    responses((status = 200, body = CaptchaSecretStatus), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
) -> Result<Json<CaptchaSecretStatus>, ApiError> {
    caller.authorize(&tenant, Scope::Admin)?;
    Ok(Json(CaptchaSecretStatus {
        secret_set: state.core.captcha_secret_set(&tenant).await?,
    }))
}

#[utoipa::path(put, path = "/admin/v1/captcha-secret", tag = "tenants", request_body = CaptchaSecretInput,
    responses((status = 204, description = "set (sealed at rest)"), (status = 400, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    ApiJson(input): ApiJson<CaptchaSecretInput>,
) -> Result<StatusCode, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    state.core.set_captcha_secret(&auth, input.secret).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/admin/v1/captcha-secret", tag = "tenants",
    responses((status = 204, description = "removed; a captcha the settings still ask for then fails closed"), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
) -> Result<StatusCode, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    if state.core.delete_captcha_secret(&auth).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(tessera_core::CoreError::NotFound("captcha secret").into())
    }
}
