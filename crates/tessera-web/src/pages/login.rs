//! Identifier-first sign-in: the email on one page, the password on the next. Both pages
//! look the same whether or not the account exists (A07), and every POST is CSRF-checked.

use super::bot_check::BotChecks;
use super::csrf;
use super::{PageContext, message, render};
use crate::AppState;
use crate::oidc::Site;
use crate::oidc::authorize::{CONTINUE_PATH, see_other};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::net::SocketAddr;
use tessera_core::CoreError;
use tessera_core::bot::Flow;
use tessera_core::email::Email;
use tessera_core::oauth::session::Authentication;
use tessera_core::secret::generate_secret;
use tessera_core::service::SignInContext;
use tessera_oidc::provider::PendingRequest;

/// The prefix of device cookie values.
const DEVICE_PREFIX: &str = "tsd";

/// The authentication context class of a password sign-in (one factor).
pub const ACR_ONE_FACTOR: &str = "urn:tessera:loa:1";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(show).post(email_step))
        .route("/login/password", post(password_step))
}

/// The fields of a form body; repeated names keep the first value.
pub fn form_fields(body: &[u8]) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(body).into_owned() {
        fields.entry(name).or_insert(value);
    }
    fields
}

fn query_field(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// What every hosted page of a flow needs: the page context in the request's language, the
/// authorization request it belongs to (if still pending), and a CSRF token.
pub(super) struct Prepared {
    pub(super) page: PageContext,
    pub(super) pending: Option<PendingRequest>,
    pub(super) csrf: csrf::CsrfToken,
    /// Passkeys work at this site's public URL (a domain name in a secure context).
    pub(super) passkeys: bool,
}

pub(super) async fn prepare(
    state: &AppState,
    site: &Site,
    headers: &HeaderMap,
    handle: &str,
) -> Prepared {
    let pending = if handle.is_empty() {
        None
    } else {
        state
            .provider
            .pending(&site.issuer, handle)
            .await
            .ok()
            .flatten()
    };
    let ui_locales = pending
        .as_ref()
        .map(|p| p.request.ui_locales.clone())
        .unwrap_or_default();
    Prepared {
        page: site.page(super::language(&ui_locales, headers, &site.tenant)),
        pending,
        csrf: csrf::token(headers, &site.cookies),
        passkeys: state.core.passkeys_available(&site.origin),
    }
}

/// A posted form of the hosted pages whose CSRF token checked out (A18): its fields, the
/// authorization request it belongs to, and the page prepared for the answer.
pub(super) struct PostedForm {
    pub(super) fields: HashMap<String, String>,
    pub(super) handle: String,
    pub(super) prepared: Prepared,
}

/// Reads a posted form and checks its CSRF token and origin; the `403` page if they fail.
pub(super) async fn posted_form(
    state: &AppState,
    site: &Site,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<PostedForm, Response> {
    let fields = form_fields(body);
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(state, site, headers, &handle).await;
    if !csrf::is_valid(
        headers,
        &site.cookies,
        fields.get("csrf").map(String::as_str),
        &site.origin,
    ) {
        return Err(forbidden(&prepared.page));
    }
    Ok(PostedForm {
        fields,
        handle,
        prepared,
    })
}

/// Sets the CSRF cookie when the token was made for this response.
pub(super) fn with_csrf_cookie(
    mut response: Response,
    site: &Site,
    token: &csrf::CsrfToken,
) -> Response {
    if token.is_new
        && let Some(value) = site.cookies.set_csrf(&token.value)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The sign-in steps, each a page of its own.
#[derive(Debug, Clone, Copy)]
enum Step {
    Email,
    Password,
}

fn login_page(
    prepared: &Prepared,
    step: Step,
    handle: &str,
    email: &str,
    error: Option<&str>,
    checks: &BotChecks,
) -> Response {
    login_page_with(prepared, step, handle, email, error, checks, None)
}

/// [`login_page`] with the message of a passkey that did not sign in (not an error of the
/// email field).
fn login_page_with(
    prepared: &Prepared,
    step: Step,
    handle: &str,
    email: &str,
    error: Option<&str>,
    checks: &BotChecks,
    passkey_error: Option<&str>,
) -> Response {
    let (template, status) = match step {
        Step::Email if error.is_some() || passkey_error.is_some() => {
            ("login_email.html", StatusCode::BAD_REQUEST)
        }
        Step::Email => ("login_email.html", StatusCode::OK),
        // The same status whether the account exists or not (A07).
        Step::Password => ("login_password.html", StatusCode::OK),
    };
    let response = render(
        &prepared.page,
        template,
        status,
        context! {
            title => prepared.page.text("sign_in_title"),
            client_name => prepared.pending.as_ref().map(|p| p.client.metadata.client_name.clone()),
            csrf => prepared.csrf.value.clone(),
            auth => handle,
            email => email,
            error => error,
            passkey_error => passkey_error,
            signup => prepared.page.tenant.settings.signup.enabled,
            passkeys => prepared.passkeys,
            pow => checks.pow_json(),
            captcha => checks.captcha_widget(prepared.page.lang),
        },
    );
    checks.allow_in_csp(response)
}

/// The email page with an error (a passkey that did not sign in).
pub(super) fn email_page_with_error(prepared: &Prepared, handle: &str, error: &str) -> Response {
    login_page_with(
        prepared,
        Step::Email,
        handle,
        "",
        None,
        &BotChecks::default(),
        Some(error),
    )
}

/// The answer to a form post whose CSRF token does not check out.
pub(super) fn forbidden(page: &PageContext) -> Response {
    message(
        page,
        StatusCode::FORBIDDEN,
        "error_title",
        page.text("forbidden"),
    )
}

/// `GET /login[?auth=…]`: the email page, pre-filled with `login_hint`.
async fn show(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let handle = query_field(query.as_deref(), "auth").unwrap_or_default();
    let prepared = prepare(&state, &site, &headers, &handle).await;
    if !handle.is_empty() && prepared.pending.is_none() {
        return message(
            &prepared.page,
            StatusCode::BAD_REQUEST,
            "error_title",
            prepared.page.text("expired"),
        );
    }
    let hint = prepared
        .pending
        .as_ref()
        .and_then(|p| p.request.login_hint.clone())
        .filter(|hint| Email::parse(hint).is_ok())
        .unwrap_or_default();
    let response = login_page(
        &prepared,
        Step::Email,
        &handle,
        &hint,
        None,
        &BotChecks::default(),
    );
    with_csrf_cookie(response, &site, &prepared.csrf)
}

/// `POST /login`: the email step. The password page follows whether or not the account
/// exists.
async fn email_step(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let PostedForm {
        fields,
        handle,
        prepared,
    } = match posted_form(&state, &site, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let email = fields
        .get("email")
        .map(|e| e.trim().to_owned())
        .unwrap_or_default();
    if Email::parse(&email).is_err() {
        let error = prepared.page.text("bad_email");
        return login_page(
            &prepared,
            Step::Email,
            &handle,
            &email,
            Some(error),
            &BotChecks::default(),
        );
    }
    let checks = BotChecks::upfront(&state, &site, Flow::SignIn);
    login_page(&prepared, Step::Password, &handle, &email, None, &checks)
}

/// `POST /login/password`: checks the password, starts a new session and continues the
/// authorization request.
async fn password_step(
    State(state): State<AppState>,
    site: Site,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let PostedForm {
        fields,
        handle,
        prepared,
    } = match posted_form(&state, &site, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let email = fields
        .get("email")
        .map(|e| e.trim().to_owned())
        .unwrap_or_default();
    let password = SecretString::from(fields.get("password").cloned().unwrap_or_default());
    let mut context = sign_in_context(
        &site,
        peer,
        &headers,
        prepared.pending.as_ref().map(|p| p.client.id),
    );
    (context.human_verified, context.captcha_passed) =
        super::bot_check::proven(&state, &site, Flow::SignIn, &fields, peer.ip()).await;
    let signed_in = match state.core.check_password(&context, &email, password).await {
        Ok(signed_in) => signed_in,
        Err(CoreError::InvalidCredentials) => {
            let error = prepared.page.text("bad_credentials");
            // A submission that needed a check needs it again: keep showing it.
            let checks = if context.human_verified || context.captcha_passed {
                BotChecks::after_refusal(&state, &site, Flow::SignIn)
            } else {
                BotChecks::upfront(&state, &site, Flow::SignIn)
            };
            return login_page(
                &prepared,
                Step::Password,
                &handle,
                &email,
                Some(error),
                &checks,
            );
        }
        Err(CoreError::BotCheckRequired) => {
            // Unknown and known accounts alike (the risk of the attempt decides, A07).
            let checks = BotChecks::after_refusal(&state, &site, Flow::SignIn);
            let error = prepared
                .page
                .text(checks.needed_text("pow_needed", "captcha_needed"));
            return login_page(
                &prepared,
                Step::Password,
                &handle,
                &email,
                Some(error),
                &checks,
            );
        }
        Err(CoreError::Overloaded) => {
            return message(
                &prepared.page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                prepared.page.text("busy"),
            );
        }
        Err(error) => {
            tracing::error!(%error, "sign-in failed");
            return message(
                &prepared.page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                prepared.page.text("busy"),
            );
        }
    };
    let user = signed_in.user;
    context.risk = Some(signed_in.risk.clone());
    let authentication = Authentication {
        at: Some(state.core.clock().now()),
        methods: vec!["pwd".to_owned()],
        acr: ACR_ONE_FACTOR.to_owned(),
    };
    if let Some(response) = super::mfa::second_factor_step(
        &state,
        &site,
        &prepared,
        &user,
        &authentication,
        &handle,
        &context,
    )
    .await
    {
        return response;
    }
    let handle = prepared.pending.as_ref().map(|_| handle.as_str());
    start_session_and_continue(
        &state,
        &site,
        &prepared.page,
        &headers,
        &context,
        &user,
        authentication,
        handle,
    )
    .await
}

/// Where a sign-in comes from, for its events.
pub(super) fn sign_in_context(
    site: &Site,
    peer: SocketAddr,
    headers: &HeaderMap,
    client_id: Option<tessera_core::ids::ClientId>,
) -> SignInContext {
    let device = super::session::cookie(headers, &site.cookies.device)
        .filter(|value| value.starts_with(DEVICE_PREFIX) && value.len() <= 64)
        .map_or_else(
            || generate_secret(DEVICE_PREFIX).expose_secret().to_owned(),
            str::to_owned,
        );
    SignInContext {
        tenant_id: site.tenant.id,
        client_id,
        ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
        device: Some(device),
        human_verified: false,
        captcha_passed: false,
        risk: None,
    }
}

/// Starts a new session for `user` (ending the browser's previous one, A21), sets its
/// cookie and continues the authorization request `handle`, or says the user is signed in.
#[allow(
    clippy::too_many_arguments,
    reason = "the parts of one sign-in, each needed"
)]
pub(super) async fn start_session_and_continue(
    state: &AppState,
    site: &Site,
    page: &PageContext,
    headers: &HeaderMap,
    context: &SignInContext,
    user: &tessera_core::user::User,
    authentication: Authentication,
    handle: Option<&str>,
) -> Response {
    let cookie =
        match begin_session(state, site, page, headers, context, user, authentication).await {
            Ok(cookie) => cookie,
            Err(response) => return response,
        };
    let mut response = continue_response(site, page, handle);
    append_session_cookies(&mut response, cookie);
    response
}

/// Adds the `Set-Cookie` headers [`begin_session`] made.
pub(super) fn append_session_cookies(
    response: &mut Response,
    cookies: Option<(HeaderValue, Option<HeaderValue>)>,
) {
    if let Some((session, device)) = cookies {
        response.headers_mut().append(header::SET_COOKIE, session);
        if let Some(device) = device {
            response.headers_mut().append(header::SET_COOKIE, device);
        }
    }
}

/// The device cookie to set when the browser came without one.
fn device_cookie(site: &Site, headers: &HeaderMap, context: &SignInContext) -> Option<HeaderValue> {
    let present = super::session::cookie(headers, &site.cookies.device)
        .is_some_and(|value| Some(value) == context.device.as_deref());
    if present {
        return None;
    }
    context
        .device
        .as_deref()
        .and_then(|value| site.cookies.set_device(value))
}

/// Starts a new session for `user`, ending the browser's previous one (A21): the
/// `Set-Cookie` header of the new session, or the page to show when it failed.
pub(super) async fn begin_session(
    state: &AppState,
    site: &Site,
    page: &PageContext,
    headers: &HeaderMap,
    context: &SignInContext,
    user: &tessera_core::user::User,
    authentication: Authentication,
) -> Result<Option<(HeaderValue, Option<HeaderValue>)>, Response> {
    // A21: a session id from before the sign-in never survives it.
    if let Some(old) = site.session(state, headers).await {
        match state.provider.log_out(&old).await {
            Ok(clients) => {
                let notices = state
                    .provider
                    .backchannel_notices(&site.issuer, &old, &clients)
                    .await;
                state.outbound.send_logout_tokens(notices);
            }
            Err(error) => tracing::warn!(%error, "could not end the previous session"),
        }
    }
    match state
        .core
        .start_session(context, user, authentication, site.tenant.settings.sessions)
        .await
    {
        Ok(started) => Ok(site
            .cookies
            .set_session(started.cookie_value.expose_secret())
            .map(|session| (session, device_cookie(site, headers, context)))),
        Err(error) => {
            tracing::error!(%error, "could not start a session");
            Err(message(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                page.text("busy"),
            ))
        }
    }
}

/// Where a signed-in browser goes next: on with the authorization request `handle`, or a
/// page saying it is signed in.
pub(super) fn continue_response(site: &Site, page: &PageContext, handle: Option<&str>) -> Response {
    match handle {
        Some(handle) => see_other(&continue_url(site, handle)),
        None => message(
            page,
            StatusCode::OK,
            "sign_in_title",
            page.text("signed_in"),
        ),
    }
}

/// The URL that resumes the authorization request `handle`.
pub(super) fn continue_url(site: &Site, handle: &str) -> String {
    format!(
        "{}{CONTINUE_PATH}?auth={}",
        site.base,
        url::form_urlencoded::byte_serialize(handle.as_bytes()).collect::<String>()
    )
}
