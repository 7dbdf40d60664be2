//! `tessera serve`: wires the store, the services and the HTTP application, and serves until
//! told to stop, finishing the requests in flight.

use crate::config::Settings;
use anyhow::Context;
use secrecy::ExposeSecret;
use std::future::Future;
use std::sync::Arc;
use tessera_core::Core;
use tessera_core::clock::SystemClock;
use tessera_core::secret::SecretHash;
use tessera_store::StoreOptions;
use tessera_web::{AppState, HttpSettings};
use tokio::net::TcpListener;

/// Builds the application state: opens (and migrates) the database, makes sure the default
/// tenant exists.
pub async fn prepare(settings: &Settings) -> anyhow::Result<AppState> {
    if settings.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                settings.data_dir.display()
            )
        })?;
    }
    let options = StoreOptions {
        max_connections: settings.database_max_connections,
        migrate: true,
    };
    let store = tessera_store::connect(&settings.database_url, &options)
        .await
        .context("cannot open the database")?;
    let bootstrap = settings
        .admin_token
        .as_ref()
        .map(|token| SecretHash::of_str(token.expose_secret()));
    let core = Core::start(store, Arc::new(SystemClock), bootstrap)
        .await
        .context("cannot start the services")?;
    let http = HttpSettings {
        body_limit_bytes: settings.body_limit_bytes,
        request_timeout: settings.request_timeout,
        hsts: settings.public_url.starts_with("https://"),
        header_read_timeout: settings.header_read_timeout,
    };
    Ok(AppState {
        core,
        metrics: tessera_web::install_metrics_recorder(),
        settings: Arc::new(http),
    })
}

/// Serves on `listener` until `shutdown` completes, then drains the requests in flight.
pub async fn run(
    settings: &Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = prepare(settings).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        issuer = %settings.public_url,
        database = state.core.store().backend(),
        "tessera is serving"
    );
    let header_read_timeout = state.settings.header_read_timeout;
    tessera_web::serve(
        listener,
        tessera_web::app(state),
        header_read_timeout,
        shutdown,
    )
    .await;
    tracing::info!("tessera stopped");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
