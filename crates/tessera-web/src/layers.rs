//! The layers every response passes through: request ids, tracing without secrets, metrics,
//! body limits, timeouts, panic safety and security headers.

use crate::HttpSettings;
use crate::metrics::RequestMeasure;
use crate::problem::ApiError;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

const HSTS: HeaderValue = HeaderValue::from_static("max-age=63072000; includeSubDomains");

/// Wraps `routes` in the shared layers. The last `.layer` call runs first on a request, so
/// the security headers and the problem-details fallback see every response, including the
/// ones the limit, timeout and panic layers make.
pub fn apply(routes: Router, settings: &HttpSettings) -> Router {
    let hsts = settings.hsts;
    routes
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(settings.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, settings.request_timeout))
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            // The panic message may quote request data: it is logged by the panic hook, not sent.
            ApiError::internal("a handler panicked").into_response()
        }))
        .layer(middleware::from_fn(move |request: Request, next: Next| every_response(request, next, hsts)))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            // Only the method and path are logged: query strings and headers may hold secrets.
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %request_id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                // The response line above already carries the status; an ERROR line for each
                // deliberate 503 would flood the log exactly when the server is busiest.
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
}

/// What every response gets, in one layer (each layer costs allocations per request): the
/// problem-details body for errors made by layers, the security headers, and its metrics.
async fn every_response(request: Request, next: Next, hsts: bool) -> Response {
    let measure = RequestMeasure::start(&request);
    let scim = request.uri().path().starts_with("/scim/");
    let mut response = problem_body_for_bare_errors(next.run(request).await, scim);
    // The rest of an oversized body is never read, so the connection cannot carry another
    // request: say so, rather than let the client find out on its next request.
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    security_headers(response.headers_mut(), hsts);
    measure.record(response.status());
    response
}

/// Error answers made by layers (body limit, timeout, panic) carry no body of ours: give
/// them the problem-details body every client of the API expects, or on the SCIM surface
/// the SCIM error its clients expect.
fn problem_body_for_bare_errors(response: Response, scim: bool) -> Response {
    // Handlers answer in their surface's own format (problem details, OAuth JSON, HTML
    // pages); only the bare or plain-text answers of layers are rewritten.
    let made_by_a_layer = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !made_by_a_layer
        || !(response.status().is_client_error() || response.status().is_server_error())
    {
        return response;
    }
    if scim {
        let error = match response.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                tessera_scim::ScimError::payload_too_large("the body is too large")
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                tessera_scim::ScimError::with_status(503, "the request took too long")
            }
            status => tessera_scim::ScimError::with_status(
                status.as_u16(),
                status.canonical_reason().unwrap_or("error"),
            ),
        };
        return crate::scim::ScimFailure(error).into_response();
    }
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The body is too large",
        )
        .into_response(),
        StatusCode::SERVICE_UNAVAILABLE => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Temporarily unavailable",
        )
        .detail("the request took too long")
        .into_response(),
        _ => response,
    }
}

/// Headers that every response carries unless the handler chose otherwise (A20).
fn security_headers(headers: &mut HeaderMap, hsts: bool) {
    let defaults: [(HeaderName, &'static str); 5] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if hsts {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HSTS);
    }
}

/// A random UUID per request, drawn from the thread's CSPRNG: the `uuid` crate's own v4
/// makes a `getrandom` system call for each one.
#[derive(Debug, Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut text = uuid::Uuid::encode_buffer();
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut text))
            .ok()
            .map(RequestId::new)
    }
}
