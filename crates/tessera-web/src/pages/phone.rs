//! Phone verification pages for the signed-in user: the page that asks for the code sent by
//! SMS (with a resend button), its form posts, and a short "confirmed" page. A flow that
//! wants a number proven (progressive profiling) starts the challenge with
//! `Core::start_phone_verification` and sends the browser to [`verify_page_location`];
//! afterwards the browser goes on with the authorization request `auth`, if any.
//!
//! The user is always the browser's session's user: without a session the browser is sent
//! to sign in, and a challenge of another user is not found. Every POST is CSRF-checked;
//! the pages work without JavaScript.

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
use axum::routing::{get, post};
use minijinja::context;
use secrecy::SecretString;
use std::collections::HashMap;
use tessera_core::CoreError;
use tessera_core::error::CodeRefusal;
use tessera_core::ids::{PhoneVerificationId, UserId};
use tessera_core::phone_verification::PhoneChallenge;

/// The page that asks for the code.
pub const VERIFY_PATH: &str = "/phone/verify";
const RESEND_PATH: &str = "/phone/resend";
/// Where a confirmation ends when no authorization request waits.
const DONE_PATH: &str = "/phone/verified";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(VERIFY_PATH, get(show).post(submit))
        .route(RESEND_PATH, post(resend))
        .route(DONE_PATH, get(done))
}

/// Where to send the browser once `Core::start_phone_verification` answered `challenge`:
/// `site_base` is the tenant's `Site::base`, `handle` the pending authorization request to
/// continue after the number is confirmed (empty: none).
pub fn verify_page_location(
    site_base: &str,
    handle: &str,
    challenge: PhoneVerificationId,
) -> String {
    format!(
        "{site_base}{VERIFY_PATH}?challenge={challenge}{}",
        auth_query(handle, '&')
    )
}

fn auth_query(handle: &str, separator: char) -> String {
    if handle.is_empty() {
        String::new()
    } else {
        let encoded: String = url::form_urlencoded::byte_serialize(handle.as_bytes()).collect();
        format!("{separator}auth={encoded}")
    }
}

/// A signed-in user's visit to one of the pages.
struct Visit {
    page: PageContext,
    csrf: CsrfToken,
    /// The authorization request to continue; empty when none is pending.
    handle: String,
    user: UserId,
    challenge: Option<PhoneVerificationId>,
}

/// The visit, or the answer when there can be none: a failed CSRF check (`check_csrf`, for
/// form posts) or no session (back to sign-in).
async fn enter(
    state: &AppState,
    site: &Site,
    headers: &HeaderMap,
    fields: &HashMap<String, String>,
    check_csrf: bool,
) -> Result<Visit, Response> {
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(state, site, headers, &handle).await;
    let submitted = fields.get("csrf").map(String::as_str);
    if check_csrf && !csrf::is_valid(headers, &site.cookies, submitted, &site.origin) {
        return Err(forbidden(&prepared.page));
    }
    // An expired request is dropped: the number is still confirmed.
    let handle = if prepared.pending.is_some() {
        handle
    } else {
        String::new()
    };
    let Some(session) = site.session(state, headers).await else {
        return Err(see_other(&format!(
            "{}/login{}",
            site.base,
            auth_query(&handle, '?')
        )));
    };
    Ok(Visit {
        page: prepared.page,
        csrf: prepared.csrf,
        handle,
        user: session.user_id,
        challenge: fields.get("challenge").and_then(|id| id.parse().ok()),
    })
}

fn code_page(
    visit: &Visit,
    challenge: &PhoneChallenge,
    notice: Option<&str>,
    error: Option<String>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        &visit.page,
        "phone_verify.html",
        status,
        context! {
            title => visit.page.text("phone_verify_title"),
            csrf => visit.csrf.value.clone(),
            auth => visit.handle.clone(),
            challenge => challenge.id.to_string(),
            phone => challenge.phone.as_str(),
            notice => notice,
            error => error,
        },
    )
}

fn refusal_text(page: &PageContext, refusal: CodeRefusal) -> String {
    match refusal {
        CodeRefusal::Wrong { attempts_left } => page
            .text("phone_wrong_code")
            .replace("{tries}", &attempts_left.to_string()),
        CodeRefusal::Expired => page.text("phone_code_expired").to_owned(),
        CodeRefusal::Used => page.text("phone_code_used").to_owned(),
        CodeRefusal::TooManyAttempts => page.text("phone_too_many_attempts").to_owned(),
    }
}

