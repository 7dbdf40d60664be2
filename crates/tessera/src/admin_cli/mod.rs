//! `tessera admin …`: a client of the admin API for people (tables) and scripts (`--json`).

mod client;
mod commands;
mod table;

pub use commands::run;

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Base URL of the Tessera server.
    #[arg(long, env = "TESSERA_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Bearer token: an API token or the bootstrap admin token.
    #[arg(long, env = "TESSERA_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Act on this tenant (its slug) instead of the default one.
    #[arg(long, global = true)]
    pub tenant: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub resource: Resource,
}

#[derive(Debug, Subcommand)]
pub enum Resource {
    /// Tenants (brands, organisations).
    #[command(subcommand)]
    Tenants(TenantCommand),
    /// The tenant's custom attribute schema.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Users and light accounts.
    #[command(subcommand)]
    Users(UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Tokens(TokenCommand),
    /// Invitations: a mailed link with which the person sets a password.
    #[command(subcommand)]
    Invitations(InvitationCommand),
    /// OpenID Connect clients (relying parties).
    #[command(subcommand)]
    Clients(ClientCommand),
    /// The event (audit) log.
    #[command(subcommand)]
    Events(EventCommand),
    /// The tenant's identity verification provider.
    #[command(subcommand, name = "identity-verification")]
    IdentityVerification(IdentityVerificationCommand),
}

#[derive(Debug, Subcommand)]
pub enum IdentityVerificationCommand {
    /// Show the provider (never its secrets).
    Get,
    /// Set the provider from the JSON in FILE (`-` for standard input), so that the API
    /// token and webhook secret stay out of the shell's history.
    Put { file: PathBuf },
    /// Remove the provider.
    Delete,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    List,
    Get {
        slug: String,
    },
    Create {
        slug: String,
        #[arg(long)]
        name: String,
        /// A custom domain serving the tenant; repeat for several.
        #[arg(long = "domain")]
        domains: Vec<String>,
    },
    Update {
        slug: String,
        #[arg(long)]
        name: Option<String>,
        /// Replaces the custom domains; repeat for several.
        #[arg(long = "domain")]
        domains: Option<Vec<String>>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    Get,
    /// Replace the schema with the JSON in FILE (`-` for standard input).
    Put {
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    List {
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        status: Option<String>,
        /// NAME=VALUE; repeat for several.
        #[arg(long = "attribute")]
        attributes: Vec<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        cursor: Option<String>,
    },
    Get {
        id: String,
    },
    /// Create a user; with only an email, a light account.
    Create {
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        given_name: Option<String>,
        #[arg(long)]
        family_name: Option<String>,
        /// A full JSON body (`-` for standard input) instead of the flags.
        #[arg(long, conflicts_with_all = ["email", "given_name", "family_name"])]
        body: Option<PathBuf>,
    },
    /// Apply a JSON merge patch from FILE (`-` for standard input).
    Update {
        id: String,
        file: PathBuf,
    },
    Delete {
        id: String,
    },
    Disable {
        id: String,
    },
    Enable {
        id: String,
    },
    /// The user's identity verifications, newest first.
    Verifications {
        id: String,
    },
    /// The user's second factors, recovery codes left and lockout counters.
    Security {
        id: String,
    },
    /// Clear the user's lockout (of one factor: password, totp, recovery_code, email_code,
    /// passkey; else all).
    Unlock {
        id: String,
        #[arg(long)]
        factor: Option<String>,
    },
    /// Remove every second factor of the user (a lost phone); they enrol again.
    ResetMfa {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    List,
    Create {
        #[arg(long)]
        name: String,
        /// users:read, users:write, scim or admin; repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// RFC 3339 expiry time.
        #[arg(long)]
        expires_at: Option<String>,
    },
    Revoke {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum InvitationCommand {
    List,
    Get {
        id: String,
    },
    /// Invite an address: it gets a mail with a link to set a password.
    Create {
        #[arg(long)]
        email: String,
        /// The mail's and page's language (en, de); the tenant's default otherwise.
        #[arg(long)]
        language: Option<String>,
        /// Days the link is valid, 1 to 30 (default 7).
        #[arg(long)]
        valid_days: Option<u32>,
    },
    /// Withdraw a pending invitation; its link stops working.
    Revoke {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    List,
    Get {
        id: String,
    },
    /// Register a client; a confidential client's secret is shown this once.
    Create {
        #[arg(long)]
        name: Option<String>,
        /// Repeat for several.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Repeat for several.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// authorization_code (default), refresh_token, client_credentials; repeat.
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// client_secret_basic (default), client_secret_post, private_key_jwt or none.
        #[arg(long)]
        auth_method: Option<String>,
        /// Space-separated scopes the client may ask for.
        #[arg(long)]
        scope: Option<String>,
        /// Skip the consent page (an app of the business itself).
        #[arg(long)]
        first_party: bool,
        /// A full JSON body with RFC 7591 metadata (`-` for standard input) instead of flags.
        #[arg(long, conflicts_with_all = ["name", "redirect_uris", "grant_types", "auth_method", "scope"])]
        body: Option<PathBuf>,
    },
    /// Replace the metadata with the JSON in FILE (`-` for standard input).
    Replace {
        id: String,
        file: PathBuf,
    },
    /// Make a new secret; the old one stops working at once.
    RotateSecret {
        id: String,
    },
    /// Delete the client; its tokens stop working.
    Delete {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventCommand {
    List {
        /// Event type; repeat for several.
        #[arg(long = "type")]
        types: Vec<String>,
        #[arg(long)]
        subject: Option<String>,
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        cursor: Option<String>,
    },
}
