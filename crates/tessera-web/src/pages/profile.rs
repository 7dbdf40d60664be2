//! The progressive profiling page: after sign-in, the attributes the app needs and the user
//! has not given yet, on one short form. Required ones must be answered; requested ones may
//! be left empty or skipped with "Not now", and come back after the tenant's interval.

use super::csrf;
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
use minijinja::{Value, context};
use std::collections::{BTreeMap, HashMap};
use tessera_core::CoreError;
use tessera_core::error::FieldError;
use tessera_core::oauth::session::Session;
use tessera_core::profiling::{ADDRESS_PARTS, CUSTOM_PREFIX, Field, Question};
use tessera_oidc::provider::PendingRequest;

pub fn routes() -> Router<AppState> {
    Router::new().route("/profile", get(show).post(submit))
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn continue_location(site: &Site, handle: &str) -> String {
    format!("{}{CONTINUE_PATH}?auth={}", site.base, encode(handle))
}

/// The label of an attribute: the page's text for standard ones, the schema's description
/// (else the name) for custom ones.
pub(super) fn attribute_label(
    page: &PageContext,
    attribute: &str,
    description: Option<&str>,
) -> String {
    match attribute.strip_prefix(CUSTOM_PREFIX) {
        Some(custom) => description
            .filter(|d| !d.trim().is_empty())
            .map_or_else(|| custom.replace('_', " "), str::to_owned),
        None => page.text(&format!("attr_{attribute}")).to_owned(),
    }
}

fn autocomplete(attribute: &str) -> Option<&'static str> {
    Some(match attribute {
        "given_name" => "given-name",
        "family_name" => "family-name",
        "middle_name" => "additional-name",
        "nickname" => "nickname",
        "name" => "name",
        "birthdate" => "bday",
        "phone_number" => "tel",
        _ => return None,
    })
}

fn address_autocomplete(part: &str) -> &'static str {
    match part {
        "street_address" => "street-address",
        "postal_code" => "postal-code",
        "locality" => "address-level2",
        "region" => "address-level1",
        _ => "country-name",
    }
}

/// Reasons of the errors the page makes itself when sending a code failed.
const PHONE_LIMIT: &str = "too many codes";
const PHONE_NOT_SENT: &str = "not sent";

/// The text shown for a problem the core found with one answer.
fn error_text(page: &PageContext, question: &Question, error: &FieldError) -> &'static str {
    match error.reason.as_str() {
        "required" => return page.text("profile_required"),
        PHONE_LIMIT => return page.text("phone_too_many"),
        PHONE_NOT_SENT => return page.text("phone_sms_failed"),
        _ => {}
    }
    page.text(match &question.field {
        Field::Date if error.reason.contains("past") => "profile_bad_birthdate",
        Field::Date => "profile_bad_date",
        Field::Phone if error.reason.contains("country") => "profile_phone_country",
        Field::Phone => "profile_bad_phone",
        Field::Address => "profile_bad_address",
        Field::Number => "profile_bad_number",
        Field::Boolean | Field::Choice(_) => "profile_bad_choice",
        Field::Text => "profile_bad_text",
    })
}

