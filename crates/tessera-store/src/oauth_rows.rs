//! What both backends share between a row of the OpenID Connect provider's tables and a
//! domain value: the parts of each entity as plain values, and their conversion. JSON
//! columns arrive already deserialized; only the column types differ per backend.

use crate::errors::corrupt;
use std::collections::BTreeSet;
use tessera_core::ids::{ClientId, GrantId, SessionId, TenantId, UserId};
use tessera_core::oauth::client::{Client, ClientMetadata, SigningAlgorithm};
use tessera_core::oauth::grant::{
    AccessTokenRecord, AuthorizationCode, AuthorizationContext, Consent, Grant,
    PendingAuthorization, RefreshToken,
};
use tessera_core::oauth::session::{Authentication, Session};
use tessera_core::oauth::signing_key::SigningKeyRecord;
use tessera_core::secret::SecretHash;
use tessera_core::store::StoreResult;
use time::OffsetDateTime;
use uuid::Uuid;

/// A stored SHA-256 digest; anything but 32 bytes is corrupt.
pub(crate) fn secret_hash(what: &str, bytes: Vec<u8>) -> StoreResult<SecretHash> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| corrupt(what, "not 32 bytes"))?;
    Ok(SecretHash::from_bytes(bytes))
}

pub(crate) struct ClientParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub secret_hash: Option<Vec<u8>>,
    pub metadata: ClientMetadata,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl ClientParts {
    pub fn into_client(self) -> StoreResult<Client> {
        Ok(Client {
            id: ClientId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            secret_hash: self
                .secret_hash
                .map(|bytes| secret_hash("client secret hash", bytes))
                .transpose()?,
            metadata: self.metadata,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

pub(crate) struct SigningKeyParts {
    pub kid: String,
    pub algorithm: String,
    pub sealed_private_key: Vec<u8>,
    pub public_jwk: serde_json::Value,
    pub created_at: OffsetDateTime,
    pub activates_at: OffsetDateTime,
    pub retires_at: Option<OffsetDateTime>,
}

impl SigningKeyParts {
    pub fn into_record(self) -> StoreResult<SigningKeyRecord> {
        Ok(SigningKeyRecord {
            algorithm: SigningAlgorithm::parse(&self.algorithm)
                .ok_or_else(|| corrupt("signing key algorithm", &self.algorithm))?,
            kid: self.kid,
            sealed_private_key: self.sealed_private_key,
            public_jwk: self.public_jwk,
            created_at: self.created_at,
            activates_at: self.activates_at,
            retires_at: self.retires_at,
        })
    }
}

pub(crate) struct SessionParts {
    pub id: Uuid,
    pub secret_hash: Vec<u8>,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub authentication: Authentication,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub idle_expires_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub ended_at: Option<OffsetDateTime>,
}

impl SessionParts {
    pub fn into_session(self) -> StoreResult<Session> {
        Ok(Session {
            id: SessionId::from_uuid(self.id),
            secret_hash: secret_hash("session hash", self.secret_hash)?,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: UserId::from_uuid(self.user_id),
            authentication: self.authentication,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            idle_expires_at: self.idle_expires_at,
            expires_at: self.expires_at,
            ip: self.ip,
            user_agent: self.user_agent,
            ended_at: self.ended_at,
        })
    }
}

pub(crate) struct PendingAuthorizationParts {
    pub handle_hash: Vec<u8>,
    pub tenant_id: Uuid,
    pub client_id: Uuid,
    pub parameters: serde_json::Value,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl PendingAuthorizationParts {
    pub fn into_pending(self) -> StoreResult<PendingAuthorization> {
        Ok(PendingAuthorization {
            handle_hash: secret_hash("authorization request handle hash", self.handle_hash)?,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            client_id: ClientId::from_uuid(self.client_id),
            parameters: self.parameters,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

pub(crate) struct AuthorizationCodeParts {
    pub code_hash: Vec<u8>,
    pub tenant_id: Uuid,
    pub client_id: Uuid,
    pub grant_id: Uuid,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub context: AuthorizationContext,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub consumed_at: Option<OffsetDateTime>,
}

impl AuthorizationCodeParts {
    pub fn into_code(self) -> StoreResult<AuthorizationCode> {
        Ok(AuthorizationCode {
            code_hash: secret_hash("authorization code hash", self.code_hash)?,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            client_id: ClientId::from_uuid(self.client_id),
            grant_id: GrantId::from_uuid(self.grant_id),
            redirect_uri: self.redirect_uri,
            nonce: self.nonce,
            code_challenge: self.code_challenge,
            context: self.context,
            created_at: self.created_at,
            expires_at: self.expires_at,
            consumed_at: self.consumed_at,
        })
    }
}

pub(crate) struct GrantParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub client_id: Uuid,
    pub context: Option<AuthorizationContext>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl GrantParts {
    pub fn into_grant(self) -> Grant {
        Grant {
            id: GrantId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            client_id: ClientId::from_uuid(self.client_id),
            context: self.context,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
        }
    }
}

pub(crate) struct RefreshTokenParts {
    pub token_hash: Vec<u8>,
    pub grant_id: Uuid,
    pub tenant_id: Uuid,
    pub created_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

impl RefreshTokenParts {
    pub fn into_token(self) -> StoreResult<RefreshToken> {
        Ok(RefreshToken {
            token_hash: secret_hash("refresh token hash", self.token_hash)?,
            grant_id: GrantId::from_uuid(self.grant_id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            created_at: self.created_at,
            used_at: self.used_at,
        })
    }
}

pub(crate) struct AccessTokenParts {
    pub jti: Uuid,
    pub tenant_id: Uuid,
    pub client_id: Uuid,
    pub grant_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub scope: BTreeSet<String>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl AccessTokenParts {
    pub fn into_record(self) -> AccessTokenRecord {
        AccessTokenRecord {
            jti: self.jti,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            client_id: ClientId::from_uuid(self.client_id),
            grant_id: self.grant_id.map(GrantId::from_uuid),
            user_id: self.user_id.map(UserId::from_uuid),
            scope: self.scope,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
        }
    }
}

pub(crate) struct ConsentParts {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub client_id: Uuid,
    pub scope: BTreeSet<String>,
    pub granted_at: OffsetDateTime,
}

impl ConsentParts {
    pub fn into_consent(self) -> Consent {
        Consent {
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: UserId::from_uuid(self.user_id),
            client_id: ClientId::from_uuid(self.client_id),
            scope: self.scope,
            granted_at: self.granted_at,
        }
    }
}

/// A grant's id that a refresh token or access token names must exist (a foreign key says
/// so); its absence means the database was changed behind the store's back.
pub(crate) fn missing_grant(id: Uuid) -> tessera_core::store::StoreError {
    corrupt("grant", format!("{id} is referenced but missing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_must_be_32_bytes() {
        assert!(secret_hash("x", vec![0; 32]).is_ok());
        assert!(matches!(
            secret_hash("x", vec![0; 31]),
            Err(tessera_core::store::StoreError::Corrupt(_))
        ));
    }
}
