//! `/admin/v1/users/{id}/security`: a user's second factors, recovery codes left and
//! lockout counters; `/admin/v1/users/{id}/unlock` clears the lockout and
//! `/admin/v1/users/{id}/mfa` (DELETE) removes every second factor (a lost phone).

use super::{parse_id, rfc3339};
use crate::AppState;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::tenant::RequestTenant;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tessera_core::api_token::Scope;
use tessera_core::error::FieldError;
use tessera_core::ids::{TrustedDeviceId, UserId};
use tessera_core::lockout::Factor;
use tessera_core::mfa::TrustedDevice;
use tessera_core::service::UserSecurity;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/users/{id}/security", get(read))
        .route("/admin/v1/users/{id}/unlock", post(unlock))
        .route("/admin/v1/users/{id}/mfa", delete(reset_mfa))
        .route(
            "/admin/v1/users/{id}/trusted-devices/{device}",
            delete(forget_device),
        )
}

/// A browser the user trusts for their second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustedDeviceResponse {
    pub id: String,
    /// The browser, as its user agent named it ("Firefox (Linux)").
    pub label: String,
    pub created_at: String,
    pub expires_at: String,
}

/// A second factor (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct FactorResponse {
    pub id: String,
    /// `totp` (an authenticator app) or `passkey`.
    pub kind: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// A lockout counter that is not at zero.
#[derive(Debug, Serialize, ToSchema)]
pub struct LockResponse {
    /// `password`, `totp`, `recovery_code`, `email_code` or `passkey`.
    pub factor: String,
    /// Failed attempts in a row, refused ones included.
    pub failures: u32,
    /// No attempt is checked before this time.
    pub locked_until: Option<String>,
    /// The hard limit was reached: only an unlock (or a password reset) clears it.
    pub disabled: bool,
}

/// How a user signs in, for support and security staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityResponse {
    pub factors: Vec<FactorResponse>,
    pub recovery_codes_left: u32,
    pub locks: Vec<LockResponse>,
    /// Browsers that skip the second factor until they expire.
    pub trusted_devices: Vec<TrustedDeviceResponse>,
}

impl SecurityResponse {
    fn new(security: UserSecurity, devices: Vec<TrustedDevice>) -> Self {
        Self {
            trusted_devices: devices
                .into_iter()
                .map(|d| TrustedDeviceResponse {
                    id: d.id.to_string(),
                    label: d.label,
                    created_at: rfc3339(d.created_at),
                    expires_at: rfc3339(d.expires_at),
                })
                .collect(),
            factors: security
                .mfa
                .factors
                .into_iter()
                .map(|f| FactorResponse {
                    id: f.id.to_string(),
                    kind: f.kind.as_str().to_owned(),
                    name: f.name,
                    created_at: rfc3339(f.created_at),
                    last_used_at: f.last_used_at.map(rfc3339),
                })
                .collect(),
            recovery_codes_left: security.mfa.recovery_codes_left,
            locks: security
                .locks
                .into_iter()
                .map(|(factor, state)| LockResponse {
                    factor: factor.as_str().to_owned(),
                    failures: state.failures,
                    locked_until: state.locked_until.map(rfc3339),
                    disabled: state.disabled_at.is_some(),
                })
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/admin/v1/users/{id}/security", tag = "users",
    responses((status = 200, body = SecurityResponse), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<SecurityResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersRead)?;
    let id: UserId = parse_id(&id, "user")?;
    let security = state.core.user_security(&auth, id).await?;
    let devices = state.core.admin_trusted_devices(&auth, id).await?;
    Ok(Json(SecurityResponse::new(security, devices)))
}

#[utoipa::path(delete, path = "/admin/v1/users/{id}/trusted-devices/{device}", tag = "users",
    responses((status = 204), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn forget_device(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path((id, device)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersWrite)?;
    let id: UserId = parse_id(&id, "user")?;
    let device: TrustedDeviceId = parse_id(&device, "trusted device")?;
    state
        .core
        .admin_forget_trusted_device(&auth, id, device)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which counter to clear; all when `factor` is left out (send `{}`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockInput {
    pub factor: Option<String>,
}

/// Whether anything was locked.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnlockResponse {
    pub unlocked: bool,
}

#[utoipa::path(post, path = "/admin/v1/users/{id}/unlock", tag = "users",
    request_body = UnlockInput,
    responses((status = 200, body = UnlockResponse), (status = 400, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn unlock(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UnlockInput>,
) -> Result<Json<UnlockResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersWrite)?;
    let id: UserId = parse_id(&id, "user")?;
    let factor = match input.factor.as_deref() {
        None => None,
        Some(name) => Some(Factor::parse(name).ok_or_else(|| {
            tessera_core::CoreError::Validation(vec![FieldError::new(
                "factor",
                "password, totp, recovery_code, email_code or passkey",
            )])
        })?),
    };
    let unlocked = state.core.admin_unlock(&auth, id, factor).await?;
    Ok(Json(UnlockResponse { unlocked }))
}

/// How many factors were removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetResponse {
    pub removed: usize,
}

#[utoipa::path(delete, path = "/admin/v1/users/{id}/mfa", tag = "users",
    responses((status = 200, body = ResetResponse), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn reset_mfa(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<ResetResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersWrite)?;
    let id: UserId = parse_id(&id, "user")?;
    let removed = state.core.reset_mfa(&auth, id).await?;
    Ok(Json(ResetResponse { removed }))
}
