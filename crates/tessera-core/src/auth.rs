//! Authorization as a type: services take an `Authorized` (or `OperatorAuthorized`) handle,
//! and the only way to get one is the check in this module, so a forgotten check does not
//! compile.

use crate::api_token::Scope;
use crate::error::CoreError;
use crate::event::Actor;
use crate::ids::TenantId;
use crate::tenant::Tenant;
use std::collections::BTreeSet;

/// Who presented valid credentials, before any check of what they may do.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub actor: Actor,
    /// The tenant the credentials belong to.
    pub tenant_id: TenantId,
    /// Whether that tenant is the default tenant, whose admins operate all tenants.
    pub from_default_tenant: bool,
    pub scopes: BTreeSet<Scope>,
}

/// Proof that the actor may act with some scope on one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorized {
    tenant_id: TenantId,
    actor: Actor,
}

impl Authorized {
    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Authorization for work Tessera does on its own behalf (start-up, workers, imports).
    pub fn for_system(tenant: &Tenant) -> Self {
        Self {
            tenant_id: tenant.id,
            actor: Actor::System,
        }
    }

    /// Authorization for a user's change to their own account, made inside this crate by a
    /// service that has bound its work to that user (phone verification); the events it
    /// writes name the user as the actor.
    pub(crate) fn for_own_account(tenant_id: TenantId, user: crate::ids::UserId) -> Self {
        Self {
            tenant_id,
            actor: Actor::User(user),
        }
    }
}

/// Proof that the actor administers the whole installation (creates and lists tenants).
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorAuthorized {
    actor: Actor,
}

impl OperatorAuthorized {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// An operator may act on any tenant.
    pub fn on(&self, tenant: &Tenant) -> Authorized {
        Authorized {
            tenant_id: tenant.id,
            actor: self.actor.clone(),
        }
    }
}

impl Principal {
    fn holds(&self, needed: Scope) -> bool {
        self.scopes.iter().any(|scope| scope.grants(needed))
    }

    fn is_operator(&self) -> bool {
        self.from_default_tenant && self.holds(Scope::Admin)
    }

    /// May this principal act with `needed` on `tenant`? Credentials of another tenant get
    /// `NotFound`, as if the tenant did not exist (A50); a missing scope gets `Forbidden`.
    pub fn authorize(&self, tenant: &Tenant, needed: Scope) -> Result<Authorized, CoreError> {
        if self.tenant_id != tenant.id && !self.is_operator() {
            return Err(CoreError::NotFound("tenant"));
        }
        if !self.holds(needed) {
            return Err(CoreError::Forbidden(needed.as_str()));
        }
        Ok(Authorized {
            tenant_id: tenant.id,
            actor: self.actor.clone(),
        })
    }

    /// May this principal administer all tenants?
    pub fn authorize_operator(&self) -> Result<OperatorAuthorized, CoreError> {
        if self.is_operator() {
            Ok(OperatorAuthorized {
                actor: self.actor.clone(),
            })
        } else {
            Err(CoreError::Forbidden("admin (on the default tenant)"))
        }
    }
}
