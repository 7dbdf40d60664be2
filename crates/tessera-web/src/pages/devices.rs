//! `/account/devices`: the browsers a signed-in user told Tessera not to ask for the second
//! factor again, with "this browser" marked, each one forgotten on its own or all at once.
//! (The account console of the self-service issue grows around this page.)

use super::login::{PostedForm, posted_form, with_csrf_cookie};
use super::session::cookie;
use super::{PageContext, message, render};
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
use tessera_core::event::Actor;
use tessera_core::ids::TrustedDeviceId;
use tessera_core::oauth::session::Session;
use tessera_core::secret::SecretHash;
use time::format_description::well_known::Rfc3339;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/devices", get(show))
        .route("/account/devices/forget", post(forget))
}

/// The answer of an account page whose services failed.
pub(super) fn busy(page: &PageContext, error: &tessera_core::CoreError) -> Response {
    tracing::error!(%error, "account page failed");
    message(
        page,
        StatusCode::SERVICE_UNAVAILABLE,
        "error_title",
        page.text("busy"),
    )
}

/// The date part of a time, as the account pages show it.
pub(super) fn day(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .map(|text| text.chars().take(10).collect())
        .unwrap_or_default()
}

/// `GET /account/devices`: the list; a browser without a session signs in first.
async fn show(State(state): State<AppState>, site: Site, headers: HeaderMap) -> Response {
    let prepared = super::login::prepare(&state, &site, &headers, "").await;
    let Some(session) = site.session(&state, &headers).await else {
        return see_other(&format!("{}/login", site.base));
    };
    let devices = match state
        .core
        .trusted_devices_of(&site.tenant, session.user_id)
        .await
    {
        Ok(devices) => devices,
        Err(error) => return busy(&prepared.page, &error),
    };
    let this_browser = cookie(&headers, &site.cookies.device).map(SecretHash::of_str);
    let rows: Vec<_> = devices
        .iter()
        .map(|device| {
            context! {
                id => device.id.to_string(),
                label => device.label.clone(),
                since => day(device.created_at),
                until => day(device.expires_at),
                current => this_browser.as_ref().is_some_and(|hash| hash.matches(&device.device_hash)),
            }
        })
        .collect();
    let response = render(
        &prepared.page,
        "account_devices.html",
        StatusCode::OK,
        context! {
            title => prepared.page.text("devices_title"),
            csrf => prepared.csrf.value.clone(),
            devices => rows,
        },
    );
    with_csrf_cookie(super::mfa::no_store(response), &site, &prepared.csrf)
}

/// `POST /account/devices/forget` (`device`: an id, or `all`): asks for the second factor
/// on that browser (or all) again.
async fn forget(
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
    let Some(Session { user_id, .. }) = site.session(&state, &headers).await else {
        return see_other(&format!("{}/login", site.base));
    };
    let device = match fields.get("device").map(String::as_str) {
        Some("all") => None,
        Some(id) => match id.parse::<uuid::Uuid>() {
            Ok(id) => Some(TrustedDeviceId::from_uuid(id)),
            Err(_) => return see_other(&format!("{}/account/devices", site.base)),
        },
        None => return see_other(&format!("{}/account/devices", site.base)),
    };
    if let Err(error) = state
        .core
        .forget_trusted_devices(&site.tenant, user_id, device, &Actor::User(user_id))
        .await
    {
        return busy(&prepared.page, &error);
    }
    see_other(&format!("{}/account/devices", site.base))
}
