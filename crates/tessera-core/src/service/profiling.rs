//! Progressive profiling use cases: what to ask a user for a client, saving the answers
//! (as the user, with an event naming the client), and which app collected what and when.

use super::users::{index_of, subject, validated};
use super::{Core, retry_on_conflict};
use crate::auth::Authorized;
use crate::error::CoreError;
use crate::event::{Actor, Event, EventQuery, kinds};
use crate::ids::{PhoneVerificationId, UserId};
use crate::oauth::client::Client;
use crate::page::{MAX_PAGE_SIZE, PageRequest};
use crate::profiling::{self, Question};
use crate::tenant::Tenant;
use crate::user::{User, UserStatus};
use serde_json::json;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Events read to answer "who collected what", at most.
const COLLECTION_EVENTS_READ: usize = 10 * MAX_PAGE_SIZE as usize;

/// What saving the form did.
#[derive(Debug, Clone)]
pub struct ProfileCollected {
    pub user: User,
    /// The code sent to the number the form gave, which counts once it is verified.
    pub phone_challenge: Option<PhoneVerificationId>,
}

/// A form's answers, checked, with what they would make of the user.
struct Answered {
    user: User,
    answers: profiling::Answers,
    profile: crate::user::Profile,
    schema: crate::attributes::AttributeSchema,
}

/// One attribute a client collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub attribute: String,
    pub client_id: String,
    pub collected_at: OffsetDateTime,
}

impl Core {
    /// What the profiling form must ask `user` now for `client`; empty when nothing.
    pub async fn profiling_questions(
        &self,
        tenant: &Tenant,
        user: &User,
        client: &Client,
    ) -> Result<Vec<Question>, CoreError> {
        let needs = &client.metadata.needs;
        if needs.is_empty() {
            return Ok(Vec::new());
        }
        let schema = self.cached_attribute_schema(tenant.id).await?;
        let skips = if needs.requested.is_empty() {
            Vec::new()
        } else {
            self.parts
                .store
                .profiling_skips(tenant.id, user.id, client.id)
                .await?
        };
        Ok(profiling::questions(
            user,
            needs,
            &schema,
            &skips,
            tenant.settings.profiling,
            self.sends_sms(),
            self.parts.clock.now(),
        ))
    }

    /// The signed-in user and what the form must ask them for `client`.
    pub async fn profiling_form(
        &self,
        tenant: &Tenant,
        user_id: UserId,
        client: &Client,
    ) -> Result<(User, Vec<Question>), CoreError> {
        let user = self.active_user(tenant, user_id).await?;
        let questions = self.profiling_questions(tenant, &user, client).await?;
        Ok((user, questions))
    }

    async fn active_user(&self, tenant: &Tenant, user_id: UserId) -> Result<User, CoreError> {
        self.parts
            .store
            .user_by_id(tenant.id, user_id)
            .await?
            .filter(|user| user.status == UserStatus::Active)
            .ok_or(CoreError::NotFound("user"))
    }

    /// The user, their checked answers to the form of `client`, and the profile those answers
    /// make (validated against the schema); nothing is written.
    async fn answered(
        &self,
        tenant: &Tenant,
        user_id: UserId,
        client: &Client,
        form: &BTreeMap<String, String>,
    ) -> Result<Answered, CoreError> {
        let user = self.active_user(tenant, user_id).await?;
        let questions = self.profiling_questions(tenant, &user, client).await?;
        let answers = profiling::read_answers(&questions, form, self.parts.clock.now().date())
            .map_err(CoreError::Validation)?;
        let schema = self.cached_attribute_schema(tenant.id).await?;
        let profile = validated(
            profiling::apply(&user.profile, &answers, !self.sends_sms()),
            &schema,
        )?;
        Ok(Answered {
            user,
            answers,
            profile,
            schema,
        })
    }

