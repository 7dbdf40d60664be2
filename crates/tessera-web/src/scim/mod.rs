//! SCIM 2.0 (RFC 7643, RFC 7644) at `/scim/v2` and `/t/{tenant}/scim/v2`: discovery
//! (`ServiceProviderConfig`, `ResourceTypes`, `Schemas`), `Users`, `Groups`, `.search` and
//! `Bulk`, for bearer API tokens with the `scim` scope. The protocol lives in
//! `tessera-scim`; handlers here read HTTP, call it and the core services, and answer in
//! `application/scim+json`, errors included.

mod body;
mod bulk;
mod discovery;
mod error;
mod groups;
mod preconditions;
mod query;
mod reply;
mod root_search;
mod users;

pub use error::ScimFailure;

use crate::AppState;
use crate::auth::bearer_token;
use crate::oidc::Site;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use tessera_core::CoreError;
use tessera_core::api_token::Scope;
use tessera_core::auth::Authorized;
use tessera_scim::ScimError;
use tessera_scim::mapping::Location;

/// Most operations in one Bulk request (advertised in `ServiceProviderConfig`).
pub const BULK_MAX_OPERATIONS: usize = 1000;

pub fn routes() -> Router<AppState> {
    let scim = Router::new()
        .route(
            "/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{name}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        .route("/Users", get(users::list).post(users::create))
        .route("/Users/.search", post(users::search))
        .route(
            "/Users/{id}",
            get(users::read)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .route("/Groups", get(groups::list).post(groups::create))
        .route("/Groups/.search", post(groups::search))
        .route(
            "/Groups/{id}",
            get(groups::read)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete),
        )
        .route("/Bulk", post(bulk::bulk))
        .route("/.search", post(root_search::search))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found);
    Router::new().nest("/scim/v2", scim)
}

async fn not_found() -> ScimFailure {
    ScimFailure(ScimError::not_found("no such SCIM endpoint"))
}

async fn method_not_allowed() -> ScimFailure {
    ScimFailure(ScimError::with_status(
        405,
        "this endpoint does not support the method",
    ))
}

/// An authorised SCIM request: the caller's rights in the request's tenant, and where the
/// tenant's SCIM resources live (the base URL the client used).
pub struct Scim {
    pub auth: Authorized,
    pub location: Location,
}

impl FromRequestParts<AppState> for Scim {
    type Rejection = ScimFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(CoreError::Unauthenticated)?;
        let principal = state.core.authenticate(token).await?;
        let site = Site::from_request_parts(parts, state)
            .await
            .map_err(|error| match error.status() {
                StatusCode::NOT_FOUND => ScimError::not_found("tenant not found"),
                _ => ScimError::with_status(503, "the tenant cannot be read; retry shortly"),
            })?;
        let auth = principal.authorize(&site.tenant, Scope::Scim)?;
        Ok(Scim {
            auth,
            location: Location::new(format!("{}/scim/v2", site.issuer.url)),
        })
    }
}

/// Refuses a PATCH that addressed a read-only attribute (RFC 7644 §3.5.2: `mutability`).
fn refuse_read_only(
    touched: &[tessera_scim::AttrPath],
    schemas: &tessera_scim::schema::ResourceSchemas,
) -> Result<(), ScimFailure> {
    use tessera_scim::schema::Mutability;
    match touched.iter().find(|path| {
        schemas
            .definition(path)
            .is_some_and(|definition| definition.mutability == Mutability::ReadOnly)
    }) {
        Some(path) => Err(ScimFailure(ScimError::mutability(format!(
            "'{path}' is read-only"
        )))),
        None => Ok(()),
    }
}
