//! `tessera`: customer identity and access management in one binary.

use anyhow::Context;
use clap::Parser;
use tessera::cli::{Cli, Command, ServeArgs};
use tessera::config::{Config, FlagOverrides, Settings};
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(cli.config.as_deref(), args).await,
            Command::Migrate(database) => {
                let flags = FlagOverrides {
                    database_url: database.database_url,
                    data_dir: database.data_dir,
                    ..FlagOverrides::default()
                };
                let settings = settings(cli.config.as_deref(), &flags)?;
                init_logging(&settings);
                if settings.database_url.starts_with("sqlite:") {
                    std::fs::create_dir_all(&settings.data_dir)?;
                }
                let applied = tessera_store::migrate(&settings.database_url)
                    .await
                    .context("migration failed")?;
                tracing::info!(applied, "database schema is up to date");
                Ok(())
            }
            Command::Admin(args) => tessera::admin_cli::run(args).await,
            Command::Keys(args) => {
                let flags = FlagOverrides {
                    database_url: args.database.database_url.clone(),
                    data_dir: args.database.data_dir.clone(),
                    ..FlagOverrides::default()
                };
                let settings = settings(cli.config.as_deref(), &flags)?;
                init_logging(&settings);
                tessera::keys_cli::run(&settings, args.command).await
            }
        }
    })
}

fn settings(file: Option<&std::path::Path>, flags: &FlagOverrides) -> anyhow::Result<Settings> {
    let environment: Vec<(String, String)> = std::env::vars().collect();
    Ok(Config::load(file, &environment, flags)?.validate()?)
}

async fn serve(file: Option<&std::path::Path>, args: ServeArgs) -> anyhow::Result<()> {
    let flags = FlagOverrides {
        listen: args.listen,
        public_url: args.public_url,
        data_dir: args.database.data_dir,
        database_url: args.database.database_url,
    };
    let settings = settings(file, &flags)?;
    init_logging(&settings);
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    tessera::server::run(&settings, listener, tessera::server::shutdown_signal()).await
}

fn init_logging(settings: &Settings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log_level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if settings.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}
