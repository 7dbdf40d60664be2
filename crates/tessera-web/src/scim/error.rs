//! Every SCIM failure as RFC 7644 §3.12 errors: `application/scim+json` bodies with the
//! `scimType` that names the reason. Domain errors map here, once.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_core::CoreError;
use tessera_core::error::FieldError;
use tessera_scim::ScimError;

pub const SCIM_JSON: &str = "application/scim+json";

/// A failed SCIM request.
#[derive(Debug)]
pub struct ScimFailure(pub ScimError);

impl From<ScimError> for ScimFailure {
    fn from(error: ScimError) -> Self {
        Self(error)
    }
}

impl From<CoreError> for ScimFailure {
    fn from(error: CoreError) -> Self {
        Self(scim_error(error))
    }
}

/// The SCIM name of a domain field, for error details.
fn scim_field(field: &str) -> String {
    const NAMES: [(&str, &str); 20] = [
        ("username", "userName"),
        ("given_name", "name.givenName"),
        ("family_name", "name.familyName"),
        ("middle_name", "name.middleName"),
        ("honorific_prefix", "name.honorificPrefix"),
        ("honorific_suffix", "name.honorificSuffix"),
        ("name", "displayName"),
        ("nickname", "nickName"),
        ("profile_url", "profileUrl"),
        ("user_type", "userType"),
        ("preferred_language", "preferredLanguage"),
        ("zoneinfo", "timezone"),
        ("email", "emails"),
        ("emails", "emails"),
        ("phone_numbers", "phoneNumbers"),
        ("external_id", "externalId"),
        ("external_ids", "externalId"),
        ("display_name", "displayName"),
        ("analytics_id", "analyticsId"),
        ("enterprise.manager", "manager"),
    ];
    let (head, rest) = field
        .find(['.', '['])
        .map_or((field, ""), |at| field.split_at(at));
    match NAMES
        .iter()
        .find(|(domain, _)| *domain == field || *domain == head)
    {
        Some((domain, scim)) if *domain == field => (*scim).to_owned(),
        Some((_, scim)) => format!("{scim}{rest}"),
        None => field.to_owned(),
    }
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|error| format!("{}: {}", scim_field(&error.field), error.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

fn scim_error(error: CoreError) -> ScimError {
    match error {
        CoreError::Validation(errors) => ScimError::invalid_value(describe(&errors)),
        CoreError::NotFound(what) => ScimError::not_found(format!("{what} not found")),
        CoreError::Duplicate { field } => {
            ScimError::uniqueness(format!("{} is already in use", scim_field(field)))
        }
        CoreError::EditConflict => ScimError::precondition_failed(
            "the resource was changed since the version the request names; read it again",
        ),
        CoreError::Unauthenticated
        | CoreError::InvalidCredentials
        | CoreError::CodeRefused(_)
        | CoreError::Locked { .. } => {
            ScimError::with_status(401, "a bearer token with the scim scope is required")
        }
        CoreError::Forbidden(scope) => {
            ScimError::with_status(403, format!("the token lacks the scope '{scope}'"))
        }
        CoreError::Overloaded => ScimError::with_status(503, "too busy; retry shortly"),
        CoreError::BotCheckRequired => {
            ScimError::with_status(429, "too many requests; retry later")
        }
        CoreError::TooManyRequests {
            retry_after_seconds,
        } => ScimError::with_status(
            429,
            format!("too many requests; retry in {retry_after_seconds} s"),
        ),
        CoreError::NotDelivered(_) | CoreError::SmsNotDelivered(_) => {
            ScimError::with_status(503, "a message could not be sent; retry shortly")
        }
        CoreError::IdentityProviderFailed(_) => {
            ScimError::with_status(503, "a provider could not be reached; retry shortly")
        }
        CoreError::Unavailable(source) | CoreError::Internal(source) => {
            let id = uuid::Uuid::new_v4().simple().to_string();
            tracing::error!(error_id = %id, error = %source, "SCIM request failed");
            let status = if matches!(source, tessera_core::store::StoreError::Unavailable(_)) {
                503
            } else {
                500
            };
            ScimError::with_status(status, format!("internal error (error id {id})"))
        }
    }
}

impl IntoResponse for ScimFailure {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.0).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera-scim\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_field_names_become_scim_names() {
        assert_eq!(scim_field("username"), "userName");
        assert_eq!(scim_field("emails[1].value"), "emails[1].value");
        assert_eq!(scim_field("phone_numbers[0]"), "phoneNumbers[0]");
        assert_eq!(scim_field("attributes.country"), "attributes.country");
    }

    #[test]
    fn domain_errors_get_scim_types_and_statuses() {
        let duplicate = scim_error(CoreError::Duplicate { field: "username" });
        assert_eq!(
            (duplicate.status, duplicate.detail.as_str()),
            (409, "userName is already in use")
        );
        assert_eq!(scim_error(CoreError::EditConflict).status, 412);
        let invalid = scim_error(CoreError::Validation(vec![FieldError::new(
            "zoneinfo",
            "not a time zone",
        )]));
        assert_eq!(
            invalid.scim_type,
            Some(tessera_scim::ScimType::InvalidValue)
        );
        assert_eq!(invalid.detail, "timezone: not a time zone");
    }
}
