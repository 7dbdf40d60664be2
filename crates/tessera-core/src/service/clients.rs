//! Client (relying party) use cases: register, read, list, change, rotate the secret,
//! delete. Secrets are generated here, shown once and stored as digests.

use super::{Core, retry_on_conflict};
use crate::auth::Authorized;
use crate::error::CoreError;
use crate::event::{Event, kinds};
use crate::ids::{ClientId, TenantId};
use crate::oauth::client::{Client, ClientMetadata};
use crate::page::{Page, PageRequest};
use crate::secret::{SecretHash, generate_secret};
use secrecy::SecretString;
use serde_json::json;

/// The prefix of client secrets, so that a leaked one is recognisable.
pub const CLIENT_SECRET_PREFIX: &str = "tcs";

/// A client with its secret, present only when the secret was just made.
#[derive(Debug)]
pub struct RegisteredClient {
    pub client: Client,
    pub secret: Option<SecretString>,
}

fn subject(id: ClientId) -> String {
    format!("client:{id}")
}

fn new_secret(metadata: &ClientMetadata) -> Option<SecretString> {
    metadata
        .token_endpoint_auth_method
        .uses_secret()
        .then(|| generate_secret(CLIENT_SECRET_PREFIX))
}

impl Core {
    /// The metadata's own rules, and that the attributes it needs are in the tenant's schema.
    async fn check_metadata(
        &self,
        tenant: TenantId,
        metadata: &ClientMetadata,
    ) -> Result<(), CoreError> {
        let mut errors = match metadata.validate() {
            Ok(()) => Vec::new(),
            Err(CoreError::Validation(errors)) => errors,
            Err(other) => return Err(other),
        };
        if !metadata.needs.is_empty() {
            let schema = self.parts.store.attribute_schema(tenant).await?;
            metadata.needs.check(&schema, &mut errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Validation(errors))
        }
    }

