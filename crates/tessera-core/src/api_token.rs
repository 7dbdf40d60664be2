//! Admin API tokens: random bearer secrets, stored as SHA-256 digests, bound to one tenant
//! and a set of scopes, with an optional expiry and revocation.

use crate::event::Actor;
use crate::ids::{ApiTokenId, TenantId};
use crate::secret::SecretHash;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// The prefix of every API token, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "tsr";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Read users and the attribute schema.
    #[serde(rename = "users:read")]
    UsersRead,
    /// Create, change and delete users.
    #[serde(rename = "users:write")]
    UsersWrite,
    /// Use the SCIM 2.0 provisioning endpoints.
    #[serde(rename = "scim")]
    Scim,
    /// Everything within the tenant: settings, schema, tokens, events, users. On the
    /// default tenant it also administers the other tenants.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::UsersRead,
        Scope::UsersWrite,
        Scope::Scim,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UsersRead => "users:read",
            Self::UsersWrite => "users:write",
            Self::Scim => "scim",
            Self::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == text)
    }

    /// Whether holding `self` grants `needed`.
    pub fn grants(self, needed: Scope) -> bool {
        self == needed
            || self == Scope::Admin
            || (self == Scope::UsersWrite && needed == Scope::UsersRead)
    }
}

/// A stored API token (never the secret itself).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub tenant_id: TenantId,
    pub name: String,
    pub scopes: BTreeSet<Scope>,
    pub secret_hash: SecretHash,
    pub created_by: Actor,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiToken {
    /// Whether the token may be used at `now`.
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expiry| now < expiry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_grants_everything_and_write_grants_read() {
        assert!(Scope::Admin.grants(Scope::Scim));
        assert!(Scope::UsersWrite.grants(Scope::UsersRead));
        assert!(!Scope::UsersRead.grants(Scope::UsersWrite));
        assert!(!Scope::Scim.grants(Scope::UsersRead));
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
    }
}
