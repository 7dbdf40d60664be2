//! Tenant use cases.

use super::{Core, retry_on_conflict};
use crate::attributes::AttributeSchema;
use crate::auth::{Authorized, OperatorAuthorized};
use crate::clock::Clock;
use crate::error::{CoreError, FieldError};
use crate::event::{Actor, Event, kinds};
use crate::ids::TenantId;
use crate::page::{Page, PageRequest};
use crate::store::{Store, StoreError};
use crate::tenant::{Domain, Tenant, TenantSettings, TenantSlug, parse_display_name};
use serde_json::json;

/// Input of tenant creation.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub slug: TenantSlug,
    pub display_name: String,
    pub domains: Vec<Domain>,
    pub settings: TenantSettings,
}

/// A change to a tenant; fields left `None` stay.
#[derive(Debug, Clone, Default)]
pub struct TenantPatch {
    pub display_name: Option<String>,
    pub domains: Option<DomainChange>,
    pub settings: Option<TenantSettings>,
}

/// New custom domains for a tenant. Only an operator may route a host name to a tenant:
/// a tenant's own admin could otherwise claim another brand's domain.
#[derive(Debug, Clone)]
pub struct DomainChange(Vec<Domain>);

impl DomainChange {
    pub fn new(_operator: &OperatorAuthorized, domains: Vec<Domain>) -> Self {
        Self(domains)
    }
}

fn subject(id: TenantId) -> String {
    format!("tenant:{id}")
}

