//! Lockout: a failure counter per account and per factor that makes guessing slow and
//! then impossible (A01, A03–A06).
//!
//! Every attempt *reserves* its place in the counter before the secret is checked, in one
//! atomic step of the store, and counts as a failure until it is settled as a success. So
//! 200 concurrent wrong passwords leave exactly 200 failures, and an attempt that arrives
//! while the factor is locked is refused without the secret even being hashed: there is no
//! window between "check the lock" and "count the failure" for a burst to slip through.
//!
//! The first [`LockoutPolicy::free_attempts`] failures cost nothing. From then on every
//! attempt that is let through arms a lock whose length doubles each time, up to
//! [`LockoutPolicy::max_delay_seconds`]: one guess per delay, the delays growing. At
//! [`LockoutPolicy::disable_after`] failures the factor is disabled until an administrator
//! unlocks it or the user resets it. A success forgives the failures counted up to and
//! including its own reservation; failures that arrived meanwhile stay counted.

use crate::error::FieldError;
use crate::ids::{TenantId, UserId};
use crate::store::StoreResult;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// The hard limit of [`LockoutPolicy::disable_after`] (SECURITY.md: at most 100).
pub const MAX_DISABLE_AFTER: u32 = 100;

/// What the counter protects; each has its own count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    Password,
    Totp,
    RecoveryCode,
    EmailCode,
    Passkey,
}

impl Factor {
    pub const ALL: [Factor; 5] = [
        Factor::Password,
        Factor::Totp,
        Factor::RecoveryCode,
        Factor::EmailCode,
        Factor::Passkey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Password => "password",
            Factor::Totp => "totp",
            Factor::RecoveryCode => "recovery_code",
            Factor::EmailCode => "email_code",
            Factor::Passkey => "passkey",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// A tenant's lockout settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockoutPolicy {
    /// Failures in a row before the first delay (1 to 20).
    pub free_attempts: u32,
    /// The first delay, doubled at each further failure (1 s to 1 h).
    pub base_delay_seconds: u32,
    /// The longest delay (at least the first, at most one day).
    pub max_delay_seconds: u32,
    /// Failures after which the factor is disabled until unlocked (more than
    /// `free_attempts`, at most 100).
    pub disable_after: u32,
    /// Whether the user is emailed when their account gets locked or disabled.
    pub notify_user: bool,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            free_attempts: 5,
            base_delay_seconds: 30,
            max_delay_seconds: 3600,
            disable_after: 50,
            notify_user: true,
        }
    }
}

impl LockoutPolicy {
    pub fn check(&self, errors: &mut Vec<FieldError>) {
        if !(1..=20).contains(&self.free_attempts) {
            errors.push(FieldError::new("free_attempts", "1 to 20"));
        }
        if !(1..=3600).contains(&self.base_delay_seconds) {
            errors.push(FieldError::new("base_delay_seconds", "1 to 3600 seconds"));
        }
        if self.max_delay_seconds < self.base_delay_seconds || self.max_delay_seconds > 86_400 {
            errors.push(FieldError::new(
                "max_delay_seconds",
                "at least base_delay_seconds and at most 86400 seconds",
            ));
        }
        if self.disable_after <= self.free_attempts || self.disable_after > MAX_DISABLE_AFTER {
            errors.push(FieldError::new(
                "disable_after",
                "more than free_attempts and at most 100",
            ));
        }
    }

    /// The delay armed by the `failures`-th counted attempt, if it arms one.
    fn delay_after(&self, failures: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(self.free_attempts)?;
        // 2^20 × 1 s is already past the one-day cap: no overflow, no long loop.
        let factor = 1_i64 << beyond.min(20);
        let seconds =
            (i64::from(self.base_delay_seconds) * factor).min(i64::from(self.max_delay_seconds));
        Some(Duration::seconds(seconds))
    }
}

/// The counter of one factor of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockState {
    /// Attempts counted as failures: wrong ones, refused ones and those not yet settled.
    pub failures: u32,
    /// No attempt is let through before this time.
    pub locked_until: Option<OffsetDateTime>,
    /// Set at the hard threshold; only an unlock or a reset clears it.
    pub disabled_at: Option<OffsetDateTime>,
}

impl LockState {
    /// Whether an attempt at `now` would be refused.
    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.disabled_at.is_some() || self.locked_until.is_some_and(|until| now < until)
    }
}

/// Why an attempt was refused without checking the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Locked until the given time.
    Locked(OffsetDateTime),
    Disabled,
}

