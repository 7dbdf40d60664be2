//! Self sign-up pages: the form, the page that asks for the emailed code (with a resend
//! button), and the page a mailed link opens. A link only shows a button: mail scanners
//! that fetch links must not spend the code. Every POST is CSRF-checked; every answer
//! looks the same whether or not the address has an account (A08).

use super::bot_check::BotChecks;
use super::csrf;
use super::login::{
    ACR_ONE_FACTOR, forbidden, form_fields, sign_in_context, start_session_and_continue,
    with_csrf_cookie,
};
use super::{PageContext, message, render};
use crate::AppState;
use crate::oidc::Site;
use crate::oidc::authorize::see_other;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use secrecy::SecretString;
use std::collections::HashMap;
use std::net::SocketAddr;
use tessera_core::CoreError;
use tessera_core::bot::Flow;
use tessera_core::error::FieldError;
use tessera_core::ids::SignUpId;
use tessera_core::oauth::session::Authentication;
use tessera_core::service::{Proof, SignUpForm, SignUpPlace, SignedUp};
use tessera_oidc::provider::PendingRequest;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signup", get(show).post(submit))
        .route("/signup/verify", get(show_code).post(submit_code))
        .route("/signup/resend", post(resend))
        .route("/signup/confirm", get(show_confirm).post(submit_confirm))
}