/// The code page again for the visit's challenge, saying `error` with `status`.
async fn again(
    state: &AppState,
    site: &Site,
    visit: &Visit,
    error: String,
    status: StatusCode,
) -> Response {
    let Some(id) = visit.challenge else {
        return not_found(&visit.page);
    };
    match state
        .core
        .phone_challenge(&site.tenant, visit.user, id)
        .await
    {
        Ok(challenge) => {
            let mut response = code_page(visit, &challenge, None, Some(error));
            *response.status_mut() = status;
            response
        }
        Err(_) => not_found(&visit.page),
    }
}

fn not_found(page: &PageContext) -> Response {
    message(
        page,
        StatusCode::NOT_FOUND,
        "phone_verify_title",
        page.text("phone_expired"),
    )
}

/// What a refused confirmation or resend shows: the code page again with the reason (a
/// refused code, the send limit, the SMS provider), or a message page.
async fn failure(state: &AppState, site: &Site, visit: &Visit, error: CoreError) -> Response {
    let page = &visit.page;
    let text = |key: &str| page.text(key).to_owned();
    match error {
        CoreError::CodeRefused(refusal) => {
            let reason = refusal_text(page, refusal);
            again(state, site, visit, reason, StatusCode::BAD_REQUEST).await
        }
        CoreError::NotFound(_) => not_found(page),
        CoreError::TooManyRequests { .. } => {
            let reason = text("phone_too_many");
            again(state, site, visit, reason, StatusCode::TOO_MANY_REQUESTS).await
        }
        CoreError::SmsNotDelivered(cause) => {
            tracing::warn!(error = %cause, "phone code not sent");
            let reason = text("phone_sms_failed");
            again(state, site, visit, reason, StatusCode::SERVICE_UNAVAILABLE).await
        }
        other => {
            tracing::error!(error = %other, "phone verification failed");
            message(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                page.text("busy"),
            )
        }
    }
}

/// `GET /phone/verify?challenge=…[&auth=…]`: asks for the code.
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
    let Some(id) = visit.challenge else {
        return not_found(&visit.page);
    };
    let Ok(challenge) = state
        .core
        .phone_challenge(&site.tenant, visit.user, id)
        .await
    else {
        return not_found(&visit.page);
    };
    let error = challenge
        .refusal(state.core.clock().now())
        .map(|refusal| refusal_text(&visit.page, refusal));
    let notice = fields
        .contains_key("resent")
        .then(|| visit.page.text("phone_code_resent"));
    let response = code_page(&visit, &challenge, notice, error);
    with_csrf_cookie(response, &site, &visit.csrf)
}

/// `POST /phone/verify`: checks the code, then continues the authorization request.
async fn submit(
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
    let Some(id) = visit.challenge else {
        return not_found(&visit.page);
    };
    let code: String = fields
        .get("code")
        .map(|c| c.chars().filter(char::is_ascii_digit).collect())
        .unwrap_or_default();
    let confirmed = state
        .core
        .confirm_phone(&site.tenant, visit.user, id, &SecretString::from(code))
        .await;
    match confirmed {
        Ok(_) if visit.handle.is_empty() => see_other(&format!("{}{DONE_PATH}", site.base)),
        Ok(_) => see_other(&format!(
            "{}{CONTINUE_PATH}{}",
            site.base,
            auth_query(&visit.handle, '?')
        )),
        Err(error) => failure(&state, &site, &visit, error).await,
    }
}

/// `POST /phone/resend`: a new code to the same number (the old one stops working).
async fn resend(
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
    let Some(id) = visit.challenge else {
        return not_found(&visit.page);
    };
    match state
        .core
        .resend_phone_verification(&site.tenant, visit.user, id)
        .await
    {
        Ok(new) => see_other(&format!(
            "{}&resent=1",
            verify_page_location(&site.base, &visit.handle, new)
        )),
        Err(error) => failure(&state, &site, &visit, error).await,
    }
}

/// `GET /phone/verified`: the end of a confirmation that no application waits for.
async fn done(site: Site, headers: HeaderMap) -> Response {
    let page = site.page(super::language(&[], &headers, &site.tenant));
    message(
        &page,
        StatusCode::OK,
        "phone_verify_title",
        page.text("phone_verified"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verify_page_location_carries_the_challenge_and_the_request() {
        let id = PhoneVerificationId::from_uuid(uuid::Uuid::from_u128(1));
        assert_eq!(
            verify_page_location("/t/acme", "", id),
            format!("/t/acme/phone/verify?challenge={id}")
        );
        assert_eq!(
            verify_page_location("", "a b&c", id),
            format!("/phone/verify?challenge={id}&auth=a+b%26c")
        );
    }
}
