//! Operations endpoints: liveness, readiness and Prometheus metrics.

use crate::AppState;
use crate::metrics::record_pool;
use crate::problem::ApiError;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is alive and serving.
async fn healthz() -> &'static str {
    "ok\n"
}

/// The process can serve requests: its database answers.
async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.core.ready().await?;
    Ok("ready\n")
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.core.store();
    record_pool(store.backend(), store.pool_stats());
    crate::metrics::record_passwords(state.core.password_metrics());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
