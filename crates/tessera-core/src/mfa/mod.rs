//! Second factors: TOTP authenticator apps, passkeys and recovery codes, the level a
//! sign-in must reach, and the challenge that holds a sign-in between its first and second
//! factor.

pub mod passkey;
pub mod policy;
pub mod recovery;
pub mod totp;

use crate::event::Event;
use crate::ids::{MfaFactorId, SignInChallengeId, TenantId, UserId};
use crate::oauth::session::Authentication;
use crate::secret::SecretHash;
use crate::store::StoreResult;
use time::{Duration, OffsetDateTime};

/// How long a sign-in waits for its second factor.
pub const CHALLENGE_LIFETIME: Duration = Duration::minutes(10);
/// Most factors one user may have, so that a listing stays short.
pub const MAX_FACTORS: usize = 10;
/// Longest factor name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// The kinds of enrolled factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    Totp,
    Passkey,
}

impl FactorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FactorKind::Totp => "totp",
            FactorKind::Passkey => "passkey",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "totp" => Some(FactorKind::Totp),
            "passkey" => Some(FactorKind::Passkey),
            _ => None,
        }
    }
}

/// A second factor of a user.
#[derive(Debug, Clone, PartialEq)]
pub struct MfaFactor {
    pub id: MfaFactorId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub kind: FactorKind,
    /// What the user calls it ("Phone", "Work laptop").
    pub name: String,
    /// The TOTP seed, sealed with the key encryption key and bound to the factor id.
    pub sealed_secret: Option<Vec<u8>>,
    /// The newest TOTP step accepted; no step at or before it is accepted again (A41). For
    /// a passkey, the authenticator's signature counter (A42).
    pub last_step: Option<u64>,
    /// A passkey's WebAuthn credential: its id and the public part webauthn-rs keeps.
    pub passkey: Option<passkey::StoredPasskey>,
    pub created_at: OffsetDateTime,
    /// Set when the user proved the factor works; an unconfirmed factor is never used.
    pub confirmed_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}

impl MfaFactor {
    /// What the seed is sealed to: a sealed seed copied to another row does not open.
    pub fn sealing_context(id: MfaFactorId) -> Vec<u8> {
        format!("mfa_factor:{id}").into_bytes()
    }

    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// A sign-in that passed its first factor and waits for the second. The browser holds a
/// random secret naming it; only the digest is kept. No session exists until it is met.
#[derive(Debug, Clone, PartialEq)]
pub struct SignInChallenge {
    pub id: SignInChallengeId,
    pub secret_hash: SecretHash,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// What the user proved so far (methods and time).
    pub authentication: Authentication,
    /// The user has no second factor yet and must enrol one to go on.
    pub enrol: bool,
    /// The risk assessment of the first factor, for the sign-in event.
    pub risk: Option<crate::risk::RiskAssessment>,
    /// The digest of the emailed code, bound to this challenge, when one was sent.
    pub email_code: Option<SecretHash>,
    /// Codes emailed for this challenge so far.
    pub email_codes_sent: u32,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub consumed_at: Option<OffsetDateTime>,
}

impl SignInChallenge {
    pub fn is_open(&self, now: OffsetDateTime) -> bool {
        self.consumed_at.is_none() && now < self.expires_at
    }

    /// The digest an emailed code is kept as: bound to the challenge.
    pub fn hash_email_code(id: SignInChallengeId, code: &str) -> SecretHash {
        SecretHash::of_str(&format!("sign-in:{id}:{code}"))
    }
}

/// Codes one challenge may email.
pub const MAX_EMAIL_CODES: u32 = 3;

/// A browser whose user chose not to be asked for the second factor there for a while.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustedDevice {
    pub id: crate::ids::TrustedDeviceId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// The digest of the browser's device cookie.
    pub device_hash: SecretHash,
    /// What the user sees in lists ("Firefox (Linux)").
    pub label: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// Factors, recovery codes and second-factor challenges in storage.
#[async_trait::async_trait]
pub trait MfaStore {
    /// Adds a factor; an unconfirmed factor of the same kind the user left behind goes.
    async fn insert_mfa_factor(&self, factor: &MfaFactor) -> StoreResult<()>;
    /// The user's factors, oldest first.
    async fn mfa_factors(&self, tenant: TenantId, user: UserId) -> StoreResult<Vec<MfaFactor>>;
    /// Marks an unconfirmed factor confirmed with its first accepted step, writing `event`
    /// in the same transaction; false if it is gone or confirmed already.
    async fn confirm_mfa_factor(
        &self,
        tenant: TenantId,
        user: UserId,
        id: MfaFactorId,
        step: u64,
        now: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<bool>;
    /// Records `step` as used if it is newer than every step used before: one atomic
    /// compare-and-set, so that two concurrent uses of one code cannot both pass (A41).
    async fn spend_totp_step(
        &self,
        tenant: TenantId,
        user: UserId,
        id: MfaFactorId,
        step: u64,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Renames a confirmed factor, writing `event` in the same transaction; false if there
    /// is no such factor.
    async fn rename_mfa_factor(
        &self,
        tenant: TenantId,
        user: UserId,
        id: MfaFactorId,
        name: &str,
        event: &Event,
    ) -> StoreResult<bool>;
    /// Removes a factor, and the recovery codes with the last confirmed one, writing
    /// `event` in the same transaction; false if there was no such factor.
    async fn delete_mfa_factor(
        &self,
        tenant: TenantId,
        user: UserId,
        id: MfaFactorId,
        event: &Event,
    ) -> StoreResult<bool>;
    /// Replaces the user's recovery codes by a new set in one transaction (A43).
    async fn replace_recovery_codes(
        &self,
        tenant: TenantId,
        user: UserId,
        hashes: &[SecretHash],
        now: OffsetDateTime,
        event: &Event,
    ) -> StoreResult<()>;
    /// Marks an unused code used; false if it is unknown or used already.
    async fn spend_recovery_code(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &SecretHash,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// How many unused recovery codes the user has.
    async fn recovery_codes_left(&self, tenant: TenantId, user: UserId) -> StoreResult<u32>;
    async fn insert_trusted_device(&self, device: &TrustedDevice, event: &Event)
    -> StoreResult<()>;
    /// The user's trusted devices that have not expired at `now`, newest first.
    async fn trusted_devices(
        &self,
        tenant: TenantId,
        user: UserId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<TrustedDevice>>;
    /// Removes one trusted device (`Some`) or all of the user's (`None`), writing `event`
    /// in the same transaction when anything was removed; how many were.
    async fn forget_trusted_devices(
        &self,
        tenant: TenantId,
        user: UserId,
        id: Option<crate::ids::TrustedDeviceId>,
        event: &Event,
    ) -> StoreResult<u64>;
    async fn insert_sign_in_challenge(&self, challenge: &SignInChallenge) -> StoreResult<()>;
    async fn sign_in_challenge_by_hash(
        &self,
        hash: &SecretHash,
    ) -> StoreResult<Option<SignInChallenge>>;
    /// Records a newly emailed code (replacing an earlier one) if fewer than `max_sends`
    /// were sent; false otherwise.
    async fn set_challenge_email_code(
        &self,
        id: SignInChallengeId,
        code: &SecretHash,
        max_sends: u32,
    ) -> StoreResult<bool>;
    /// Spends an open challenge; false if it was spent already (a second tab, a replay).
    async fn consume_sign_in_challenge(
        &self,
        id: SignInChallengeId,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
}
