//! The second-factor pages: `/mfa` asks for a code from the authenticator app (or a
//! recovery code), `/mfa/setup` enrols an app with a QR code and shows the recovery codes
//! once. A sign-in reaches them with a challenge cookie set after its password; a signed-in
//! browser reaches them for a step-up (a client or request that needs two factors) or to
//! add an app of its own accord. No session exists for a sign-in until its second factor
//! is proven.

use super::login::{
    PostedForm, Prepared, append_session_cookies, begin_session, continue_response, continue_url,
    posted_form, prepare, sign_in_context, with_csrf_cookie,
};
use super::session::cookie;
use super::{PageContext, message, render};
use crate::AppState;
use crate::oidc::Site;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use minijinja::{Value, context};
use qrcode::QrCode;
use qrcode::render::svg;
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use tessera_core::CoreError;
use tessera_core::error::CodeRefusal;
use tessera_core::ids::MfaFactorId;
use tessera_core::mfa::policy::{AuthLevel, LevelInputs, required_level};
use tessera_core::mfa::{FactorKind, SignInChallenge};
use tessera_core::oauth::session::{Authentication, Session};
use tessera_core::risk::RiskDecision;
use tessera_core::service::SignInContext;
use tessera_core::service::TotpEnrolment;
use tessera_core::user::User;
use time::Duration;

/// How recent a sign-in must be to add an authenticator without signing in again
/// (ASVS 7.5.1: re-authentication before changing factors).
const RECENT_SIGN_IN: Duration = Duration::minutes(10);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mfa", get(show).post(verify))
        .route("/mfa/email", axum::routing::post(send_email_code))
        .route("/mfa/setup", get(show_setup).post(confirm_setup))
}

/// Whose second factor a page is about.
pub(super) enum Subject {
    /// A sign-in waiting for its second factor (or for the enrolment of one).
    Challenge(SignInChallenge, User),
    /// A signed-in browser: a step-up, or adding an app of its own accord.
    Session(Session, User),
}

impl Subject {
    pub(super) fn user(&self) -> &User {
        match self {
            Subject::Challenge(_, user) | Subject::Session(_, user) => user,
        }
    }
}

pub(super) async fn subject(state: &AppState, site: &Site, headers: &HeaderMap) -> Option<Subject> {
    if let Some(value) = cookie(headers, &site.cookies.challenge) {
        match state.core.sign_in_challenge(&site.tenant, value).await {
            Ok(Some((challenge, user))) => return Some(Subject::Challenge(challenge, user)),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "challenge lookup failed"),
        }
    }
    let session = site.session(state, headers).await?;
    let user = state
        .core
        .store()
        .user_by_id(site.tenant.id, session.user_id)
        .await
        .ok()
        .flatten()?;
    Some(Subject::Session(session, user))
}

pub(super) fn query_value(query: Option<&str>, name: &str) -> String {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
        .unwrap_or_default()
}

pub(super) fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub(super) fn see_other(location: &str) -> Response {
    crate::oidc::authorize::see_other(location)
}

pub(super) fn busy(page: &PageContext, error: &CoreError) -> Response {
    tracing::error!(%error, "second-factor page failed");
    message(
        page,
        StatusCode::SERVICE_UNAVAILABLE,
        "error_title",
        page.text("busy"),
    )
}

pub(super) fn expired(page: &PageContext) -> Response {
    message(
        page,
        StatusCode::BAD_REQUEST,
        "error_title",
        page.text("expired"),
    )
}

/// The page's words for a refused code.
pub(super) fn refusal_text(page: &PageContext, error: &CoreError) -> Option<String> {
    match error {
        CoreError::CodeRefused(CodeRefusal::Wrong { .. }) | CoreError::NotFound(_) => {
            Some(page.text("mfa_wrong_code").to_owned())
        }
        CoreError::CodeRefused(_) => Some(page.text("mfa_wrong_code").to_owned()),
        CoreError::Locked {
            retry_after_seconds: Some(seconds),
        } => Some(
            page.text("mfa_locked")
                .replace("{minutes}", &seconds.div_ceil(60).to_string()),
        ),
        CoreError::Locked {
            retry_after_seconds: None,
        } => Some(page.text("mfa_disabled").to_owned()),
        _ => None,
    }
}

