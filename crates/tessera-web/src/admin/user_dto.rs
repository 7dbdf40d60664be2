//! The JSON shapes of users in the admin API (OpenID Connect claim names), and their
//! conversion into domain values with every invalid field reported at once.

use super::rfc3339;
use crate::problem::ApiError;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use tessera_core::email::Email;
use tessera_core::error::FieldError;
use tessera_core::ids::UserId;
use tessera_core::password_hash::PasswordHash;
use tessera_core::phone::ContactNumber;
use tessera_core::service::NewUser;
use tessera_core::user::{
    Address, EmailPurpose, Enterprise, EnterprisePatch, ExternalId, Profile, ProfilePatch, User,
    UserEmail, UserPhone, Username,
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
    /// `work`, `home`, `other`… (SCIM `type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
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
    /// `work`, `home`, `mobile`… (SCIM `type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A postal address of a user (OIDC `address`, SCIM `addresses`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressDto {
    /// `work`, `home`, `other`… (SCIM `type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The full address for display; may span lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

impl From<Address> for AddressDto {
    fn from(a: Address) -> Self {
        Self {
            kind: a.kind,
            formatted: a.formatted,
            street_address: a.street_address,
            locality: a.locality,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            primary: a.primary,
        }
    }
}

impl From<AddressDto> for Address {
    fn from(a: AddressDto) -> Self {
        Self {
            kind: a.kind,
            formatted: a.formatted,
            street_address: a.street_address,
            locality: a.locality,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            primary: a.primary,
        }
    }
}

/// The enterprise part of a user (SCIM's enterprise extension). In a patch, each field
/// merges on its own: left out stays, `null` clears.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseDto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The id of the user's manager, another user of the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub manager: Option<String>,
}

/// Input of the enterprise part in a merge patch.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterprisePatchInput {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub employee_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub cost_center: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub organization: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub division: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub manager: Option<Option<String>>,
}

fn parse_manager(text: &str, errors: &mut Errors) -> Option<UserId> {
    errors.check("enterprise.manager", text.parse::<UserId>())
}

impl EnterpriseDto {
    fn from_domain(e: Enterprise) -> Option<Self> {
        (!e.is_empty()).then(|| Self {
            employee_number: e.employee_number,
            cost_center: e.cost_center,
            organization: e.organization,
            division: e.division,
            department: e.department,
            manager: e.manager.map(|m| m.to_string()),
        })
    }

    fn into_domain(self, errors: &mut Errors) -> Enterprise {
        Enterprise {
            employee_number: self.employee_number,
            cost_center: self.cost_center,
            organization: self.organization,
            division: self.division,
            department: self.department,
            manager: self
                .manager
                .as_deref()
                .and_then(|m| parse_manager(m, errors)),
        }
    }
}

impl EnterprisePatchInput {
    fn into_patch(self, errors: &mut Errors) -> EnterprisePatch {
        EnterprisePatch {
            employee_number: self.employee_number,
            cost_center: self.cost_center,
            organization: self.organization,
            division: self.division,
            department: self.department,
            manager: self
                .manager
                .map(|manager| manager.as_deref().and_then(|m| parse_manager(m, errors))),
        }
    }
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
    /// Unique in the tenant, case-insensitively (SCIM `userName`, OIDC
    /// `preferred_username`); absent only on deleted users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The primary email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<String>,
    pub name: Option<String>,
    /// The full name as one text, as a source system wrote it (SCIM `name.formatted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    pub locale: Option<String>,
    pub zoneinfo: Option<String>,
    pub emails: Vec<EmailDto>,
    pub phone_numbers: Vec<PhoneDto>,
    pub external_ids: Vec<ExternalIdDto>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<AddressDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<EnterpriseDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analytics_id: Option<String>,
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
            username: profile.username.map(String::from),
            email,
            given_name: profile.given_name,
            family_name: profile.family_name,
            middle_name: profile.middle_name,
            honorific_prefix: profile.honorific_prefix,
            honorific_suffix: profile.honorific_suffix,
            name: profile.name,
            formatted_name: profile.formatted_name,
            nickname: profile.nickname,
            birthdate: profile.birthdate,
            profile_url: profile.profile_url,
            title: profile.title,
            user_type: profile.user_type,
            preferred_language: profile.preferred_language,
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
                    kind: e.kind,
                })
                .collect(),
            phone_numbers: profile
                .phone_numbers
                .into_iter()
                .map(|p| PhoneDto {
                    value: p.value.to_string(),
                    primary: p.primary,
                    verified: p.verified,
                    kind: p.kind,
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
            addresses: profile
                .addresses
                .into_iter()
                .map(AddressDto::from)
                .collect(),
            enterprise: EnterpriseDto::from_domain(profile.enterprise),
            analytics_id: profile.analytics_id,
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
    /// Unique in the tenant, case-insensitively; 1-256 characters. Defaults to the primary
    /// email as given, else the user's id, and does not follow later email changes.
    pub username: Option<String>,
    /// Shorthand for a single primary email; do not combine with `emails`.
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub honorific_prefix: Option<String>,
    pub honorific_suffix: Option<String>,
    pub name: Option<String>,
    /// The full name as one text (SCIM `name.formatted`).
    pub formatted_name: Option<String>,
    pub nickname: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    /// An absolute http(s) URL.
    pub profile_url: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    /// A BCP 47 language tag.
    pub preferred_language: Option<String>,
    pub locale: Option<String>,
    pub zoneinfo: Option<String>,
    #[serde(default)]
    pub emails: Vec<EmailDto>,
    #[serde(default)]
    pub phone_numbers: Vec<PhoneDto>,
    #[serde(default)]
    pub external_ids: Vec<ExternalIdDto>,
    #[serde(default)]
    pub addresses: Vec<AddressDto>,
    pub enterprise: Option<EnterpriseDto>,
    pub analytics_id: Option<String>,
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
    let mut emails = input
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
                kind: dto.kind.clone(),
            })
        })
        .collect::<Vec<_>>();
    mark_first_primary(&mut emails, |email| &mut email.primary);
    emails
}

