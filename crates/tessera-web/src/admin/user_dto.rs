//! The JSON shapes of users in the admin API (OpenID Connect claim names), and their
//! conversion into domain values with every invalid field reported at once.

use super::rfc3339;
use crate::problem::ApiError;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use tessera_core::email::Email;
use tessera_core::error::FieldError;
use tessera_core::password_hash::PasswordHash;
use tessera_core::phone::PhoneNumber;
use tessera_core::service::NewUser;
use tessera_core::user::{
    EmailPurpose, ExternalId, Profile, ProfilePatch, User, UserEmail, UserPhone,
};
use utoipa::ToSchema;

/// An email address of a user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailDto {
    pub value: String,
    /// The sign-in address; exactly one address is primary (the first, if none is marked).
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub verified: bool,
    /// Any of `signin`, `security`, `billing`, `marketing`.
    #[serde(default)]
    pub purposes: Vec<String>,
}

/// A phone number of a user, in international form (`+4915112345678`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneDto {
    pub value: String,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub verified: bool,
}

/// The id a source system knows the user by.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalIdDto {
    pub source: String,
    pub value: String,
}

/// A user as the admin API shows it. Passwords and their hashes are never shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// `light` (no credentials), `active`, `disabled` or `deleted`.
    pub status: String,
    /// The primary email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    pub zoneinfo: Option<String>,
    pub emails: Vec<EmailDto>,
    pub phone_numbers: Vec<PhoneDto>,
    pub external_ids: Vec<ExternalIdDto>,
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    pub has_password: bool,
    pub created_at: String,
    pub updated_at: String,
}

fn purpose_name(purpose: EmailPurpose) -> &'static str {
    match purpose {
        EmailPurpose::Signin => "signin",
        EmailPurpose::Security => "security",
        EmailPurpose::Billing => "billing",
        EmailPurpose::Marketing => "marketing",
    }
}

fn parse_purpose(text: &str) -> Option<EmailPurpose> {
    [
        EmailPurpose::Signin,
        EmailPurpose::Security,
        EmailPurpose::Billing,
        EmailPurpose::Marketing,
    ]
    .into_iter()
    .find(|purpose| purpose_name(*purpose) == text)
}

impl From<User> for UserResponse {
    fn from(user: User) -> Self {
        let email = user.primary_email().map(|e| e.as_str().to_owned());
        let has_password = user.has_credentials();
        let profile = user.profile;
        Self {
            id: user.id.to_string(),
            status: user.status.as_str().to_owned(),
            email,
            given_name: profile.given_name,
            family_name: profile.family_name,
            name: profile.name,
            locale: profile.locale,
            zoneinfo: profile.zoneinfo,
            emails: profile
                .emails
                .into_iter()
                .map(|e| EmailDto {
                    value: e.value.as_str().to_owned(),
                    primary: e.primary,
                    verified: e.verified,
                    purposes: e
                        .purposes
                        .into_iter()
                        .map(|p| purpose_name(p).to_owned())
                        .collect(),
                })
                .collect(),
            phone_numbers: profile
                .phone_numbers
                .into_iter()
                .map(|p| PhoneDto {
                    value: p.value.to_string(),
                    primary: p.primary,
                    verified: p.verified,
                })
                .collect(),
            external_ids: profile
                .external_ids
                .into_iter()
                .map(|x| ExternalIdDto {
                    source: x.source,
                    value: x.value,
                })
                .collect(),
            attributes: profile.attributes,
            has_password,
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
        }
    }
}

/// Input of `POST /admin/v1/users`. With only an email (and no `password_hash`) it
/// creates a light account.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    /// Shorthand for a single primary email; do not combine with `emails`.
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    pub zoneinfo: Option<String>,
    #[serde(default)]
    pub emails: Vec<EmailDto>,
    #[serde(default)]
    pub phone_numbers: Vec<PhoneDto>,
    #[serde(default)]
    pub external_ids: Vec<ExternalIdDto>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    /// A password hash in PHC format (argon2id, argon2i, argon2d); write-only.
    pub password_hash: Option<String>,
    /// An initial password (checked against the password policy, hashed with Argon2id);
    /// write-only. Do not combine with `password_hash`.
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<secrecy::SecretString>,
}

