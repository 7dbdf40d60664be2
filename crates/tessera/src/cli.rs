//! The command line: `tessera serve`, `tessera migrate` and `tessera admin …`.

use crate::admin_cli::AdminArgs;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Tessera: customer identity and access management in one binary.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about)]
pub struct Cli {
    /// Configuration file (default: ./tessera.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (HTTP, background workers).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Administer a running server through its admin API.
    Admin(AdminArgs),
    /// List or rotate the token-signing keys (works on the database directly).
    Keys(KeysArgs),
}

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Show every key with its algorithm and schedule.
    List,
    /// Create successors that are published now and sign after --publish-ahead; the old
    /// keys stay published until the tokens they signed have expired.
    Rotate {
        /// RS256, ES256, EdDSA or all.
        #[arg(long, default_value = "all")]
        algorithm: String,
        /// Seconds between publishing a key and signing with it; give relying parties
        /// (and other instances) time to fetch the new JWKS.
        #[arg(long, default_value_t = 3600)]
        publish_ahead: u32,
    },
}

/// Flags of `serve`; each overrides the file and the environment.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080.
    #[arg(long)]
    pub listen: Option<String>,
    /// Public base URL and OpenID issuer, e.g. https://id.example.com.
    #[arg(long)]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// sqlite://path/to/file.db or postgres://user@host/db.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Directory for the embedded database and local state.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}
