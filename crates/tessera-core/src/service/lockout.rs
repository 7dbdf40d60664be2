//! Counted attempts: every check of a user's secret (password, TOTP, recovery code) goes
//! through [`Core::counted_attempt`], so that the same lock holds on every path (A05).

use super::Core;
use crate::error::CoreError;
use crate::event::{Actor, Event, kinds};
use crate::ids::UserId;
use crate::lockout::{Factor, LockState, Refusal, Reservation};
use crate::notify::Notice;
use crate::tenant::Tenant;
use crate::user::User;
use serde_json::json;
use std::future::Future;
use time::OffsetDateTime;

/// The outcome of a counted check.
#[derive(Debug)]
pub enum Attempt<T> {
    /// The secret was right.
    Passed(T),
    /// The secret was wrong; `free_left` more may be tried before delays begin.
    Failed { free_left: u32 },
    /// The factor is locked; the secret was not checked.
    Refused(Refusal),
}

impl Core {
    /// Counts an attempt at `factor` of `user`, runs `check` only if the lock lets it, and
    /// settles the count. `check` answers `Some` for a right secret.
    pub(crate) async fn counted_attempt<T, Fut>(
        &self,
        tenant: &Tenant,
        user: &User,
        factor: Factor,
        check: impl FnOnce() -> Fut,
    ) -> Result<Attempt<T>, CoreError>
    where
        Fut: Future<Output = Result<Option<T>, CoreError>>,
    {
        let policy = tenant.settings.lockout;
        let now = self.parts.clock.now();
        let (state, reservation) = self
            .parts
            .store
            .reserve_attempt(tenant.id, user.id, factor, now, &policy)
            .await?;
        let (slot, newly_locked) = match reservation {
            Reservation::Refused {
                refusal,
                newly_disabled,
            } => {
                if newly_disabled {
                    self.report_lock(tenant, user, factor, state, now).await?;
                }
                return Ok(Attempt::Refused(refusal));
            }
            Reservation::Allowed { slot, newly_locked } => (slot, newly_locked),
        };
        let outcome = match check().await {
            Ok(outcome) => outcome,
            Err(error) => {
                // Not the user's failure: an overloaded hasher or a store error.
                self.parts
                    .store
                    .release_attempt(tenant.id, user.id, factor, self.parts.clock.now(), &policy)
                    .await?;
                return Err(error);
            }
        };
        match outcome {
            Some(value) => {
                self.parts
                    .store
                    .settle_success(tenant.id, user.id, factor, slot, self.parts.clock.now())
                    .await?;
                Ok(Attempt::Passed(value))
            }
            None => {
                if newly_locked {
                    self.report_lock(tenant, user, factor, state, now).await?;
                }
                Ok(Attempt::Failed {
                    free_left: policy.free_attempts.saturating_sub(slot),
                })
            }
        }
    }

    /// Records that a factor got locked or disabled and tells the owner, in the background
    /// so that the answer to the attempt does not wait for mail.
    async fn report_lock(
        &self,
        tenant: &Tenant,
        user: &User,
        factor: Factor,
        state: LockState,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        let event = Event::new(
            tenant.id,
            now,
            &Actor::System,
            kinds::USER_LOCKED,
            format!("user:{}", user.id),
            json!({
                "factor": factor.as_str(),
                "failures": state.failures,
                "until": state.locked_until.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
                "disabled": state.disabled_at.is_some(),
            }),
        );
        self.parts.store.insert_event(&event).await?;
        if tenant.settings.lockout.notify_user {
            let locked_for = match state.disabled_at {
                Some(_) => None,
                None => state.locked_until.map(|until| {
                    std::time::Duration::from_secs((until - now).whole_seconds().unsigned_abs())
                }),
            };
            self.notify_in_background(tenant, user, Notice::AccountLocked { locked_for });
        }
        Ok(())
    }

    /// Sends `notice` to the user's primary email without waiting; a failure is logged by
    /// the notifier, never shown to whoever triggered it.
    pub(crate) fn notify_in_background(&self, tenant: &Tenant, user: &User, notice: Notice) {
        let (Some(notifier), Some(email)) = (
            self.parts.notifier.get().cloned(),
            user.profile.primary_email().map(|e| e.value.clone()),
        ) else {
            return;
        };
        let tenant = tenant.clone();
        let language = user.profile.locale.clone().unwrap_or_default();
        tokio::spawn(async move {
            let _ = notifier.notify(&tenant, &email, &language, notice).await;
        });
    }

    /// The user's lockout counters that are not at zero.
    pub async fn lock_states(
        &self,
        tenant: &Tenant,
        user: UserId,
    ) -> Result<Vec<(Factor, LockState)>, CoreError> {
        Ok(self.parts.store.lock_states(tenant.id, user).await?)
    }

    /// Clears the user's lockout counters (of one factor, or all); false when none was set.
    pub async fn unlock_user(
        &self,
        tenant: &Tenant,
        user: UserId,
        factor: Option<Factor>,
        actor: &Actor,
    ) -> Result<bool, CoreError> {
        if self
            .parts
            .store
            .user_by_id(tenant.id, user)
            .await?
            .is_none()
        {
            return Err(CoreError::NotFound("user"));
        }
        let event = Event::new(
            tenant.id,
            self.parts.clock.now(),
            actor,
            kinds::USER_UNLOCKED,
            format!("user:{user}"),
            json!({"factor": factor.map(Factor::as_str)}),
        );
        Ok(self
            .parts
            .store
            .clear_locks(tenant.id, user, factor, &event)
            .await?)
    }
}

/// The error a refused attempt becomes.
pub(crate) fn locked_error(refusal: Refusal, now: OffsetDateTime) -> CoreError {
    CoreError::Locked {
        retry_after_seconds: match refusal {
            Refusal::Locked(until) => Some((until - now).whole_seconds().max(1).unsigned_abs()),
            Refusal::Disabled => None,
        },
    }
}
