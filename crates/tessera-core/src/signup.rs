//! Self sign-up: a tenant's sign-up settings, and the challenge that proves a person holds
//! an email address before an account is made from it (or a light account is claimed).
//!
//! A challenge keeps what the form said (the password already hashed) until the address is
//! proven by a 6-digit code or a link, both single use, short-lived and stored only as
//! hashes. An address that already has an account gets a *decoy* challenge, which no code
//! completes, and a mail saying so: the sign-up pages look the same either way (A08).

use crate::email::Email;
use crate::error::FieldError;
use crate::event::Event;
use crate::ids::{SignUpId, TenantId};
use crate::secret::SecretHash;
use crate::store::StoreResult;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// How long a code and its link are valid.
pub const CHALLENGE_LIFETIME: Duration = Duration::minutes(15);
/// Wrong codes allowed before the challenge is spent (A06).
pub const MAX_ATTEMPTS: u32 = 5;
/// Codes sent to one address per [`SEND_WINDOW`], at most.
pub const MAX_SENDS: u64 = 5;
pub const SEND_WINDOW: Duration = Duration::hours(1);
const MAX_DOMAINS: usize = 100;

/// A published document the person accepts (terms of service, privacy notice), by version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// Where the document is read (http or https).
    pub url: String,
    /// The version accepted, recorded with the account (e.g. `2026-09`).
    pub version: String,
}

/// A tenant's sign-up settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignUpSettings {
    /// Whether people may create accounts themselves (off by default).
    pub enabled: bool,
    /// Email domains sign-up is limited to (`example.com` also allows its subdomains);
    /// empty: any.
    pub allowed_email_domains: Vec<String>,
    /// Whether the form asks for given and family name (it asks for nothing more than
    /// email and password by default).
    pub ask_for_name: bool,
    /// Terms of service to accept, if any.
    pub terms: Option<PolicyDocument>,
    /// Privacy notice to acknowledge, if any.
    pub privacy: Option<PolicyDocument>,
}

fn is_domain(text: &str) -> bool {
    (1..=253).contains(&text.len())
        && text.split('.').count() >= 2
        && text.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn check_document(field: &str, document: &Option<PolicyDocument>, errors: &mut Vec<FieldError>) {
    if let Some(document) = document {
        let url_ok = (document.url.starts_with("https://") || document.url.starts_with("http://"))
            && document.url.len() <= 2048
            && url::Url::parse(&document.url).is_ok();
        if !url_ok {
            errors.push(FieldError::new(
                &format!("{field}.url"),
                "an absolute http(s) URL of at most 2048 bytes",
            ));
        }
        let version = document.version.trim();
        if version.is_empty() || version.len() > 64 || version.chars().any(char::is_control) {
            errors.push(FieldError::new(
                &format!("{field}.version"),
                "1-64 characters, no control characters",
            ));
        }
    }
}

impl SignUpSettings {
    /// Domains lower-case, without duplicates; every problem reported.
    pub fn normalize(mut self) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut domains: Vec<String> = self
            .allowed_email_domains
            .iter()
            .map(|domain| domain.trim().trim_start_matches('@').to_ascii_lowercase())
            .collect();
        domains.sort();
        domains.dedup();
        if domains.len() > MAX_DOMAINS {
            errors.push(FieldError::new(
                "allowed_email_domains",
                format!("at most {MAX_DOMAINS}"),
            ));
        }
        for (i, domain) in domains.iter().enumerate() {
            if !is_domain(domain) {
                errors.push(FieldError::new(
                    &format!("allowed_email_domains[{i}]"),
                    "a domain name such as example.com",
                ));
            }
        }
        self.allowed_email_domains = domains;
        check_document("terms", &self.terms, &mut errors);
        check_document("privacy", &self.privacy, &mut errors);
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }

    /// Whether an address may sign up: any, or one of the allowed domains or their
    /// subdomains.
    pub fn allows(&self, email: &Email) -> bool {
        let Some((_, domain)) = email.normalized().rsplit_once('@') else {
            return false;
        };
        self.allowed_email_domains.is_empty()
            || self.allowed_email_domains.iter().any(|allowed| {
                domain == allowed
                    || domain
                        .strip_suffix(allowed.as_str())
                        .is_some_and(|head| head.ends_with('.'))
            })
    }
}

/// What the form said, kept until the address is proven. `Debug` leaves the password hash
/// out (A24).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignUpDetails {
    /// Argon2id of the chosen password as a PHC string; none for a decoy.
    pub password_hash: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Versions of the terms and privacy notice accepted.
    pub terms_version: Option<String>,
    pub privacy_version: Option<String>,
    /// The language the person used, for the mail and the next pages.
    pub language: String,
    /// The authorization request to continue afterwards, if sign-up started from one.
    pub continue_handle: Option<String>,
    /// The client whose authorization request it was, for events.
    pub client_id: Option<String>,
    /// SHA-256 (hex) of the starting browser's CSRF cookie value: links confirmed in that
    /// browser sign in, others must choose a password and sign in themselves.
    pub browser_hash: Option<String>,
}

