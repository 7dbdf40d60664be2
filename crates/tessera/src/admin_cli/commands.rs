//! What each `tessera admin` subcommand sends, and how its answer is shown.

use super::client::Client;
use super::table;
use super::{
    AdminArgs, ClientCommand, EventCommand, IdentityVerificationCommand, InvitationCommand,
    Resource, SchemaCommand, TenantCommand, TokenCommand, UserCommand,
};
use anyhow::Context;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;

/// How an answer is shown in a table.
enum Shape {
    List(&'static [&'static str]),
    Object,
    Nothing(&'static str),
}

const USER_COLUMNS: &[&str] = &[
    "id",
    "email",
    "given_name",
    "family_name",
    "status",
    "created_at",
];
const TENANT_COLUMNS: &[&str] = &["id", "slug", "display_name", "domains", "created_at"];
const CLIENT_COLUMNS: &[&str] = &[
    "client_id",
    "client_name",
    "token_endpoint_auth_method",
    "grant_types",
    "first_party",
];
const TOKEN_COLUMNS: &[&str] = &[
    "id",
    "name",
    "scopes",
    "created_at",
    "expires_at",
    "revoked_at",
];
const EVENT_COLUMNS: &[&str] = &["id", "type", "occurred_at", "actor", "subject"];
const INVITATION_COLUMNS: &[&str] = &["id", "email", "state", "created_at", "expires_at"];
const VERIFICATION_COLUMNS: &[&str] =
    &["id", "level", "provider", "trust_framework", "verified_at"];

fn read_json(file: &Path) -> anyhow::Result<Value> {
    let mut text = String::new();
    if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
    }
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))
}

fn paging(query: &mut Vec<(String, String)>, limit: Option<u32>, cursor: Option<String>) {
    if let Some(limit) = limit {
        query.push(("limit".into(), limit.to_string()));
    }
    if let Some(cursor) = cursor {
        query.push(("cursor".into(), cursor));
    }
}

fn optional(query: &mut Vec<(String, String)>, name: &str, value: Option<String>) {
    if let Some(value) = value {
        query.push((name.to_owned(), value));
    }
}

pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let client = Client::new(&args.url, args.tenant.as_deref(), args.token.as_deref())?;
    let mut query = Vec::new();
    let (method, path, body, shape) = match args.resource {
        Resource::Tenants(command) => match command {
            TenantCommand::List => (
                Method::GET,
                "/admin/v1/tenants".to_owned(),
                None,
                Shape::List(TENANT_COLUMNS),
            ),
            TenantCommand::Get { slug } => (
                Method::GET,
                format!("/admin/v1/tenants/{slug}"),
                None,
                Shape::Object,
            ),
            TenantCommand::Create {
                slug,
                name,
                domains,
            } => (
                Method::POST,
                "/admin/v1/tenants".to_owned(),
                Some(json!({"slug": slug, "display_name": name, "domains": domains})),
                Shape::Object,
            ),
            TenantCommand::Update {
                slug,
                name,
                domains,
            } => {
                let mut patch = serde_json::Map::new();
                if let Some(name) = name {
                    patch.insert("display_name".into(), json!(name));
                }
                if let Some(domains) = domains {
                    patch.insert("domains".into(), json!(domains));
                }
                (
                    Method::PATCH,
                    format!("/admin/v1/tenants/{slug}"),
                    Some(Value::Object(patch)),
                    Shape::Object,
                )
            }
        },
        Resource::Schema(command) => match command {
            SchemaCommand::Get => (
                Method::GET,
                "/admin/v1/schema".to_owned(),
                None,
                Shape::Object,
            ),
            SchemaCommand::Put { file } => (
                Method::PUT,
                "/admin/v1/schema".to_owned(),
                Some(read_json(&file)?),
                Shape::Object,
            ),
        },
        Resource::Users(command) => match command {
            UserCommand::List {
                email,
                name,
                status,
                attributes,
                limit,
                cursor,
            } => {
                optional(&mut query, "email", email);
                optional(&mut query, "name", name);
                optional(&mut query, "status", status);
                for attribute in attributes {
                    let (name, value) = attribute
                        .split_once('=')
                        .context("--attribute takes NAME=VALUE")?;
                    query.push((format!("attribute.{name}"), value.to_owned()));
                }
                paging(&mut query, limit, cursor);
                (
                    Method::GET,
                    "/admin/v1/users".to_owned(),
                    None,
                    Shape::List(USER_COLUMNS),
                )
            }
            UserCommand::Get { id } => (
                Method::GET,
                format!("/admin/v1/users/{id}"),
                None,
                Shape::Object,
            ),
            UserCommand::Create {
                email,
                given_name,
                family_name,
                body,
            } => {
                let body = match body {
                    Some(file) => read_json(&file)?,
                    None => {
                        let mut fields = serde_json::Map::new();
                        for (name, value) in [
                            ("email", email),
                            ("given_name", given_name),
                            ("family_name", family_name),
                        ] {
                            if let Some(value) = value {
                                fields.insert(name.into(), json!(value));
                            }
                        }
                        Value::Object(fields)
                    }
                };
                (
                    Method::POST,
                    "/admin/v1/users".to_owned(),
                    Some(body),
                    Shape::Object,
                )
            }
            UserCommand::Update { id, file } => (
                Method::PATCH,
                format!("/admin/v1/users/{id}"),
                Some(read_json(&file)?),
                Shape::Object,
            ),
            UserCommand::Delete { id } => (
                Method::DELETE,
                format!("/admin/v1/users/{id}"),
                None,
                Shape::Nothing("deleted"),
            ),
            UserCommand::Disable { id } => (
                Method::POST,
                format!("/admin/v1/users/{id}/disable"),
                None,
                Shape::Object,
            ),
            UserCommand::Enable { id } => (
                Method::POST,
                format!("/admin/v1/users/{id}/enable"),
                None,
                Shape::Object,
            ),
            UserCommand::Verifications { id } => (
                Method::GET,
                format!("/admin/v1/users/{id}/verifications"),
                None,
                Shape::List(VERIFICATION_COLUMNS),
            ),
            UserCommand::Security { id } => (
                Method::GET,
                format!("/admin/v1/users/{id}/security"),
                None,
                Shape::Object,
            ),
            UserCommand::Unlock { id, factor } => (
                Method::POST,
                format!("/admin/v1/users/{id}/unlock"),
                Some(match factor {
                    Some(factor) => serde_json::json!({"factor": factor}),
                    None => serde_json::json!({}),
                }),
                Shape::Object,
            ),
            UserCommand::ResetMfa { id } => (
                Method::DELETE,
                format!("/admin/v1/users/{id}/mfa"),
                None,
                Shape::Object,
            ),
        },
        Resource::IdentityVerification(command) => {
            let path = "/admin/v1/identity-verification".to_owned();
            match command {
                IdentityVerificationCommand::Get => (Method::GET, path, None, Shape::Object),
                IdentityVerificationCommand::Put { file } => {
                    (Method::PUT, path, Some(read_json(&file)?), Shape::Object)
                }
                IdentityVerificationCommand::Delete => {
                    (Method::DELETE, path, None, Shape::Nothing("removed"))
                }
            }
        }
        Resource::Tokens(command) => match command {
            TokenCommand::List => (
                Method::GET,
                "/admin/v1/api-tokens".to_owned(),
                None,
                Shape::List(TOKEN_COLUMNS),
            ),
            TokenCommand::Create {
                name,
                scopes,
                expires_at,
            } => {
                let body = json!({"name": name, "scopes": scopes, "expires_at": expires_at});
                (
                    Method::POST,
                    "/admin/v1/api-tokens".to_owned(),
                    Some(body),
                    Shape::Object,
                )
            }
            TokenCommand::Revoke { id } => (
                Method::DELETE,
                format!("/admin/v1/api-tokens/{id}"),
                None,
                Shape::Object,
            ),
        },
        Resource::Invitations(command) => match command {
            InvitationCommand::List => (
                Method::GET,
                "/admin/v1/invitations".to_owned(),
                None,
                Shape::List(INVITATION_COLUMNS),
            ),
            InvitationCommand::Get { id } => (
                Method::GET,
                format!("/admin/v1/invitations/{id}"),
                None,
                Shape::Object,
            ),
            InvitationCommand::Create {
                email,
                language,
                valid_days,
            } => (
                Method::POST,
                "/admin/v1/invitations".to_owned(),
                Some(json!({"email": email, "language": language, "valid_days": valid_days})),
                Shape::Object,
            ),
            InvitationCommand::Revoke { id } => (
                Method::DELETE,
                format!("/admin/v1/invitations/{id}"),
                None,
                Shape::Object,
            ),
        },
        Resource::Clients(command) => client_request(command)?,
        Resource::Events(EventCommand::List {
            types,
            subject,
            since,
            until,
            limit,
            cursor,
        }) => {
            for kind in types {
                query.push(("type".into(), kind));
            }
            optional(&mut query, "subject", subject);
            optional(&mut query, "since", since);
            optional(&mut query, "until", until);
            paging(&mut query, limit, cursor);
            (
                Method::GET,
                "/admin/v1/events".to_owned(),
                None,
                Shape::List(EVENT_COLUMNS),
            )
        }
    };
    let answer = client.send(method, &path, &query, body.as_ref()).await?;
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&answer)?)
    } else {
        match shape {
            Shape::List(columns) => table::list(&answer, columns),
            Shape::Object => table::object(&answer),
            Shape::Nothing(word) => format!("{word}\n"),
        }
    };
    emit(&text);
    Ok(())
}

