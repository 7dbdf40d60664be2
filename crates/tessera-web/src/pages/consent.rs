//! The consent page: which app asks for what, in words the customer understands.

use super::csrf;
use super::{message, render};
use crate::AppState;
use crate::oidc::Site;
use crate::oidc::authorize::render_step;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use tessera_oidc::provider::consent_scopes;

pub fn routes() -> Router<AppState> {
    Router::new().route("/consent", get(show).post(answer))
}

async fn show(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let handle = url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .find(|(k, _)| k == "auth")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let pending = state
        .provider
        .pending(&site.issuer, &handle)
        .await
        .ok()
        .flatten();
    let ui = pending
        .as_ref()
        .map(|p| p.request.ui_locales.clone())
        .unwrap_or_default();
    let page = site.page(super::language(&ui, &headers, &site.tenant));
    let Some(pending) = pending else {
        return message(
            &page,
            StatusCode::BAD_REQUEST,
            "error_title",
            page.text("expired"),
        );
    };
    let token = csrf::token(&headers, &site.cookies);
    let scopes: Vec<String> = consent_scopes(&pending.request)
        .iter()
        .map(|scope| {
            let text = page.text(&format!("scope_{scope}"));
            if text.is_empty() {
                scope.clone()
            } else {
                text.to_owned()
            }
        })
        .collect();
    let mut needs: Vec<String> = pending
        .client
        .metadata
        .needs
        .names()
        .map(|name| super::profile::attribute_label(&page, name, None))
        .collect();
    if pending.client.metadata.required_verification.is_some() {
        needs.push(page.text("consent_verified_claims").to_owned());
    }
    let mut response = render(
        &page,
        "consent.html",
        StatusCode::OK,
        context! {
            title => page.text("consent_title"),
            client_name => pending.client.metadata.client_name,
            scopes => scopes,
            needs => needs,
            csrf => token.value.clone(),
            auth => handle,
        },
    );
    if token.is_new
        && let Some(cookie) = site.cookies.set_csrf(&token.value)
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

async fn answer(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = super::login::form_fields(&body);
    let page = site.page(super::language(&[], &headers, &site.tenant));
    if !csrf::is_valid(
        &headers,
        &site.cookies,
        fields.get("csrf").map(String::as_str),
        &site.origin,
    ) {
        return message(
            &page,
            StatusCode::FORBIDDEN,
            "error_title",
            page.text("forbidden"),
        );
    }
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let allow = fields.get("decision").is_some_and(|d| d == "allow");
    let session = site.session(&state, &headers).await;
    match state
        .provider
        .answer_consent(&site.issuer, &handle, session, allow)
        .await
    {
        Ok(step) => render_step(&site, &page, step),
        Err(error) => message(
            &page,
            StatusCode::SERVICE_UNAVAILABLE,
            "error_title",
            &error.description,
        ),
    }
}