impl std::fmt::Debug for SignUpDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpDetails")
            .field("language", &self.language)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Default for SignUpDetails {
    fn default() -> Self {
        Self {
            password_hash: None,
            given_name: None,
            family_name: None,
            terms_version: None,
            privacy_version: None,
            language: "en".to_owned(),
            continue_handle: None,
            client_id: None,
            browser_hash: None,
        }
    }
}

/// A pending sign-up.
#[derive(Debug, Clone, PartialEq)]
pub struct SignUpChallenge {
    pub id: SignUpId,
    pub tenant_id: TenantId,
    pub email: Email,
    /// The address already has an account: no code completes this challenge.
    pub decoy: bool,
    pub code_hash: SecretHash,
    pub link_hash: SecretHash,
    /// Codes tried so far.
    pub attempts: u32,
    pub details: SignUpDetails,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// When it was used; a challenge is used once.
    pub consumed_at: Option<OffsetDateTime>,
}

impl SignUpChallenge {
    /// Whether a code may still be tried at `now`.
    pub fn is_open(&self, now: OffsetDateTime) -> bool {
        self.consumed_at.is_none() && now < self.expires_at && self.attempts < MAX_ATTEMPTS
    }

    /// The hash kept of a browser's CSRF cookie value.
    pub fn browser_hash(browser: &secrecy::SecretString) -> String {
        use secrecy::ExposeSecret;
        SecretHash::of_str(browser.expose_secret())
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `browser` (a CSRF cookie value) is the one that started the sign-up.
    pub fn started_in(&self, browser: Option<&secrecy::SecretString>) -> bool {
        match (&self.details.browser_hash, browser) {
            (Some(kept), Some(browser)) => {
                SecretHash::of_str(kept).matches(&SecretHash::of_str(&Self::browser_hash(browser)))
            }
            _ => false,
        }
    }

    /// The hash a code is kept as: bound to the challenge, so equal codes of two
    /// challenges differ.
    pub fn hash_code(id: SignUpId, code: &str) -> SecretHash {
        SecretHash::of_str(&format!("{id}:{code}"))
    }
}

/// The storage port of sign-up challenges.
#[async_trait::async_trait]
pub trait SignUpStore: Send + Sync {
    /// Stores a new challenge and its `sign_up.started` event, unless the address already
    /// has `max_sends` challenges made since `since`: then nothing is written and the answer
    /// is false. Counting and inserting are one step, so parallel requests cannot all pass.
    async fn insert_sign_up(
        &self,
        challenge: &SignUpChallenge,
        event: &Event,
        max_sends: u64,
        since: OffsetDateTime,
    ) -> StoreResult<bool>;
    async fn sign_up_by_id(
        &self,
        tenant: TenantId,
        id: SignUpId,
    ) -> StoreResult<Option<SignUpChallenge>>;
    /// How many challenges were made for the address (ignoring case) since `since`.
    async fn count_sign_ups(
        &self,
        tenant: TenantId,
        email: &Email,
        since: OffsetDateTime,
    ) -> StoreResult<u64>;
    /// Counts one more try of a code, atomically; the number of tries after it, or `None`
    /// when the challenge is gone or already used.
    async fn record_sign_up_attempt(
        &self,
        tenant: TenantId,
        id: SignUpId,
    ) -> StoreResult<Option<u32>>;
    /// Marks the challenge used, once: false when it was used already.
    async fn consume_sign_up(
        &self,
        tenant: TenantId,
        id: SignUpId,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(domains: &[&str]) -> SignUpSettings {
        SignUpSettings {
            enabled: true,
            allowed_email_domains: domains.iter().map(|d| (*d).to_owned()).collect(),
            ..SignUpSettings::default()
        }
        .normalize()
        .unwrap()
    }

    #[test]
    fn allowed_domains_include_subdomains_and_nothing_else() {
        let acme = settings(&["@ACME.example", "acme.example"]);
        assert_eq!(acme.allowed_email_domains, ["acme.example"]);
        let allows = |address: &str| acme.allows(&Email::parse(address).unwrap());
        assert!(allows("ada@acme.example"));
        assert!(allows("ada@eu.acme.example"));
        assert!(!allows("ada@notacme.example"));
        assert!(!allows("ada@acme.example.evil"));
        assert!(settings(&[]).allows(&Email::parse("x@anything.example").unwrap()));
    }

    #[test]
    fn bad_settings_name_their_fields() {
        let errors = SignUpSettings {
            allowed_email_domains: vec!["not a domain".into()],
            terms: Some(PolicyDocument {
                url: "javascript:alert(1)".into(),
                version: String::new(),
            }),
            ..SignUpSettings::default()
        }
        .normalize()
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["allowed_email_domains[0]", "terms.url", "terms.version"]
        );
    }

    #[test]
    fn codes_hash_per_challenge() {
        let a = SignUpId::from_uuid(uuid::Uuid::from_u128(1));
        let b = SignUpId::from_uuid(uuid::Uuid::from_u128(2));
        assert!(
            !SignUpChallenge::hash_code(a, "123456")
                .matches(&SignUpChallenge::hash_code(b, "123456"))
        );
        assert!(
            SignUpChallenge::hash_code(a, "123456")
                .matches(&SignUpChallenge::hash_code(a, "123456"))
        );
    }
}
