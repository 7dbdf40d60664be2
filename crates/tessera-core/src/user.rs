//! Users (customers): their status, profile and identifiers, and the pure rules that keep
//! a profile consistent. Field names follow OpenID Connect's standard claims.

use crate::email::Email;
use crate::ids::{TenantId, UserId};
use crate::password_hash::PasswordHash;
use crate::phone::ContactNumber;
pub use crate::profile::{Address, Enterprise, EnterprisePatch, Username};
use crate::profile::{MAX_ADDRESSES, check_url, clean_short};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashSet};
use time::OffsetDateTime;

pub const MAX_EMAILS: usize = 10;
pub const MAX_PHONES: usize = 10;
pub const MAX_EXTERNAL_IDS: usize = 20;
const MAX_NAME_CHARS: usize = 200;

/// Where a user is in their lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// Known by attributes only (e.g. left an email for a catalogue); cannot sign in.
    Light,
    /// Has credentials and may sign in.
    Active,
    /// Blocked by an administrator; keeps its data.
    Disabled,
    /// Erased: a tombstone keeping only the id, so that references stay meaningful.
    Deleted,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Deleted => "deleted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "light" => Some(Self::Light),
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            "deleted" => Some(Self::Deleted),
            _ => None,
        }
    }
}

/// What an email address may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailPurpose {
    Signin,
    Security,
    Billing,
    Marketing,
}

/// One of a user's email addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEmail {
    pub value: Email,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub verified: bool,
    #[serde(default)]
    pub purposes: BTreeSet<EmailPurpose>,
    /// `work`, `home`, `other`… (SCIM `type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// One of a user's phone numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPhone {
    pub value: ContactNumber,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub verified: bool,
    /// `work`, `home`, `mobile`… (SCIM `type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The id a source system (CRM, shop, HR) knows the user by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExternalId {
    pub source: String,
    pub value: String,
}