/// The outcome of reserving an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Check the secret; `slot` is this attempt's number in the counter, for
    /// [`settle_success`]. `newly_locked` says this attempt armed the first delay (so the
    /// owner may be told if it fails).
    Allowed { slot: u32, newly_locked: bool },
    /// Do not check the secret; the attempt was counted.
    Refused {
        refusal: Refusal,
        newly_disabled: bool,
    },
}

/// Counts one attempt at `now`: the new state and whether the secret may be checked. The
/// attempt that reaches the hard limit is refused too, so at most `disable_after - 1`
/// secrets are ever checked between two unlocks.
pub fn reserve(
    state: LockState,
    now: OffsetDateTime,
    policy: &LockoutPolicy,
) -> (LockState, Reservation) {
    let failures = state.failures.saturating_add(1);
    let mut next = LockState { failures, ..state };
    let newly_disabled = failures >= policy.disable_after && state.disabled_at.is_none();
    if newly_disabled {
        next.disabled_at = Some(now);
    }
    if next.disabled_at.is_some() || state.is_locked(now) {
        let refusal = match (next.disabled_at, state.locked_until) {
            (None, Some(until)) => Refusal::Locked(until),
            _ => Refusal::Disabled,
        };
        let reservation = Reservation::Refused {
            refusal,
            newly_disabled,
        };
        return (next, reservation);
    }
    if let Some(delay) = policy.delay_after(failures) {
        next.locked_until = Some(now + delay);
    }
    let reservation = Reservation::Allowed {
        slot: failures,
        newly_locked: failures == policy.free_attempts,
    };
    (next, reservation)
}

/// The state after the attempt counted as `slot` turned out right: the failures up to it
/// are forgiven, later ones (a concurrent burst) stay, and the lock goes only when nothing
/// is left to hold it. A disabled factor stays disabled.
pub fn settle_success(state: LockState, slot: u32) -> LockState {
    let failures = state.failures.saturating_sub(slot);
    LockState {
        failures,
        locked_until: if failures == 0 {
            None
        } else {
            state.locked_until
        },
        disabled_at: state.disabled_at,
    }
}

/// The state after the attempt counted as a failure could not be checked at all (the
/// server was overloaded or failed): the count goes back down by one, and a delay no longer
/// warranted goes with it. A server's trouble must not lock its users out.
pub fn release(state: LockState, policy: &LockoutPolicy) -> LockState {
    let failures = state.failures.saturating_sub(1);
    LockState {
        failures,
        locked_until: if failures < policy.free_attempts {
            None
        } else {
            state.locked_until
        },
        disabled_at: state.disabled_at,
    }
}

