//! Passkeys (WebAuthn): the relying party a public URL makes, the credential a factor
//! keeps, and the ceremonies that register and use one. A passkey always verifies its user
//! (a PIN or biometric on the authenticator), so it is two factors on its own: it signs in
//! without a password (discoverable credentials) or confirms a password sign-in.

use crate::event::Event;
use crate::ids::{MfaFactorId, TenantId, UserId};
use crate::mfa::MfaFactor;
use crate::secret::SecretHash;
use crate::store::StoreResult;
use time::{Duration, OffsetDateTime};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// How long a browser has to answer a ceremony (the authenticator's own timeout is shorter).
pub const CEREMONY_LIFETIME: Duration = Duration::minutes(5);

/// The methods (RFC 8176) a passkey proves: a key held by the user's device (`hwk`) and
/// the user verified on it (`user`: a PIN or a biometric).
pub const PASSKEY_METHODS: [&str; 2] = ["hwk", "user"];

/// A passkey's credential as a factor keeps it: public data only.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPasskey {
    /// The WebAuthn credential id, unique in a tenant.
    pub credential_id: Vec<u8>,
    /// The credential as webauthn-rs serialises it (public key, flags, counter).
    pub credential: String,
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// Adding a passkey to a user.
    Register,
    /// A known user's passkey as the second factor of a sign-in or a step-up.
    SecondFactor,
    /// Signing in with any passkey of the tenant: the authenticator names the user.
    SignIn,
}

impl CeremonyPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyPurpose::Register => "register",
            CeremonyPurpose::SecondFactor => "second_factor",
            CeremonyPurpose::SignIn => "sign_in",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "register" => Some(CeremonyPurpose::Register),
            "second_factor" => Some(CeremonyPurpose::SecondFactor),
            "sign_in" => Some(CeremonyPurpose::SignIn),
            _ => None,
        }
    }
}

/// The server half of a ceremony: webauthn-rs's state, holding the challenge the browser
/// must sign. Kept in the database so that any instance can finish what another started;
/// the browser holds only a random secret naming it.
#[derive(Debug, Clone, PartialEq)]
pub struct PasskeyCeremony {
    pub secret_hash: SecretHash,
    pub tenant_id: TenantId,
    /// Whose ceremony it is; none for a passwordless sign-in, where the passkey says.
    pub user_id: Option<UserId>,
    pub purpose: CeremonyPurpose,
    /// webauthn-rs's ceremony state, as JSON.
    pub state: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// The relying party of a public URL, or `None` when passkeys cannot work there: WebAuthn
/// needs a domain name (`localhost` will do), never an IP address, and a secure context
/// (HTTPS, or `http://localhost`).
pub fn relying_party(public_origin: &str, name: &str) -> Option<Webauthn> {
    let origin = url::Url::parse(public_origin).ok()?;
    let url::Host::Domain(domain) = origin.host()? else {
        return None;
    };
    let secure = origin.scheme() == "https" || domain == "localhost";
    if !secure {
        return None;
    }
    let rp_id = domain.to_owned();
    WebauthnBuilder::new(&rp_id, &origin)
        .ok()?
        .rp_name(name)
        .build()
        .ok()
}

/// Passkeys and their ceremonies in storage.
#[async_trait::async_trait]
pub trait PasskeyStore {
    /// Adds a confirmed passkey factor, writing `event` in the same transaction; false if
    /// its credential id is registered in the tenant already.
    async fn add_passkey(&self, factor: &MfaFactor, event: &Event) -> StoreResult<bool>;
    /// The confirmed passkey factor with this credential id in the tenant.
    async fn passkey_by_credential(
        &self,
        tenant: TenantId,
        credential_id: &[u8],
    ) -> StoreResult<Option<MfaFactor>>;
    /// Stores a passkey's credential after a use if `counter` is above the stored one (or
    /// both are zero: authenticators that keep no counter): one atomic compare-and-set, so
    /// that a counter that does not grow never passes, even concurrently (A42).
    async fn advance_passkey(
        &self,
        tenant: TenantId,
        user: UserId,
        id: MfaFactorId,
        counter: u32,
        credential: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Keeps a new ceremony. (Expired ones go with the other expired state, in
    /// `purge_expired`.)
    async fn insert_passkey_ceremony(&self, ceremony: &PasskeyCeremony) -> StoreResult<()>;
    /// Takes the unexpired ceremony with this digest out of storage: each is used once.
    async fn take_passkey_ceremony(
        &self,
        tenant: TenantId,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<Option<PasskeyCeremony>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relying_party_needs_a_domain_and_a_secure_context() {
        assert!(relying_party("https://login.example.com", "Example").is_some());
        assert!(relying_party("http://localhost:8080", "Example").is_some());
        assert!(relying_party("http://127.0.0.1:8080", "Example").is_none());
        assert!(relying_party("https://[::1]:8443", "Example").is_none());
        assert!(relying_party("http://login.example.com", "Example").is_none());
        assert!(relying_party("not a url", "Example").is_none());
    }

    #[test]
    fn purposes_round_trip() {
        for purpose in [
            CeremonyPurpose::Register,
            CeremonyPurpose::SecondFactor,
            CeremonyPurpose::SignIn,
        ] {
            assert_eq!(CeremonyPurpose::parse(purpose.as_str()), Some(purpose));
        }
        assert_eq!(CeremonyPurpose::parse("other"), None);
    }
}