fn query_fields(query: Option<&str>) -> HashMap<String, String> {
    form_fields(query.unwrap_or("").as_bytes())
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// What every sign-up page needs: the page context, the authorization request it belongs
/// to (if any), and a CSRF token.
struct Prepared {
    page: PageContext,
    pending: Option<PendingRequest>,
    handle: String,
    csrf: csrf::CsrfToken,
}

async fn prepare(state: &AppState, site: &Site, headers: &HeaderMap, handle: &str) -> Prepared {
    let base = super::login::prepare(state, site, headers, handle).await;
    Prepared {
        // An expired request is dropped: sign-up still works, it just ends on its own page.
        handle: if base.pending.is_some() {
            handle.to_owned()
        } else {
            String::new()
        },
        page: base.page,
        pending: base.pending,
        csrf: base.csrf,
    }
}

impl Prepared {
    fn place(&self, site: &Site, peer: SocketAddr) -> SignUpPlace {
        SignUpPlace {
            language: self.page.lang.to_owned(),
            link_base: site.issuer.url.clone(),
            continue_handle: (!self.handle.is_empty()).then(|| self.handle.clone()),
            client_id: self.pending.as_ref().map(|p| p.client.id.to_string()),
            ip: Some(peer.ip().to_string()),
            browser: self.browser(),
            human_verified: false,
            captcha_passed: false,
        }
    }

    /// This browser's CSRF cookie value, which binds a sign-up's link to the browser that
    /// started it; none when the browser brought no cookie.
    fn browser(&self) -> Option<SecretString> {
        (!self.csrf.is_new).then(|| SecretString::from(self.csrf.value.clone()))
    }

    fn client_name(&self) -> Option<String> {
        self.pending
            .as_ref()
            .map(|p| p.client.metadata.client_name.clone())
    }
}

fn unavailable(page: &PageContext) -> Response {
    message(
        page,
        StatusCode::NOT_FOUND,
        "signup_title",
        page.text("signup_unavailable"),
    )
}

/// The page for a sign-up that is used, expired or spent: start again.
fn expired(prepared: &Prepared) -> Response {
    render(
        &prepared.page,
        "message.html",
        StatusCode::BAD_REQUEST,
        context! {
            title => prepared.page.text("signup_title"),
            message => prepared.page.text("signup_expired"),
            link => format!("{}/signup{}", prepared.page.base, auth_query(&prepared.handle, '?')),
            link_text => prepared.page.text("signup_start_again"),
        },
    )
}

fn auth_query(handle: &str, separator: char) -> String {
    if handle.is_empty() {
        String::new()
    } else {
        format!("{separator}auth={}", encode(handle))
    }
}

/// The values the form shows again after an error (never the password).
#[derive(Default)]
struct Entered {
    email: String,
    given_name: String,
    family_name: String,
    accepted_terms: bool,
    accepted_privacy: bool,
}

fn form_page(
    prepared: &Prepared,
    site: &Site,
    entered: &Entered,
    errors: &[(String, &'static str)],
    status: StatusCode,
    checks: &BotChecks,
) -> Response {
    let settings = &site.tenant.settings.signup;
    let error_of = |field: &str| {
        errors
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, text)| *text)
    };
    let response = render(
        &prepared.page,
        "signup.html",
        status,
        context! {
            title => prepared.page.text("signup_title"),
            client_name => prepared.client_name(),
            csrf => prepared.csrf.value.clone(),
            auth => prepared.handle.clone(),
            email => entered.email.clone(),
            given_name => entered.given_name.clone(),
            family_name => entered.family_name.clone(),
            accepted_terms => entered.accepted_terms,
            accepted_privacy => entered.accepted_privacy,
            ask_for_name => settings.ask_for_name,
            terms_url => settings.terms.as_ref().map(|d| d.url.clone()),
            privacy_url => settings.privacy.as_ref().map(|d| d.url.clone()),
            email_error => error_of("email"),
            password_error => error_of("password"),
            name_error => error_of("given_name").or(error_of("family_name")),
            terms_error => error_of("terms"),
            privacy_error => error_of("privacy"),
            error => errors.iter().find(|(name, _)| name == "form").map(|(_, text)| *text),
            pow => checks.pow_json(),
            captcha => checks.captcha_widget(prepared.page.lang),
        },
    );
    checks.allow_in_csp(response)
}

/// `GET /signup[?auth=…]`: the form.
async fn show(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = query_fields(query.as_deref());
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(&state, &site, &headers, &handle).await;
    if !site.tenant.settings.signup.enabled {
        return unavailable(&prepared.page);
    }
    let entered = Entered {
        email: prepared
            .pending
            .as_ref()
            .and_then(|p| p.request.login_hint.clone())
            .filter(|hint| tessera_core::email::Email::parse(hint).is_ok())
            .unwrap_or_default(),
        ..Entered::default()
    };
    let checks = BotChecks::upfront(&state, &site, Flow::SignUp);
    let response = form_page(&prepared, &site, &entered, &[], StatusCode::OK, &checks);
    with_csrf_cookie(response, &site, &prepared.csrf)
}

/// The text for a field error of the sign-up service.
fn field_text(page: &PageContext, error: &FieldError) -> (String, &'static str) {
    let key = match error.field.as_str() {
        "email" if error.reason.contains("domains") => "signup_domain_refused",
        "email" => "bad_email",
        "password" => "signup_weak_password",
        "terms" => "signup_accept_terms",
        "privacy" => "signup_accept_privacy",
        _ => "signup_bad_name",
    };
    (error.field.clone(), page.text(key))
}

/// `POST /signup`: checks the form and sends the code.
async fn submit(
    State(state): State<AppState>,
    site: Site,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form_fields(&body);
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(&state, &site, &headers, &handle).await;
    if !csrf::is_valid(
        &headers,
        &site.cookies,
        fields.get("csrf").map(String::as_str),
        &site.origin,
    ) {
        return forbidden(&prepared.page);
    }
    let text = |name: &str| {
        fields
            .get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let entered = Entered {
        email: text("email"),
        given_name: text("given_name"),
        family_name: text("family_name"),
        accepted_terms: fields.contains_key("accept_terms"),
        accepted_privacy: fields.contains_key("accept_privacy"),
    };
    let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    let form = SignUpForm {
        email: entered.email.clone(),
        password: SecretString::from(fields.get("password").cloned().unwrap_or_default()),
        given_name: optional(&entered.given_name),
        family_name: optional(&entered.family_name),
        accepted_terms: entered.accepted_terms,
        accepted_privacy: entered.accepted_privacy,
    };
    let mut place = prepared.place(&site, peer);
    (place.human_verified, place.captcha_passed) =
        super::bot_check::proven(&state, &site, Flow::SignUp, &fields, peer.ip()).await;
    match state.core.start_sign_up(&site.tenant, &place, form).await {
        Ok(id) => see_other(&format!(
            "{}/signup/verify?id={id}{}",
            site.base,
            auth_query(&prepared.handle, '&')
        )),
        Err(CoreError::Validation(errors)) => {
            let errors: Vec<_> = errors
                .iter()
                .map(|error| field_text(&prepared.page, error))
                .collect();
            // A submission that needed a check needs it again: keep showing it.
            let checks = if place.human_verified || place.captcha_passed {
                BotChecks::after_refusal(&state, &site, Flow::SignUp)
            } else {
                BotChecks::upfront(&state, &site, Flow::SignUp)
            };
            form_page(
                &prepared,
                &site,
                &entered,
                &errors,
                StatusCode::BAD_REQUEST,
                &checks,
            )
        }
        Err(CoreError::BotCheckRequired) => {
            let checks = BotChecks::after_refusal(&state, &site, Flow::SignUp);
            let text = checks.needed_text("pow_needed_signup", "captcha_needed_signup");
            let errors = [("form".to_owned(), prepared.page.text(text))];
            form_page(
                &prepared,
                &site,
                &entered,
                &errors,
                StatusCode::BAD_REQUEST,
                &checks,
            )
        }
        Err(error) => failure_page(&prepared, &site, &entered, error),
    }
}

/// Errors that are not about a field: unavailable, too many codes, mail not sent.
fn failure_page(prepared: &Prepared, site: &Site, entered: &Entered, error: CoreError) -> Response {
    let page = &prepared.page;
    match error {
        CoreError::NotFound(_) => unavailable(page),
        CoreError::TooManyRequests { .. } => {
            let errors = [("form".to_owned(), page.text("signup_too_many"))];
            form_page(
                prepared,
                site,
                entered,
                &errors,
                StatusCode::TOO_MANY_REQUESTS,
                &BotChecks::default(),
            )
        }
        CoreError::NotDelivered(cause) => {
            tracing::warn!(error = %cause, "sign-up mail not sent");
            message(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                page.text("signup_mail_failed"),
            )
        }
        CoreError::Overloaded => message(
            page,
            StatusCode::SERVICE_UNAVAILABLE,
            "error_title",
            page.text("busy"),
        ),
        other => {
            tracing::error!(error = %other, "sign-up failed");
            message(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                page.text("busy"),
            )
        }
    }
}

fn parse_id(text: Option<&String>) -> Option<SignUpId> {
    text.and_then(|id| id.parse().ok())
}

fn code_page(
    prepared: &Prepared,
    id: SignUpId,
    email: &str,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        &prepared.page,
        "signup_verify.html",
        status,
        context! {
            title => prepared.page.text("signup_verify_title"),
            csrf => prepared.csrf.value.clone(),
            auth => prepared.handle.clone(),
            id => id.to_string(),
            email => email,
            notice => notice,
            error => error,
        },
    )
}

/// `GET /signup/verify?id=…`: asks for the code sent to the address.
async fn show_code(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = query_fields(query.as_deref());
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(&state, &site, &headers, &handle).await;
    let Some(id) = parse_id(fields.get("id")) else {
        return expired(&prepared);
    };
    let challenge = match state.core.pending_sign_up(&site.tenant, id).await {
        Ok(challenge) => challenge,
        Err(_) => return expired(&prepared),
    };
    let notice = fields
        .contains_key("resent")
        .then(|| prepared.page.text("signup_code_resent"));
    let response = code_page(&prepared, id, challenge.email.as_str(), notice, None);
    with_csrf_cookie(response, &site, &prepared.csrf)
}

/// `POST /signup/verify`: checks the code and signs the new user in.
async fn submit_code(
    State(state): State<AppState>,
    site: Site,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form_fields(&body);
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(&state, &site, &headers, &handle).await;
    if !csrf::is_valid(
        &headers,
        &site.cookies,
        fields.get("csrf").map(String::as_str),
        &site.origin,
    ) {
        return forbidden(&prepared.page);
    }
    let Some(id) = parse_id(fields.get("id")) else {
        return expired(&prepared);
    };
    let code: String = fields
        .get("code")
        .map(|c| c.chars().filter(char::is_ascii_digit).collect())
        .unwrap_or_default();
    match state
        .core
        .verify_sign_up(&site.tenant, id, Proof::Code(SecretString::from(code)))
        .await
    {
        Ok(done) => finish(&state, &site, &prepared, &headers, peer, done).await,
        Err(CoreError::InvalidCredentials) => {
            let email = state
                .core
                .pending_sign_up(&site.tenant, id)
                .await
                .map(|c| c.email.as_str().to_owned());
            match email {
                Ok(email) => code_page(
                    &prepared,
                    id,
                    &email,
                    None,
                    Some(prepared.page.text("signup_wrong_code")),
                ),
                Err(_) => expired(&prepared),
            }
        }
        Err(error) => verify_failure(&prepared, &site, error),
    }
}

fn verify_failure(prepared: &Prepared, site: &Site, error: CoreError) -> Response {
    let page = &prepared.page;
    match error {
        CoreError::NotFound(_) => expired(prepared),
        // The address got an account meanwhile (another sign-up, an import).
        CoreError::Duplicate { .. } => render(
            page,
            "message.html",
            StatusCode::CONFLICT,
            context! {
                title => page.text("signup_title"),
                message => page.text("signup_already_registered"),
                link => format!("{}/login{}", site.base, auth_query(&prepared.handle, '?')),
                link_text => page.text("sign_in"),
            },
        ),
        other => failure_page(prepared, site, &Entered::default(), other),
    }
}

/// Starts the new user's session and goes on with the authorization request the sign-up
/// came from, if it is still pending.
async fn finish(
    state: &AppState,
    site: &Site,
    prepared: &Prepared,
    headers: &HeaderMap,
    peer: SocketAddr,
    done: SignedUp,
) -> Response {
    if !done.sign_in {
        let page = &prepared.page;
        return render(
            page,
            "message.html",
            StatusCode::OK,
            context! {
                title => page.text("signup_title"),
                message => page.text("signup_ready_sign_in"),
                link => format!("{}/login", site.base),
                link_text => page.text("sign_in"),
            },
        );
    }
    // The request may have been opened in another browser than the one confirming.
    let handle = match done.continue_handle {
        Some(handle) => state
            .provider
            .pending(&site.issuer, &handle)
            .await
            .ok()
            .flatten()
            .map(|_| handle),
        None => None,
    };
    let context = sign_in_context(site, peer, headers, None);
    let authentication = Authentication {
        at: Some(state.core.clock().now()),
        methods: vec!["pwd".to_owned()],
        acr: ACR_ONE_FACTOR.to_owned(),
    };
    start_session_and_continue(
        state,
        site,
        &prepared.page,
        headers,
        &context,
        &done.user,
        authentication,
        handle.as_deref(),
    )
    .await
}

/// `POST /signup/resend`: a new code (the old one stops working).
async fn resend(
    State(state): State<AppState>,
    site: Site,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form_fields(&body);
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(&state, &site, &headers, &handle).await;
    if !csrf::is_valid(
        &headers,
        &site.cookies,
        fields.get("csrf").map(String::as_str),
        &site.origin,
    ) {
        return forbidden(&prepared.page);
    }
    let Some(id) = parse_id(fields.get("id")) else {
        return expired(&prepared);
    };
    let place = prepared.place(&site, peer);
    match state.core.resend_sign_up(&site.tenant, &place, id).await {
        Ok(new) => see_other(&format!(
            "{}/signup/verify?id={new}&resent=1{}",
            site.base,
            auth_query(&prepared.handle, '&')
        )),
        Err(CoreError::TooManyRequests { .. }) => {
            let email = state
                .core
                .pending_sign_up(&site.tenant, id)
                .await
                .map(|c| c.email.as_str().to_owned())
                .unwrap_or_default();
            code_page(
                &prepared,
                id,
                &email,
                None,
                Some(prepared.page.text("signup_too_many")),
            )
        }
        Err(error) => verify_failure(&prepared, &site, error),
    }
}

/// The page a mailed link opens: one button in the browser that started the sign-up; a
/// password to choose in any other.
fn confirm_page(
    prepared: &Prepared,
    id: SignUpId,
    token: &str,
    ask_password: bool,
    error: Option<&'static str>,
) -> Response {
    render(
        &prepared.page,
        "signup_confirm.html",
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        context! {
            title => prepared.page.text("signup_verify_title"),
            csrf => prepared.csrf.value.clone(),
            id => id.to_string(),
            token => token,
            ask_password => ask_password,
            error => error,
        },
    )
}

/// `GET /signup/confirm?id=…&token=…`: the mailed link.
async fn show_confirm(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = query_fields(query.as_deref());
    let prepared = prepare(&state, &site, &headers, "").await;
    let (Some(id), Some(token)) = (parse_id(fields.get("id")), fields.get("token")) else {
        return expired(&prepared);
    };
    let Ok(challenge) = state.core.pending_sign_up(&site.tenant, id).await else {
        return expired(&prepared);
    };
    let response = confirm_page(
        &prepared,
        id,
        token,
        !challenge.started_in(prepared.browser().as_ref()),
        None,
    );
    with_csrf_cookie(response, &site, &prepared.csrf)
}

/// `POST /signup/confirm`: the link's token proves the address.
async fn submit_confirm(
    State(state): State<AppState>,
    site: Site,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form_fields(&body);
    let prepared = prepare(&state, &site, &headers, "").await;
    if !csrf::is_valid(
        &headers,
        &site.cookies,
        fields.get("csrf").map(String::as_str),
        &site.origin,
    ) {
        return forbidden(&prepared.page);
    }
    let (Some(id), Some(token)) = (parse_id(fields.get("id")), fields.get("token")) else {
        return expired(&prepared);
    };
    let proof = Proof::Link {
        token: SecretString::from(token.clone()),
        browser: prepared.browser(),
        new_password: fields
            .get("password")
            .map(|password| SecretString::from(password.clone())),
    };
    match state.core.verify_sign_up(&site.tenant, id, proof).await {
        Ok(done) => finish(&state, &site, &prepared, &headers, peer, done).await,
        Err(CoreError::InvalidCredentials) => expired(&prepared),
        Err(CoreError::Validation(_)) => confirm_page(
            &prepared,
            id,
            token,
            true,
            Some(prepared.page.text("signup_weak_password")),
        ),
        Err(error) => verify_failure(&prepared, &site, error),
    }
}
