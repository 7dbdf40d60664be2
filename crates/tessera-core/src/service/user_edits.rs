//! Whole-state user edits (SCIM `PUT` and `PATCH`): the caller computes the user's next
//! profile, status and optional new password from the current user, and the change is
//! written as one version with the same events the admin API writes for each part.
//!
//! With an `expected_version` (an `If-Match` ETag) a stale version is an edit conflict at
//! once; without one the read-compute-write is retried on conflict, so a PATCH never
//! overwrites a change it did not see.

use super::users::{index_of, subject, validated};
use super::{Core, EDIT_RETRIES};
use crate::auth::Authorized;
use crate::error::CoreError;
use crate::event::{Event, kinds};
use crate::ids::UserId;
use crate::user::{Profile, User, UserStatus};
use secrecy::SecretString;
use serde_json::json;

/// The next state of a user's editable data.
#[derive(Debug, Clone)]
pub struct UserReplacement {
    /// The whole profile; fields the surface cannot express must be carried over by the
    /// caller from the current user.
    pub profile: Profile,
    /// False blocks the user (as `disable`), true lifts a block (as `enable`).
    pub active: bool,
    /// A new password, checked against the policy and hashed with Argon2id. Setting one
    /// ends the user's sessions, as an administrator's reset does.
    pub password: Option<SecretString>,
}

/// What a replacement changes, and the events that say so.
struct Outcome {
    next: User,
    events: Vec<Event>,
    sign_out: bool,
}

impl Core {
    /// Applies `edit` to the current user and writes the result as one new version, or
    /// nothing when nothing changes. Errors of `edit` are returned as they are.
    pub async fn edit_user<E, F>(
        &self,
        auth: &Authorized,
        id: UserId,
        expected_version: Option<i64>,
        edit: F,
    ) -> Result<User, E>
    where
        E: From<CoreError>,
        F: Fn(&User) -> Result<UserReplacement, E>,
    {
        self.edit_user_recording(auth, id, expected_version, edit, &[])
            .await
    }

    /// [`Core::edit_user`] for a flow of this crate that has its own events to say what
    /// happened (such as `user.phone_verified`): `also` is written with the change, in the
    /// same transaction, and not at all when nothing changes.
    pub(super) async fn edit_user_recording<E, F>(
        &self,
        auth: &Authorized,
        id: UserId,
        expected_version: Option<i64>,
        edit: F,
        also: &[Event],
    ) -> Result<User, E>
    where
        E: From<CoreError>,
        F: Fn(&User) -> Result<UserReplacement, E>,
    {
        let mut tries = 0;
        loop {
            let current = self.get_user(auth, id).await?;
            if expected_version.is_some_and(|version| version != current.version) {
                return Err(CoreError::EditConflict.into());
            }
            let replacement = edit(&current)?;
            match self.replace_user(auth, &current, replacement, also).await {
                Err(CoreError::EditConflict)
                    if expected_version.is_none() && tries < EDIT_RETRIES =>
                {
                    tries += 1;
                }
                other => return other.map_err(E::from),
            }
        }
    }

    async fn replace_user(
        &self,
        auth: &Authorized,
        current: &User,
        replacement: UserReplacement,
        also: &[Event],
    ) -> Result<User, CoreError> {
        let schema = self.parts.store.attribute_schema(auth.tenant_id()).await?;
        let mut profile = validated(replacement.profile, &schema)?;
        // A username is never cleared, only replaced.
        if profile.username.is_none() {
            profile.username.clone_from(&current.profile.username);
        }
        let password_hash = match replacement.password {
            Some(password) => Some(
                self.hash_new_password(password, super::sign_in::personal_inputs(&profile))
                    .await?,
            ),
            None => None,
        };
        let Some(mut outcome) =
            self.outcome(auth, current, profile, replacement.active, password_hash)
        else {
            // Asked again to disable a disabled user (a client retrying after a timeout):
            // end its sessions again, in case the first request stopped before doing so.
            if !replacement.active {
                self.sign_out_everywhere(auth, current.id).await?;
            }
            return Ok(current.clone());
        };
        outcome.events.extend_from_slice(also);
        if outcome.next.profile.enterprise != current.profile.enterprise {
            self.check_manager(auth, &outcome.next).await?;
        }
        self.parts
            .store
            .update_user(
                &outcome.next,
                current.version,
                &index_of(&schema, &outcome.next),
                &outcome.events,
            )
            .await?;
        if outcome.sign_out {
            self.sign_out_everywhere(auth, current.id).await?;
        }
        Ok(outcome.next)
    }

    /// The next user and its events; `None` when nothing changes.
    fn outcome(
        &self,
        auth: &Authorized,
        current: &User,
        profile: Profile,
        active: bool,
        password_hash: Option<crate::password_hash::PasswordHash>,
    ) -> Option<Outcome> {
        let mut changed = current.profile.changed_fields(&profile);
        let new_password = password_hash.is_some();
        if new_password {
            changed.push("password");
        }
        let has_credentials = new_password || current.has_credentials();
        let status = match (active, current.status) {
            (false, _) => UserStatus::Disabled,
            (true, UserStatus::Disabled) | (true, UserStatus::Light) if has_credentials => {
                UserStatus::Active
            }
            (true, UserStatus::Disabled) => UserStatus::Light,
            (true, other) => other,
        };
        if changed.is_empty() && status == current.status {
            return None;
        }
        let now = self.parts.clock.now();
        let next = User {
            status,
            profile,
            password_hash: password_hash.or_else(|| current.password_hash.clone()),
            updated_at: now,
            version: current.version + 1,
            ..current.clone()
        };
        let event = |kind: &str, payload| {
            Event::new(
                next.tenant_id,
                now,
                auth.actor(),
                kind,
                subject(next.id),
                payload,
            )
        };
        let mut events = Vec::new();
        if !changed.is_empty() {
            events.push(event(kinds::USER_UPDATED, json!({ "changed": changed })));
        }
        let transition = json!({"from": current.status.as_str(), "to": status.as_str()});
        match (current.status, status) {
            (from, UserStatus::Disabled) if from != UserStatus::Disabled => {
                events.push(event(kinds::USER_DISABLED, transition));
            }
            (UserStatus::Disabled, to) if to != UserStatus::Disabled => {
                events.push(event(kinds::USER_ENABLED, transition));
            }
            _ => {}
        }
        let disabled_now = status == UserStatus::Disabled && current.status != status;
        Some(Outcome {
            sign_out: new_password || disabled_now,
            next,
            events,
        })
    }
}