    pub async fn create_client(
        &self,
        auth: &Authorized,
        metadata: ClientMetadata,
    ) -> Result<RegisteredClient, CoreError> {
        self.check_metadata(auth.tenant_id(), &metadata).await?;
        let now = self.parts.clock.now();
        let secret = new_secret(&metadata);
        let client = Client {
            id: ClientId::new_at(now),
            tenant_id: auth.tenant_id(),
            secret_hash: secret.as_ref().map(SecretHash::of),
            metadata,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let event = Event::new(
            client.tenant_id,
            now,
            auth.actor(),
            kinds::CLIENT_CREATED,
            subject(client.id),
            json!({"auth_method": client.metadata.token_endpoint_auth_method.as_str()}),
        );
        self.parts.store.insert_client(&client, &event).await?;
        self.parts.clients.clear();
        Ok(RegisteredClient { client, secret })
    }

    pub async fn get_client(&self, auth: &Authorized, id: ClientId) -> Result<Client, CoreError> {
        self.parts
            .store
            .client_by_id(auth.tenant_id(), id)
            .await?
            .ok_or(CoreError::NotFound("client"))
    }

    /// The client a protocol request names, for the provider (which authenticates it); kept
    /// for up to a second, like tenants.
    pub async fn protocol_client(
        &self,
        tenant: TenantId,
        client_id: &str,
    ) -> Result<Option<Client>, CoreError> {
        let Ok(id) = client_id.parse::<ClientId>() else {
            return Ok(None);
        };
        let cache = &self.parts.clients;
        if let Some(known) = cache.get(&(tenant, id), self.parts.clock.now()) {
            return Ok(known);
        }
        let read_at = self.parts.clock.now();
        let client = self.parts.store.client_by_id(tenant, id).await?;
        cache.put((tenant, id), client.clone(), read_at);
        Ok(client)
    }

    pub async fn list_clients(
        &self,
        auth: &Authorized,
        page: PageRequest,
    ) -> Result<Page<Client>, CoreError> {
        Ok(self
            .parts
            .store
            .list_clients(auth.tenant_id(), page)
            .await?)
    }

    /// Replaces the metadata. Changing to a secret-based method from one without a secret
    /// makes a new secret (returned once); changing away from one drops the secret.
    pub async fn replace_client(
        &self,
        auth: &Authorized,
        id: ClientId,
        metadata: ClientMetadata,
    ) -> Result<RegisteredClient, CoreError> {
        self.check_metadata(auth.tenant_id(), &metadata).await?;
        retry_on_conflict(|| async {
            let current = self.get_client(auth, id).await?;
            let uses_secret = metadata.token_endpoint_auth_method.uses_secret();
            let (secret_hash, secret) = match (&current.secret_hash, uses_secret) {
                (Some(hash), true) => (Some(hash.clone()), None),
                (None, true) => {
                    let secret = new_secret(&metadata);
                    (secret.as_ref().map(SecretHash::of), secret)
                }
                (_, false) => (None, None),
            };
            let now = self.parts.clock.now();
            let client = Client {
                secret_hash,
                metadata: metadata.clone(),
                updated_at: now,
                version: current.version + 1,
                ..current.clone()
            };
            if client.metadata == current.metadata && secret.is_none() {
                return Ok(RegisteredClient {
                    client: current,
                    secret: None,
                });
            }
            let event = Event::new(
                client.tenant_id,
                now,
                auth.actor(),
                kinds::CLIENT_UPDATED,
                subject(id),
                json!({}),
            );
            self.parts
                .store
                .update_client(&client, current.version, &event)
                .await?;
            self.parts.clients.clear();
            Ok(RegisteredClient { client, secret })
        })
        .await
    }

    /// Makes a new secret; the old one stops working at once here, and within a second on
    /// other instances (they cache clients that briefly).
    pub async fn rotate_client_secret(
        &self,
        auth: &Authorized,
        id: ClientId,
    ) -> Result<RegisteredClient, CoreError> {
        retry_on_conflict(|| async {
            let current = self.get_client(auth, id).await?;
            let Some(secret) = new_secret(&current.metadata) else {
                return Err(CoreError::invalid(
                    "token_endpoint_auth_method",
                    "this client authenticates without a secret",
                ));
            };
            let now = self.parts.clock.now();
            let client = Client {
                secret_hash: Some(SecretHash::of(&secret)),
                updated_at: now,
                version: current.version + 1,
                ..current.clone()
            };
            let event = Event::new(
                client.tenant_id,
                now,
                auth.actor(),
                kinds::CLIENT_SECRET_ROTATED,
                subject(id),
                json!({}),
            );
            self.parts
                .store
                .update_client(&client, current.version, &event)
                .await?;
            self.parts.clients.clear();
            Ok(RegisteredClient {
                client,
                secret: Some(secret),
            })
        })
        .await
    }

    /// Records a client assertion's `jti` until it expires; false when it was seen before.
    pub async fn remember_client_assertion(
        &self,
        client: &Client,
        jti: &str,
        expires_at: time::OffsetDateTime,
    ) -> Result<bool, CoreError> {
        let now = self.parts.clock.now();
        Ok(self
            .parts
            .store
            .remember_client_assertion(
                client.tenant_id,
                client.id,
                &SecretHash::of_str(jti),
                expires_at,
                now,
            )
            .await?)
    }

    /// Deletes the client; every grant and token it holds stops working.
    pub async fn delete_client(&self, auth: &Authorized, id: ClientId) -> Result<(), CoreError> {
        let now = self.parts.clock.now();
        let event = Event::new(
            auth.tenant_id(),
            now,
            auth.actor(),
            kinds::CLIENT_DELETED,
            subject(id),
            json!({}),
        );
        if self
            .parts
            .store
            .delete_client(auth.tenant_id(), id, now, &event)
            .await?
        {
            self.parts.clients.clear();
            Ok(())
        } else {
            Err(CoreError::NotFound("client"))
        }
    }
}
