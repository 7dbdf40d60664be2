//! Successful SCIM answers: a status, an optional `application/scim+json` body, and the
//! `ETag` and `Location` headers of the resource it concerns.

use super::error::SCIM_JSON;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

#[derive(Debug)]
pub struct ScimReply {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub etag: Option<String>,
    pub location: Option<String>,
}

impl ScimReply {
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body: Some(body),
            etag: None,
            location: None,
        }
    }

    /// A resource as the request's selection shows it (`shown`), with the ETag and, when
    /// `created`, the location of its full form (a selection may leave `meta` out).
    pub fn resource(status: StatusCode, full: &Value, shown: Value) -> Self {
        let meta = &full["meta"];
        let etag = meta["version"].as_str().map(str::to_owned);
        let location = (status == StatusCode::CREATED)
            .then(|| meta["location"].as_str().map(str::to_owned))
            .flatten();
        Self {
            status,
            body: Some(shown),
            etag,
            location,
        }
    }

    /// 304: the client's copy (named by `If-None-Match`) is current.
    pub fn not_modified(version: i64) -> Self {
        Self {
            etag: Some(tessera_scim::mapping::etag(version)),
            ..Self::status(StatusCode::NOT_MODIFIED)
        }
    }

    pub fn status(status: StatusCode) -> Self {
        Self {
            status,
            body: None,
            etag: None,
            location: None,
        }
    }
}

impl IntoResponse for ScimReply {
    fn into_response(self) -> Response {
        let mut response = match &self.body {
            Some(body) => {
                let mut response =
                    (self.status, serde_json::to_vec(body).unwrap_or_default()).into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
                response
            }
            None => self.status.into_response(),
        };
        let headers = response.headers_mut();
        for (name, value) in [(header::ETAG, self.etag), (header::LOCATION, self.location)] {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                headers.insert(name, value);
            }
        }
        response
    }
}