    /// Saves the profiling form of `client` for the signed-in `user_id`. The questions are
    /// worked out again here, so a form can only write what the client needs and the user
    /// lacks. Answers that fail the schema change nothing. When the server sends SMS, a
    /// phone number is not saved but sent a code first (in `language`): if that fails (too
    /// many codes, the provider down), nothing is saved either.
    pub async fn collect_profile(
        &self,
        tenant: &Tenant,
        user_id: UserId,
        client: &Client,
        form: &BTreeMap<String, String>,
        language: &str,
    ) -> Result<ProfileCollected, CoreError> {
        let verifies_phones = self.sends_sms();
        let checked = self.answered(tenant, user_id, client, form).await?;
        let phone_challenge = match checked.answers.phone().filter(|_| verifies_phones) {
            Some(phone) => Some(
                self.start_phone_verification(tenant, user_id, phone.clone(), language)
                    .await?,
            ),
            None => None,
        };
        let (user, answers) = retry_on_conflict(|| async {
            let Answered {
                user,
                answers,
                profile,
                schema,
            } = self.answered(tenant, user_id, client, form).await?;
            let changed = user.profile.changed_fields(&profile);
            if changed.is_empty() {
                return Ok((user, answers));
            }
            let now = self.parts.clock.now();
            let next = User {
                profile,
                updated_at: now,
                version: user.version + 1,
                ..user.clone()
            };
            let actor = Actor::User(user.id);
            let event = |kind: &str, payload| {
                Event::new(tenant.id, now, &actor, kind, subject(user.id), payload)
            };
            let stored: Vec<String> = answers
                .attributes()
                .into_iter()
                .filter(|name| !(verifies_phones && name == "phone_number"))
                .collect();
            let pending: Vec<&str> = phone_challenge.iter().map(|_| "phone_number").collect();
            let events = [
                event(kinds::USER_UPDATED, json!({ "changed": changed })),
                event(
                    kinds::ATTRIBUTES_COLLECTED,
                    json!({
                        "client_id": client.id.to_string(),
                        "attributes": stored,
                        "pending_verification": pending,
                    }),
                ),
            ];
            self.parts
                .store
                .update_user(&next, user.version, &index_of(&schema, &next), &events)
                .await?;
            Ok((next, answers))
        })
        .await?;
        if !answers.skipped.is_empty() {
            self.parts
                .store
                .record_profiling_skips(
                    tenant.id,
                    user.id,
                    client.id,
                    &answers.skipped,
                    self.parts.clock.now(),
                )
                .await?;
        }
        Ok(ProfileCollected {
            phone_challenge,
            user,
        })
    }

    /// Which client collected each of a user's attributes, and when (the latest collection
    /// of each attribute, newest first), from the user's `user.attributes_collected` events.
    pub async fn collected_attributes(
        &self,
        auth: &Authorized,
        user_id: UserId,
    ) -> Result<Vec<Collection>, CoreError> {
        self.get_user(auth, user_id).await?;
        let query = EventQuery {
            kinds: vec![
                kinds::ATTRIBUTES_COLLECTED.to_owned(),
                kinds::USER_PHONE_VERIFIED.to_owned(),
            ],
            subject: Some(subject(user_id)),
            ..EventQuery::default()
        };
        let mut latest: BTreeMap<String, Collection> = BTreeMap::new();
        // A number given on a form is saved by its verification: the client whose form
        // gave it collected it when the verification succeeded.
        let mut phone_pending_for: Option<String> = None;
        let mut after = None;
        let mut read = 0;
        loop {
            let page = self
                .parts
                .store
                .list_events(
                    auth.tenant_id(),
                    &query,
                    PageRequest::new(after, Some(MAX_PAGE_SIZE)),
                )
                .await?;
            read += page.items.len();
            for event in &page.items {
                if event.kind == kinds::USER_PHONE_VERIFIED {
                    if let Some(client_id) = phone_pending_for.take() {
                        latest.insert(
                            "phone_number".to_owned(),
                            Collection {
                                attribute: "phone_number".to_owned(),
                                client_id,
                                collected_at: event.occurred_at,
                            },
                        );
                    }
                    continue;
                }
                let client_id = event.payload["client_id"].as_str().unwrap_or_default();
                let pending = event.payload["pending_verification"].as_array();
                if pending.is_some_and(|names| names.iter().any(|n| n == "phone_number")) {
                    phone_pending_for = Some(client_id.to_owned());
                }
                let names = event.payload["attributes"].as_array().into_iter().flatten();
                for name in names.filter_map(|name| name.as_str()) {
                    latest.insert(
                        name.to_owned(),
                        Collection {
                            attribute: name.to_owned(),
                            client_id: client_id.to_owned(),
                            collected_at: event.occurred_at,
                        },
                    );
                }
            }
            match page.next_after {
                Some(next) if read < COLLECTION_EVENTS_READ => after = Some(next),
                _ => break,
            }
        }
        let mut collections: Vec<Collection> = latest.into_values().collect();
        collections.sort_by_key(|c| std::cmp::Reverse(c.collected_at));
        Ok(collections)
    }
}
