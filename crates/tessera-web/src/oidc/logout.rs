//! RP-initiated logout (`end_session_endpoint`): ends the session at once when the request
//! proves where it comes from, asks the user otherwise, and redirects only to registered
//! post-logout URIs.

use super::Site;
use super::authorize::see_other;
use crate::AppState;
use crate::pages::{self, csrf};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use std::collections::HashMap;
use tessera_oidc::discovery::paths;
use tessera_oidc::provider::{LogoutDecision, LogoutRequest};

const PARAMS: &[&str] = &[
    "id_token_hint",
    "post_logout_redirect_uri",
    "state",
    "client_id",
    "ui_locales",
];

pub fn routes() -> Router<AppState> {
    Router::new().route(paths::END_SESSION, get(logout_get).post(logout_post))
}

fn request_of(fields: &HashMap<String, String>) -> LogoutRequest {
    let get = |name: &str| fields.get(name).filter(|v| !v.is_empty()).cloned();
    LogoutRequest {
        id_token_hint: get("id_token_hint"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
        client_id: get("client_id"),
        ui_locales: get("ui_locales"),
    }
}

async fn logout_get(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = pages::login::form_fields(query.as_deref().unwrap_or("").as_bytes());
    logout(state, site, headers, fields, false).await
}

async fn logout_post(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = pages::login::form_fields(&body);
    let confirmed = fields.get("confirm").is_some_and(|v| v == "yes");
    if confirmed
        && !csrf::is_valid(
            &headers,
            &site.cookies,
            fields.get("csrf").map(String::as_str),
            &site.origin,
        )
    {
        let page = site.page(pages::language(&[], &headers, &site.tenant));
        return pages::message(
            &page,
            StatusCode::FORBIDDEN,
            "error_title",
            page.text("forbidden"),
        );
    }
    logout(state, site, headers, fields, confirmed).await
}

async fn logout(
    state: AppState,
    site: Site,
    headers: HeaderMap,
    fields: HashMap<String, String>,
    confirmed: bool,
) -> Response {
    let request = request_of(&fields);
    let ui: Vec<String> = request
        .ui_locales
        .as_deref()
        .map(|v| v.split(' ').map(str::to_owned).collect())
        .unwrap_or_default();
    let page = site.page(pages::language(&ui, &headers, &site.tenant));
    let session = site.session(&state, &headers).await;
    let decision = match state
        .provider
        .plan_logout(&site.issuer, &request, session.as_ref())
        .await
    {
        Ok(decision) => decision,
        Err(error) => {
            return pages::message(
                &page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                &error.description,
            );
        }
    };
    let redirect = match decision {
        LogoutDecision::LogOut { redirect } => redirect,
        LogoutDecision::Confirm { redirect, .. } if confirmed => redirect,
        LogoutDecision::Confirm { client_name, .. } => {
            let token = csrf::token(&headers, &site.cookies);
            let params: Vec<(&str, String)> = PARAMS
                .iter()
                .filter_map(|name| fields.get(*name).map(|value| (*name, value.clone())))
                .collect();
            let mut response = pages::render(
                &page,
                "logout.html",
                StatusCode::OK,
                context! {
                    title => page.text("logout_title"),
                    client_name => client_name,
                    csrf => token.value.clone(),
                    params => params,
                },
            );
            if token.is_new
                && let Some(cookie) = site.cookies.set_csrf(&token.value)
            {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            return response;
        }
    };
    if let Some(session) = &session {
        match state.provider.log_out(session).await {
            Ok(clients) => {
                let notices = state
                    .provider
                    .backchannel_notices(&site.issuer, session, &clients)
                    .await;
                state.outbound.send_logout_tokens(notices);
            }
            Err(error) => {
                tracing::error!(%error, "logout failed");
                return pages::message(
                    &page,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "error_title",
                    &error.description,
                );
            }
        }
    }
    let mut response = match redirect {
        Some(location) => see_other(location.as_str()),
        None => pages::message(
            &page,
            StatusCode::OK,
            "logout_title",
            page.text("signed_out"),
        ),
    };
    if let Some(cookie) = site.cookies.clear_session() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