/// The admin API shows which address and number is primary: when the input marks none,
/// the first is marked (the domain would count it as primary anyway).
fn mark_first_primary<T>(items: &mut [T], primary: impl Fn(&mut T) -> &mut bool) {
    if !items.iter_mut().any(|item| *primary(item))
        && let Some(first) = items.first_mut()
    {
        *primary(first) = true;
    }
}

fn parse_phones(input: &[PhoneDto], errors: &mut Errors) -> Vec<UserPhone> {
    let mut phones = input
        .iter()
        .enumerate()
        .filter_map(|(i, dto)| {
            let value = errors.check(
                &format!("phone_numbers[{i}].value"),
                ContactNumber::parse(&dto.value),
            )?;
            Some(UserPhone {
                value,
                primary: dto.primary,
                verified: dto.verified,
                kind: dto.kind.clone(),
            })
        })
        .collect::<Vec<_>>();
    mark_first_primary(&mut phones, |phone| &mut phone.primary);
    phones
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
                        kind: None,
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
        let username = self
            .username
            .as_deref()
            .and_then(|u| errors.check("username", Username::parse(u)));
        let enterprise = self
            .enterprise
            .map(|e| e.into_domain(&mut errors))
            .unwrap_or_default();
        let profile = Profile {
            username,
            given_name: self.given_name,
            family_name: self.family_name,
            middle_name: self.middle_name,
            honorific_prefix: self.honorific_prefix,
            honorific_suffix: self.honorific_suffix,
            name: self.name,
            formatted_name: self.formatted_name,
            nickname: self.nickname,
            birthdate: self.birthdate,
            profile_url: self.profile_url,
            title: self.title,
            user_type: self.user_type,
            preferred_language: self.preferred_language,
            locale: self.locale,
            zoneinfo: self.zoneinfo,
            emails,
            phone_numbers,
            external_ids: external_ids(self.external_ids),
            addresses: self.addresses.into_iter().map(Address::from).collect(),
            enterprise,
            analytics_id: self.analytics_id,
            attributes: self.attributes,
            active_unassigned: false,
        };
        errors.finish(NewUser {
            profile,
            password_hash,
            password: self.password,
            disabled: false,
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
    /// Can be replaced, not cleared.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub username: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub middle_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub honorific_prefix: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub honorific_suffix: Option<Option<String>>,
    /// The full name as one text (SCIM `name.formatted`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub formatted_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub nickname: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub birthdate: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub profile_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub user_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub preferred_language: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<AddressDto>>)]
    pub addresses: Option<Option<Vec<AddressDto>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<EnterprisePatchInput>)]
    pub enterprise: Option<Option<EnterprisePatchInput>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub analytics_id: Option<Option<String>>,
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
        let username = match self.username {
            None => None,
            Some(None) => {
                errors
                    .0
                    .push(FieldError::new("username", "can be replaced, not removed"));
                None
            }
            Some(Some(text)) => errors.check("username", Username::parse(&text)),
        };
        let enterprise = self
            .enterprise
            .map(|part| part.map(|p| p.into_patch(&mut errors)));
        let patch = ProfilePatch {
            username,
            given_name: self.given_name,
            family_name: self.family_name,
            middle_name: self.middle_name,
            honorific_prefix: self.honorific_prefix,
            honorific_suffix: self.honorific_suffix,
            name: self.name,
            formatted_name: self.formatted_name,
            nickname: self.nickname,
            birthdate: self.birthdate,
            profile_url: self.profile_url,
            title: self.title,
            user_type: self.user_type,
            preferred_language: self.preferred_language,
            locale: self.locale,
            zoneinfo: self.zoneinfo,
            emails,
            phone_numbers,
            external_ids: self
                .external_ids
                .map(|list| external_ids(list.unwrap_or_default())),
            addresses: self.addresses.map(|list| {
                list.unwrap_or_default()
                    .into_iter()
                    .map(Address::from)
                    .collect()
            }),
            enterprise,
            analytics_id: self.analytics_id,
            attributes: self.attributes,
        };
        errors.finish(patch)
    }
}
