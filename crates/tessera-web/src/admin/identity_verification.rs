//! `/admin/v1/identity-verification`: the tenant's identity verification provider (set,
//! read, remove; its API token and webhook secret are write-only), and
//! `/admin/v1/users/{id}/verifications`: a user's verifications, newest first.

use super::{parse_id, rfc3339};
use crate::AppState;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::tenant::RequestTenant;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tessera_core::api_token::Scope;
use tessera_core::identity_verification::IdentityVerification;
use tessera_core::identity_verification::provider::ProviderSettings;
use tessera_core::ids::UserId;
use tessera_core::service::ProviderView;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/v1/identity-verification",
            get(read).put(replace).delete(remove),
        )
        .route("/admin/v1/users/{id}/verifications", get(verifications))
}

/// The provider's settings. `api_token` and `webhook_secret` are required the first time;
/// left out later, the stored ones are kept. Neither is ever returned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    /// Shown to users: "The check is done by <name>". 1 to 100 characters.
    pub name: String,
    /// Where sessions are started: https (http only on a loopback host).
    pub start_url: String,
    /// Sent as `Authorization: Bearer …` with each start request.
    #[schema(value_type = Option<String>)]
    pub api_token: Option<SecretString>,
    /// Signs the provider's webhooks (HMAC-SHA256); at least 32 bytes.
    #[schema(value_type = Option<String>)]
    pub webhook_secret: Option<SecretString>,
    /// The trust framework of the verifications, e.g. `eidas` or `de_aml`.
    pub trust_framework: String,
    /// How long a session may stay pending, 5 to 1440 (default 60).
    pub session_minutes: Option<u32>,
}

/// The provider, without its secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderResponse {
    pub name: String,
    pub start_url: String,
    pub trust_framework: String,
    pub session_minutes: u32,
    pub api_token_set: bool,
    pub webhook_secret_set: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<ProviderView> for ProviderResponse {
    fn from(view: ProviderView) -> Self {
        Self {
            name: view.name,
            start_url: view.start_url,
            trust_framework: view.trust_framework,
            session_minutes: view.session_minutes,
            api_token_set: view.api_token_set,
            webhook_secret_set: view.webhook_secret_set,
            created_at: rfc3339(view.created_at),
            updated_at: rfc3339(view.updated_at),
        }
    }
}

#[utoipa::path(get, path = "/admin/v1/identity-verification", tag = "identity verification",
    responses((status = 200, body = ProviderResponse), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
) -> Result<Json<ProviderResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    Ok(Json(state.core.identity_provider(&auth).await?.into()))
}

#[utoipa::path(put, path = "/admin/v1/identity-verification", tag = "identity verification", request_body = ProviderInput,
    responses((status = 200, body = ProviderResponse), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<Json<ProviderResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let settings = ProviderSettings {
        name: input.name,
        start_url: input.start_url,
        api_token: input.api_token,
        webhook_secret: input.webhook_secret,
        trust_framework: input.trust_framework,
        session_minutes: input.session_minutes,
    };
    Ok(Json(
        state
            .core
            .put_identity_provider(&auth, settings)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/admin/v1/identity-verification", tag = "identity verification",
    responses((status = 204, description = "removed; clients that require a level show users an error page until a provider is set again"), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
) -> Result<StatusCode, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    state.core.delete_identity_provider(&auth).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One identity verification of a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationResponse {
    pub id: String,
    /// The session at the provider that produced it (its webhook `reference`).
    pub session_id: String,
    pub provider: String,
    pub trust_framework: String,
    /// `low`, `substantial` or `high`.
    pub level: String,
    /// The evidence types the provider named (`document`, `electronic_record`, …).
    pub evidence: Vec<String>,
    /// RFC 3339: when the provider verified.
    pub verified_at: String,
    /// RFC 3339: when Tessera received the result.
    pub created_at: String,
    /// The `verified_claims` object clients receive.
    #[schema(value_type = Object)]
    pub verified_claims: serde_json::Value,
}

impl From<IdentityVerification> for VerificationResponse {
    fn from(verification: IdentityVerification) -> Self {
        Self {
            id: verification.id.to_string(),
            session_id: verification.session_id.to_string(),
            provider: verification.provider,
            trust_framework: verification.trust_framework,
            level: verification.level.as_str().to_owned(),
            evidence: verification.evidence,
            verified_at: rfc3339(verification.verified_at),
            created_at: rfc3339(verification.created_at),
            verified_claims: verification.verified_claims,
        }
    }
}

/// A user's identity verifications, newest first (at most 100).
#[derive(Debug, Serialize, ToSchema)]
pub struct Verifications {
    pub items: Vec<VerificationResponse>,
}

#[utoipa::path(get, path = "/admin/v1/users/{id}/verifications", tag = "users",
    responses((status = 200, body = Verifications), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn verifications(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<Verifications>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::UsersRead)?;
    let id: UserId = parse_id(&id, "user")?;
    let items = state
        .core
        .identity_verifications(&auth, id)
        .await?
        .into_iter()
        .map(VerificationResponse::from)
        .collect();
    Ok(Json(Verifications { items }))
}