fn inputs(
    page: &PageContext,
    questions: &[Question],
    entered: &BTreeMap<String, String>,
    errors: &[FieldError],
) -> Vec<Value> {
    let value = |name: &str| entered.get(name).cloned().unwrap_or_default();
    questions
        .iter()
        .map(|question| {
            let name = question.attribute.clone();
            let error = errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| error_text(page, question, e));
            let choice = |value: &str, label: &str| context! { value => value, label => label };
            let (kind, choices) = match &question.field {
                Field::Text => ("text", Vec::new()),
                Field::Date => ("date", Vec::new()),
                Field::Phone => ("tel", Vec::new()),
                Field::Address => ("address", Vec::new()),
                Field::Number => ("number", Vec::new()),
                Field::Boolean => (
                    "select",
                    vec![
                        choice("true", page.text("yes")),
                        choice("false", page.text("no")),
                    ],
                ),
                Field::Choice(values) => ("select", values.iter().map(|v| choice(v, v)).collect()),
            };
            let parts: Vec<Value> = if question.field == Field::Address {
                ADDRESS_PARTS
                    .iter()
                    .map(|part| {
                        let field = format!("address.{part}");
                        context! {
                            id => field.replace('.', "-"),
                            label => page.text(&format!("address_{part}")),
                            autocomplete => address_autocomplete(part),
                            value => value(&field),
                            name => field,
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let help = (question.field == Field::Phone).then(|| page.text("profile_phone_help"));
            context! {
                id => name.replace('.', "-"),
                label => attribute_label(page, &name, question.description.as_deref()),
                help => help,
                kind => kind,
                required => question.required,
                autocomplete => autocomplete(&name),
                value => value(&name),
                choices => choices,
                parts => parts,
                error => error,
                name => name,
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    page: &PageContext,
    site: &Site,
    pending: &PendingRequest,
    handle: &str,
    csrf: &csrf::CsrfToken,
    questions: &[Question],
    entered: &BTreeMap<String, String>,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    // Errors the form cannot place next to a field (the schema refused the profile).
    let form_error = errors
        .iter()
        .any(|e| !questions.iter().any(|q| q.attribute == e.field))
        .then(|| page.text("profile_failed"));
    let response = render(
        page,
        "profile.html",
        status,
        context! {
            title => page.text("profile_title"),
            client_name => pending.client.metadata.client_name.clone(),
            csrf => csrf.value.clone(),
            auth => handle,
            inputs => inputs(page, questions, entered, errors),
            can_skip => questions.iter().all(|q| !q.required),
            error => form_error,
        },
    );
    with_csrf_cookie(response, site, csrf)
}

/// The request, the session and the questions a profiling page works on; or the response
/// that replaces the page (expired request, no session, nothing left to ask).
struct Context {
    pending: PendingRequest,
    session: Session,
    questions: Vec<Question>,
}

async fn context_of(
    state: &AppState,
    site: &Site,
    headers: &HeaderMap,
    page: &PageContext,
    pending: Option<PendingRequest>,
    handle: &str,
) -> Result<Context, Response> {
    let Some(pending) = pending else {
        return Err(message(
            page,
            StatusCode::BAD_REQUEST,
            "error_title",
            page.text("expired"),
        ));
    };
    let Some(session) = site.session(state, headers).await else {
        return Err(see_other(&format!(
            "{}/login?auth={}",
            site.base,
            encode(handle)
        )));
    };
    match state
        .core
        .profiling_form(&site.tenant, session.user_id, &pending.client)
        .await
    {
        Ok((_, questions)) if questions.is_empty() => {
            Err(see_other(&continue_location(site, handle)))
        }
        Ok((_, questions)) => Ok(Context {
            pending,
            session,
            questions,
        }),
        // The session's user is gone or blocked: the authorization step decides again.
        Err(CoreError::NotFound(_)) => Err(see_other(&continue_location(site, handle))),
        Err(_) => Err(message(
            page,
            StatusCode::SERVICE_UNAVAILABLE,
            "error_title",
            page.text("try_later"),
        )),
    }
}

/// `GET /profile?auth=…`: the form.
async fn show(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = form_fields(query.as_deref().unwrap_or("").as_bytes());
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(&state, &site, &headers, &handle).await;
    let page = &prepared.page;
    match context_of(&state, &site, &headers, page, prepared.pending, &handle).await {
        Ok(context) => form_page(
            page,
            &site,
            &context.pending,
            &handle,
            &prepared.csrf,
            &context.questions,
            &BTreeMap::new(),
            &[],
            StatusCode::OK,
        ),
        Err(response) => response,
    }
}

/// `POST /profile`: saves the answers, then goes on with the authorization request (or
/// first to the phone verification page, when a number must be proven).
async fn submit(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields: HashMap<String, String> = form_fields(&body);
    let handle = fields.get("auth").cloned().unwrap_or_default();
    let prepared = prepare(&state, &site, &headers, &handle).await;
    let page = &prepared.page;
    if !csrf::is_valid(
        &headers,
        &site.cookies,
        fields.get("csrf").map(String::as_str),
        &site.origin,
    ) {
        return forbidden(page);
    }
    let context = match context_of(&state, &site, &headers, page, prepared.pending, &handle).await {
        Ok(context) => context,
        Err(response) => return response,
    };
    let skip = fields.get("decision").is_some_and(|d| d == "skip");
    let entered: BTreeMap<String, String> = if skip {
        // "Not now" leaves every (optional) question unanswered.
        BTreeMap::new()
    } else {
        fields
            .into_iter()
            .filter(|(name, _)| name != "csrf" && name != "auth" && name != "decision")
            .collect()
    };
    match state
        .core
        .collect_profile(
            &site.tenant,
            context.session.user_id,
            &context.pending.client,
            &entered,
            page.lang,
        )
        .await
    {
        // The number counts once proven: the verification page saves it, then continues.
        Ok(collected) => match collected.phone_challenge {
            Some(challenge) => see_other(&super::phone::verify_page_location(
                &site.base, &handle, challenge,
            )),
            None => see_other(&continue_location(&site, &handle)),
        },
        Err(error) => {
            let errors = match error {
                CoreError::Validation(errors) => errors,
                // Sending the code failed: nothing was saved; say so at the number.
                CoreError::TooManyRequests { .. } => {
                    vec![FieldError::new("phone_number", PHONE_LIMIT)]
                }
                CoreError::SmsNotDelivered(_) => {
                    vec![FieldError::new("phone_number", PHONE_NOT_SENT)]
                }
                _ => {
                    return message(
                        page,
                        StatusCode::SERVICE_UNAVAILABLE,
                        "error_title",
                        page.text("try_later"),
                    );
                }
            };
            form_page(
                page,
                &site,
                &context.pending,
                &handle,
                &prepared.csrf,
                &context.questions,
                &entered,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}
