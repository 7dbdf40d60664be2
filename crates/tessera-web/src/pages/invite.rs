//! The page an invitation's link opens: the invited address, optional names and a new
//! password; accepting signs the person in. The link's token travels in the form, so the
//! page works in any browser; every POST is CSRF-checked.

use super::csrf;
use super::login::{ACR_ONE_FACTOR, form_fields, sign_in_context, start_session_and_continue};
use super::{PageContext, message, render};
use crate::AppState;
use crate::oidc::Site;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use secrecy::SecretString;
use std::net::SocketAddr;
use tessera_core::CoreError;
use tessera_core::ids::InvitationId;
use tessera_core::oauth::session::Authentication;
use tessera_core::service::Acceptance;

pub fn routes() -> Router<AppState> {
    Router::new().route("/invite", get(show).post(accept))
}

/// The link's id and token, from a query string or a form.
fn link_of(
    fields: &std::collections::HashMap<String, String>,
) -> Option<(InvitationId, SecretString)> {
    let id = fields.get("id")?.parse().ok()?;
    let token = fields
        .get("token")
        .filter(|t| !t.is_empty() && t.len() <= 128)?;
    Some((id, SecretString::from(token.clone())))
}

fn expired(page: &PageContext) -> Response {
    message(
        page,
        StatusCode::NOT_FOUND,
        "invite_title",
        page.text("invite_expired"),
    )
}

struct Entered<'a> {
    email: &'a str,
    given_name: &'a str,
    family_name: &'a str,
}

fn form(
    page: &PageContext,
    csrf: &str,
    fields: &std::collections::HashMap<String, String>,
    entered: &Entered<'_>,
    error: Option<&str>,
) -> Response {
    render(
        page,
        "invite.html",
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        context! {
            title => page.text("invite_title"),
            csrf => csrf,
            id => fields.get("id").cloned().unwrap_or_default(),
            token => fields.get("token").cloned().unwrap_or_default(),
            email => entered.email,
            given_name => entered.given_name,
            family_name => entered.family_name,
            error => error,
        },
    )
}

/// `GET /invite?id=…&token=…`
async fn show(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = form_fields(query.unwrap_or_default().as_bytes());
    let csrf = csrf::token(&headers, &site.cookies);
    let Some((id, token)) = link_of(&fields) else {
        return expired(&site.page(super::language(&[], &headers, &site.tenant)));
    };
    let invitation = match state
        .core
        .invitation_from_link(&site.tenant, id, &token)
        .await
    {
        Ok(invitation) => invitation,
        Err(_) => return expired(&site.page(super::language(&[], &headers, &site.tenant))),
    };
    let page = site.page(super::language(
        std::slice::from_ref(&invitation.language),
        &headers,
        &site.tenant,
    ));
    let entered = Entered {
        email: invitation.email.as_str(),
        given_name: "",
        family_name: "",
    };
    let mut response = form(&page, &csrf.value, &fields, &entered, None);
    if csrf.is_new
        && let Some(value) = site.cookies.set_csrf(&csrf.value)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `POST /invite`: sets the password and signs the person in.
async fn accept(
    State(state): State<AppState>,
    site: Site,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form_fields(&body);
    let page = site.page(super::language(&[], &headers, &site.tenant));
    let csrf = csrf::token(&headers, &site.cookies);
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
    let Some((id, token)) = link_of(&fields) else {
        return expired(&page);
    };
    let text = |name: &str| {
        fields
            .get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let (given_name, family_name) = (text("given_name"), text("family_name"));
    let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    let acceptance = Acceptance {
        password: SecretString::from(fields.get("password").cloned().unwrap_or_default()),
        given_name: optional(&given_name),
        family_name: optional(&family_name),
    };
    match state
        .core
        .accept_invitation(&site.tenant, id, &token, acceptance)
        .await
    {
        Ok(user) => {
            let context = sign_in_context(&site, peer, &headers, None);
            let authentication = Authentication {
                at: Some(state.core.clock().now()),
                methods: vec!["pwd".to_owned()],
                acr: ACR_ONE_FACTOR.to_owned(),
            };
            start_session_and_continue(
                &state,
                &site,
                &page,
                &headers,
                &context,
                &user,
                authentication,
                None,
            )
            .await
        }
        Err(CoreError::Validation(errors)) => {
            let email = fields.get("email").cloned().unwrap_or_default();
            let key = if errors.iter().any(|e| e.field == "password") {
                "signup_weak_password"
            } else {
                "signup_bad_name"
            };
            let entered = Entered {
                email: &email,
                given_name: &given_name,
                family_name: &family_name,
            };
            form(&page, &csrf.value, &fields, &entered, Some(page.text(key)))
        }
        Err(CoreError::NotFound(_) | CoreError::Duplicate { .. }) => expired(&page),
        Err(CoreError::Overloaded) => message(
            &page,
            StatusCode::SERVICE_UNAVAILABLE,
            "error_title",
            page.text("busy"),
        ),
        Err(error) => {
            tracing::error!(%error, "accepting an invitation failed");
            message(
                &page,
                StatusCode::SERVICE_UNAVAILABLE,
                "error_title",
                page.text("busy"),
            )
        }
    }
}
