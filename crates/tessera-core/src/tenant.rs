//! Tenants: brands or organisations whose users and settings are isolated from each other.

use crate::ids::TenantId;
use crate::oauth::session::SessionLifetimes;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// The slug of the tenant that always exists and serves at the root path.
pub const DEFAULT_TENANT_SLUG: &str = "default";

/// Why a slug or domain is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantValueError {
    /// Slugs are 2–63 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.
    #[error(
        "a tenant slug is 2 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'"
    )]
    BadSlug,
    /// A domain must be a lowercase DNS host name with at least one dot.
    #[error("'{0}' is not a host name")]
    BadDomain(String),
    /// Settings texts are at most 2048 bytes without control characters.
    #[error(
        "settings: texts are at most 2048 bytes without control characters, default_locale is a language tag, and session lifetimes are 60 s ≤ idle ≤ absolute ≤ 365 days"
    )]
    BadSettings,
    /// Display names are 1–200 characters.
    #[error("the display name must be 1 to 200 characters")]
    BadDisplayName,
}

/// A tenant's short name, used in paths (`/t/{slug}`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantSlug(String);

impl TenantSlug {
    pub fn parse(input: &str) -> Result<Self, TenantValueError> {
        let ok = (2..=63).contains(&input.len())
            && input
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !input.starts_with('-')
            && !input.ends_with('-');
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(TenantValueError::BadSlug)
        }
    }

    pub fn default_tenant() -> Self {
        Self(DEFAULT_TENANT_SLUG.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantSlug({})", self.0)
    }
}
impl TryFrom<String> for TenantSlug {
    type Error = TenantValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<TenantSlug> for String {
    fn from(slug: TenantSlug) -> Self {
        slug.0
    }
}

/// A custom domain that serves one tenant (`login.brand.example`), case-folded.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Domain(String);

impl Domain {
    pub fn parse(input: &str) -> Result<Self, TenantValueError> {
        let host = input.trim().to_ascii_lowercase();
        let labels: Vec<&str> = host.split('.').collect();
        let ok = host.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|label| {
                (1..=63).contains(&label.len())
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if ok {
            Ok(Self(host))
        } else {
            Err(TenantValueError::BadDomain(input.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Domain {
    type Error = TenantValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<Domain> for String {
    fn from(domain: Domain) -> Self {
        domain.0
    }
}

/// How the hosted pages of a tenant look.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Branding {
    pub logo_url: Option<String>,
    /// CSS colour of buttons and links, e.g. `#1a73e8`.
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
}

/// Settings of a tenant; later features add their own sections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSettings {
    pub branding: Branding,
    /// Language of the hosted pages when the browser asks for none we have (BCP 47).
    pub default_locale: Option<String>,
    /// Idle and absolute lifetimes of sign-in sessions.
    pub sessions: SessionLifetimes,
    /// Whether and how people create accounts themselves.
    pub signup: crate::signup::SignUpSettings,
    /// How often skipped profiling questions come back.
    pub profiling: crate::profiling::ProfilingSettings,
    /// When a second factor is asked for.
    pub mfa: crate::mfa::policy::MfaSettings,
    /// How failed attempts slow down and stop guessing.
    pub lockout: crate::lockout::LockoutPolicy,
    /// How sign-ins are scored and what each score calls for.
    pub risk: crate::risk::RiskPolicy,
    /// Whether users are emailed when their account is signed in to from a new browser.
    pub new_device_alerts: bool,
    /// When the built-in proof of work guards sign-in.
    pub bot_defence: crate::bot::BotDefenceSettings,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            branding: Branding::default(),
            default_locale: None,
            sessions: SessionLifetimes::default(),
            signup: crate::signup::SignUpSettings::default(),
            profiling: crate::profiling::ProfilingSettings::default(),
            mfa: crate::mfa::policy::MfaSettings::default(),
            lockout: crate::lockout::LockoutPolicy::default(),
            risk: crate::risk::RiskPolicy::default(),
            new_device_alerts: true,
            bot_defence: crate::bot::BotDefenceSettings::default(),
        }
    }
}

impl TenantSettings {
    /// The settings in canonical form, or every problem, each naming its field.
    pub fn normalize(mut self) -> Result<Self, Vec<crate::error::FieldError>> {
        let mut errors = Vec::new();
        if let Err(problem) = self.validate() {
            errors.push(crate::error::FieldError::new(
                "settings",
                problem.to_string(),
            ));
        }
        let mut profiling = Vec::new();
        self.profiling.check(&mut profiling);
        errors.extend(
            profiling
                .into_iter()
                .map(|e| e.within("settings.profiling")),
        );
        if let Err(found) = self.bot_defence.check() {
            errors.extend(found.into_iter().map(|e| e.within("settings.bot_defence")));
        }
        let mut mfa = Vec::new();
        self.mfa.check(&mut mfa);
        errors.extend(mfa.into_iter().map(|e| e.within("settings.mfa")));
        let mut risk = Vec::new();
        self.risk.check(&mut risk);
        errors.extend(risk.into_iter().map(|e| e.within("settings.risk")));
        let mut lockout = Vec::new();
        self.lockout.check(&mut lockout);
        errors.extend(lockout.into_iter().map(|e| e.within("settings.lockout")));
        match self.signup.clone().normalize() {
            Ok(signup) => self.signup = signup,
            Err(found) => errors.extend(found.into_iter().map(|e| e.within("settings.signup"))),
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }

    /// Every text is at most 2048 bytes without control characters; the locale is a
    /// language tag.
    pub fn validate(&self) -> Result<(), TenantValueError> {
        let branding = &self.branding;
        let texts = [
            &branding.logo_url,
            &branding.primary_color,
            &branding.background_color,
            &self.default_locale,
        ];
        let ok = texts.iter().all(|text| {
            text.as_ref()
                .is_none_or(|t| t.len() <= 2048 && !t.chars().any(char::is_control))
        });
        let locale_ok = self.default_locale.as_ref().is_none_or(|l| {
            (2..=35).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        let sessions = self.sessions;
        let sessions_ok = (60..=sessions.absolute_seconds).contains(&sessions.idle_seconds)
            && sessions.absolute_seconds <= 365 * 24 * 3600;
        if ok && locale_ok && sessions_ok {
            Ok(())
        } else {
            Err(TenantValueError::BadSettings)
        }
    }
}

/// A tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: TenantSlug,
    pub display_name: String,
    pub domains: Vec<Domain>,
    pub settings: TenantSettings,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Bumped on every update; an update names the version it read (optimistic locking).
    pub version: i64,
}

impl Tenant {
    pub fn is_default(&self) -> bool {
        self.slug.as_str() == DEFAULT_TENANT_SLUG
    }
}

/// Checks a display name (trimmed, 1–200 characters).
pub fn parse_display_name(input: &str) -> Result<String, TenantValueError> {
    let trimmed = input.trim();
    if (1..=200).contains(&trimmed.chars().count()) && !trimmed.chars().any(char::is_control) {
        Ok(trimmed.to_owned())
    } else {
        Err(TenantValueError::BadDisplayName)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(TenantSlug::parse("acme-eu").is_ok());
        for bad in ["A", "a", "-acme", "acme-", "ac me", "acmé", &"a".repeat(64)] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(input in "\\PC{0,300}") {
            let _ = TenantSlug::parse(&input);
            let _ = Domain::parse(&input);
            let _ = parse_display_name(&input);
        }
    }

    #[test]
    fn domains_are_case_folded() {
        assert_eq!(
            Domain::parse("Login.Brand.Example").unwrap().as_str(),
            "login.brand.example"
        );
        assert!(Domain::parse("localhost").is_err());
        assert!(Domain::parse("bad_host.example").is_err());
    }
}
