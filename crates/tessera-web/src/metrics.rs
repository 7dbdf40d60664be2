//! Prometheus metrics: request counts and latencies per route, database pool gauges.

use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use metrics::SharedString;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use tessera_core::store::PoolStats;

const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide metrics recorder once and returns its handle; the `metrics`
/// crate's macros record into it from anywhere.
pub fn install_metrics_recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            match builder.install_recorder() {
                Ok(handle) => handle,
                // Another recorder is installed (an embedding program's): render an empty one.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            }
        })
        .clone()
}

/// Folds recorded histogram samples into their buckets every few seconds; without it the
/// samples pile up in memory until `/metrics` is scraped.
pub fn spawn_metrics_upkeep(handle: PrometheusHandle) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            interval.tick().await;
            handle.run_upkeep();
        }
    })
}

/// Counts a request and records its latency under its route template, never the raw path
/// (which would hold ids and explode the number of series).
pub struct RequestMeasure {
    started: Instant,
    method: SharedString,
    route: SharedString,
}

impl RequestMeasure {
    pub fn start(request: &Request) -> Self {
        let method = match request.method().as_str() {
            // The usual methods need no allocation.
            known @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => {
                SharedString::const_str(static_method(known))
            }
            other => SharedString::from(other.to_owned()),
        };
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(SharedString::const_str("unmatched"), |p| {
                SharedString::from(p.as_str().to_owned())
            });
        Self {
            started: Instant::now(),
            method,
            route,
        }
    }

    pub fn record(self, status: StatusCode) {
        let labels = [("method", self.method), ("route", self.route)];
        metrics::histogram!("tessera_http_request_duration_seconds", &labels)
            .record(self.started.elapsed().as_secs_f64());
        let [method, route] = labels;
        metrics::counter!(
            "tessera_http_requests_total",
            "method" => method.1,
            "route" => route.1,
            "status" => status.as_str().to_owned()
        )
        .increment(1);
    }
}

fn static_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        _ => "OPTIONS",
    }
}

/// Publishes the pool figures; called just before each scrape.
pub fn record_pool(backend: &'static str, stats: PoolStats) {
    metrics::gauge!("tessera_db_pool_connections", "backend" => backend)
        .set(f64::from(stats.connections));
    metrics::gauge!("tessera_db_pool_idle_connections", "backend" => backend)
        .set(f64::from(stats.idle));
    metrics::gauge!("tessera_db_pool_max_connections", "backend" => backend)
        .set(f64::from(stats.max_connections));
}

/// The password hashing pool: its queue and how often it was full (fast 503s).
pub fn record_passwords(stats: tessera_core::password::HasherMetrics) {
    metrics::gauge!("tessera_password_queue_depth").set(stats.queue_depth as f64);
    metrics::counter!("tessera_password_hashes_total").absolute(stats.hashes_computed);
    metrics::counter!("tessera_password_busy_rejections_total").absolute(stats.busy_rejections);
}
