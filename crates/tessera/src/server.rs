//! `tessera serve`: wires the store, the services and the HTTP application, and serves until
//! told to stop, finishing the requests in flight.

use crate::config::Settings;
use anyhow::Context;
use secrecy::ExposeSecret;
use std::future::Future;
use std::sync::Arc;
use tessera_core::Core;
use tessera_core::clock::SystemClock;
use tessera_core::password::{PasswordHasher, PasswordPolicy, default_workers};
use tessera_core::sealing::SealingKey;
use tessera_core::secret::SecretHash;
use tessera_oidc::keys::KeyRing;
use tessera_oidc::provider::{Provider, ProviderSettings};
use tessera_store::StoreOptions;
use tessera_web::{AppParts, AppState, HttpSettings};
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
    let workers = match settings.password_workers {
        0 => default_workers(),
        n => n,
    };
    let passwords = PasswordHasher::start(settings.argon2, workers, settings.password_queue)
        .context("cannot start the password hashers")?;
    let core = Core::with_passwords(
        store,
        Arc::new(SystemClock),
        bootstrap,
        passwords,
        PasswordPolicy::default(),
    )
    .await
    .context("cannot start the services")?;
    core.set_notifier(crate::mail::notifier(&settings.mail, core.clock().clone())?);
    core.set_sms_sender(crate::sms::sms_sender(
        &settings.sms,
        &settings.sms_allowed_prefixes,
    )?);
    let sealing = Arc::new(sealing_key(settings)?);
    core.set_sealing_key(sealing.clone());
    core.set_risk_sources(risk_sources(settings)?);
    core.set_captcha_verifiers(Arc::new(crate::captcha::HttpCaptchaVerifiers::new(
        settings.captcha_siteverify_url.clone(),
    )?));
    let outbound = Arc::new(crate::outbound::OutboundHttp::new(
        settings.outbound_allow_private,
    )?);
    core.set_outbound_client(outbound.clone());
    let keys = KeyRing::start(core.clone(), sealing)
        .await
        .context("cannot load the signing keys")?;
    let provider = Provider::new(
        core.clone(),
        keys,
        ProviderSettings {
            access_token_algorithm: settings.access_token_algorithm,
            ..ProviderSettings::default()
        },
    );
    let http = HttpSettings {
        body_limit_bytes: settings.body_limit_bytes,
        request_timeout: settings.request_timeout,
        hsts: settings.public_url.starts_with("https://"),
        header_read_timeout: settings.header_read_timeout,
        public_url: settings.public_url.clone(),
        rate_limits: settings.rate_limits.clone(),
    };
    Ok(AppState::new(AppParts {
        core,
        provider,
        outbound,
        metrics: tessera_web::install_metrics_recorder(),
        settings: Arc::new(http),
    }))
}

/// The key that seals signing keys (and the identity verification providers' secrets) at
/// rest: from configuration, else from the key file in the data directory, created
/// (readable by the owner only) on first start.
pub(crate) fn sealing_key(settings: &Settings) -> anyhow::Result<SealingKey> {
    if let Some(key) = &settings.key_encryption_key {
        return SealingKey::from_base64(key.expose_secret())
            .map_err(|e| anyhow::anyhow!("key_encryption_key: {e}"));
    }
    let path = settings.data_dir.join("key-encryption.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => SealingKey::from_base64(text.trim())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&settings.data_dir).with_context(|| {
                format!(
                    "cannot create the data directory {}",
                    settings.data_dir.display()
                )
            })?;
            let key = SealingKey::generate();
            match write_private(&path, &key.to_base64()) {
                Ok(()) => {
                    tracing::warn!(
                        path = %path.display(),
                        "generated a key encryption key; back it up: without it the signing keys cannot be read"
                    );
                    Ok(key)
                }
                // Another instance sharing the data directory made it first: use theirs.
                Err(_) if path.exists() => sealing_key(settings),
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(anyhow::anyhow!("cannot read {}: {error}", path.display())),
    }
}

fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Without a configured public URL the issuer is the listening address; when that was
/// port 0, the port the system chose is the one browsers and clients will use.
fn with_bound_address(settings: &Settings, bound: std::net::SocketAddr) -> Settings {
    let mut settings = settings.clone();
    if settings.listen.port() == 0 && settings.public_url == format!("http://{}", settings.listen) {
        settings.public_url = format!("http://{bound}");
    }
    settings
}

/// Serves on `listener` until `shutdown` completes, then drains the requests in flight.
pub async fn run(
    settings: &Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let settings = &with_bound_address(settings, listener.local_addr()?);
    let state = prepare(settings).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        issuer = %settings.public_url,
        database = state.core.store().backend(),
        "tessera is serving"
    );
    let header_read_timeout = state.settings.header_read_timeout;
    let purge = tokio::spawn(purge_expired_state(state.core.clone()));
    let upkeep = tessera_web::spawn_metrics_upkeep(state.metrics.clone());
    let keys = tokio::spawn(key_maintenance(
        state.provider.keys().clone(),
        settings.key_rotation_days,
    ));
    tessera_web::serve(
        listener,
        tessera_web::app(state),
        header_read_timeout,
        shutdown,
    )
    .await;
    keys.abort();
    purge.abort();
    upkeep.abort();
    tracing::info!("tessera stopped");
    Ok(())
}

/// How often every instance reads the keys again (rotations by others or the CLI).
const KEY_RELOAD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
/// A scheduled successor is published this long before it signs: far longer than the
/// reload interval and the JWKS cache lifetime we announce.
const KEY_PUBLISH_AHEAD: time::Duration = time::Duration::hours(1);

/// Reloads the key ring now and then and starts scheduled rotations.
async fn key_maintenance(ring: KeyRing, rotation_days: u32) {
    let mut interval = tokio::time::interval(KEY_RELOAD_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(error) = ring.reload().await {
            tracing::warn!(%error, "signing keys could not be reloaded");
            continue;
        }
        if rotation_days == 0 {
            continue;
        }
        let every = time::Duration::days(rotation_days.into());
        match ring.rotate_due(every, KEY_PUBLISH_AHEAD).await {
            Ok(made) if !made.is_empty() => {
                tracing::info!(kids = ?made, "signing keys rotated; the new keys sign in an hour");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "scheduled key rotation failed"),
        }
    }
}

/// Deletes expired codes, sessions, grants and tokens every hour. Several instances may
/// do it at once; the deletes are idempotent.
async fn purge_expired_state(core: Core) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(3600));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match core.purge_expired_state().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired sign-in state deleted"),
            Err(error) => tracing::warn!(%error, "purging expired state failed"),
        }
    }
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

/// GeoIP and the IP lists of the risk engine, read once at start; a missing or malformed
/// file stops the start with the setting's name.
fn risk_sources(settings: &Settings) -> anyhow::Result<tessera_core::service::RiskSources> {
    let geo = crate::geoip::geo_lookup(&settings.geoip_databases)
        .map_err(|error| anyhow::anyhow!("geoip_databases: {error}"))?;
    let list = |setting: &str, path: &Option<std::path::PathBuf>| -> anyhow::Result<_> {
        let Some(path) = path else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|error| anyhow::anyhow!("{setting}: {}: {error}", path.display()))?;
        let parsed = tessera_core::risk::IpList::parse(&text)
            .map_err(|error| anyhow::anyhow!("{setting}: {}: {error}", path.display()))?;
        tracing::info!(setting, entries = parsed.len(), "IP list loaded");
        Ok(Some(parsed))
    };
    Ok(tessera_core::service::RiskSources {
        geo,
        deny_list: list("ip_deny_list", &settings.ip_deny_list)?,
        tor_exits: list("tor_exit_list", &settings.tor_exit_list)?,
    })
}
