//! `/admin/v1/invitations`: invite an email address (the mail carries the link), list, read
//! and withdraw invitations of the request's tenant.

use super::{ListResponse, PageParams, parse_id, rfc3339};
use crate::AppState;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::oidc::Site;
use crate::problem::{ApiError, Problem};
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tessera_core::api_token::Scope;
use tessera_core::ids::InvitationId;
use tessera_core::invitation::Invitation;
use tessera_core::service::NewInvitation;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/invitations", get(list).post(create))
        .route("/admin/v1/invitations/{id}", get(read).delete(revoke))
}

/// An invitation (never its link).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResponse {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub email: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub state: String,
    pub invited_by: String,
    pub language: String,
    pub created_at: String,
    pub expires_at: String,
    pub accepted_at: Option<String>,
    /// The user the invitation became.
    pub accepted_by: Option<String>,
    pub revoked_at: Option<String>,
}

impl InvitationResponse {
    fn of(invitation: Invitation, now: time::OffsetDateTime) -> Self {
        Self {
            state: invitation.state(now).as_str().to_owned(),
            id: invitation.id.to_string(),
            email: invitation.email.as_str().to_owned(),
            invited_by: invitation.invited_by.to_string(),
            language: invitation.language,
            created_at: rfc3339(invitation.created_at),
            expires_at: rfc3339(invitation.expires_at),
            accepted_at: invitation.accepted_at.map(rfc3339),
            accepted_by: invitation.accepted_by.map(|id| id.to_string()),
            revoked_at: invitation.revoked_at.map(rfc3339),
        }
    }
}

/// Input of `POST /admin/v1/invitations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationCreate {
    /// The address to invite. An address with a full account is refused (`409`); a light
    /// account is claimed when the invitation is accepted.
    pub email: String,
    /// The language of the mail and the pages (`en`, `de`); the tenant's default otherwise.
    pub language: Option<String>,
    /// Days the link is valid, 1 to 30 (default 7).
    pub valid_days: Option<u32>,
}

#[utoipa::path(get, path = "/admin/v1/invitations", tag = "invitations", params(PageParams),
    responses((status = 200, body = ListResponse<InvitationResponse>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    site: Site,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ListResponse<InvitationResponse>>, ApiError> {
    let auth = caller.authorize(&site.tenant, Scope::UsersRead)?;
    let page = state
        .core
        .list_invitations(&auth, PageParams::from_pairs(pairs)?.to_request()?)
        .await?;
    let now = state.core.clock().now();
    Ok(Json(ListResponse::from_page(page, |i| {
        InvitationResponse::of(i, now)
    })))
}

#[utoipa::path(post, path = "/admin/v1/invitations", tag = "invitations", request_body = InvitationCreate,
    responses((status = 201, body = InvitationResponse), (status = 409, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem, description = "the mail could not be sent")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    site: Site,
    OriginalUri(original): OriginalUri,
    ApiJson(input): ApiJson<InvitationCreate>,
) -> Result<impl IntoResponse, ApiError> {
    let auth = caller.authorize(&site.tenant, Scope::UsersWrite)?;
    let invitation = state
        .core
        .invite(
            &auth,
            &site.tenant,
            NewInvitation {
                email: input.email,
                language: input.language,
                valid_days: input.valid_days,
                link_base: site.issuer.url.clone(),
            },
        )
        .await?;
    let location = super::location_of(&original, invitation.id);
    let now = state.core.clock().now();
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(InvitationResponse::of(invitation, now)),
    ))
}

#[utoipa::path(get, path = "/admin/v1/invitations/{id}", tag = "invitations",
    responses((status = 200, body = InvitationResponse), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    site: Site,
    Path(id): Path<String>,
) -> Result<Json<InvitationResponse>, ApiError> {
    let auth = caller.authorize(&site.tenant, Scope::UsersRead)?;
    let id: InvitationId = parse_id(&id, "invitation")?;
    let invitation = state.core.get_invitation(&auth, id).await?;
    Ok(Json(InvitationResponse::of(
        invitation,
        state.core.clock().now(),
    )))
}

#[utoipa::path(delete, path = "/admin/v1/invitations/{id}", tag = "invitations",
    responses((status = 200, body = InvitationResponse, description = "withdrawn"), (status = 404, body = Problem), (status = 422, body = Problem, description = "no longer pending")),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    site: Site,
    Path(id): Path<String>,
) -> Result<Json<InvitationResponse>, ApiError> {
    let auth = caller.authorize(&site.tenant, Scope::UsersWrite)?;
    let id: InvitationId = parse_id(&id, "invitation")?;
    let invitation = state.core.revoke_invitation(&auth, id).await?;
    Ok(Json(InvitationResponse::of(
        invitation,
        state.core.clock().now(),
    )))
}
