//! The OpenID Connect provider's HTTP surface: discovery, JWKS, the authorization, token,
//! userinfo, introspection, revocation, PAR and logout endpoints, and the hosted pages
//! they lead to. Handlers translate HTTP to `tessera_oidc::provider` calls and back.

pub mod authorize;
pub mod endpoints;
mod logout;

use crate::AppState;
use crate::pages::PageContext;
use crate::pages::session::CookieNames;
use crate::problem::ApiError;
use crate::tenant::{PrefixSlug, RequestTenant};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_core::oauth::session::Session;
use tessera_core::tenant::Tenant;
use tessera_oidc::error::OAuthError;
use tessera_oidc::provider::Issuer;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(endpoints::routes())
        .merge(authorize::routes())
        .merge(logout::routes())
        .merge(crate::pages::login::routes())
        .merge(crate::pages::mfa::routes())
        .merge(crate::pages::passkey::routes())
        .merge(crate::pages::devices::routes())
        .merge(crate::pages::factors::routes())
        .merge(crate::pages::signup::routes())
        .merge(crate::pages::phone::routes())
        .merge(crate::pages::invite::routes())
        .merge(crate::pages::consent::routes())
        .merge(crate::pages::profile::routes())
        .merge(crate::pages::identity::routes())
}

/// Where a request is: its tenant, the issuer URL, the path prefix of the tenant's pages,
/// the origin forms must come from, and the tenant's cookie names.
#[derive(Debug, Clone)]
pub struct Site {
    pub tenant: Tenant,
    pub issuer: Issuer,
    pub base: String,
    pub origin: String,
    pub cookies: CookieNames,
}

/// The public URL's parts that every request needs.
#[derive(Debug)]
pub struct PublicUrl {
    /// The URL without a trailing slash.
    root: String,
    /// `scheme://host[:port]`.
    origin: String,
    /// The path Tessera is served under, without a trailing slash (often empty).
    path: String,
    https: bool,
}

impl PublicUrl {
    pub fn parse(url: &str) -> Self {
        let root = url.trim_end_matches('/').to_owned();
        Self {
            origin: origin_of(&root),
            path: path_of(&root),
            https: root.starts_with("https://"),
            root,
        }
    }
}

impl FromRequestParts<AppState> for Site {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let RequestTenant(tenant) = RequestTenant::from_request_parts(parts, state).await?;
        let public = state.public_url();
        let cookies = CookieNames::new(&tenant, public.https);
        if let Some(PrefixSlug(slug)) = parts.extensions.get::<PrefixSlug>() {
            return Ok(Site {
                issuer: Issuer {
                    tenant_id: tenant.id,
                    url: format!("{}/t/{slug}", public.root),
                },
                tenant,
                base: format!("{}/t/{slug}", public.path),
                origin: public.origin.clone(),
                cookies,
            });
        }
        if tenant.is_default() {
            return Ok(Site {
                issuer: Issuer {
                    tenant_id: tenant.id,
                    url: public.root.clone(),
                },
                tenant,
                base: public.path.clone(),
                origin: public.origin.clone(),
                cookies,
            });
        }
        // Reached through its own domain.
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .trim_end_matches('.');
        let scheme = if public.https { "https" } else { "http" };
        let root = format!("{scheme}://{host}");
        Ok(Site {
            issuer: Issuer {
                tenant_id: tenant.id,
                url: root.clone(),
            },
            tenant,
            base: path_of(&root),
            origin: origin_of(&root),
            cookies,
        })
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// The path part of a URL (Tessera may be served under a path).
fn path_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

impl Site {
    pub fn page(&self, lang: &'static str) -> PageContext {
        PageContext {
            lang,
            tenant: self.tenant.clone(),
            base: self.base.clone(),
        }
    }

    /// The browser's active session in this tenant.
    pub async fn session(&self, state: &AppState, headers: &HeaderMap) -> Option<Session> {
        let value = crate::pages::session::cookie(headers, &self.cookies.session)?;
        match state
            .core
            .session_from_cookie(self.tenant.id, value, self.tenant.settings.sessions)
            .await
        {
            Ok(session) => session,
            Err(error) => {
                tracing::warn!(%error, "session lookup failed");
                None
            }
        }
    }
}

/// An OAuth JSON error response (RFC 6749 §5.2), never cached.
pub fn oauth_error(error: &OAuthError) -> Response {
    let status = StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::json!({
        "error": error.code.as_str(),
        "error_description": error.description,
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"tessera\""),
        );
    }
    no_store(response)
}

pub fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