pub(super) async fn ensure_default_tenant(
    store: &dyn Store,
    clock: &dyn Clock,
) -> Result<Tenant, CoreError> {
    let slug = TenantSlug::default_tenant();
    if let Some(tenant) = store.tenant_by_slug(&slug).await? {
        return Ok(tenant);
    }
    let now = clock.now();
    let tenant = Tenant {
        id: TenantId::new_at(now),
        slug: slug.clone(),
        display_name: "Default".to_owned(),
        domains: Vec::new(),
        settings: TenantSettings::default(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let event = Event::new(
        tenant.id,
        now,
        &Actor::System,
        kinds::TENANT_CREATED,
        subject(tenant.id),
        json!({"slug": slug.as_str()}),
    );
    match store.insert_tenant(&tenant, &event).await {
        Ok(()) => Ok(tenant),
        // Another instance created it at the same moment: use theirs.
        Err(StoreError::Duplicate { .. }) => store
            .tenant_by_slug(&slug)
            .await?
            .ok_or(CoreError::NotFound("tenant")),
        Err(error) => Err(error.into()),
    }
}

fn check_domains(domains: &[Domain]) -> Result<(), CoreError> {
    let unique: std::collections::HashSet<_> = domains.iter().collect();
    if domains.len() > 20 || unique.len() != domains.len() {
        return Err(CoreError::invalid("domains", "at most 20, each once"));
    }
    Ok(())
}

/// How a request names its tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum TenantKey {
    Id(TenantId),
    Slug(TenantSlug),
    Domain(Domain),
}

impl Core {
    /// The tenant serving `slug`, for request routing (no authorization: tenants are public).
    /// Answers may be up to a second old when another instance made the change.
    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>, CoreError> {
        match TenantSlug::parse(slug) {
            Ok(slug) => self.routed_tenant(TenantKey::Slug(slug)).await,
            Err(_) => Ok(None),
        }
    }

    /// The tenant with this id, for the protocol layer (cached like `tenant_by_slug`).
    pub async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, CoreError> {
        self.routed_tenant(TenantKey::Id(id)).await
    }

    /// The tenant that owns the custom domain `host`, if any (cached like `tenant_by_slug`).
    pub async fn tenant_by_domain(&self, host: &str) -> Result<Option<Tenant>, CoreError> {
        match Domain::parse(host) {
            Ok(domain) => self.routed_tenant(TenantKey::Domain(domain)).await,
            Err(_) => Ok(None),
        }
    }

    async fn routed_tenant(&self, key: TenantKey) -> Result<Option<Tenant>, CoreError> {
        let cache = &self.parts.tenants;
        if let Some(known) = cache.get(&key, self.parts.clock.now()) {
            return Ok(known);
        }
        let read_at = self.parts.clock.now();
        let tenant = match &key {
            TenantKey::Id(id) => self.parts.store.tenant_by_id(*id).await?,
            TenantKey::Slug(slug) => self.parts.store.tenant_by_slug(slug).await?,
            TenantKey::Domain(domain) => self.parts.store.tenant_by_domain(domain).await?,
        };
        cache.put(key, tenant.clone(), read_at);
        Ok(tenant)
    }

    pub async fn create_tenant(
        &self,
        auth: &OperatorAuthorized,
        new: NewTenant,
    ) -> Result<Tenant, CoreError> {
        let display_name = parse_display_name(&new.display_name)
            .map_err(|e| CoreError::invalid("display_name", e.to_string()))?;
        check_domains(&new.domains)?;
        let settings = new.settings.normalize().map_err(CoreError::Validation)?;
        let now = self.parts.clock.now();
        let tenant = Tenant {
            id: TenantId::new_at(now),
            slug: new.slug,
            display_name,
            domains: new.domains,
            settings,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let event = Event::new(
            tenant.id,
            now,
            auth.actor(),
            kinds::TENANT_CREATED,
            subject(tenant.id),
            json!({"slug": tenant.slug.as_str()}),
        );
        self.parts.store.insert_tenant(&tenant, &event).await?;
        self.parts.tenants.clear();
        Ok(tenant)
    }

    pub async fn list_tenants(
        &self,
        _auth: &OperatorAuthorized,
        page: PageRequest,
    ) -> Result<Page<Tenant>, CoreError> {
        Ok(self.parts.store.list_tenants(page).await?)
    }

    pub async fn get_tenant(&self, auth: &Authorized) -> Result<Tenant, CoreError> {
        self.parts
            .store
            .tenant_by_id(auth.tenant_id())
            .await?
            .ok_or(CoreError::NotFound("tenant"))
    }

    pub async fn update_tenant(
        &self,
        auth: &Authorized,
        patch: TenantPatch,
    ) -> Result<Tenant, CoreError> {
        let display_name = patch
            .display_name
            .as_deref()
            .map(parse_display_name)
            .transpose()
            .map_err(|e| CoreError::invalid("display_name", e.to_string()))?;
        if let Some(DomainChange(domains)) = &patch.domains {
            check_domains(domains)?;
        }
        let settings = match &patch.settings {
            Some(settings) => Some(
                settings
                    .clone()
                    .normalize()
                    .map_err(CoreError::Validation)?,
            ),
            None => None,
        };
        retry_on_conflict(|| async {
            let current = self.get_tenant(auth).await?;
            let mut next = current.clone();
            let mut changed = Vec::new();
            if let Some(name) = &display_name {
                changed.push("display_name");
                next.display_name.clone_from(name);
            }
            if let Some(DomainChange(domains)) = &patch.domains {
                changed.push("domains");
                next.domains.clone_from(domains);
            }
            if let Some(settings) = &settings {
                changed.push("settings");
                next.settings = settings.clone();
            }
            let now = self.parts.clock.now();
            next.updated_at = now;
            next.version = current.version + 1;
            let event = Event::new(
                next.id,
                now,
                auth.actor(),
                kinds::TENANT_UPDATED,
                subject(next.id),
                json!({"changed": changed}),
            );
            self.parts
                .store
                .update_tenant(&next, current.version, &event)
                .await?;
            self.parts.tenants.clear();
            Ok(next)
        })
        .await
    }

    /// The tenant's attribute schema, for reading (rendering, filters); it may be up to a
    /// second old when another instance changed it. Writes validate against a fresh read.
    pub async fn attribute_schema(&self, auth: &Authorized) -> Result<AttributeSchema, CoreError> {
        self.cached_attribute_schema(auth.tenant_id()).await
    }

    pub(super) async fn cached_attribute_schema(
        &self,
        tenant: crate::ids::TenantId,
    ) -> Result<AttributeSchema, CoreError> {
        let now = self.parts.clock.now();
        if let Some(Some(schema)) = self.parts.schemas.get(&tenant, now) {
            return Ok(schema);
        }
        let schema = self.parts.store.attribute_schema(tenant).await?;
        self.parts.schemas.put(tenant, Some(schema.clone()), now);
        Ok(schema)
    }

    /// Replaces the schema. Values of attributes it no longer declares stay stored, so that
    /// a mistaken edit loses nothing; they are rejected on the user's next write.
    pub async fn put_attribute_schema(
        &self,
        auth: &Authorized,
        schema: AttributeSchema,
    ) -> Result<AttributeSchema, CoreError> {
        schema.validate().map_err(|errors| {
            CoreError::Validation(
                errors
                    .into_iter()
                    .map(|e: FieldError| e.within("attributes"))
                    .collect(),
            )
        })?;
        let now = self.parts.clock.now();
        let names: Vec<&str> = schema.attributes.iter().map(|a| a.name.as_str()).collect();
        let event = Event::new(
            auth.tenant_id(),
            now,
            auth.actor(),
            kinds::SCHEMA_UPDATED,
            subject(auth.tenant_id()),
            json!({"attributes": names}),
        );
        self.parts
            .store
            .put_attribute_schema(auth.tenant_id(), &schema, &event)
            .await?;
        self.parts.schemas.clear();
        Ok(schema)
    }
}
