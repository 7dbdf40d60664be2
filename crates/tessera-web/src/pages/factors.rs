//! `/account/security`: a signed-in user's second factors — passkeys and authenticator apps,
//! each named — renamed at will, removed only from a recent sign-in that proved two factors
//! (ASVS 7.5.1: a stolen password or an old session must not take a factor away), and the
//! recovery codes left. (The account console of the self-service issue grows around it.)

use super::devices::{busy, day};
use super::login::{PostedForm, posted_form, with_csrf_cookie};
use super::mfa::{no_store, recent};
use super::{message, render};
use crate::AppState;
use crate::oidc::Site;
use crate::oidc::authorize::see_other;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::context;
use tessera_core::CoreError;
use tessera_core::event::Actor;
use tessera_core::ids::MfaFactorId;
use tessera_core::mfa::FactorKind;
use tessera_core::mfa::policy::AuthLevel;
use tessera_core::oauth::session::Session;
use tessera_core::user::User;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/security", get(show))
        .route("/account/security/rename", post(rename))
        .route("/account/security/remove", post(remove))
}

/// Whether the session may take a factor away: recent, and with two factors.
fn may_remove(session: &Session, state: &AppState) -> bool {
    recent(session, state)
        && AuthLevel::from_acr(&session.authentication.acr) == Some(AuthLevel::TwoFactors)
}

async fn signed_in(state: &AppState, site: &Site, headers: &HeaderMap) -> Option<(Session, User)> {
    let session = site.session(state, headers).await?;
    let user = state
        .core
        .store()
        .user_by_id(site.tenant.id, session.user_id)
        .await
        .ok()
        .flatten()?;
    Some((session, user))
}

fn back(site: &Site) -> Response {
    see_other(&format!("{}/account/security", site.base))
}

fn factor_id(text: Option<&String>) -> Option<MfaFactorId> {
    text.and_then(|id| id.parse::<uuid::Uuid>().ok())
        .map(MfaFactorId::from_uuid)
}

/// `GET /account/security`: the factors; a browser without a session signs in first.
async fn show(State(state): State<AppState>, site: Site, headers: HeaderMap) -> Response {
    let prepared = super::login::prepare(&state, &site, &headers, "").await;
    let Some((session, user)) = signed_in(&state, &site, &headers).await else {
        return see_other(&format!("{}/login", site.base));
    };
    let status = match state.core.mfa_status(&site.tenant, user.id).await {
        Ok(status) => status,
        Err(error) => return busy(&prepared.page, &error),
    };
    let factors: Vec<_> = status
        .factors
        .iter()
        .map(|factor| {
            context! {
                id => factor.id.to_string(),
                name => factor.name.clone(),
                kind => match factor.kind {
                    FactorKind::Passkey => prepared.page.text("factors_passkey"),
                    FactorKind::Totp => prepared.page.text("factors_app"),
                },
                added => day(factor.created_at),
                used => factor.last_used_at.map(day),
            }
        })
        .collect();
    let response = render(
        &prepared.page,
        "account_security.html",
        StatusCode::OK,
        context! {
            title => prepared.page.text("factors_title"),
            csrf => prepared.csrf.value.clone(),
            factors => factors,
            codes_left => status.recovery_codes_left,
            may_remove => may_remove(&session, &state),
        },
    );
    with_csrf_cookie(no_store(response), &site, &prepared.csrf)
}

/// `POST /account/security/rename` (`factor`, `name`).
async fn rename(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let PostedForm {
        fields, prepared, ..
    } = match posted_form(&state, &site, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some((_, user)) = signed_in(&state, &site, &headers).await else {
        return see_other(&format!("{}/login", site.base));
    };
    let Some(factor) = factor_id(fields.get("factor")) else {
        return back(&site);
    };
    let name = fields.get("name").map_or("", String::as_str);
    match state
        .core
        .rename_mfa_factor(&site.tenant, &user, factor, name)
        .await
    {
        Ok(()) | Err(CoreError::NotFound(_)) => back(&site),
        Err(CoreError::Validation(_)) => message(
            &prepared.page,
            StatusCode::BAD_REQUEST,
            "factors_title",
            prepared.page.text("passkey_bad_name"),
        ),
        Err(error) => busy(&prepared.page, &error),
    }
}

/// `POST /account/security/remove` (`factor`): only from a recent two-factor sign-in.
async fn remove(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let PostedForm {
        fields, prepared, ..
    } = match posted_form(&state, &site, &headers, &body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some((session, user)) = signed_in(&state, &site, &headers).await else {
        return see_other(&format!("{}/login", site.base));
    };
    if !may_remove(&session, &state) {
        return message(
            &prepared.page,
            StatusCode::FORBIDDEN,
            "factors_title",
            prepared.page.text("factors_sign_in_again"),
        );
    }
    let Some(factor) = factor_id(fields.get("factor")) else {
        return back(&site);
    };
    match state
        .core
        .remove_mfa_factor(&site.tenant, &user, factor, &Actor::User(user.id))
        .await
    {
        Ok(()) | Err(CoreError::NotFound(_)) => back(&site),
        Err(error) => busy(&prepared.page, &error),
    }
}
