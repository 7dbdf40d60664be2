//! The JSON body of a SCIM request: `application/scim+json` or `application/json`, within
//! the size limit, parsed as a JSON value; every failure is a SCIM error.

use super::error::ScimFailure;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde_json::Value;
use tessera_scim::ScimError;

pub struct ScimJson(pub Value);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/scim+json" || essence == "application/json"
}

impl<S: Send + Sync> FromRequest<S> for ScimJson {
    type Rejection = ScimFailure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(content_type) {
            return Err(ScimFailure(ScimError::with_status(
                415,
                "send the body as application/scim+json",
            )));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ScimError::payload_too_large("the body is too large")
                } else {
                    ScimError::invalid_syntax("the body could not be read")
                }
            })?;
        serde_json::from_slice(&bytes).map(ScimJson).map_err(|e| {
            ScimFailure(ScimError::invalid_syntax(format!(
                "the body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            )))
        })
    }
}
