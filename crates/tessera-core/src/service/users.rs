//! User use cases: create (light or with a password hash), read, search, patch, disable,
//! enable, delete.

use super::{Core, retry_on_conflict};
use crate::attributes::AttributeSchema;
use crate::auth::Authorized;
use crate::email::Email;
use crate::error::{CoreError, FieldError};
use crate::event::{Event, kinds};
use crate::ids::UserId;
use crate::page::{Page, PageRequest};
use crate::password_hash::PasswordHash;
use crate::store::{NewUserRecord, StoreError};
use crate::user::{Profile, ProfilePatch, User, UserQuery, UserStatus, Username};
use secrecy::SecretString;
use serde_json::json;
use std::collections::HashSet;
use time::OffsetDateTime;

/// Input of user creation.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub profile: Profile,
    /// A password hash from elsewhere; with one the user is `active`, without `light`.
    pub password_hash: Option<PasswordHash>,
    /// An initial password, checked against the policy and hashed with Argon2id.
    pub password: Option<SecretString>,
    /// Created blocked (SCIM `active: false`): it keeps its data but cannot sign in.
    pub disabled: bool,
}

/// The admin search, as typed by a person; attribute values are parsed per the schema.
#[derive(Debug, Clone, Default)]
pub struct UserSearch {
    pub email: Option<String>,
    pub name: Option<String>,
    pub status: Option<UserStatus>,
    pub attributes: Vec<(String, String)>,
}

pub(super) fn subject(id: UserId) -> String {
    format!("user:{id}")
}

/// The canonical profile, or every reason it is not acceptable.
pub(super) fn validated(profile: Profile, schema: &AttributeSchema) -> Result<Profile, CoreError> {
    let mut errors = Vec::new();
    let profile = match profile.normalize() {
        Ok(profile) => Some(profile),
        Err(mut found) => {
            errors.append(&mut found);
            None
        }
    };
    if let Some(profile) = &profile
        && let Err(found) = schema.validate_values(&profile.attributes)
    {
        errors.extend(
            found
                .into_iter()
                .map(|e: FieldError| e.within("attributes")),
        );
    }
    match profile {
        Some(profile) if errors.is_empty() => Ok(profile),
        _ => Err(CoreError::Validation(errors)),
    }
}

pub(super) fn index_of(schema: &AttributeSchema, user: &User) -> Vec<(String, String)> {
    schema
        .index_entries(&user.profile.attributes)
        .into_iter()
        .collect()
}

/// The username of a user created without one: the primary email as typed, else the id.
/// It does not follow later email changes.
fn default_username(profile: &Profile, id: UserId) -> Result<Username, CoreError> {
    let text = profile
        .primary_email()
        .map_or_else(|| id.to_string(), |email| email.value.as_str().to_owned());
    Username::parse(&text).map_err(|e| CoreError::invalid("username", e.to_string()))
}