/// Everything about a user that an administrator or the user may edit. Fields added later
/// default when absent, so that stored documents of every age still read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// Unique per tenant, case-insensitively. Every user that is not deleted has one: the
    /// services fill it at creation (primary email, else the id) and never clear it.
    pub username: Option<Username>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub honorific_prefix: Option<String>,
    pub honorific_suffix: Option<String>,
    /// Display name (OIDC `name`).
    pub name: Option<String>,
    /// The full name as one text, titles and suffixes included, as the source system wrote
    /// it (SCIM `name.formatted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_name: Option<String>,
    pub nickname: Option<String>,
    /// Date of birth, `YYYY-MM-DD` (OIDC `birthdate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    /// A page about the user (OIDC `profile`, SCIM `profileUrl`).
    pub profile_url: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// How the tenant classifies the user (`Employee`, `Customer`…; SCIM `userType`).
    pub user_type: Option<String>,
    /// The language the user prefers, a BCP 47 tag.
    pub preferred_language: Option<String>,
    /// BCP 47 language tag, e.g. `de-CH`.
    pub locale: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin` (OIDC `zoneinfo`).
    pub zoneinfo: Option<String>,
    pub emails: Vec<UserEmail>,
    pub phone_numbers: Vec<UserPhone>,
    pub external_ids: Vec<ExternalId>,
    pub addresses: Vec<Address>,
    #[serde(skip_serializing_if = "Enterprise::is_empty")]
    pub enterprise: Enterprise,
    /// The anonymous id a web-analytics tool gave the visitor, for later correlation.
    pub analytics_id: Option<String>,
    /// Values of the tenant's custom attributes.
    pub attributes: Map<String, Value>,
    /// Provisioning left SCIM's `active` unassigned (RFC 7643 allows it; the user is
    /// enabled all the same). SCIM then shows no `active` for an enabled user, so clients
    /// read back what they wrote.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub active_unassigned: bool,
}

/// A user of one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub status: UserStatus,
    pub profile: Profile,
    pub password_hash: Option<PasswordHash>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl User {
    /// The username; every user that is not deleted has one.
    pub fn username(&self) -> Option<&Username> {
        self.profile.username.as_ref()
    }

    /// The address the user signs in and is reached with (see [`Profile::primary_email`]).
    pub fn primary_email(&self) -> Option<&Email> {
        self.profile.primary_email().map(|email| &email.value)
    }

    pub fn has_credentials(&self) -> bool {
        self.password_hash.is_some()
    }

    /// The status a re-enabled user returns to.
    pub fn enabled_status(&self) -> UserStatus {
        if self.has_credentials() {
            UserStatus::Active
        } else {
            UserStatus::Light
        }
    }

    /// The tombstone left by deletion: the id and times stay, personal data goes.
    pub fn into_tombstone(self, at: OffsetDateTime) -> Self {
        Self {
            status: UserStatus::Deleted,
            profile: Profile::default(),
            password_hash: None,
            updated_at: at,
            version: self.version + 1,
            ..self
        }
    }
}

use crate::error::FieldError;

impl Profile {
    /// The email marked primary, else the first: the address the user signs in with, is
    /// reached at, and that is unique per tenant.
    pub fn primary_email(&self) -> Option<&UserEmail> {
        self.emails
            .iter()
            .find(|email| email.primary)
            .or_else(|| self.emails.first())
    }

    /// The phone number marked primary, else the first.
    pub fn primary_phone(&self) -> Option<&UserPhone> {
        self.phone_numbers
            .iter()
            .find(|phone| phone.primary)
            .or_else(|| self.phone_numbers.first())
    }
}

fn error(field: &str, reason: impl Into<String>) -> FieldError {
    FieldError::new(field, reason)
}

impl Profile {
    /// Brings a profile into its canonical form and checks the rules that span fields:
    /// trimmed names, at most one primary email and phone, no address
    /// twice, bounded lists, well-formed locale and zone.
    pub fn normalize(mut self) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, value) in [
            ("middle_name", &mut self.middle_name),
            ("honorific_prefix", &mut self.honorific_prefix),
            ("honorific_suffix", &mut self.honorific_suffix),
            ("nickname", &mut self.nickname),
            ("title", &mut self.title),
            ("user_type", &mut self.user_type),
        ] {
            clean_short(field, value, &mut errors);
        }
        crate::profile::clean_text(
            "analytics_id",
            &mut self.analytics_id,
            256,
            false,
            &mut errors,
        );
        check_url("profile_url", &mut self.profile_url, &mut errors);
        for (i, email) in self.emails.iter_mut().enumerate() {
            clean_short(&format!("emails[{i}].kind"), &mut email.kind, &mut errors);
        }
        for (i, phone) in self.phone_numbers.iter_mut().enumerate() {
            clean_short(
                &format!("phone_numbers[{i}].kind"),
                &mut phone.kind,
                &mut errors,
            );
        }
        if self.addresses.len() > MAX_ADDRESSES {
            errors.push(error("addresses", format!("at most {MAX_ADDRESSES}")));
        }
        if self.addresses.iter().filter(|a| a.primary).count() > 1 {
            errors.push(error("addresses", "only one can be primary"));
        }
        for (i, address) in self.addresses.iter_mut().enumerate() {
            address.normalize(i, &mut errors);
        }
        self.enterprise.normalize(&mut errors);
        for (field, value) in [
            ("given_name", &mut self.given_name),
            ("family_name", &mut self.family_name),
            ("name", &mut self.name),
            ("formatted_name", &mut self.formatted_name),
        ] {
            *value = value
                .take()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
            if value.as_ref().is_some_and(|v| {
                v.chars().count() > MAX_NAME_CHARS || v.chars().any(char::is_control)
            }) {
                errors.push(error(
                    field,
                    format!("at most {MAX_NAME_CHARS} characters, no control characters"),
                ));
            }
        }
        if self
            .preferred_language
            .as_deref()
            .is_some_and(|l| !is_language_tag(l))
        {
            errors.push(error(
                "preferred_language",
                "must be a BCP 47 language tag such as 'en' or 'de-CH'",
            ));
        }
        if self.locale.as_deref().is_some_and(|l| !is_language_tag(l)) {
            errors.push(error(
                "locale",
                "must be a BCP 47 language tag such as 'en' or 'de-CH'",
            ));
        }
        self.birthdate = self
            .birthdate
            .take()
            .map(|b| b.trim().to_owned())
            .filter(|b| !b.is_empty());
        if self
            .birthdate
            .as_deref()
            .is_some_and(|b| crate::profile::birthdate(b).is_none())
        {
            errors.push(error(
                "birthdate",
                "must be a date from 1900 on, in the form YYYY-MM-DD",
            ));
        }
        if self.zoneinfo.as_deref().is_some_and(|z| !is_zone_name(z)) {
            errors.push(error(
                "zoneinfo",
                "must be an IANA time zone such as 'Europe/Berlin'",
            ));
        }
        check_primary(
            &mut self.emails,
            "emails",
            MAX_EMAILS,
            |e| &mut e.primary,
            &mut errors,
        );
        check_primary(
            &mut self.phone_numbers,
            "phone_numbers",
            MAX_PHONES,
            |p| &mut p.primary,
            &mut errors,
        );
        let mut seen = HashSet::new();
        if self
            .emails
            .iter()
            .any(|email| !seen.insert(email.value.normalized().to_owned()))
        {
            errors.push(error("emails", "the same address appears twice"));
        }
        let mut seen = HashSet::new();
        if self
            .phone_numbers
            .iter()
            .any(|phone| !seen.insert(phone.value.clone()))
        {
            errors.push(error("phone_numbers", "the same number appears twice"));
        }
        if self.external_ids.len() > MAX_EXTERNAL_IDS {
            errors.push(error("external_ids", format!("at most {MAX_EXTERNAL_IDS}")));
        }
        let mut seen = HashSet::new();
        for external in &self.external_ids {
            let fits = |text: &str, max: usize| {
                (1..=max).contains(&text.chars().count()) && !text.chars().any(char::is_control)
            };
            if !fits(&external.source, 100) || !fits(&external.value, 256) {
                errors.push(error(
                    "external_ids",
                    "source is 1-100 and value 1-256 characters, no control characters",
                ));
            }
            if !seen.insert(&external.source) {
                errors.push(error(
                    "external_ids",
                    format!("two ids for source '{}'", external.source),
                ));
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// At most one entry is primary. None need be: then the first counts as primary (see
/// [`Profile::primary_email`]), but the flags stay as the client set them, so that SCIM
/// clients read back what they wrote.
fn check_primary<T>(
    items: &mut [T],
    field: &str,
    max: usize,
    primary: impl Fn(&mut T) -> &mut bool,
    errors: &mut Vec<FieldError>,
) {
    if items.len() > max {
        errors.push(error(field, format!("at most {max}")));
    }
    let primaries = items
        .iter_mut()
        .map(|item| *primary(item))
        .filter(|is_primary| *is_primary)
        .count();
    match primaries {
        0 | 1 => {}
        _ => errors.push(error(field, "only one can be primary")),
    }
}

fn is_language_tag(tag: &str) -> bool {
    tag.len() <= 35
        && tag.split('-').enumerate().all(|(i, part)| {
            let len_ok = if i == 0 {
                (2..=3).contains(&part.len())
            } else {
                (1..=8).contains(&part.len())
            };
            len_ok
                && part.bytes().all(|b| b.is_ascii_alphanumeric())
                && (i > 0 || part.bytes().all(|b| b.is_ascii_alphabetic()))
        })
}

fn is_zone_name(zone: &str) -> bool {
    (1..=64).contains(&zone.len())
        && zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
        && !zone.starts_with('/')
        && !zone.ends_with('/')
}

/// A change to a profile with JSON merge patch semantics (RFC 7396): a field left out stays,
/// `Some(None)` clears it, lists are replaced whole, and attributes merge key by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfilePatch {
    /// A username cannot be cleared, only replaced.
    pub username: Option<Username>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    pub middle_name: Option<Option<String>>,
    pub honorific_prefix: Option<Option<String>>,
    pub honorific_suffix: Option<Option<String>>,
    pub name: Option<Option<String>>,
    pub formatted_name: Option<Option<String>>,
    pub nickname: Option<Option<String>>,
    pub birthdate: Option<Option<String>>,
    pub profile_url: Option<Option<String>>,
    pub title: Option<Option<String>>,
    pub user_type: Option<Option<String>>,
    pub preferred_language: Option<Option<String>>,
    pub locale: Option<Option<String>>,
    pub zoneinfo: Option<Option<String>>,
    pub emails: Option<Vec<UserEmail>>,
    pub phone_numbers: Option<Vec<UserPhone>>,
    pub external_ids: Option<Vec<ExternalId>>,
    pub addresses: Option<Vec<Address>>,
    /// `Some(None)` clears the whole enterprise part; a patch merges field by field.
    pub enterprise: Option<Option<EnterprisePatch>>,
    pub analytics_id: Option<Option<String>>,
    /// `Some(None)` removes every attribute; in a map, a `null` value removes that one.
    pub attributes: Option<Option<Map<String, Value>>>,
}

/// A text field's patch and its value in the profile being patched.
type ScalarPatch<'a> = (&'a Option<Option<String>>, &'a mut Option<String>);

impl ProfilePatch {
    /// The profile with the patch applied (not yet normalised or validated).
    pub fn apply(&self, profile: &Profile) -> Profile {
        let mut next = profile.clone();
        let scalars: [ScalarPatch<'_>; 16] = [
            (&self.given_name, &mut next.given_name),
            (&self.family_name, &mut next.family_name),
            (&self.middle_name, &mut next.middle_name),
            (&self.honorific_prefix, &mut next.honorific_prefix),
            (&self.honorific_suffix, &mut next.honorific_suffix),
            (&self.name, &mut next.name),
            (&self.formatted_name, &mut next.formatted_name),
            (&self.nickname, &mut next.nickname),
            (&self.birthdate, &mut next.birthdate),
            (&self.profile_url, &mut next.profile_url),
            (&self.title, &mut next.title),
            (&self.user_type, &mut next.user_type),
            (&self.preferred_language, &mut next.preferred_language),
            (&self.locale, &mut next.locale),
            (&self.zoneinfo, &mut next.zoneinfo),
            (&self.analytics_id, &mut next.analytics_id),
        ];
        for (patch, target) in scalars {
            if let Some(value) = patch {
                target.clone_from(value);
            }
        }
        if let Some(emails) = &self.emails {
            next.emails.clone_from(emails);
        }
        if let Some(phones) = &self.phone_numbers {
            next.phone_numbers.clone_from(phones);
        }
        if let Some(ids) = &self.external_ids {
            next.external_ids.clone_from(ids);
        }
        if let Some(username) = &self.username {
            next.username = Some(username.clone());
        }
        if let Some(addresses) = &self.addresses {
            next.addresses.clone_from(addresses);
        }
        match &self.enterprise {
            None => {}
            Some(None) => next.enterprise = Enterprise::default(),
            Some(Some(patch)) => next.enterprise = patch.apply(&next.enterprise),
        }
        match &self.attributes {
            None => {}
            Some(None) => next.attributes.clear(),
            Some(Some(merge)) => {
                for (key, value) in merge {
                    if value.is_null() {
                        next.attributes.remove(key);
                    } else {
                        next.attributes.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        next
    }
}

impl Profile {
    /// The names of the fields whose values differ between `self` and `other`.
    pub fn changed_fields(&self, other: &Profile) -> Vec<&'static str> {
        let pairs = [
            ("username", self.username != other.username),
            ("given_name", self.given_name != other.given_name),
            ("family_name", self.family_name != other.family_name),
            ("middle_name", self.middle_name != other.middle_name),
            (
                "honorific_prefix",
                self.honorific_prefix != other.honorific_prefix,
            ),
            (
                "honorific_suffix",
                self.honorific_suffix != other.honorific_suffix,
            ),
            ("name", self.name != other.name),
            (
                "formatted_name",
                self.formatted_name != other.formatted_name,
            ),
            ("nickname", self.nickname != other.nickname),
            ("birthdate", self.birthdate != other.birthdate),
            ("profile_url", self.profile_url != other.profile_url),
            ("title", self.title != other.title),
            ("user_type", self.user_type != other.user_type),
            (
                "preferred_language",
                self.preferred_language != other.preferred_language,
            ),
            ("locale", self.locale != other.locale),
            ("zoneinfo", self.zoneinfo != other.zoneinfo),
            ("emails", self.emails != other.emails),
            ("phone_numbers", self.phone_numbers != other.phone_numbers),
            ("external_ids", self.external_ids != other.external_ids),
            ("addresses", self.addresses != other.addresses),
            ("enterprise", self.enterprise != other.enterprise),
            ("analytics_id", self.analytics_id != other.analytics_id),
            ("attributes", self.attributes != other.attributes),
            ("active", self.active_unassigned != other.active_unassigned),
        ];
        pairs
            .into_iter()
            .filter(|(_, differs)| *differs)
            .map(|(name, _)| name)
            .collect()
    }
}

/// Filters of the admin user search; all given filters must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserQuery {
    /// Any of the user's emails equals this one (case-insensitively).
    pub email: Option<Email>,
    /// Given, family or display name starts with this text (case-insensitively).
    pub name_prefix: Option<String>,
    /// Without a status, deleted users are left out.
    pub status: Option<UserStatus>,
    /// `(attribute, indexed value)` pairs, as produced by `AttributeSchema::search_term`.
    pub attributes: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn email(value: &str) -> UserEmail {
        UserEmail {
            value: Email::parse(value).unwrap(),
            primary: false,
            verified: false,
            purposes: BTreeSet::new(),
            kind: None,
        }
    }

    #[test]
    fn the_first_email_counts_as_primary_and_names_are_trimmed() {
        let profile = Profile {
            given_name: Some("  Ada ".into()),
            family_name: Some("   ".into()),
            emails: vec![email("a@example.com"), email("b@example.com")],
            ..Profile::default()
        }
        .normalize()
        .unwrap();
        assert_eq!(profile.given_name.as_deref(), Some("Ada"));
        assert_eq!(profile.family_name, None);
        // The flags stay as given; the first address counts as primary.
        assert!(!profile.emails[0].primary && !profile.emails[1].primary);
        assert_eq!(
            profile.primary_email().unwrap().value.as_str(),
            "a@example.com"
        );
    }

    #[test]
    fn inconsistent_profiles_list_every_problem() {
        let mut first = email("A@example.com");
        first.primary = true;
        let mut second = email("a@EXAMPLE.com");
        second.primary = true;
        let errors = Profile {
            locale: Some("not a tag".into()),
            emails: vec![first, second],
            external_ids: vec![
                ExternalId {
                    source: "crm".into(),
                    value: "1".into(),
                },
                ExternalId {
                    source: "crm".into(),
                    value: "2".into(),
                },
            ],
            ..Profile::default()
        }
        .normalize()
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(text.join("\n"), @r"
        locale: must be a BCP 47 language tag such as 'en' or 'de-CH'
        emails: only one can be primary
        emails: the same address appears twice
        external_ids: two ids for source 'crm'
        ");
    }

    #[test]
    fn merge_patch_semantics() {
        let profile = Profile {
            given_name: Some("Ada".into()),
            family_name: Some("Lovelace".into()),
            attributes: json!({"a": 1, "b": 2}).as_object().cloned().unwrap(),
            ..Profile::default()
        };
        let patch = ProfilePatch {
            given_name: Some(Some("Augusta".into())),
            family_name: Some(None),
            locale: None,
            attributes: Some(json!({"a": null, "c": 3}).as_object().cloned()),
            ..ProfilePatch::default()
        };
        let next = patch.apply(&profile);
        let changed = profile.changed_fields(&next);
        assert_eq!(next.given_name.as_deref(), Some("Augusta"));
        assert_eq!(next.family_name, None);
        assert_eq!(Value::Object(next.attributes), json!({"b": 2, "c": 3}));
        assert_eq!(changed, vec!["given_name", "family_name", "attributes"]);
        assert!(
            profile
                .changed_fields(&ProfilePatch::default().apply(&profile))
                .is_empty()
        );
        let clear = ProfilePatch {
            attributes: Some(None),
            ..ProfilePatch::default()
        };
        assert!(clear.apply(&profile).attributes.is_empty());
    }

    #[test]
    fn language_tags_and_zones() {
        assert!(is_language_tag("de-CH") && is_language_tag("en") && is_language_tag("zh-Hant-TW"));
        assert!(!is_language_tag("d") && !is_language_tag("12-ab") && !is_language_tag("en_US"));
        assert!(
            is_zone_name("Europe/Berlin") && is_zone_name("UTC") && !is_zone_name("Europe Berlin")
        );
    }
}
