//! `/admin/v1/clients`: register, list, read, replace and delete the tenant's OpenID
//! Connect clients, with the metadata names of RFC 7591. A client secret appears in the
//! response that creates it (or rotates it) and never again.

use super::{ListResponse, PageParams, parse_id, rfc3339};
use crate::AppState;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::tenant::RequestTenant;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use tessera_core::api_token::Scope;
use tessera_core::error::FieldError;
use tessera_core::identity_verification::provider::parse_level;
use tessera_core::ids::ClientId;
use tessera_core::mfa::policy::AuthLevel;
use tessera_core::oauth::client::{
    ClientMetadata, GrantType, SigningAlgorithm, TokenEndpointAuthMethod, TokenLifetimes,
};
use tessera_core::oauth::redirect_uri::RedirectUri;
use tessera_core::profiling::AttributeNeeds;
use tessera_core::service::RegisteredClient;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/clients", get(list).post(create))
        .route(
            "/admin/v1/clients/{id}",
            get(read).put(replace).delete(remove),
        )
        .route("/admin/v1/clients/{id}/secret", post(rotate_secret))
}

/// Client metadata (RFC 7591 names; Tessera's own additions are marked).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    pub client_name: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `authorization_code` (default), `refresh_token`, `client_credentials`.
    pub grant_types: Option<Vec<String>>,
    /// Only `code`.
    pub response_types: Option<Vec<String>>,
    /// `client_secret_basic` (default), `client_secret_post`, `private_key_jwt` (with
    /// `jwks`), `none` (public clients).
    pub token_endpoint_auth_method: Option<String>,
    /// The client's public keys (a JWK Set) for `private_key_jwt`.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// Space-separated scopes the client may ask for (default `openid profile email`).
    pub scope: Option<String>,
    /// Tessera: audiences `client_credentials` tokens may be issued for.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Tessera: seconds (default 300).
    pub access_token_lifetime: Option<u32>,
    /// Tessera: seconds (default 600).
    pub id_token_lifetime: Option<u32>,
    /// Tessera: absolute lifetime of a refresh-token family in seconds (default 30 days).
    pub refresh_token_lifetime: Option<u32>,
    /// `RS256` (default), `ES256` or `EdDSA`.
    pub id_token_signed_response_alg: Option<String>,
    /// Tessera: a first-party app skips the consent page.
    #[serde(default)]
    pub first_party: bool,
    pub backchannel_logout_uri: Option<String>,
    /// Tessera: claim name → custom attribute name, released with the `profile` scope.
    #[serde(default)]
    pub custom_claims: BTreeMap<String, String>,
    /// Tessera: attributes users must give before this client gets a code (progressive
    /// profiling): `given_name`, `family_name`, `middle_name`, `nickname`, `name`,
    /// `birthdate`, `phone_number`, `address` or `attributes.<custom attribute>`.
    #[serde(default)]
    pub required_attributes: Vec<String>,
    /// Tessera: attributes users are asked for but may skip (asked again later).
    #[serde(default)]
    pub requested_attributes: Vec<String>,
    /// Tessera: the identity verification level (`low`, `substantial` or `high`) users must
    /// have before this client gets a code; it then receives `verified_claims`.
    pub required_verification: Option<String>,
    /// Tessera: the weakest sign-in the client accepts, `urn:tessera:loa:1` (one factor) or
    /// `urn:tessera:loa:2` (two factors: its users always pass a second factor).
    pub minimum_acr: Option<String>,
    pub logo_uri: Option<String>,
    pub client_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
}

/// A registered client.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientResponse {
    pub client_id: String,
    /// Present only in the response that created or rotated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub client_id_issued_at: i64,
    /// 0: secrets do not expire (rotate them instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    pub scope: String,
    pub audiences: Vec<String>,
    pub access_token_lifetime: u32,
    pub id_token_lifetime: u32,
    pub refresh_token_lifetime: u32,
    pub id_token_signed_response_alg: String,
    pub first_party: bool,
    pub backchannel_logout_uri: Option<String>,
    pub custom_claims: BTreeMap<String, String>,
    pub required_attributes: Vec<String>,
    pub requested_attributes: Vec<String>,
    pub required_verification: Option<String>,
    pub minimum_acr: Option<String>,
    pub logo_uri: Option<String>,
    pub client_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn strings(uris: &[RedirectUri]) -> Vec<String> {
    uris.iter().map(|u| u.as_str().to_owned()).collect()
}