fn new_user_record(
    auth: &Authorized,
    new: NewUser,
    schema: &AttributeSchema,
    now: OffsetDateTime,
    source: &str,
) -> Result<NewUserRecord, CoreError> {
    let mut profile = validated(new.profile, schema)?;
    let id = UserId::new_at(now);
    if profile.username.is_none() {
        profile.username = Some(default_username(&profile, id)?);
    }
    let status = if new.disabled {
        UserStatus::Disabled
    } else if new.password_hash.is_some() {
        UserStatus::Active
    } else {
        UserStatus::Light
    };
    let user = User {
        id,
        tenant_id: auth.tenant_id(),
        status,
        profile,
        password_hash: new.password_hash,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let event = Event::new(
        user.tenant_id,
        now,
        auth.actor(),
        kinds::USER_CREATED,
        subject(user.id),
        json!({"status": status.as_str(), "source": source}),
    );
    Ok(NewUserRecord { user, event })
}

impl Core {
    pub async fn create_user(&self, auth: &Authorized, new: NewUser) -> Result<User, CoreError> {
        self.create_user_via(auth, new, "admin_api").await
    }

    /// Creates a user; `source` names the surface in the `user.created` event (`admin_api`,
    /// `scim`…).
    pub async fn create_user_via(
        &self,
        auth: &Authorized,
        mut new: NewUser,
        source: &str,
    ) -> Result<User, CoreError> {
        if let Some(password) = new.password.take() {
            if new.password_hash.is_some() {
                return Err(CoreError::invalid(
                    "password",
                    "give either password or password_hash, not both",
                ));
            }
            let inputs = super::sign_in::personal_inputs(&new.profile);
            new.password_hash = Some(self.hash_new_password(password, inputs).await?);
        }
        let schema = self.parts.store.attribute_schema(auth.tenant_id()).await?;
        let defaulted = new.profile.username.is_none();
        let mut record = new_user_record(auth, new, &schema, self.parts.clock.now(), source)?;
        self.check_manager(auth, &record.user).await?;
        let index = index_of(&schema, &record.user);
        let inserted = self
            .parts
            .store
            .insert_user(&record.user, &index, std::slice::from_ref(&record.event))
            .await;
        match self
            .explain_conflict(auth, inserted, std::slice::from_ref(&record))
            .await
        {
            // The primary email is free but an earlier user kept it as username (usernames do
            // not follow email changes): the new user is named by its id instead.
            Err(CoreError::Duplicate { field: "username" }) if defaulted => {
                record.user.profile.username = Some(
                    Username::parse(&record.user.id.to_string())
                        .map_err(|e| CoreError::invalid("username", e.to_string()))?,
                );
                self.parts
                    .store
                    .insert_user(&record.user, &index, std::slice::from_ref(&record.event))
                    .await?;
            }
            other => other?,
        }
        Ok(record.user)
    }

    /// Creates many users in one transaction (imports, seeding): all or none. Emails must
    /// be unique within the batch too.
    pub async fn create_users(
        &self,
        auth: &Authorized,
        batch: Vec<NewUser>,
        source: &str,
    ) -> Result<Vec<User>, CoreError> {
        let schema = self.parts.store.attribute_schema(auth.tenant_id()).await?;
        let now = self.parts.clock.now();
        let mut records = Vec::with_capacity(batch.len());
        let mut emails = HashSet::new();
        let mut usernames = HashSet::new();
        for (row, new) in batch.into_iter().enumerate() {
            if new.password.is_some() {
                // A batch stores hashes only; a password needs the policy and Argon2id.
                return Err(CoreError::invalid(
                    &format!("users[{row}].password"),
                    "create users with a password one at a time",
                ));
            }
            let record =
                new_user_record(auth, new, &schema, now, source).map_err(|error| match error {
                    CoreError::Validation(errors) => CoreError::Validation(
                        errors
                            .into_iter()
                            .map(|e| e.within(&format!("users[{row}]")))
                            .collect(),
                    ),
                    other => other,
                })?;
            if let Some(email) = record.user.primary_email()
                && !emails.insert(email.normalized().to_owned())
            {
                return Err(CoreError::Duplicate { field: "email" });
            }
            if let Some(username) = record.user.username()
                && !usernames.insert(username.key().to_owned())
            {
                return Err(CoreError::Duplicate { field: "username" });
            }
            records.push(record);
        }
        // Managers must be users of the tenant, as for one creation; checked in one query.
        let managers: Vec<UserId> = records
            .iter()
            .filter_map(|record| record.user.profile.enterprise.manager)
            .collect();
        if !managers.is_empty() {
            let live = self
                .parts
                .store
                .live_users(auth.tenant_id(), &managers)
                .await?;
            if managers.iter().any(|manager| !live.contains(manager)) {
                return Err(CoreError::invalid(
                    "enterprise.manager",
                    "no such user in this tenant",
                ));
            }
        }
        let index: Vec<Vec<(String, String)>> =
            records.iter().map(|r| index_of(&schema, &r.user)).collect();
        let inserted = self.parts.store.insert_users(&records, &index).await;
        self.explain_conflict(auth, inserted, &records).await?;
        Ok(records.into_iter().map(|record| record.user).collect())
    }

    /// The user, unless it does not exist or was deleted.
    pub async fn get_user(&self, auth: &Authorized, id: UserId) -> Result<User, CoreError> {
        match self.parts.store.user_by_id(auth.tenant_id(), id).await? {
            Some(user) if user.status != UserStatus::Deleted => Ok(user),
            _ => Err(CoreError::NotFound("user")),
        }
    }

    pub async fn user_by_email(&self, auth: &Authorized, email: &Email) -> Result<User, CoreError> {
        self.parts
            .store
            .user_by_email(auth.tenant_id(), email)
            .await?
            .ok_or(CoreError::NotFound("user"))
    }

    pub async fn search_users(
        &self,
        auth: &Authorized,
        search: UserSearch,
        page: PageRequest,
    ) -> Result<Page<User>, CoreError> {
        let email = search
            .email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(|e| CoreError::invalid("email", e.to_string()))?;
        let attributes = if search.attributes.is_empty() {
            Vec::new()
        } else {
            let schema = self.parts.store.attribute_schema(auth.tenant_id()).await?;
            search
                .attributes
                .iter()
                .map(|(name, text)| {
                    Ok((
                        name.clone(),
                        schema
                            .search_term(name, text)
                            .map_err(|e| e.within("attribute"))?,
                    ))
                })
                .collect::<Result<Vec<_>, FieldError>>()
                .map_err(|e| CoreError::Validation(vec![e]))?
        };
        let name_prefix = search
            .name
            .map(|n| n.trim().to_lowercase())
            .filter(|n| !n.is_empty());
        if name_prefix
            .as_ref()
            .is_some_and(|n| n.chars().count() > 200 || n.chars().any(char::is_control))
        {
            return Err(CoreError::invalid(
                "name",
                "at most 200 characters, no control characters",
            ));
        }
        let query = UserQuery {
            email,
            name_prefix,
            status: search.status,
            attributes,
        };
        Ok(self
            .parts
            .store
            .search_users(auth.tenant_id(), &query, page)
            .await?)
    }

    /// Applies a merge patch to the profile; a patch that changes nothing writes nothing.
    pub async fn update_user(
        &self,
        auth: &Authorized,
        id: UserId,
        patch: &ProfilePatch,
    ) -> Result<User, CoreError> {
        retry_on_conflict(|| async {
            let current = self.get_user(auth, id).await?;
            let schema = self.parts.store.attribute_schema(auth.tenant_id()).await?;
            // Compared after normalisation, so " Ada " over "Ada" is no change and writes nothing.
            let profile = validated(patch.apply(&current.profile), &schema)?;
            let changed = current.profile.changed_fields(&profile);
            if changed.is_empty() {
                return Ok(current);
            }
            let now = self.parts.clock.now();
            let next = User {
                profile,
                updated_at: now,
                version: current.version + 1,
                ..current.clone()
            };
            if changed.contains(&"enterprise") {
                self.check_manager(auth, &next).await?;
            }
            let event = Event::new(
                next.tenant_id,
                now,
                auth.actor(),
                kinds::USER_UPDATED,
                subject(id),
                json!({"changed": changed}),
            );
            self.parts
                .store
                .update_user(&next, current.version, &index_of(&schema, &next), &[event])
                .await?;
            Ok(next)
        })
        .await
    }

    /// A username taken when it defaults to the primary email is most often the email
    /// being taken: the store checks the username first, so the error is made to say
    /// `email` when another user has that primary email.
    async fn explain_conflict(
        &self,
        auth: &Authorized,
        result: Result<(), StoreError>,
        records: &[NewUserRecord],
    ) -> Result<(), CoreError> {
        match result {
            Err(StoreError::Duplicate { field: "username" }) => {
                for user in records.iter().map(|record| &record.user) {
                    if let (Some(email), Some(username)) = (user.primary_email(), user.username())
                        && email.normalized() == username.key()
                        && self
                            .parts
                            .store
                            .user_by_email(auth.tenant_id(), email)
                            .await?
                            .is_some()
                    {
                        return Err(CoreError::Duplicate { field: "email" });
                    }
                }
                Err(CoreError::Duplicate { field: "username" })
            }
            other => Ok(other?),
        }
    }

    /// A manager must be another user of the same tenant that is not deleted.
    pub(super) async fn check_manager(
        &self,
        auth: &Authorized,
        user: &User,
    ) -> Result<(), CoreError> {
        let Some(manager) = user.profile.enterprise.manager else {
            return Ok(());
        };
        let refused = || CoreError::invalid("enterprise.manager", "no such user in this tenant");
        if manager == user.id {
            return Err(CoreError::invalid(
                "enterprise.manager",
                "a user cannot manage themselves",
            ));
        }
        match self
            .parts
            .store
            .user_by_id(auth.tenant_id(), manager)
            .await?
        {
            Some(found) if found.status != UserStatus::Deleted => Ok(()),
            _ => Err(refused()),
        }
    }

    /// Blocks the user from signing in; their data stays. Their sessions end and every
    /// token they hold stops working (A23).
    pub async fn disable_user(&self, auth: &Authorized, id: UserId) -> Result<User, CoreError> {
        let user = self
            .change_status(auth, id, kinds::USER_DISABLED, |_| UserStatus::Disabled)
            .await?;
        self.sign_out_everywhere(auth, id).await?;
        Ok(user)
    }

    /// Ends the user's sessions and revokes their grants and tokens.
    pub(super) async fn sign_out_everywhere(
        &self,
        auth: &Authorized,
        id: UserId,
    ) -> Result<(), CoreError> {
        let now = self.parts.clock.now();
        self.parts
            .store
            .end_user_sessions(auth.tenant_id(), id, now)
            .await?;
        self.parts
            .store
            .revoke_user_grants(auth.tenant_id(), id, None, now)
            .await?;
        Ok(())
    }

    /// Lifts a block: the user returns to `active` if they have credentials, else `light`.
    pub async fn enable_user(&self, auth: &Authorized, id: UserId) -> Result<User, CoreError> {
        self.change_status(auth, id, kinds::USER_ENABLED, User::enabled_status)
            .await
    }

    async fn change_status(
        &self,
        auth: &Authorized,
        id: UserId,
        kind: &str,
        next_status: impl Fn(&User) -> UserStatus,
    ) -> Result<User, CoreError> {
        retry_on_conflict(|| async {
            let current = self.get_user(auth, id).await?;
            let status = next_status(&current);
            if status == current.status {
                return Ok(current);
            }
            let now = self.parts.clock.now();
            let next = User {
                status,
                updated_at: now,
                version: current.version + 1,
                ..current.clone()
            };
            let schema = self.parts.store.attribute_schema(auth.tenant_id()).await?;
            let event = Event::new(
                next.tenant_id,
                now,
                auth.actor(),
                kind,
                subject(id),
                json!({"from": current.status.as_str(), "to": status.as_str()}),
            );
            self.parts
                .store
                .update_user(&next, current.version, &index_of(&schema, &next), &[event])
                .await?;
            Ok(next)
        })
        .await
    }

    /// Sets a password on behalf of an administrator; a light account becomes active.
    pub async fn set_user_password(
        &self,
        auth: &Authorized,
        id: UserId,
        password: SecretString,
    ) -> Result<User, CoreError> {
        let user = self.get_user(auth, id).await?;
        let hash = self
            .hash_new_password(password, super::sign_in::personal_inputs(&user.profile))
            .await?;
        retry_on_conflict(|| async {
            let current = self.get_user(auth, id).await?;
            if current.status == UserStatus::Deleted {
                return Err(CoreError::NotFound("user"));
            }
            let now = self.parts.clock.now();
            let status = match current.status {
                UserStatus::Light => UserStatus::Active,
                other => other,
            };
            let next = User {
                status,
                password_hash: Some(hash.clone()),
                updated_at: now,
                version: current.version + 1,
                ..current.clone()
            };
            let schema = self.parts.store.attribute_schema(auth.tenant_id()).await?;
            let event = Event::new(
                next.tenant_id,
                now,
                auth.actor(),
                kinds::USER_UPDATED,
                subject(id),
                json!({"changed": ["password"]}),
            );
            self.parts
                .store
                .update_user(&next, current.version, &index_of(&schema, &next), &[event])
                .await?;
            Ok(next)
        })
        .await?;
        // A reset is often the answer to a compromised account: nothing the old password
        // opened stays open.
        self.sign_out_everywhere(auth, id).await?;
        self.get_user(auth, id).await
    }

    /// Erases the user's personal data and credentials, leaving a tombstone with the id.
    pub async fn delete_user(&self, auth: &Authorized, id: UserId) -> Result<(), CoreError> {
        self.delete_user_at(auth, id, None).await
    }

    /// Deletes the user if it is at `expected_version` (an `If-Match` ETag): a different
    /// stored version is an edit conflict at once. Without one, conflicts are retried.
    pub async fn delete_user_at(
        &self,
        auth: &Authorized,
        id: UserId,
        expected_version: Option<i64>,
    ) -> Result<(), CoreError> {
        retry_on_conflict(|| async {
            let current = self.get_user(auth, id).await?;
            let version = current.version;
            if expected_version.is_some_and(|expected| expected != version) {
                return Err(CoreError::EditConflict);
            }
            let now = self.parts.clock.now();
            let tombstone = current.into_tombstone(now);
            let event = |kind: &str, subject: String, payload| {
                Event::new(
                    tombstone.tenant_id,
                    now,
                    auth.actor(),
                    kind,
                    subject,
                    payload,
                )
            };
            let mut events = vec![event(
                kinds::USER_DELETED,
                super::users::subject(id),
                json!({}),
            )];
            // The store takes the user out of its groups in the same transaction and gives
            // each group a new version; each group's change is said here.
            for (_, group) in self
                .parts
                .store
                .groups_of_users(auth.tenant_id(), &[id])
                .await?
            {
                events.push(event(
                    kinds::GROUP_UPDATED,
                    format!("group:{}", group.id),
                    json!({"removed": [id.to_string()], "removed_count": 1, "added_count": 0,
                           "reason": "user deleted"}),
                ));
            }
            self.parts
                .store
                .update_user(&tombstone, version, &[], &events)
                .await?;
            Ok(())
        })
        .await?;
        self.sign_out_everywhere(auth, id).await
    }
}
