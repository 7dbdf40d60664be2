//! Identity verification pages. An authorization request whose client requires a
//! verification level the user lacks comes to `/verify-identity?auth=…`, which explains the
//! check and names the provider; its "Start" button (a CSRF-checked POST) starts a session
//! at the provider and sends the browser there. The provider sends it back to
//! `/verify-identity/return?auth=…&session=…`, which waits for the webhook's result
//! (refreshing itself, without JavaScript) and then continues the authorization request,
//! or says why not and offers to try again.
//!
//! The user is always the browser's session's user: without a session the browser is sent
//! to sign in, and another user's session is not found.

use super::csrf::{self, CsrfToken};
use super::login::{forbidden, form_fields, prepare, with_csrf_cookie};
use super::{PageContext, message, render};
use crate::AppState;
use crate::oidc::Site;
use crate::oidc::authorize::{CONTINUE_PATH, see_other};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use std::collections::HashMap;
use tessera_core::CoreError;
use tessera_core::identity_verification::AssuranceLevel;
use tessera_core::ids::{IdentitySessionId, UserId};
use tessera_core::service::{SessionState, VerificationReturn};
use tessera_oidc::provider::PendingRequest;

/// The page that explains the check and starts it.
pub const VERIFY_PATH: &str = "/verify-identity";
/// Where the provider sends the browser back.
pub const RETURN_PATH: &str = "/verify-identity/return";
/// Where the provider posts its result (see `crate::identity_webhook`).
pub const WEBHOOK_PATH: &str = "/identity-verification/webhook";
/// Seconds between the refreshes of the waiting page.
const REFRESH_SECONDS: u32 = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(VERIFY_PATH, get(show).post(start))
        .route(RETURN_PATH, get(back))
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn with_auth(site: &Site, path: &str, handle: &str) -> String {
    format!("{}{path}?auth={}", site.base, encode(handle))
}

/// A signed-in user's visit on behalf of a pending authorization request whose client
/// requires `level`.
struct Visit {
    page: PageContext,
    csrf: CsrfToken,
    handle: String,
    pending: PendingRequest,
    user: UserId,
    level: AssuranceLevel,
}

/// The visit, or the answer when there can be none: a failed CSRF check (`check_csrf`),
/// an expired request, no session (to sign-in), or a client that requires nothing (on with
/// the request).
async fn enter(
    state: &AppState,
    site: &Site,
    headers: &HeaderMap,
    fields: &HashMap<String, String>,
    check_csrf: bool,
) -> Result<Visit, Response> {
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(state, site, headers, &handle).await;
    let page = prepared.page;
    let submitted = fields.get("csrf").map(String::as_str);
    if check_csrf && !csrf::is_valid(headers, &site.cookies, submitted, &site.origin) {
        return Err(forbidden(&page));
    }
    let Some(pending) = prepared.pending else {
        return Err(message(
            &page,
            StatusCode::BAD_REQUEST,
            "error_title",
            page.text("expired"),
        ));
    };
    let Some(session) = site.session(state, headers).await else {
        return Err(see_other(&with_auth(site, "/login", &handle)));
    };
    let Some(level) = pending.client.metadata.required_verification else {
        return Err(see_other(&with_auth(site, CONTINUE_PATH, &handle)));
    };
    Ok(Visit {
        page,
        csrf: prepared.csrf,
        handle,
        pending,
        user: session.user_id,
        level,
    })
}

/// A short page about the check: `text_key` says what happened, with a "Try again" link
/// back to the start page when `retry` names the request.
fn notice(
    page: &PageContext,
    status: StatusCode,
    text_key: &str,
    retry: Option<String>,
) -> Response {
    render(
        page,
        "message.html",
        status,
        context! {
            title => page.text("verify_title"),
            message => page.text(text_key),
            is_error => status.is_client_error() || status.is_server_error(),
            link => retry,
            link_text => page.text("verify_again"),
        },
    )
}

fn unavailable(page: &PageContext) -> Response {
    notice(
        page,
        StatusCode::SERVICE_UNAVAILABLE,
        "verify_not_configured",
        None,
    )
}

/// `GET /verify-identity?auth=…`: what the check is, who does it, and a button to start.
async fn show(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = form_fields(query.as_deref().unwrap_or("").as_bytes());
    let visit = match enter(&state, &site, &headers, &fields, false).await {
        Ok(visit) => visit,
        Err(response) => return response,
    };
    let page = &visit.page;
    let verified = state
        .core
        .identity_verified(site.tenant.id, visit.user, visit.level)
        .await;
    let provider = state.core.identity_provider_of(site.tenant.id).await;
    let provider = match (verified, provider) {
        (Ok(true), _) => return see_other(&with_auth(&site, CONTINUE_PATH, &visit.handle)),
        (Ok(false), Ok(Some(provider))) => provider,
        (Ok(false), Ok(None)) => return unavailable(page),
        (Err(error), _) | (_, Err(error)) => {
            tracing::error!(%error, "identity verification page failed");
            return message(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                page.text("try_later"),
            );
        }
    };
    let response = render(
        page,
        "verify_identity.html",
        StatusCode::OK,
        context! {
            title => page.text("verify_title"),
            client_name => visit.pending.client.metadata.client_name.clone(),
            provider_name => provider.name,
            level => page.text(&format!("level_{}", visit.level.as_str())),
            csrf => visit.csrf.value.clone(),
            auth => visit.handle.clone(),
        },
    );
    with_csrf_cookie(response, &site, &visit.csrf)
}

