//! `tessera keys list|rotate`: the signing keys, straight from the database. Running
//! instances pick up a rotation at their next key reload (within a minute), long before a
//! new key starts signing.

// This command's output is its answer.
#![allow(clippy::print_stdout)]

use crate::cli::KeysCommand;
use crate::config::Settings;
use anyhow::Context;
use std::sync::Arc;
use tessera_core::Core;
use tessera_core::clock::SystemClock;
use tessera_core::oauth::client::SigningAlgorithm;
use tessera_oidc::keys::KeyRing;
use tessera_store::StoreOptions;
use time::format_description::well_known::Rfc3339;

pub async fn run(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    if settings.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                settings.data_dir.display()
            )
        })?;
    }
    let options = StoreOptions {
        max_connections: 2,
        migrate: true,
    };
    let store = tessera_store::connect(&settings.database_url, &options)
        .await
        .context("cannot open the database")?;
    let core = Core::start(store, Arc::new(SystemClock), None)
        .await
        .context("cannot start the services")?;
    let ring = KeyRing::start(core.clone(), crate::server::sealing_key(settings)?)
        .await
        .context("cannot load the signing keys")?;
    match command {
        KeysCommand::List => print_keys(&ring),
        KeysCommand::Rotate {
            algorithm,
            publish_ahead,
        } => {
            let algorithms: Vec<SigningAlgorithm> = if algorithm.eq_ignore_ascii_case("all") {
                SigningAlgorithm::ALL.to_vec()
            } else {
                vec![SigningAlgorithm::parse(&algorithm).with_context(|| {
                    format!("--algorithm: '{algorithm}' is not RS256, ES256, EdDSA or all")
                })?]
            };
            let activates_at = core.clock().now() + time::Duration::seconds(publish_ahead.into());
            for algorithm in algorithms {
                let kid = ring.add_key(algorithm, activates_at).await?;
                println!(
                    "{} {kid} signs from {}",
                    algorithm.as_str(),
                    rfc3339(activates_at)
                );
            }
            print_keys(&ring)
        }
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn print_keys(ring: &KeyRing) -> anyhow::Result<()> {
    println!(
        "{:<6} {:<44} {:<26} {:<26} RETIRES",
        "ALG", "KID", "CREATED", "SIGNS FROM"
    );
    for record in ring.records() {
        println!(
            "{:<6} {:<44} {:<26} {:<26} {}",
            record.algorithm.as_str(),
            record.kid,
            rfc3339(record.created_at),
            rfc3339(record.activates_at),
            record.retires_at.map(rfc3339).unwrap_or_else(|| "-".into()),
        );
    }
    Ok(())
}