type Request = (Method, String, Option<Value>, Shape);

fn client_request(command: ClientCommand) -> anyhow::Result<Request> {
    let one = |id: &str| format!("/admin/v1/clients/{id}");
    Ok(match command {
        ClientCommand::List => (
            Method::GET,
            "/admin/v1/clients".to_owned(),
            None,
            Shape::List(CLIENT_COLUMNS),
        ),
        ClientCommand::Get { id } => (Method::GET, one(&id), None, Shape::Object),
        ClientCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            grant_types,
            auth_method,
            scope,
            first_party,
            body,
        } => {
            let body = match body {
                Some(file) => read_json(&file)?,
                None => {
                    let mut fields = serde_json::Map::new();
                    fields.insert("client_name".into(), json!(name.unwrap_or_default()));
                    fields.insert("redirect_uris".into(), json!(redirect_uris));
                    fields.insert(
                        "post_logout_redirect_uris".into(),
                        json!(post_logout_redirect_uris),
                    );
                    if !grant_types.is_empty() {
                        fields.insert("grant_types".into(), json!(grant_types));
                    }
                    if let Some(method) = auth_method {
                        fields.insert("token_endpoint_auth_method".into(), json!(method));
                    }
                    if let Some(scope) = scope {
                        fields.insert("scope".into(), json!(scope));
                    }
                    fields.insert("first_party".into(), json!(first_party));
                    Value::Object(fields)
                }
            };
            (
                Method::POST,
                "/admin/v1/clients".to_owned(),
                Some(body),
                Shape::Object,
            )
        }
        ClientCommand::Replace { id, file } => (
            Method::PUT,
            one(&id),
            Some(read_json(&file)?),
            Shape::Object,
        ),
        ClientCommand::RotateSecret { id } => (
            Method::POST,
            format!("{}/secret", one(&id)),
            None,
            Shape::Object,
        ),
        ClientCommand::Delete { id } => (Method::DELETE, one(&id), None, Shape::Nothing("deleted")),
    })
}

/// Writes the command's output; the CLI's one place that prints.
#[allow(clippy::print_stdout)]
fn emit(text: &str) {
    print!("{text}");
}