/// `POST /verify-identity`: starts a session at the provider and sends the browser there.
async fn start(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form_fields(&body);
    let visit = match enter(&state, &site, &headers, &fields, true).await {
        Ok(visit) => visit,
        Err(response) => return response,
    };
    let page = &visit.page;
    let return_to = format!(
        "{}{RETURN_PATH}?auth={}",
        site.issuer.url,
        encode(&visit.handle)
    );
    let Ok(return_url) = url::Url::parse(&return_to) else {
        return message(
            page,
            StatusCode::SERVICE_UNAVAILABLE,
            "error_title",
            page.text("try_later"),
        );
    };
    let urls = VerificationReturn {
        callback_url: format!("{}{WEBHOOK_PATH}", site.issuer.url),
        return_url,
    };
    let started = state
        .core
        .start_identity_verification(
            &site.tenant,
            visit.user,
            &visit.pending.client,
            visit.level,
            &urls,
        )
        .await;
    let retry = || Some(with_auth(&site, VERIFY_PATH, &visit.handle));
    match started {
        Ok(started) => see_other(started.url.as_str()),
        Err(CoreError::NotFound("identity verification provider")) => unavailable(page),
        // The user is gone or blocked: the authorization request decides again.
        Err(CoreError::NotFound(_)) => see_other(&with_auth(&site, CONTINUE_PATH, &visit.handle)),
        Err(CoreError::TooManyRequests { .. }) => {
            notice(page, StatusCode::TOO_MANY_REQUESTS, "verify_too_many", None)
        }
        Err(CoreError::IdentityProviderFailed(cause)) => {
            tracing::warn!(error = %cause, "identity verification not started");
            notice(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "verify_start_failed",
                retry(),
            )
        }
        Err(error) => {
            tracing::error!(%error, "identity verification not started");
            message(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                page.text("try_later"),
            )
        }
    }
}

/// `GET /verify-identity/return?auth=…&session=…`: waits for the provider's result, then
/// continues the authorization request (or, when it has expired meanwhile, says that the
/// identity is verified).
async fn back(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = form_fields(query.as_deref().unwrap_or("").as_bytes());
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(&state, &site, &headers, &handle).await;
    let page = &prepared.page;
    let Some(session) = site.session(&state, &headers).await else {
        return see_other(&with_auth(&site, "/login", &handle));
    };
    let id = fields
        .get("session")
        .and_then(|id| id.parse::<IdentitySessionId>().ok());
    let Some(id) = id else {
        return notice(page, StatusCode::NOT_FOUND, "verify_not_found", None);
    };
    let retry = prepared
        .pending
        .as_ref()
        .map(|_| with_auth(&site, VERIFY_PATH, &handle));
    match state
        .core
        .identity_session_state(&site.tenant, session.user_id, id)
        .await
    {
        Ok((_, SessionState::Pending)) => waiting(page, &fields),
        Ok((_, SessionState::Verified)) if prepared.pending.is_some() => {
            see_other(&with_auth(&site, CONTINUE_PATH, &handle))
        }
        Ok((_, SessionState::Verified)) => notice(page, StatusCode::OK, "verify_done", None),
        Ok((_, SessionState::Insufficient)) => {
            notice(page, StatusCode::OK, "verify_insufficient", retry)
        }
        Ok((_, SessionState::Rejected)) => notice(page, StatusCode::OK, "verify_rejected", retry),
        Ok((_, SessionState::Expired)) => notice(page, StatusCode::OK, "verify_expired", retry),
        Err(CoreError::NotFound(_)) => {
            notice(page, StatusCode::NOT_FOUND, "verify_not_found", None)
        }
        Err(error) => {
            tracing::error!(%error, "identity verification result not read");
            message(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                page.text("try_later"),
            )
        }
    }
}

/// The page that waits for the result: it refreshes itself every few seconds (a `meta`
/// refresh, so it works without JavaScript) and offers a link to look again.
fn waiting(page: &PageContext, fields: &HashMap<String, String>) -> Response {
    let pairs: Vec<(&str, &str)> = ["auth", "session"]
        .into_iter()
        .filter_map(|name| fields.get(name).map(|value| (name, value.as_str())))
        .collect();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    render(
        page,
        "verify_identity_wait.html",
        StatusCode::OK,
        context! {
            title => page.text("verify_waiting_title"),
            refresh_seconds => REFRESH_SECONDS,
            again => format!("{}{RETURN_PATH}?{query}", page.base),
        },
    )
}
