//! Phone verification: the challenge that proves a signed-in user holds a phone number
//! before it goes on their profile as verified.
//!
//! A 6-digit code is sent by SMS; it is kept only as a hash bound to its challenge, lives
//! ten minutes, works once, and five wrong tries spend it (A06). At most five codes an hour
//! go to one user and to one number, so that nobody can use Tessera to flood a phone or to
//! run up the SMS bill. A challenge belongs to one user of one tenant: another user's id
//! finds nothing.

use crate::error::CodeRefusal;
use crate::ids::{PhoneVerificationId, TenantId, UserId};
use crate::phone::{ContactNumber, PhoneNumber};
use crate::secret::SecretHash;
use crate::store::StoreResult;
use crate::user::{Profile, UserPhone};
use time::{Duration, OffsetDateTime};

/// How long a code is valid.
pub const CHALLENGE_LIFETIME: Duration = Duration::minutes(10);
/// Wrong codes allowed before the challenge is spent (A06).
pub const MAX_ATTEMPTS: u32 = 5;
/// Codes sent to one user, and to one number, per [`SEND_WINDOW`], at most.
pub const MAX_SENDS: u64 = 5;
pub const SEND_WINDOW: Duration = Duration::hours(1);
/// The SCIM `type` a number proven by SMS gets when it is new on the profile.
const MOBILE: &str = "mobile";

/// A pending phone verification.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneChallenge {
    pub id: PhoneVerificationId,
    pub tenant_id: TenantId,
    /// The user who asked; only they can confirm it.
    pub user_id: UserId,
    /// Where the code went.
    pub phone: PhoneNumber,
    pub code_hash: SecretHash,
    /// Codes tried so far, right ones included.
    pub attempts: u32,
    /// The language the code was sent in, for a resend.
    pub language: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// When it was used or replaced by a newer challenge; a challenge is used once.
    pub consumed_at: Option<OffsetDateTime>,
}

impl PhoneChallenge {
    /// The hash a code is kept as: bound to the challenge, so equal codes of two challenges
    /// differ.
    pub fn hash_code(id: PhoneVerificationId, code: &str) -> SecretHash {
        SecretHash::of_str(&format!("phone:{id}:{code}"))
    }

    /// Why no code may be tried at `now`, if none may: used, expired, or spent.
    pub fn refusal(&self, now: OffsetDateTime) -> Option<CodeRefusal> {
        if self.consumed_at.is_some() {
            Some(CodeRefusal::Used)
        } else if now >= self.expires_at {
            Some(CodeRefusal::Expired)
        } else if self.attempts >= MAX_ATTEMPTS {
            Some(CodeRefusal::TooManyAttempts)
        } else {
            None
        }
    }

    /// Whether `code` (six digits; spaces around it are ignored) is this challenge's code,
    /// compared in constant time.
    pub fn code_matches(&self, code: &str) -> bool {
        let code = code.trim();
        let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        let same = Self::hash_code(self.id, code).matches(&self.code_hash);
        well_formed & same
    }
}

/// The profile once `number` is proven: the number verified and primary (added as a mobile
/// number when it is not there yet); the user's other numbers are kept, no longer primary.
/// A number on the profile is the same number when its E.164 form is.
pub fn with_verified_phone(profile: &Profile, number: &PhoneNumber) -> Profile {
    with_primary_phone(profile, number, true)
}

/// The profile with `number` as its primary number, as [`with_verified_phone`] makes it but
/// marked verified only when `verified` (a number already verified stays so).
pub fn with_primary_phone(profile: &Profile, number: &PhoneNumber, verified: bool) -> Profile {
    let mut next = profile.clone();
    let mut found = false;
    for phone in &mut next.phone_numbers {
        let same = !found && phone.value.e164().as_ref() == Some(number);
        phone.primary = same;
        if same {
            phone.verified |= verified;
            found = true;
        }
    }
    if !found && let Ok(value) = ContactNumber::parse(number.as_str()) {
        next.phone_numbers.push(UserPhone {
            value,
            primary: true,
            verified,
            kind: Some(MOBILE.to_owned()),
        });
    }
    next
}