/// Collects the field errors of a conversion so that all are reported together.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn check<T, E: ToString>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        result
            .map_err(|e| self.0.push(FieldError::new(field, e.to_string())))
            .ok()
    }

    fn finish<T>(self, value: T) -> Result<T, ApiError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::invalid(self.0))
        }
    }
}

fn parse_emails(input: &[EmailDto], errors: &mut Errors) -> Vec<UserEmail> {
    input
        .iter()
        .enumerate()
        .filter_map(|(i, dto)| {
            let value = errors.check(&format!("emails[{i}].value"), Email::parse(&dto.value))?;
            let purposes = dto
                .purposes
                .iter()
                .filter_map(|p| {
                    errors.check(
                        &format!("emails[{i}].purposes"),
                        parse_purpose(p).ok_or("must be signin, security, billing or marketing"),
                    )
                })
                .collect();
            Some(UserEmail {
                value,
                primary: dto.primary,
                verified: dto.verified,
                purposes,
            })
        })
        .collect()
}

fn parse_phones(input: &[PhoneDto], errors: &mut Errors) -> Vec<UserPhone> {
    input
        .iter()
        .enumerate()
        .filter_map(|(i, dto)| {
            let value = errors.check(
                &format!("phone_numbers[{i}].value"),
                PhoneNumber::parse(&dto.value),
            )?;
            Some(UserPhone {
                value,
                primary: dto.primary,
                verified: dto.verified,
            })
        })
        .collect()
}

fn external_ids(input: Vec<ExternalIdDto>) -> Vec<ExternalId> {
    input
        .into_iter()
        .map(|x| ExternalId {
            source: x.source,
            value: x.value,
        })
        .collect()
}

impl UserCreate {
    pub fn into_new_user(self) -> Result<NewUser, ApiError> {
        let mut errors = Errors::default();
        let mut emails = parse_emails(&self.emails, &mut errors);
        if let Some(email) = &self.email {
            if emails.is_empty() {
                if let Some(value) = errors.check("email", Email::parse(email)) {
                    emails.push(UserEmail {
                        value,
                        primary: true,
                        verified: false,
                        purposes: Default::default(),
                    });
                }
            } else {
                errors.0.push(FieldError::new(
                    "email",
                    "give either email or emails, not both",
                ));
            }
        }
        let phone_numbers = parse_phones(&self.phone_numbers, &mut errors);
        let password_hash = self
            .password_hash
            .as_deref()
            .and_then(|h| errors.check("password_hash", PasswordHash::parse(h)));
        let profile = Profile {
            given_name: self.given_name,
            family_name: self.family_name,
            name: self.name,
            locale: self.locale,
            zoneinfo: self.zoneinfo,
            emails,
            phone_numbers,
            external_ids: external_ids(self.external_ids),
            attributes: self.attributes,
        };
        errors.finish(NewUser {
            profile,
            password_hash,
            password: self.password,
        })
    }
}

/// Distinguishes a field sent as `null` (`Some(None)`) from one left out (`None`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Input of `PATCH /admin/v1/users/{id}`, a JSON merge patch (RFC 7396): fields left out
/// stay, `null` clears, lists are replaced whole, `attributes` merges key by key.
/// `status` is changed with the `disable`/`enable` actions, not here.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchInput {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub family_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub zoneinfo: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<EmailDto>>)]
    pub emails: Option<Option<Vec<EmailDto>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<PhoneDto>>)]
    pub phone_numbers: Option<Option<Vec<PhoneDto>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<ExternalIdDto>>)]
    pub external_ids: Option<Option<Vec<ExternalIdDto>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Option<Map<String, Value>>>,
}

impl UserPatchInput {
    pub fn into_patch(self) -> Result<ProfilePatch, ApiError> {
        let mut errors = Errors::default();
        let emails = self
            .emails
            .map(|list| parse_emails(&list.unwrap_or_default(), &mut errors));
        let phone_numbers = self
            .phone_numbers
            .map(|list| parse_phones(&list.unwrap_or_default(), &mut errors));
        let patch = ProfilePatch {
            given_name: self.given_name,
            family_name: self.family_name,
            name: self.name,
            locale: self.locale,
            zoneinfo: self.zoneinfo,
            emails,
            phone_numbers,
            external_ids: self
                .external_ids
                .map(|list| external_ids(list.unwrap_or_default())),
            attributes: self.attributes,
        };
        errors.finish(patch)
    }
}
