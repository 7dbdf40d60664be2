//! The layers every response passes through: request ids, tracing without secrets, metrics,
//! body limits, timeouts, panic safety and security headers.

use crate::HttpSettings;
use crate::metrics::record_request;
use crate::problem::ApiError;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
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
        .layer(middleware::from_fn(record_request))
        .layer(middleware::from_fn(bare_errors_as_problems))
        .layer(middleware::from_fn(move |request: Request, next: Next| security_headers(request, next, hsts)))
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
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Error answers made by layers (body limit, timeout) carry no body of ours: give them the
/// problem-details body every client of the API expects.
async fn bare_errors_as_problems(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
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
async fn security_headers(request: Request, next: Next, hsts: bool) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
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
    response
}
