//! The OpenAPI 3.1 document of the admin API, generated from the handlers and types, served
//! at `/admin/v1/openapi.json`.

use crate::AppState;
use crate::admin::{self, ListResponse};
use crate::problem::Problem;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera admin API", description = "Tenants, attribute schemas, users, OpenID Connect clients, API tokens, invitations, identity verification and the event log. Errors are RFC 9457 problem details. Tenant-scoped paths also work under /t/{tenant}."),
    paths(
        admin::tenants::list, admin::tenants::create, admin::tenants::read, admin::tenants::update,
        admin::schema::read, admin::schema::replace,
        admin::users::search, admin::users::create, admin::users::read, admin::users::update, admin::users::remove,
        admin::users::disable, admin::users::enable, admin::users::set_password, admin::users::collected_attributes,
        admin::tokens::list, admin::tokens::create, admin::tokens::read, admin::tokens::revoke,
        admin::clients::list, admin::clients::create, admin::clients::read, admin::clients::replace,
        admin::clients::remove, admin::clients::rotate_secret,
        admin::events::list,
        admin::invitations::list, admin::invitations::create, admin::invitations::read, admin::invitations::revoke,
        admin::identity_verification::read, admin::identity_verification::replace, admin::identity_verification::remove,
        admin::identity_verification::verifications,
        admin::captcha::read, admin::captcha::replace, admin::captcha::remove,
        admin::security::read, admin::security::unlock, admin::security::reset_mfa,
        admin::security::forget_device,
    ),
    components(schemas(
        Problem, admin::TenantResponse, admin::TenantCreate, admin::TenantPatchInput, admin::SchemaBody,
        admin::UserResponse, admin::UserCreate, admin::UserPatchInput, admin::EmailDto, admin::PhoneDto, admin::ExternalIdDto, admin::AddressDto, admin::EnterpriseDto, admin::EnterprisePatchInput,
        admin::TokenResponse, admin::TokenCreate, admin::TokenCreated, admin::EventResponse,
        admin::users::PasswordInput, admin::users::CollectedAttribute, admin::users::CollectedAttributes, admin::clients::ClientInput, admin::clients::ClientResponse, ListResponse<admin::clients::ClientResponse>,
        ListResponse<admin::UserResponse>, ListResponse<admin::TenantResponse>, ListResponse<admin::TokenResponse>, ListResponse<admin::EventResponse>,
        admin::invitations::InvitationResponse, admin::invitations::InvitationCreate, ListResponse<admin::invitations::InvitationResponse>,
        admin::identity_verification::ProviderInput, admin::identity_verification::ProviderResponse,
        admin::identity_verification::VerificationResponse, admin::identity_verification::Verifications,
        admin::captcha::CaptchaSecretInput, admin::captcha::CaptchaSecretStatus,
        admin::security::FactorResponse, admin::security::LockResponse, admin::security::SecurityResponse,
        admin::security::UnlockInput, admin::security::UnlockResponse, admin::security::ResetResponse,
        admin::security::TrustedDeviceResponse,
    )),
    modifiers(&BearerAuth),
)]
pub struct AdminApi;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/admin/v1/openapi.json",
        get(|| async { Json(AdminApi::openapi()) }),
    )
}