/// The counters, kept exact under concurrency by the store: reading, applying [`reserve`]
/// or [`settle_success`] and writing happen as one atomic step.
#[async_trait::async_trait]
pub trait LockoutStore {
    /// Counts an attempt on `factor` of the user and says whether it may proceed.
    async fn reserve_attempt(
        &self,
        tenant: TenantId,
        user: UserId,
        factor: Factor,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<(LockState, Reservation)>;

    /// Records that the attempt counted as `slot` succeeded.
    async fn settle_success(
        &self,
        tenant: TenantId,
        user: UserId,
        factor: Factor,
        slot: u32,
        now: OffsetDateTime,
    ) -> StoreResult<()>;

    /// Takes back an attempt that could not be checked (see [`release`]).
    async fn release_attempt(
        &self,
        tenant: TenantId,
        user: UserId,
        factor: Factor,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<()>;

    /// The counters of a user that are not at zero.
    async fn lock_states(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> StoreResult<Vec<(Factor, LockState)>>;

    /// Clears the counters of the user (of one factor, or all), writing `event` in the
    /// same transaction; false when there was nothing to clear.
    async fn clear_locks(
        &self,
        tenant: TenantId,
        user: UserId,
        factor: Option<Factor>,
        event: &crate::event::Event,
    ) -> StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            free_attempts: 3,
            base_delay_seconds: 10,
            max_delay_seconds: 60,
            disable_after: 8,
            notify_user: true,
        }
    }

    fn run(state: LockState, at: OffsetDateTime) -> (LockState, Reservation) {
        reserve(state, at, &policy())
    }

    #[test]
    fn the_free_attempts_pass_and_the_last_arms_the_first_delay() {
        let mut state = LockState::default();
        for slot in 1..=2 {
            let (next, reservation) = run(state, NOW);
            assert_eq!(
                reservation,
                Reservation::Allowed {
                    slot,
                    newly_locked: false
                }
            );
            assert_eq!(next.locked_until, None);
            state = next;
        }
        let (state, reservation) = run(state, NOW);
        assert_eq!(
            reservation,
            Reservation::Allowed {
                slot: 3,
                newly_locked: true
            }
        );
        assert_eq!(state.locked_until, Some(NOW + Duration::seconds(10)));
    }

    #[test]
    fn attempts_while_locked_are_counted_and_refused() {
        let state = LockState {
            failures: 3,
            locked_until: Some(NOW + Duration::seconds(10)),
            disabled_at: None,
        };
        let (next, reservation) = run(state, NOW + Duration::seconds(9));
        assert_eq!(next.failures, 4);
        assert_eq!(next.locked_until, state.locked_until);
        assert!(matches!(
            reservation,
            Reservation::Refused {
                refusal: Refusal::Locked(_),
                newly_disabled: false
            }
        ));
    }

    #[test]
    fn each_attempt_after_a_delay_doubles_the_next_up_to_the_cap() {
        let mut state = LockState {
            failures: 3,
            locked_until: Some(NOW),
            disabled_at: None,
        };
        let mut at = NOW;
        let mut delays = Vec::new();
        for _ in 0..4 {
            let (next, reservation) = run(state, at);
            assert!(matches!(reservation, Reservation::Allowed { .. }));
            let until = next.locked_until.unwrap();
            delays.push((until - at).whole_seconds());
            at = until;
            state = next;
        }
        assert_eq!(delays, [20, 40, 60, 60]);
    }

    #[test]
    fn the_hard_limit_disables_the_factor_even_while_locked() {
        let state = LockState {
            failures: 7,
            locked_until: Some(NOW + Duration::hours(1)),
            disabled_at: None,
        };
        let (next, reservation) = run(state, NOW);
        assert_eq!(next.disabled_at, Some(NOW));
        assert_eq!(
            reservation,
            Reservation::Refused {
                refusal: Refusal::Disabled,
                newly_disabled: true
            }
        );
        let (after, reservation) = run(next, NOW + Duration::days(30));
        assert_eq!(after.failures, 9);
        assert_eq!(
            reservation,
            Reservation::Refused {
                refusal: Refusal::Disabled,
                newly_disabled: false
            }
        );
    }

    #[test]
    fn a_success_forgives_its_own_failures_but_not_a_concurrent_burst() {
        let state = LockState {
            failures: 5,
            locked_until: Some(NOW + Duration::seconds(10)),
            disabled_at: None,
        };
        assert_eq!(settle_success(state, 5), LockState::default());
        let burst = settle_success(state, 3);
        assert_eq!(burst.failures, 2);
        assert_eq!(burst.locked_until, state.locked_until);
    }

    #[test]
    fn a_success_does_not_enable_a_disabled_factor() {
        let state = LockState {
            failures: 8,
            locked_until: None,
            disabled_at: Some(NOW),
        };
        assert_eq!(settle_success(state, 8).disabled_at, Some(NOW));
    }

    #[test]
    fn an_attempt_the_server_could_not_check_is_taken_back() {
        let armed = LockState {
            failures: 3,
            locked_until: Some(NOW + Duration::seconds(10)),
            disabled_at: None,
        };
        assert_eq!(
            release(armed, &policy()),
            LockState {
                failures: 2,
                locked_until: None,
                disabled_at: None,
            }
        );
        let deeper = LockState {
            failures: 6,
            ..armed
        };
        assert_eq!(release(deeper, &policy()).locked_until, armed.locked_until);
        assert_eq!(release(LockState::default(), &policy()).failures, 0);
    }

    #[test]
    fn the_policy_names_each_bad_setting() {
        let mut errors = Vec::new();
        LockoutPolicy {
            free_attempts: 0,
            base_delay_seconds: 0,
            max_delay_seconds: 100_000,
            disable_after: 101,
            notify_user: false,
        }
        .check(&mut errors);
        let fields: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
        assert_eq!(
            fields,
            [
                "free_attempts",
                "base_delay_seconds",
                "max_delay_seconds",
                "disable_after"
            ]
        );
        let mut none = Vec::new();
        LockoutPolicy::default().check(&mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn factors_have_stable_names() {
        for factor in Factor::ALL {
            assert_eq!(Factor::parse(factor.as_str()), Some(factor));
        }
        assert_eq!(Factor::parse("sms"), None);
    }
}