/// The storage port of phone verifications. Every method is bound to the tenant and the
/// user: a challenge of another user is not found.
#[async_trait::async_trait]
pub trait PhoneVerificationStore: Send + Sync {
    /// Stores a new challenge and closes the user's earlier open ones (their codes stop
    /// working), unless the user or the number already has `max_sends` challenges made
    /// since `since`: then nothing is written and the answer is false. Counting and
    /// inserting are one step, so parallel requests cannot all pass.
    async fn insert_phone_verification(
        &self,
        challenge: &PhoneChallenge,
        max_sends: u64,
        since: OffsetDateTime,
    ) -> StoreResult<bool>;
    async fn phone_verification_by_id(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PhoneVerificationId,
    ) -> StoreResult<Option<PhoneChallenge>>;
    /// Counts one more try of a code, atomically; the number of tries after it, or `None`
    /// when the challenge is gone or already used.
    async fn record_phone_verification_attempt(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PhoneVerificationId,
    ) -> StoreResult<Option<u32>>;
    /// Marks the challenge used, once: false when it was used already.
    async fn consume_phone_verification(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PhoneVerificationId,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    const NOW: OffsetDateTime = datetime!(2026-11-01 9:00 UTC);

    fn challenge(code: &str) -> PhoneChallenge {
        let id = PhoneVerificationId::from_uuid(Uuid::from_u128(7));
        PhoneChallenge {
            id,
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            user_id: UserId::from_uuid(Uuid::from_u128(2)),
            phone: PhoneNumber::parse("+4915112345678").unwrap(),
            code_hash: PhoneChallenge::hash_code(id, code),
            attempts: 0,
            language: "en".into(),
            created_at: NOW,
            expires_at: NOW + CHALLENGE_LIFETIME,
            consumed_at: None,
        }
    }

    fn phone(value: &str, primary: bool, verified: bool) -> UserPhone {
        UserPhone {
            value: ContactNumber::parse(value).unwrap(),
            primary,
            verified,
            kind: None,
        }
    }

    #[test]
    fn codes_match_exactly_and_hash_per_challenge() {
        let open = challenge("048213");
        assert!(open.code_matches("048213"));
        assert!(open.code_matches(" 048213 "));
        for wrong in ["48213", "0482130", "048214", "", "04821a"] {
            assert!(!open.code_matches(wrong), "{wrong}");
        }
        let other = PhoneVerificationId::from_uuid(Uuid::from_u128(8));
        assert!(
            !PhoneChallenge::hash_code(other, "048213").matches(&open.code_hash),
            "the same code of another challenge hashes differently"
        );
    }

    #[test]
    fn a_challenge_closes_when_used_expired_or_spent() {
        let open = challenge("111111");
        assert_eq!(open.refusal(NOW), None);
        assert_eq!(
            open.refusal(NOW + CHALLENGE_LIFETIME),
            Some(CodeRefusal::Expired)
        );
        let spent = PhoneChallenge {
            attempts: MAX_ATTEMPTS,
            ..open.clone()
        };
        assert_eq!(spent.refusal(NOW), Some(CodeRefusal::TooManyAttempts));
        let used = PhoneChallenge {
            consumed_at: Some(NOW),
            ..spent
        };
        assert_eq!(
            used.refusal(NOW),
            Some(CodeRefusal::Used),
            "used wins over spent"
        );
    }

    #[test]
    fn a_new_number_is_added_verified_and_primary_and_the_others_stay() {
        let profile = Profile {
            phone_numbers: vec![
                phone("030 1234567", true, false),
                phone("+4930987654", false, true),
            ],
            ..Profile::default()
        };
        let number = PhoneNumber::parse("+49 151 12345678").unwrap();
        let next = with_verified_phone(&profile, &number);
        assert_eq!(next.phone_numbers.len(), 3);
        assert!(!next.phone_numbers[0].primary && !next.phone_numbers[0].verified);
        assert!(next.phone_numbers[1].verified, "other proofs are kept");
        let added = &next.phone_numbers[2];
        assert_eq!(added.value.as_str(), "+4915112345678");
        assert!(added.primary && added.verified);
        assert_eq!(added.kind.as_deref(), Some("mobile"));
        assert!(next.clone().normalize().is_ok());
    }

    #[test]
    fn a_number_already_there_is_marked_verified_and_primary() {
        let profile = Profile {
            phone_numbers: vec![
                phone("+4930987654", true, true),
                phone("+49 151 1234 5678", false, false),
            ],
            ..Profile::default()
        };
        let number = PhoneNumber::parse("+4915112345678").unwrap();
        let next = with_verified_phone(&profile, &number);
        assert_eq!(next.phone_numbers.len(), 2);
        assert!(!next.phone_numbers[0].primary && next.phone_numbers[0].verified);
        assert!(next.phone_numbers[1].primary && next.phone_numbers[1].verified);
        assert_eq!(
            with_verified_phone(&next, &number),
            next,
            "proving it again changes nothing"
        );
    }
}