impl From<RegisteredClient> for ClientResponse {
    fn from(registered: RegisteredClient) -> Self {
        let client = registered.client;
        let m = client.metadata;
        let has_secret = client.secret_hash.is_some();
        Self {
            client_id: client.id.to_string(),
            client_secret: registered.secret.map(|s| s.expose_secret().to_owned()),
            client_id_issued_at: client.created_at.unix_timestamp(),
            client_secret_expires_at: has_secret.then_some(0),
            client_name: m.client_name,
            redirect_uris: strings(&m.redirect_uris),
            post_logout_redirect_uris: strings(&m.post_logout_redirect_uris),
            grant_types: m
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            response_types: vec!["code".to_owned()],
            token_endpoint_auth_method: m.token_endpoint_auth_method.as_str().to_owned(),
            jwks: m.jwks,
            scope: m.scope.iter().cloned().collect::<Vec<_>>().join(" "),
            audiences: m.audiences.into_iter().collect(),
            access_token_lifetime: m.lifetimes.access_token,
            id_token_lifetime: m.lifetimes.id_token,
            refresh_token_lifetime: m.lifetimes.refresh_token,
            id_token_signed_response_alg: m.id_token_signed_response_alg.as_str().to_owned(),
            first_party: m.first_party,
            backchannel_logout_uri: m.backchannel_logout_uri.map(String::from),
            custom_claims: m.custom_claims,
            required_attributes: m.needs.required.into_iter().collect(),
            requested_attributes: m.needs.requested.into_iter().collect(),
            required_verification: m.required_verification.map(|l| l.as_str().to_owned()),
            minimum_acr: m.minimum_acr.map(|level| level.acr().to_owned()),
            logo_uri: m.logo_uri.map(String::from),
            client_uri: m.client_uri.map(String::from),
            policy_uri: m.policy_uri.map(String::from),
            tos_uri: m.tos_uri.map(String::from),
            created_at: rfc3339(client.created_at),
            updated_at: rfc3339(client.updated_at),
        }
    }
}

fn uri_list(field: &str, values: &[String], errors: &mut Vec<FieldError>) -> Vec<RedirectUri> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, value)| {
            RedirectUri::parse(value)
                .map_err(|e| errors.push(FieldError::new(&format!("{field}[{i}]"), e.to_string())))
                .ok()
        })
        .collect()
}

fn optional_uri(
    field: &str,
    value: Option<&String>,
    errors: &mut Vec<FieldError>,
) -> Option<RedirectUri> {
    value.and_then(|v| {
        RedirectUri::parse(v)
            .map_err(|e| errors.push(FieldError::new(field, e.to_string())))
            .ok()
    })
}

/// Turns the input into metadata; every problem is reported at once.
fn parse_metadata(input: ClientInput) -> Result<ClientMetadata, ApiError> {
    let mut errors = Vec::new();
    let redirect_uris = uri_list("redirect_uris", &input.redirect_uris, &mut errors);
    let post_logout_redirect_uris = uri_list(
        "post_logout_redirect_uris",
        &input.post_logout_redirect_uris,
        &mut errors,
    );
    let grant_names = input
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".to_owned()]);
    let mut grant_types = BTreeSet::new();
    for name in &grant_names {
        match name.as_str() {
            "authorization_code" => grant_types.insert(GrantType::AuthorizationCode),
            "refresh_token" => grant_types.insert(GrantType::RefreshToken),
            "client_credentials" => grant_types.insert(GrantType::ClientCredentials),
            other => {
                errors.push(FieldError::new(
                    "grant_types",
                    format!("'{other}' is not supported (authorization_code, refresh_token, client_credentials)"),
                ));
                false
            }
        };
    }
    if let Some(types) = &input.response_types
        && types.iter().any(|t| t != "code")
    {
        errors.push(FieldError::new(
            "response_types",
            "only 'code' is supported",
        ));
    }
    let method = match input
        .token_endpoint_auth_method
        .as_deref()
        .unwrap_or("client_secret_basic")
    {
        "client_secret_basic" => TokenEndpointAuthMethod::ClientSecretBasic,
        "client_secret_post" => TokenEndpointAuthMethod::ClientSecretPost,
        "private_key_jwt" => TokenEndpointAuthMethod::PrivateKeyJwt,
        "none" => TokenEndpointAuthMethod::None,
        other => {
            errors.push(FieldError::new(
                "token_endpoint_auth_method",
                format!(
                    "'{other}' is not supported (client_secret_basic, client_secret_post, private_key_jwt, none)"
                ),
            ));
            TokenEndpointAuthMethod::ClientSecretBasic
        }
    };
    let scope: BTreeSet<String> = input
        .scope
        .as_deref()
        .unwrap_or("openid profile email")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let algorithm = match input.id_token_signed_response_alg.as_deref() {
        None => SigningAlgorithm::Rs256,
        Some(text) => SigningAlgorithm::parse(text).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "id_token_signed_response_alg",
                "must be RS256, ES256 or EdDSA",
            ));
            SigningAlgorithm::Rs256
        }),
    };
    let jwks = input.jwks.and_then(|value| {
        // Parsed from text so that the size and key-count limits of untrusted sets apply.
        match tessera_oidc::jose::JwkSet::parse(&value.to_string()) {
            Ok(set) if !set.keys.is_empty() => Some(value),
            Ok(_) => {
                errors.push(FieldError::new("jwks", "needs at least one key"));
                None
            }
            Err(error) => {
                errors.push(FieldError::new(
                    "jwks",
                    format!("not a usable JWK Set: {error}"),
                ));
                None
            }
        }
    });
    let required_verification = input.required_verification.as_deref().and_then(|text| {
        parse_level("required_verification", text)
            .map_err(|error| errors.push(error))
            .ok()
    });
    let minimum_acr = input.minimum_acr.as_deref().and_then(|text| {
        AuthLevel::from_acr(text)
            .ok_or_else(|| {
                errors.push(FieldError::new(
                    "minimum_acr",
                    "urn:tessera:loa:1 or urn:tessera:loa:2",
                ))
            })
            .ok()
    });
    let defaults = TokenLifetimes::default();
    let metadata = ClientMetadata {
        client_name: input.client_name.trim().to_owned(),
        redirect_uris,
        post_logout_redirect_uris,
        grant_types,
        token_endpoint_auth_method: method,
        jwks,
        scope,
        audiences: input.audiences.into_iter().collect(),
        lifetimes: TokenLifetimes {
            access_token: input.access_token_lifetime.unwrap_or(defaults.access_token),
            id_token: input.id_token_lifetime.unwrap_or(defaults.id_token),
            refresh_token: input
                .refresh_token_lifetime
                .unwrap_or(defaults.refresh_token),
        },
        id_token_signed_response_alg: algorithm,
        first_party: input.first_party,
        backchannel_logout_uri: optional_uri(
            "backchannel_logout_uri",
            input.backchannel_logout_uri.as_ref(),
            &mut errors,
        ),
        custom_claims: input.custom_claims,
        needs: AttributeNeeds {
            required: input.required_attributes.into_iter().collect(),
            requested: input.requested_attributes.into_iter().collect(),
        },
        required_verification,
        minimum_acr,
        logo_uri: optional_uri("logo_uri", input.logo_uri.as_ref(), &mut errors),
        client_uri: optional_uri("client_uri", input.client_uri.as_ref(), &mut errors),
        policy_uri: optional_uri("policy_uri", input.policy_uri.as_ref(), &mut errors),
        tos_uri: optional_uri("tos_uri", input.tos_uri.as_ref(), &mut errors),
    };
    if let Err(tessera_core::CoreError::Validation(mut found)) = metadata.validate() {
        errors.append(&mut found);
    }
    if errors.is_empty() {
        Ok(metadata)
    } else {
        Err(ApiError::invalid(errors))
    }
}

