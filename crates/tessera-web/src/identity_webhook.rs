//! `POST /identity-verification/webhook` (also under `/t/{tenant}`): the identity
//! verification provider reports a session's result. The raw body goes to the core with
//! the `Tessera-Signature` header, which is checked before the body is read; every refusal
//! is an RFC 9457 problem. Nothing of the body or the signature is logged.

use crate::AppState;
use crate::pages::identity::WEBHOOK_PATH;
use crate::problem::ApiError;
use crate::tenant::RequestTenant;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{Value, json};
use tessera_core::identity_verification::webhook::{MAX_BODY_BYTES, SIGNATURE_HEADER};
use tessera_core::service::WebhookError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(WEBHOOK_PATH, post(receive))
        .route_layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

fn problem(error: WebhookError) -> ApiError {
    let detail = error.to_string();
    match error {
        WebhookError::NotConfigured | WebhookError::UnknownReference => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found").detail(detail)
        }
        WebhookError::Signature(_) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "The webhook signature is not valid",
        )
        .detail(detail),
        WebhookError::Malformed(_) => ApiError::bad_request(detail),
        WebhookError::AlreadyEnded(_) => ApiError::new(
            StatusCode::CONFLICT,
            "session_ended",
            "The session has already ended",
        )
        .detail(detail),
        WebhookError::Core(error) => error.into(),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

async fn receive(
    State(state): State<AppState>,
    RequestTenant(tenant): RequestTenant,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    if !is_json(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
        )
        .detail("send the body as application/json"));
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The body is too large",
            )
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .map(|value| value.to_str().unwrap_or(""));
    match state
        .core
        .receive_identity_webhook(&tenant, signature, &body)
        .await
    {
        Ok(status) => {
            tracing::info!(tenant = %tenant.slug, status = status.as_str(), "identity verification result received");
            Ok(Json(json!({ "status": status })))
        }
        Err(error) => {
            tracing::warn!(tenant = %tenant.slug, %error, "identity verification webhook refused");
            Err(problem(error))
        }
    }
}
