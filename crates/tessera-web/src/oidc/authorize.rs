//! The authorization endpoint and the step after sign-in: each asks the provider what
//! happens next and turns the answer into a redirect, a form post or an error page.

use super::{Site, no_store};
use crate::AppState;
use crate::pages::{self, PageContext};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tessera_oidc::authorize::ResponseMode;
use tessera_oidc::discovery::paths;
use tessera_oidc::provider::{AuthorizationResponse, AuthorizeStep};

/// Where the hosted pages send the browser after sign-in or consent.
pub const CONTINUE_PATH: &str = "/oauth2/authorize/continue";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            paths::AUTHORIZATION,
            get(authorize_get).post(authorize_post),
        )
        .route(CONTINUE_PATH, get(resume))
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

async fn authorize_get(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    authorize(state, site, headers, query_pairs(query.as_deref())).await
}

async fn authorize_post(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match super::endpoints::form_pairs(&headers, &body) {
        Ok(pairs) => authorize(state, site, headers, pairs).await,
        Err(error) => {
            let page = site.page(pages::language(&[], &headers, &site.tenant));
            pages::message(
                &page,
                StatusCode::BAD_REQUEST,
                "error_title",
                &error.description,
            )
        }
    }
}

async fn authorize(
    state: AppState,
    site: Site,
    headers: HeaderMap,
    pairs: Vec<(String, String)>,
) -> Response {
    let session = site.session(&state, &headers).await;
    let ui_locales: Vec<String> = pairs
        .iter()
        .find(|(name, _)| name == "ui_locales")
        .map(|(_, value)| value.split(' ').map(str::to_owned).collect())
        .unwrap_or_default();
    let page = site.page(pages::language(&ui_locales, &headers, &site.tenant));
    match state
        .provider
        .authorize(&site.issuer, &pairs, session)
        .await
    {
        Ok(step) => render_step(&site, &page, step),
        Err(error) => pages::message(
            &page,
            StatusCode::SERVICE_UNAVAILABLE,
            "error_title",
            &error.description,
        ),
    }
}

/// `GET /oauth2/authorize/continue?auth=…`: the pending request, after sign-in or consent.
async fn resume(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = query_pairs(query.as_deref());
    let handle = pairs
        .iter()
        .find(|(name, _)| name == "auth")
        .map(|(_, value)| value.as_str())
        .unwrap_or("");
    let session = site.session(&state, &headers).await;
    let page = site.page(pages::language(&[], &headers, &site.tenant));
    match state.provider.resume(&site.issuer, handle, session).await {
        Ok(step) => render_step(&site, &page, step),
        Err(error) => pages::message(
            &page,
            StatusCode::SERVICE_UNAVAILABLE,
            "error_title",
            &error.description,
        ),
    }
}

/// Turns the provider's answer into what the browser gets.
pub fn render_step(site: &Site, page: &PageContext, step: AuthorizeStep) -> Response {
    match step {
        AuthorizeStep::Respond(response) => respond(response),
        AuthorizeStep::Login(pending) => {
            let page = if pending.request.prompt.create && site.tenant.settings.signup.enabled {
                "signup"
            } else {
                "login"
            };
            see_other(&format!(
                "{}/{page}?auth={}",
                site.base,
                encode(&pending.handle)
            ))
        }
        AuthorizeStep::Consent(pending) => see_other(&format!(
            "{}/consent?auth={}",
            site.base,
            encode(&pending.handle)
        )),
        AuthorizeStep::Profile(pending) => see_other(&format!(
            "{}/profile?auth={}",
            site.base,
            encode(&pending.handle)
        )),
        AuthorizeStep::Verify(pending) => see_other(&format!(
            "{}/verify-identity?auth={}",
            site.base,
            encode(&pending.handle)
        )),
        AuthorizeStep::StepUp(pending) => see_other(&format!(
            "{}/mfa?auth={}",
            site.base,
            encode(&pending.handle)
        )),
        AuthorizeStep::ErrorPage(message) => {
            pages::message(page, StatusCode::BAD_REQUEST, "error_title", &message)
        }
    }
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The authorization response to the client: a redirect with the parameters in the
/// query, or an auto-submitted form (form_post).
fn respond(response: AuthorizationResponse) -> Response {
    match response.response_mode {
        ResponseMode::FormPost => {
            no_store(pages::form_post(&response.redirect_uri, &response.params))
        }
        ResponseMode::Query => match url::Url::parse(&response.redirect_uri) {
            Ok(mut url) => {
                {
                    let mut query = url.query_pairs_mut();
                    for (name, value) in &response.params {
                        query.append_pair(name, value);
                    }
                }
                see_other(url.as_str())
            }
            Err(_) => (StatusCode::BAD_REQUEST, "bad redirect URI").into_response(),
        },
    }
}

pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    no_store(response)
}