fn existing(client: tessera_core::oauth::client::Client) -> ClientResponse {
    RegisteredClient {
        client,
        secret: None,
    }
    .into()
}

#[utoipa::path(get, path = "/admin/v1/clients", tag = "clients", params(PageParams),
    responses((status = 200, body = ListResponse<ClientResponse>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ListResponse<ClientResponse>>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let page = state
        .core
        .list_clients(&auth, PageParams::from_pairs(pairs)?.to_request()?)
        .await?;
    Ok(Json(ListResponse::from_page(page, existing)))
}

#[utoipa::path(post, path = "/admin/v1/clients", tag = "clients", request_body = ClientInput,
    responses((status = 201, body = ClientResponse), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    OriginalUri(original): OriginalUri,
    ApiJson(input): ApiJson<ClientInput>,
) -> Result<impl IntoResponse, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let registered = state
        .core
        .create_client(&auth, parse_metadata(input)?)
        .await?;
    let location = super::location_of(&original, registered.client.id);
    Ok((
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Json(ClientResponse::from(registered)),
    ))
}

#[utoipa::path(get, path = "/admin/v1/clients/{id}", tag = "clients",
    responses((status = 200, body = ClientResponse), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<ClientResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let id: ClientId = parse_id(&id, "client")?;
    Ok(Json(existing(state.core.get_client(&auth, id).await?)))
}

#[utoipa::path(put, path = "/admin/v1/clients/{id}", tag = "clients", request_body = ClientInput,
    responses((status = 200, body = ClientResponse), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ClientInput>,
) -> Result<Json<ClientResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let id: ClientId = parse_id(&id, "client")?;
    let registered = state
        .core
        .replace_client(&auth, id, parse_metadata(input)?)
        .await?;
    Ok(Json(registered.into()))
}

#[utoipa::path(post, path = "/admin/v1/clients/{id}/secret", tag = "clients",
    responses((status = 200, body = ClientResponse, description = "the new secret, shown once"), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<Json<ClientResponse>, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let id: ClientId = parse_id(&id, "client")?;
    Ok(Json(
        state.core.rotate_client_secret(&auth, id).await?.into(),
    ))
}

#[utoipa::path(delete, path = "/admin/v1/clients/{id}", tag = "clients",
    responses((status = 204, description = "deleted; its tokens stop working"), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RequestTenant(tenant): RequestTenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let auth = caller.authorize(&tenant, Scope::Admin)?;
    let id: ClientId = parse_id(&id, "client")?;
    state.core.delete_client(&auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
