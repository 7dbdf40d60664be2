//! The JSON endpoints of the provider: discovery, JWKS, token, userinfo, introspection,
//! revocation and pushed authorization requests.

use super::{Site, no_store, oauth_error};
use crate::AppState;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tessera_oidc::discovery::paths;
use tessera_oidc::error::OAuthError;
use tessera_oidc::provider::UserinfoError;
use tower_http::cors::{Any, CorsLayer};

pub fn routes() -> Router<AppState> {
    // Browser apps (public clients) call these from their own origin; no cookies are
    // involved, so any origin may.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let browser_facing = Router::new()
        .route(paths::DISCOVERY, get(discovery))
        .route(paths::JWKS, get(jwks))
        .route(paths::TOKEN, post(token))
        .route(paths::USERINFO, get(userinfo).post(userinfo))
        .route(paths::REVOCATION, post(revoke))
        .layer(cors);
    Router::new()
        .merge(browser_facing)
        .route(paths::INTROSPECTION, post(introspect))
        .route(paths::PAR, post(pushed_authorization_request))
}

/// Public metadata may be cached briefly and read from any origin.
/// A serialised JSON document that caches and proxies may keep for five minutes.
fn public_json(json: bytes::Bytes) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        json,
    )
        .into_response()
}

async fn discovery(State(state): State<AppState>, site: Site) -> Response {
    // The identity assurance metadata depend on the tenant's verification provider.
    match state.core.identity_provider_of(site.tenant.id).await {
        Ok(provider) => public_json(state.provider.discovery(
            &site.issuer,
            provider.as_ref().map(|p| p.trust_framework.as_str()),
        )),
        Err(error) => super::oauth_error(&error.into()),
    }
}

async fn jwks(State(state): State<AppState>) -> Response {
    match state.provider.keys().jwks_document() {
        Ok(json) => public_json(json),
        Err(error) => {
            tracing::error!(%error, "cannot serialise the key set");
            oauth_error(&OAuthError::server_error())
        }
    }
}

/// The form parameters of a POST, refusing other content types.
pub fn form_pairs(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Ok(url::form_urlencoded::parse(body).into_owned().collect())
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// The form of a client's POST to the token, introspection, revocation or PAR endpoint,
/// with its `Authorization` header. Another content type is an OAuth `invalid_request`.
pub struct ClientForm {
    pub pairs: Vec<(String, String)>,
    pub authorization: Option<String>,
}

impl axum::extract::FromRequest<AppState> for ClientForm {
    type Rejection = Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Response> {
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let pairs = form_pairs(&headers, &body).map_err(|error| oauth_error(&error))?;
        Ok(Self {
            pairs,
            authorization: authorization(&headers).map(str::to_owned),
        })
    }
}

/// A JSON answer of a protocol endpoint, or its OAuth error; never cached.
fn json_answer<T: serde::Serialize>(result: Result<T, OAuthError>) -> Response {
    match result {
        Ok(answer) => no_store(Json(answer).into_response()),
        Err(error) => oauth_error(&error),
    }
}

async fn token(State(state): State<AppState>, site: Site, form: ClientForm) -> Response {
    let auth = form.authorization.as_deref();
    json_answer(state.provider.token(&site.issuer, auth, &form.pairs).await)
}

async fn userinfo(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header_token = authorization(&headers).and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    });
    // RFC 6750 §2.2: the form-encoded body parameter is accepted too, never both.
    let body_token = form_pairs(&headers, &body).ok().and_then(|pairs| {
        pairs
            .into_iter()
            .find(|(name, _)| name == "access_token")
            .map(|(_, value)| value)
    });
    let token = match (header_token, body_token.as_deref()) {
        (Some(token), None) | (None, Some(token)) => token,
        // RFC 6750 §3.1: no credentials get a bare challenge, two at once are malformed.
        (None, None) => return bearer_error(StatusCode::UNAUTHORIZED, None),
        (Some(_), Some(_)) => {
            return bearer_error(StatusCode::BAD_REQUEST, Some("invalid_request"));
        }
    };
    match state.provider.userinfo(&site.issuer, token.trim()).await {
        Ok(claims) => no_store(Json(claims).into_response()),
        Err(UserinfoError::InvalidToken) => {
            bearer_error(StatusCode::UNAUTHORIZED, Some("invalid_token"))
        }
        Err(UserinfoError::InsufficientScope) => {
            bearer_error(StatusCode::FORBIDDEN, Some("insufficient_scope"))
        }
        Err(UserinfoError::Server(error)) => oauth_error(&error),
    }
}

/// RFC 6750 §3: the error in `WWW-Authenticate` (and the body), or a bare challenge.
fn bearer_error(status: StatusCode, code: Option<&str>) -> Response {
    let (challenge, body) = match code {
        Some(code) => (
            format!("Bearer error=\"{code}\""),
            serde_json::json!({"error": code}),
        ),
        None => ("Bearer".to_owned(), serde_json::json!({})),
    };
    let mut response = no_store((status, Json(body)).into_response());
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

async fn introspect(State(state): State<AppState>, site: Site, form: ClientForm) -> Response {
    let auth = form.authorization.as_deref();
    json_answer(
        state
            .provider
            .introspect(&site.issuer, auth, &form.pairs)
            .await,
    )
}

async fn revoke(State(state): State<AppState>, site: Site, form: ClientForm) -> Response {
    let auth = form.authorization.as_deref();
    match state.provider.revoke(&site.issuer, auth, &form.pairs).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(error) => oauth_error(&error),
    }
}

async fn pushed_authorization_request(
    State(state): State<AppState>,
    site: Site,
    form: ClientForm,
) -> Response {
    let auth = form.authorization.as_deref();
    match state
        .provider
        .push_authorization_request(&site.issuer, auth, &form.pairs)
        .await
    {
        Ok((request_uri, expires_in)) => no_store(
            (
                StatusCode::CREATED,
                Json(serde_json::json!({"request_uri": request_uri, "expires_in": expires_in})),
            )
                .into_response(),
        ),
        Err(error) => oauth_error(&error),
    }
}