/// `GET /mfa[?auth=…][&method=recovery]`: the code form.
async fn show(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let handle = query_value(query.as_deref(), "auth");
    let recovery = query_value(query.as_deref(), "method") == "recovery";
    let prepared = prepare(&state, &site, &headers, &handle).await;
    let Some(subject) = subject(&state, &site, &headers).await else {
        return see_other(&format!("{}/login?auth={}", site.base, encode(&handle)));
    };
    let mut set_cookie = None;
    let subject = match subject {
        // A step-up: the session's user passes a second factor on a challenge of its own.
        Subject::Session(session, user) => {
            let enrolled = match state.core.mfa_status(&site.tenant, user.id).await {
                Ok(status) => status.enrolled(),
                Err(error) => return busy(&prepared.page, &error),
            };
            // Enrolling needs a recent sign-in: an old (or stolen) session signs in again.
            if !enrolled && !recent(&session, &state) {
                return see_other(&format!("{}/login?auth={}", site.base, encode(&handle)));
            }
            let opened = match state
                .core
                .open_sign_in_challenge(&user, session.authentication.clone(), !enrolled, None)
                .await
            {
                Ok(opened) => opened,
                Err(error) => return busy(&prepared.page, &error),
            };
            set_cookie = site
                .cookies
                .set_challenge(opened.cookie_value.expose_secret());
            Subject::Challenge(opened.challenge, user)
        }
        challenge => challenge,
    };
    let mut response = match &subject {
        Subject::Challenge(challenge, _) if challenge.enrol => {
            see_other(&format!("{}/mfa/setup?auth={}", site.base, encode(&handle)))
        }
        Subject::Challenge(challenge, user) => {
            let factors = match Factors::of(&state, &site, user).await {
                Ok(factors) => factors,
                Err(error) => return busy(&prepared.page, &error),
            };
            let method = if recovery {
                Method::Recovery
            } else if factors.enrolled {
                factors.method()
            } else {
                Method::Email {
                    sent: challenge.email_code.is_some(),
                    to: masked_address(user),
                }
            };
            code_page(&prepared, &handle, &method, &factors, None)
        }
        Subject::Session(..) => expired(&prepared.page),
    };
    if let Some(value) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    with_csrf_cookie(response, &site, &prepared.csrf)
}

/// Which second factors a user has, and which of them this site can use.
pub(super) struct Factors {
    enrolled: bool,
    totp: bool,
    /// The user has a passkey and passkeys work at this site's URL.
    passkey: bool,
    /// The user has a passkey, usable here or not.
    any_passkey: bool,
}

impl Factors {
    async fn of(state: &AppState, site: &Site, user: &User) -> Result<Self, CoreError> {
        let status = state.core.mfa_status(&site.tenant, user.id).await?;
        let has = |kind| status.factors.iter().any(|f| f.kind == kind);
        Ok(Self {
            enrolled: status.enrolled(),
            totp: has(FactorKind::Totp),
            passkey: has(FactorKind::Passkey) && state.core.passkeys_available(&site.origin),
            any_passkey: has(FactorKind::Passkey),
        })
    }

    /// The page's main way in: a code from the app if the user has one, else the passkey,
    /// else (passkeys that cannot work at this URL) a recovery code.
    fn method(&self) -> Method {
        if self.totp {
            Method::App
        } else if self.passkey {
            Method::Passkey
        } else if self.any_passkey {
            Method::Recovery
        } else {
            Method::App
        }
    }
}

/// How the code page asks for the second factor.
enum Method {
    App,
    /// A passkey only: the page has no code field (recovery codes stay a link away).
    Passkey,
    Recovery,
    /// An emailed code; `sent` once one went out, to the (masked) address `to`.
    Email {
        sent: bool,
        to: String,
    },
}

/// `a•••@example.com`: enough to recognise one's address, not to learn someone else's.
fn masked_address(user: &User) -> String {
    let Some(address) = tessera_core::Core::sign_in_code_address(user) else {
        return String::new();
    };
    let text = address.as_str();
    match text.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => String::new(),
    }
}

