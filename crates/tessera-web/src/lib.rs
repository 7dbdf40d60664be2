//! Tessera's HTTP surfaces: one axum router per surface, the extractors that turn requests
//! into domain values, and the one mapping per surface from domain errors to HTTP. This
//! crate never touches SQL; handlers extract, call one service, and render.

mod admin;
mod auth;
mod health;
mod identity_webhook;
mod json;
mod layers;
pub mod mail;
mod metrics;
mod oidc;
mod openapi;
mod pages;
mod problem;
pub mod rate_limit;
mod scim;
mod serve;
pub mod sms;
mod tenant;

pub use metrics::{install_metrics_recorder, spawn_metrics_upkeep};
pub use serve::serve;

use axum::Router;
use axum::extract::Request;
use std::sync::Arc;
use std::time::Duration;
use tessera_core::Core;
use tower::ServiceExt;

/// HTTP settings the router needs.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body accepted; larger ones get 413 before any parsing.
    pub body_limit_bytes: usize,
    /// Longest time a request may take before it is answered with 503.
    pub request_timeout: Duration,
    /// Whether responses should carry HSTS (the public URL is https).
    pub hsts: bool,
    /// Longest time a client may take to send a request's headers (A37).
    pub header_read_timeout: Duration,
    /// The issuer URL of the default tenant (no trailing slash).
    pub public_url: String,
    /// Per-address limits and the proxies trusted to name the client.
    pub rate_limits: rate_limit::RateLimitSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            hsts: false,
            header_read_timeout: Duration::from_secs(10),
            public_url: "http://127.0.0.1:8080".to_owned(),
            rate_limits: rate_limit::RateLimitSettings::default(),
        }
    }
}

/// Sends what Tessera tells other systems over HTTP, in the background.
pub trait Outbound: Send + Sync + std::fmt::Debug {
    /// POSTs each logout token to its client's back-channel logout URI.
    fn send_logout_tokens(&self, notices: Vec<tessera_oidc::provider::LogoutNotice>);
}

/// What every handler can reach. axum clones the state for each request, so it is one
/// reference count around [`AppParts`].
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    parts: AppParts,
    public_url: oidc::PublicUrl,
}

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct AppParts {
    pub core: Core,
    pub provider: tessera_oidc::provider::Provider,
    pub outbound: Arc<dyn Outbound>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    pub settings: Arc<HttpSettings>,
}

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        let public_url = oidc::PublicUrl::parse(&parts.settings.public_url);
        Self(Arc::new(Shared { parts, public_url }))
    }

    /// The public URL, taken apart once.
    pub(crate) fn public_url(&self) -> &oidc::PublicUrl {
        &self.0.public_url
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0.parts
    }
}

/// The whole HTTP application: every surface's routes, the tenant prefix handling and the
/// shared layers (request ids, tracing, metrics, limits, security headers).
pub fn app(state: AppState) -> Router {
    let settings = state.settings.clone();
    let routes = Router::new()
        .merge(health::routes())
        .merge(admin::routes())
        .merge(openapi::routes())
        .merge(oidc::routes())
        .merge(identity_webhook::routes())
        .merge(scim::routes())
        .fallback(problem::not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(rate_limit::RateLimiter::new(&settings.rate_limits)),
            rate_limit::enforce,
        ))
        .with_state(state);
    let routes = layers::apply(routes, &settings);
    // `/t/{slug}/…` is stripped before routing so that every surface serves both the root
    // and the prefixed paths with one set of routes.
    Router::new().fallback_service(tower::service_fn(move |request: Request| {
        let routes = routes.clone();
        async move { routes.oneshot(tenant::strip_prefix(request)).await }
    }))
}
