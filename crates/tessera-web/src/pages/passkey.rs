//! Passkeys on the hosted pages. A page's script asks one of the `…/options` endpoints for a
//! ceremony (a CSRF-checked POST answering WebAuthn options as JSON), hands the options to
//! the browser's `navigator.credentials`, and posts the answer with an ordinary form:
//! `/login/passkey` signs in without a password, `/mfa` (method `passkey`) confirms a
//! sign-in, `/mfa/setup/passkey` adds a passkey. Pages offer passkeys only when the public
//! URL allows them (a domain name in a secure context) and the browser has WebAuthn.

use super::login::{
    PostedForm, email_page_with_error, posted_form, sign_in_context, start_session_and_continue,
};
use super::message;
use super::mfa::{
    SecondFactor, Subject, busy, codes_page, expired, finish, may_enrol, reauthenticate,
    refusal_text, subject,
};
use crate::AppState;
use crate::oidc::Site;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::net::SocketAddr;
use tessera_core::CoreError;
use tessera_core::mfa::passkey::PASSKEY_METHODS;
use tessera_core::mfa::policy::AuthLevel;
use tessera_core::oauth::session::Authentication;
use tessera_core::service::PasskeyOptions;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/passkey/options", post(sign_in_options))
        .route("/login/passkey", post(sign_in))
        .route("/mfa/passkey/options", post(second_factor_options))
        .route("/mfa/setup/passkey/options", post(registration_options))
        .route("/mfa/setup/passkey", post(register))
}

/// The options a page's script hands to WebAuthn, never cached.
fn options_json(options: Result<PasskeyOptions, CoreError>) -> Response {
    let (status, body) = match options {
        Ok(options) => (StatusCode::OK, options.to_json()),
        Err(CoreError::NotFound(what)) => (
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "not_found", "error_description": format!("no {what}")}),
        ),
        Err(CoreError::Validation(_)) => (
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "invalid_request"}),
        ),
        Err(error) => {
            tracing::error!(%error, "could not start a passkey ceremony");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"error": "temporarily_unavailable"}),
            )
        }
    };
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn field<'a>(form: &'a PostedForm, name: &str) -> &'a str {
    form.fields.get(name).map_or("", String::as_str)
}

/// `POST /login/passkey/options`: a passwordless ceremony any passkey of the tenant answers.
async fn sign_in_options(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = posted_form(&state, &site, &headers, &body).await {
        return response;
    }
    options_json(
        state
            .core
            .begin_passkey_sign_in(&site.origin, &site.tenant)
            .await,
    )
}

/// `POST /login/passkey`: signs in with the passkey's answer; a passkey is two factors, so
/// the session starts at the two-factor level without a further step.
async fn sign_in(
    State(state): State<AppState>,
    site: Site,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match posted_form(&state, &site, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let prepared = &form.prepared;
    let mut context = sign_in_context(
        &site,
        peer,
        &headers,
        prepared.pending.as_ref().map(|p| p.client.id),
    );
    let signed_in = match state
        .core
        .sign_in_with_passkey(
            &context,
            &site.origin,
            field(&form, "ceremony"),
            field(&form, "credential"),
        )
        .await
    {
        Ok(signed_in) => signed_in,
        Err(CoreError::InvalidCredentials | CoreError::NotFound(_) | CoreError::Validation(_)) => {
            let text = prepared.page.text("passkey_failed");
            return email_page_with_error(prepared, &form.handle, text);
        }
        Err(error) => return busy(&prepared.page, &error),
    };
    context.risk = Some(signed_in.risk.clone());
    let methods: Vec<String> = PASSKEY_METHODS.iter().map(|m| (*m).to_owned()).collect();
    let authentication = Authentication {
        at: Some(state.core.clock().now()),
        acr: AuthLevel::of_methods(&methods).acr().to_owned(),
        methods,
    };
    let handle = prepared.pending.as_ref().map(|_| form.handle.as_str());
    start_session_and_continue(
        &state,
        &site,
        &prepared.page,
        &headers,
        &context,
        &signed_in.user,
        authentication,
        handle,
    )
    .await
}

/// `POST /mfa/passkey/options`: a ceremony for the waiting sign-in's user and their passkeys.
async fn second_factor_options(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = posted_form(&state, &site, &headers, &body).await {
        return response;
    }
    let Some(Subject::Challenge(_, user)) = subject(&state, &site, &headers).await else {
        return options_json(Err(CoreError::NotFound("sign-in")));
    };
    options_json(
        state
            .core
            .begin_passkey_second_factor(&site.origin, &site.tenant, &user)
            .await,
    )
}

/// `POST /mfa/setup/passkey/options`: a ceremony adding a passkey, for a sign-in that must
/// enrol a factor or a recent session.
async fn registration_options(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = posted_form(&state, &site, &headers, &body).await {
        return response;
    }
    let Some(subject) = subject(&state, &site, &headers).await else {
        return options_json(Err(CoreError::NotFound("sign-in")));
    };
    if !may_enrol(&subject, &state, &site).await {
        return options_json(Err(CoreError::NotFound("recent sign-in")));
    }
    options_json(
        state
            .core
            .begin_passkey_registration(&site.origin, &site.tenant, subject.user())
            .await,
    )
}

/// `POST /mfa/setup/passkey`: adds the passkey the browser created, named as the user said;
/// a sign-in that had to enrol goes on with both factors.
async fn register(
    State(state): State<AppState>,
    site: Site,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match posted_form(&state, &site, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let prepared = &form.prepared;
    let Some(subject) = subject(&state, &site, &headers).await else {
        return expired(&prepared.page);
    };
    if !may_enrol(&subject, &state, &site).await {
        return reauthenticate(&prepared.page);
    }
    let codes = match state
        .core
        .finish_passkey_registration(
            &site.origin,
            &site.tenant,
            subject.user(),
            field(&form, "ceremony"),
            field(&form, "credential"),
            field(&form, "name"),
        )
        .await
    {
        Ok(codes) => codes,
        Err(CoreError::Validation(errors)) => {
            let text = if errors.iter().any(|e| e.field == "name") {
                prepared.page.text("passkey_bad_name")
            } else {
                prepared.page.text("passkey_failed")
            };
            return message(
                &prepared.page,
                StatusCode::BAD_REQUEST,
                "mfa_setup_title",
                text,
            );
        }
        Err(error) => {
            return match refusal_text(&prepared.page, &error) {
                Some(_) => expired(&prepared.page),
                None => busy(&prepared.page, &error),
            };
        }
    };
    match &subject {
        Subject::Challenge(challenge, user) => {
            finish(
                &state,
                &site,
                prepared,
                peer,
                &headers,
                challenge,
                user,
                &form.handle,
                codes,
                false,
                SecondFactor::Passkey,
            )
            .await
        }
        Subject::Session(..) => {
            let handle = prepared.pending.as_ref().map(|_| form.handle.as_str());
            match codes {
                Some(codes) => codes_page(&site, prepared, handle, &codes),
                None => message(
                    &prepared.page,
                    StatusCode::OK,
                    "mfa_setup_title",
                    prepared.page.text("passkey_added"),
                ),
            }
        }
    }
}