fn code_page(
    prepared: &Prepared,
    handle: &str,
    method: &Method,
    factors: &Factors,
    error: Option<&str>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        &prepared.page,
        "mfa.html",
        status,
        context! {
            title => prepared.page.text("mfa_title"),
            client_name => prepared.pending.as_ref().map(|p| p.client.metadata.client_name.clone()),
            csrf => prepared.csrf.value.clone(),
            auth => handle,
            method => match method {
                Method::App => "totp",
                Method::Passkey => "passkey",
                Method::Recovery => "recovery",
                Method::Email { .. } => "email",
            },
            email_sent => matches!(method, Method::Email { sent: true, .. }),
            email_to => match method {
                Method::Email { to, .. } => to.as_str(),
                _ => "",
            },
            remember_days => prepared.page.tenant.settings.mfa.remember_device_days,
            passkey => factors.passkey && !matches!(method, Method::Recovery | Method::Email { .. }),
            passkey_only => matches!(method, Method::Passkey),
            error => error,
        },
    )
}

/// `POST /mfa`: checks the code, then starts the session with both factors.
async fn verify(
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
    let Some(Subject::Challenge(challenge, user)) = subject(&state, &site, &headers).await else {
        return expired(&prepared.page);
    };
    let code = fields.get("code").cloned().unwrap_or_default();
    let factors = match Factors::of(&state, &site, &user).await {
        Ok(factors) => factors,
        Err(error) => return busy(&prepared.page, &error),
    };
    let mut second = SecondFactor::Code;
    let (checked, method) = match fields.get("method").map(String::as_str) {
        Some("recovery") => (
            state
                .core
                .use_recovery_code(&site.tenant, &user, SecretString::from(code))
                .await
                .map(|_| ()),
            Method::Recovery,
        ),
        Some("email") => (
            state
                .core
                .verify_sign_in_code(&site.tenant, &user, &challenge, &code)
                .await,
            Method::Email {
                sent: challenge.email_code.is_some(),
                to: masked_address(&user),
            },
        ),
        Some("passkey") => {
            second = SecondFactor::Passkey;
            let field = |name: &str| fields.get(name).map_or("", String::as_str);
            (
                state
                    .core
                    .verify_passkey(
                        &site.origin,
                        &site.tenant,
                        &user,
                        field("ceremony"),
                        field("credential"),
                    )
                    .await,
                factors.method(),
            )
        }
        _ => (
            state.core.verify_totp(&site.tenant, &user, &code).await,
            Method::App,
        ),
    };
    if let Err(error) = checked {
        let passkey_refused = second == SecondFactor::Passkey
            && matches!(
                error,
                CoreError::CodeRefused(_) | CoreError::NotFound(_) | CoreError::Validation(_)
            );
        if passkey_refused {
            let text = prepared.page.text("passkey_failed");
            return code_page(&prepared, &handle, &method, &factors, Some(text));
        }
        return match refusal_text(&prepared.page, &error) {
            Some(text) => code_page(&prepared, &handle, &method, &factors, Some(&text)),
            None => busy(&prepared.page, &error),
        };
    }
    let remember = fields.get("remember").is_some_and(|v| v == "on");
    finish(
        &state, &site, &prepared, peer, &headers, &challenge, &user, &handle, None, remember,
        second,
    )
    .await
}

