//! Which tenant a request is for: a `/t/{slug}` path prefix, else a custom domain in the
//! `Host` header, else the default tenant.

use crate::AppState;
use crate::problem::ApiError;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Uri, header};
use tessera_core::tenant::Tenant;

/// The slug taken from a `/t/{slug}` prefix, kept in the request's extensions.
#[derive(Debug, Clone)]
pub(crate) struct PrefixSlug(pub(crate) String);

/// Removes a `/t/{slug}` prefix from the path and remembers the slug.
pub fn strip_prefix(mut request: Request) -> Request {
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix("/t/") else {
        return request;
    };
    let (slug, remainder) = rest
        .split_once('/')
        .map_or((rest, ""), |(slug, tail)| (slug, tail));
    if slug.is_empty() {
        return request;
    }
    let slug = slug.to_owned();
    let new_path = format!("/{remainder}");
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{new_path}?{query}"),
        None => new_path,
    };
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
        request.extensions_mut().insert(PrefixSlug(slug));
    }
    request
}

/// The tenant the request addresses. An unknown tenant is a 404.
#[derive(Debug, Clone)]
pub struct RequestTenant(pub Tenant);

impl FromRequestParts<AppState> for RequestTenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The same answer as for a tenant the caller may not see (A50): nothing to tell apart.
        let unknown = || ApiError::from(tessera_core::CoreError::NotFound("tenant"));
        if let Some(PrefixSlug(slug)) = parts.extensions.get::<PrefixSlug>() {
            return state
                .core
                .tenant_by_slug(slug)
                .await?
                .map(RequestTenant)
                .ok_or_else(unknown);
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        });
        // A fully qualified name may end in a dot (`login.acme.example.`).
        let host = host.trim_end_matches('.');
        if let Some(tenant) = state.core.tenant_by_domain(host).await? {
            return Ok(RequestTenant(tenant));
        }
        // The default tenant is re-read so that changes made by another instance show.
        let slug = state.core.default_tenant().slug.as_str().to_owned();
        state
            .core
            .tenant_by_slug(&slug)
            .await?
            .map(RequestTenant)
            .ok_or_else(unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(uri: &str) -> (String, Option<String>) {
        let request = strip_prefix(
            Request::builder()
                .uri(uri)
                .body(axum::body::Body::empty())
                .unwrap_or_default(),
        );
        let slug = request
            .extensions()
            .get::<PrefixSlug>()
            .map(|s| s.0.clone());
        (request.uri().to_string(), slug)
    }

    #[test]
    fn prefixes_are_stripped_and_remembered() {
        assert_eq!(
            stripped("/t/acme/admin/v1/users?limit=2"),
            ("/admin/v1/users?limit=2".into(), Some("acme".into()))
        );
        assert_eq!(stripped("/t/acme"), ("/".into(), Some("acme".into())));
        assert_eq!(
            stripped("/admin/v1/users"),
            ("/admin/v1/users".into(), None)
        );
        assert_eq!(stripped("/t//x"), ("/t//x".into(), None));
    }
}