/// Spends the challenge and starts the session with both factors; then the recovery codes
/// (when the sign-in just enrolled a first factor) or the way on.
#[allow(
    clippy::too_many_arguments,
    reason = "the parts of one sign-in, each needed"
)]
pub(super) async fn finish(
    state: &AppState,
    site: &Site,
    prepared: &Prepared,
    peer: SocketAddr,
    headers: &HeaderMap,
    challenge: &SignInChallenge,
    user: &User,
    handle: &str,
    recovery_codes: Option<Vec<SecretString>>,
    remember: bool,
    second: SecondFactor,
) -> Response {
    match state.core.complete_sign_in_challenge(challenge).await {
        Ok(true) => {}
        Ok(false) => return expired(&prepared.page),
        Err(error) => return busy(&prepared.page, &error),
    }
    let mut context = sign_in_context(
        site,
        peer,
        headers,
        prepared.pending.as_ref().map(|p| p.client.id),
    );
    context.risk = challenge.risk.clone();
    if remember {
        let label = context
            .user_agent
            .as_deref()
            .map_or_else(|| "Browser".to_owned(), crate::mail::browser_name);
        if let Err(error) = state
            .core
            .trust_device(&site.tenant, user, context.device.as_deref(), &label)
            .await
        {
            tracing::warn!(%error, "could not trust the browser");
        }
    }
    let authentication = with_second_factor(&challenge.authentication, second, state);
    let session_cookie = match begin_session(
        state,
        site,
        &prepared.page,
        headers,
        &context,
        user,
        authentication,
    )
    .await
    {
        Ok(cookie) => cookie,
        Err(response) => return response,
    };
    let handle = prepared.pending.as_ref().map(|_| handle);
    let mut response = match recovery_codes {
        Some(codes) => codes_page(site, prepared, handle, &codes),
        None => continue_response(site, &prepared.page, handle),
    };
    append_session_cookies(&mut response, session_cookie);
    if let Some(value) = site.cookies.clear_challenge() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `POST /mfa/email`: emails a code for the waiting sign-in, then asks for it.
async fn send_email_code(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let PostedForm {
        fields: _,
        handle,
        prepared,
    } = match posted_form(&state, &site, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some(Subject::Challenge(challenge, user)) = subject(&state, &site, &headers).await else {
        return expired(&prepared.page);
    };
    let factors = match Factors::of(&state, &site, &user).await {
        Ok(factors) => factors,
        Err(error) => return busy(&prepared.page, &error),
    };
    let sent = state
        .core
        .send_sign_in_code(&site.tenant, &user, &challenge, prepared.page.lang)
        .await;
    let method = Method::Email {
        sent: sent.is_ok() || challenge.email_code.is_some(),
        to: masked_address(&user),
    };
    match sent {
        Ok(()) => code_page(&prepared, &handle, &method, &factors, None),
        Err(CoreError::TooManyRequests { .. }) => {
            let text = prepared.page.text("mfa_email_limit");
            code_page(&prepared, &handle, &method, &factors, Some(text))
        }
        Err(CoreError::NotDelivered(_)) => {
            let text = prepared.page.text("mfa_email_failed");
            code_page(&prepared, &handle, &method, &factors, Some(text))
        }
        Err(error) => busy(&prepared.page, &error),
    }
}

/// Sends a sign-in that passed its password on to its second factor (or to enrol one) when
/// the tenant, the client, or the request asks for two factors; `None` when one is enough.
pub(super) async fn second_factor_step(
    state: &AppState,
    site: &Site,
    prepared: &Prepared,
    user: &User,
    authentication: &Authentication,
    handle: &str,
    context: &SignInContext,
) -> Option<Response> {
    let risk_requires_mfa = context
        .risk
        .as_ref()
        .is_some_and(|risk| risk.decision == RiskDecision::RequireMfa);
    let enrolled = match state.core.mfa_status(&site.tenant, user.id).await {
        Ok(status) => status.enrolled(),
        Err(error) => return Some(busy(&prepared.page, &error)),
    };
    let pending = prepared.pending.as_ref();
    let level = required_level(LevelInputs {
        mode: site.tenant.settings.mfa.mode,
        client_minimum: pending.and_then(|p| p.client.metadata.minimum_acr),
        requested: pending.and_then(|p| AuthLevel::requested(&p.request.acr_values)),
        risk_requires_mfa,
        enrolled,
    });
    if level < AuthLevel::TwoFactors {
        return None;
    }
    // A browser the user trusts skips the factor the tenant asks for — not one that a
    // client, the request or the risk of this sign-in asks for.
    let asked_only_by_tenant =
        !risk_requires_mfa && client_or_request_level(prepared) < AuthLevel::TwoFactors;
    if enrolled && asked_only_by_tenant {
        match state
            .core
            .is_trusted_device(&site.tenant, user, context.device.as_deref())
            .await
        {
            Ok(true) => return None,
            Ok(false) => {}
            Err(error) => return Some(busy(&prepared.page, &error)),
        }
    }
    // A risky sign-in of a user without an app confirms by email rather than enrolling one
    // (whoever holds a stolen password must not get to add their own app).
    // Without a verified address to mail, such a sign-in cannot be confirmed: it stops here.
    let only_risk = !enrolled && level_without_risk(site, prepared) < AuthLevel::TwoFactors;
    let by_email = only_risk && tessera_core::Core::sign_in_code_address(user).is_some();
    if only_risk && !by_email {
        return Some(message(
            &prepared.page,
            StatusCode::FORBIDDEN,
            "mfa_title",
            prepared.page.text("mfa_cannot_confirm"),
        ));
    }
    let enrol = !enrolled && !by_email;
    let opened = match state
        .core
        .open_sign_in_challenge(user, authentication.clone(), enrol, context.risk.clone())
        .await
    {
        Ok(opened) => opened,
        Err(error) => return Some(busy(&prepared.page, &error)),
    };
    let path = if enrol { "mfa/setup" } else { "mfa" };
    let mut response = see_other(&format!("{}/{path}?auth={}", site.base, encode(handle)));
    if let Some(value) = site
        .cookies
        .set_challenge(opened.cookie_value.expose_secret())
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Some(response)
}

/// The level the client and the request ask for.
fn client_or_request_level(prepared: &Prepared) -> AuthLevel {
    let pending = prepared.pending.as_ref();
    required_level(LevelInputs {
        mode: tessera_core::mfa::policy::MfaMode::Off,
        client_minimum: pending.and_then(|p| p.client.metadata.minimum_acr),
        requested: pending.and_then(|p| AuthLevel::requested(&p.request.acr_values)),
        risk_requires_mfa: false,
        enrolled: false,
    })
}

/// The level the tenant, the client and the request ask for, leaving risk aside.
fn level_without_risk(site: &Site, prepared: &Prepared) -> AuthLevel {
    let pending = prepared.pending.as_ref();
    required_level(LevelInputs {
        mode: site.tenant.settings.mfa.mode,
        client_minimum: pending.and_then(|p| p.client.metadata.minimum_acr),
        requested: pending.and_then(|p| AuthLevel::requested(&p.request.acr_values)),
        risk_requires_mfa: false,
        enrolled: false,
    })
}

/// What proved the second factor, for `amr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SecondFactor {
    /// A one-time code: from an app, an email, or a recovery code.
    Code,
    /// A passkey: a key on the user's device that verified its user.
    Passkey,
}

/// The authentication after a second factor: now, both methods, two-factor level.
fn with_second_factor(
    first: &Authentication,
    second: SecondFactor,
    state: &AppState,
) -> Authentication {
    let mut methods = first.methods.clone();
    let added: &[&str] = match second {
        SecondFactor::Code => &["otp", "mfa"],
        SecondFactor::Passkey => &["hwk", "user", "mfa"],
    };
    for method in added {
        if !methods.iter().any(|m| m == *method) {
            methods.push((*method).to_owned());
        }
    }
    let acr = AuthLevel::of_methods(&methods).acr().to_owned();
    Authentication {
        at: Some(state.core.clock().now()),
        methods,
        acr,
    }
}

/// Whether the session's sign-in is recent enough to change factors (ASVS 7.5.1).
pub(super) fn recent(session: &Session, state: &AppState) -> bool {
    session
        .authentication
        .at
        .is_some_and(|at| state.core.clock().now() - at <= RECENT_SIGN_IN)
}

/// Whether `subject` may add a factor: a sign-in that must enrol one, or a recent session
/// that either proved two factors or belongs to a user without any. A one-factor session
/// never adds a factor next to one the user has: that would let a stolen password stand in
/// for the factor it does not have.
pub(super) async fn may_enrol(subject: &Subject, state: &AppState, site: &Site) -> bool {
    match subject {
        Subject::Challenge(challenge, _) => challenge.enrol,
        Subject::Session(session, user) => {
            if !recent(session, state) {
                return false;
            }
            if AuthLevel::from_acr(&session.authentication.acr) == Some(AuthLevel::TwoFactors) {
                return true;
            }
            matches!(
                state.core.mfa_status(&site.tenant, user.id).await,
                Ok(status) if !status.enrolled()
            )
        }
    }
}

/// `GET /mfa/setup[?auth=…]`: a new authenticator app, as a QR code and as text.
async fn show_setup(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let handle = query_value(query.as_deref(), "auth");
    let prepared = prepare(&state, &site, &headers, &handle).await;
    let Some(subject) = subject(&state, &site, &headers).await else {
        return see_other(&format!("{}/login?auth={}", site.base, encode(&handle)));
    };
    if !may_enrol(&subject, &state, &site).await {
        return reauthenticate(&prepared.page);
    }
    let enrolment = match state
        .core
        .begin_totp_enrolment(&site.tenant, subject.user(), "")
        .await
    {
        Ok(enrolment) => enrolment,
        Err(error) => return busy(&prepared.page, &error),
    };
    let response = setup_page(&prepared, &handle, &enrolment, None);
    with_csrf_cookie(response, &site, &prepared.csrf)
}

/// A session too old to change factors: the user signs in again first.
pub(super) fn reauthenticate(page: &PageContext) -> Response {
    message(
        page,
        StatusCode::FORBIDDEN,
        "mfa_setup_title",
        page.text("mfa_sign_in_again"),
    )
}

fn setup_page(
    prepared: &Prepared,
    handle: &str,
    enrolment: &TotpEnrolment,
    error: Option<&str>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let secret = enrolment.secret.expose_secret();
    // Groups of four are easier to type into an app by hand.
    let grouped = secret
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let response = render(
        &prepared.page,
        "mfa_setup.html",
        status,
        context! {
            title => prepared.page.text(if prepared.passkeys {
                "mfa_setup_title_any"
            } else {
                "mfa_setup_title"
            }),
            csrf => prepared.csrf.value.clone(),
            auth => handle,
            factor => enrolment.factor_id.to_string(),
            qr => qr_svg(enrolment.uri.expose_secret()),
            uri => enrolment.uri.expose_secret(),
            secret => grouped,
            passkeys => prepared.passkeys,
            error => error,
        },
    );
    no_store(response)
}

/// The enrolment URI as an inline SVG QR code (no image request, no script).
fn qr_svg(uri: &str) -> Option<Value> {
    let code = QrCode::new(uri.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in HTML: no XML prolog; the alternative text comes from the page.
    let inline = image
        .split_once("?>")
        .map_or(image.as_str(), |(_, rest)| rest)
        .replacen("<svg ", r#"<svg role="img" aria-labelledby="qr-label" "#, 1);
    Some(Value::from_safe_string(inline))
}

/// A page holding a secret (the seed, the recovery codes) is never cached.
pub(super) fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /mfa/setup`: confirms the app with a code from it.
async fn confirm_setup(
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
    let Some(subject) = subject(&state, &site, &headers).await else {
        return expired(&prepared.page);
    };
    if !may_enrol(&subject, &state, &site).await {
        return reauthenticate(&prepared.page);
    }
    let Some(factor) = fields
        .get("factor")
        .and_then(|id| id.parse::<uuid::Uuid>().ok())
        .map(MfaFactorId::from_uuid)
    else {
        return expired(&prepared.page);
    };
    let code = fields.get("code").cloned().unwrap_or_default();
    let user = subject.user();
    let codes = match state
        .core
        .confirm_totp_enrolment(&site.tenant, user, factor, &code)
        .await
    {
        Ok(codes) => codes,
        Err(error) => {
            let Some(text) = refusal_text(&prepared.page, &error) else {
                return busy(&prepared.page, &error);
            };
            return match state
                .core
                .resume_totp_enrolment(&site.tenant, user, factor)
                .await
            {
                Ok(enrolment) => setup_page(&prepared, &handle, &enrolment, Some(&text)),
                Err(_) => expired(&prepared.page),
            };
        }
    };
    match &subject {
        Subject::Challenge(challenge, user) => {
            finish(
                &state,
                &site,
                &prepared,
                peer,
                &headers,
                challenge,
                user,
                &handle,
                codes,
                false,
                SecondFactor::Code,
            )
            .await
        }
        Subject::Session(..) => {
            let handle = prepared.pending.as_ref().map(|_| handle.as_str());
            match codes {
                Some(codes) => codes_page(&site, &prepared, handle, &codes),
                None => message(
                    &prepared.page,
                    StatusCode::OK,
                    "mfa_setup_title",
                    prepared.page.text("mfa_added"),
                ),
            }
        }
    }
}

/// The recovery codes, shown this once, and the way on.
pub(super) fn codes_page(
    site: &Site,
    prepared: &Prepared,
    handle: Option<&str>,
    codes: &[SecretString],
) -> Response {
    let codes: Vec<String> = codes
        .iter()
        .map(|code| code.expose_secret().to_owned())
        .collect();
    let next = handle.map(|handle| continue_url(site, handle));
    no_store(render(
        &prepared.page,
        "mfa_recovery_codes.html",
        StatusCode::OK,
        context! {
            title => prepared.page.text("mfa_codes_title"),
            codes => codes,
            next => next,
        },
    ))
}
