//! What both backends share between a row and a domain value: the parts of each entity as
//! plain values, and their conversion. Only the column types differ per backend.

use crate::errors::corrupt;
use std::collections::BTreeSet;
use tessera_core::api_token::{ApiToken, Scope};
use tessera_core::event::{Actor, Event};
use tessera_core::ids::{ApiTokenId, EventId, TenantId, UserId};
use tessera_core::page::PageRequest;
use tessera_core::password_hash::PasswordHash;
use tessera_core::risk::{Coordinates, CountryCode, GeoPoint};
use tessera_core::secret::SecretHash;
use tessera_core::store::StoreResult;
use tessera_core::tenant::{Domain, Tenant, TenantSettings, TenantSlug};
use tessera_core::user::{Profile, User, UserQuery, UserStatus};
use time::OffsetDateTime;
use uuid::Uuid;

/// Separates names in `users.search_names`; a prefix search looks for it followed by the prefix.
pub(crate) const NAME_SEPARATOR: char = '\u{1f}';

/// The lower-cased names of a profile, each preceded by the separator.
pub(crate) fn search_names(profile: &Profile) -> String {
    [&profile.given_name, &profile.family_name, &profile.name]
        .into_iter()
        .flatten()
        .map(|name| format!("{NAME_SEPARATOR}{}", name.to_lowercase()))
        .collect()
}

/// The profile with every string case-folded (Unicode lower case, as `str::to_lowercase`),
/// keys included: what case-insensitive filters compare against, so that both backends fold
/// exactly as the domain does whatever their collation. Attribute names differ in more than
/// case (the schema refuses two that differ only in case), so folding keys is lossless.
pub(crate) fn folded_profile(profile: &Profile) -> StoreResult<serde_json::Value> {
    let text = serde_json::to_string(profile).map_err(|e| corrupt("profile", e))?;
    serde_json::from_str(&text.to_lowercase()).map_err(|e| corrupt("folded profile", e))
}

/// The username's comparison key, for the unique index.
pub(crate) fn username_key(profile: &Profile) -> Option<String> {
    profile.username.as_ref().map(|name| name.key().to_owned())
}

/// The `LIKE` pattern for names starting with `prefix`, with `\` as the escape character.
pub(crate) fn name_prefix_pattern(prefix: &str) -> String {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            other => vec![other],
        })
        .collect();
    format!("%{NAME_SEPARATOR}{escaped}%")
}

pub(crate) struct TenantParts {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub domains: Vec<String>,
    pub settings: TenantSettings,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl TenantParts {
    pub fn into_tenant(self) -> StoreResult<Tenant> {
        Ok(Tenant {
            id: TenantId::from_uuid(self.id),
            slug: TenantSlug::parse(&self.slug).map_err(|e| corrupt("tenant slug", e))?,
            display_name: self.display_name,
            domains: self
                .domains
                .iter()
                .map(|d| Domain::parse(d).map_err(|e| corrupt("tenant domain", e)))
                .collect::<StoreResult<_>>()?,
            settings: self.settings,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

pub(crate) struct UserParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub status: String,
    pub profile: Profile,
    pub password_hash: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl UserParts {
    pub fn into_user(self) -> StoreResult<User> {
        Ok(User {
            id: UserId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            status: UserStatus::parse(&self.status)
                .ok_or_else(|| corrupt("user status", &self.status))?,
            profile: self.profile,
            password_hash: self
                .password_hash
                .as_deref()
                .map(PasswordHash::parse)
                .transpose()
                .map_err(|e| corrupt("password hash", e))?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

pub(crate) struct ApiTokenParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub secret_hash: Vec<u8>,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiTokenParts {
    pub fn into_token(self) -> StoreResult<ApiToken> {
        let hash: [u8; 32] = self
            .secret_hash
            .try_into()
            .map_err(|_| corrupt("token hash", "not 32 bytes"))?;
        Ok(ApiToken {
            id: ApiTokenId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            name: self.name,
            scopes: self
                .scopes
                .iter()
                .map(|s| Scope::parse(s).ok_or_else(|| corrupt("token scope", s)))
                .collect::<StoreResult<BTreeSet<_>>>()?,
            secret_hash: SecretHash::from_bytes(hash),
            created_by: Actor::parse(&self.created_by)
                .ok_or_else(|| corrupt("actor", &self.created_by))?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
        })
    }
}

pub(crate) fn scope_names(token: &ApiToken) -> Vec<String> {
    token.scopes.iter().map(|s| s.as_str().to_owned()).collect()
}

pub(crate) struct EventParts {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub occurred_at: OffsetDateTime,
    pub actor: String,
    pub kind: String,
    pub subject: String,
    pub payload: serde_json::Value,
}

impl EventParts {
    pub fn into_event(self) -> StoreResult<Event> {
        Ok(Event {
            id: EventId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            occurred_at: self.occurred_at,
            actor: Actor::parse(&self.actor).ok_or_else(|| corrupt("actor", &self.actor))?,
            kind: self.kind,
            subject: self.subject,
            payload: self.payload,
        })
    }
}

/// Writes the admin user search into `sql`, the same for both backends. The most selective
/// filter drives the query through its index: an email (a handful of rows), else the first
/// attribute (`tenant, name, value, user_id`, already in id order, so a page costs a range
/// scan of about `limit` rows however many users match), else the users in id order. The
/// other filters are point probes or row checks. `CROSS JOIN` makes SQLite keep that join
/// order (without statistics its planner would rather scan every user of the tenant);
/// PostgreSQL plans it as an ordinary join.
pub(crate) fn push_user_search<DB>(
    sql: &mut sqlx::QueryBuilder<DB>,
    tenant: Uuid,
    query: &UserQuery,
    page: PageRequest,
) where
    DB: sqlx::Database,
    for<'t> Uuid: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut probes = query.attributes.as_slice();
    let order_column = if let Some(email) = &query.email {
        sql.push("SELECT u.* FROM user_emails d CROSS JOIN users u WHERE u.id = d.user_id AND d.tenant_id = ")
            .push_bind(tenant)
            .push(" AND d.address = ")
            .push_bind(email.normalized().to_owned());
        "u.id"
    } else if let Some(((name, value), rest)) = query.attributes.split_first() {
        probes = rest;
        sql.push("SELECT u.* FROM user_attribute_values d CROSS JOIN users u WHERE u.id = d.user_id AND d.tenant_id = ")
            .push_bind(tenant)
            .push(" AND d.name = ")
            .push_bind(name.clone())
            .push(" AND d.value = ")
            .push_bind(value.clone());
        "d.user_id"
    } else {
        sql.push("SELECT u.* FROM users u WHERE TRUE");
        "u.id"
    };
    sql.push(" AND u.tenant_id = ").push_bind(tenant);
    match query.status {
        Some(status) => sql
            .push(" AND u.status = ")
            .push_bind(status.as_str().to_owned()),
        None => sql
            .push(" AND u.status <> ")
            .push_bind(UserStatus::Deleted.as_str().to_owned()),
    };
    for (name, value) in probes {
        // A scalar subquery with LIMIT is not flattened into a join, so each candidate costs
        // one primary-key probe whatever the planner's statistics say (an EXISTS became a
        // scan of every user with that value on PostgreSQL right after a bulk import).
        sql.push(" AND (SELECT 1 FROM user_attribute_values x WHERE x.tenant_id = ")
            .push_bind(tenant)
            .push(" AND x.name = ")
            .push_bind(name.clone())
            .push(" AND x.value = ")
            .push_bind(value.clone())
            .push(" AND x.user_id = u.id LIMIT 1) = 1");
    }
    if let Some(prefix) = &query.name_prefix {
        sql.push(" AND u.search_names LIKE ")
            .push_bind(name_prefix_pattern(prefix))
            .push(" ESCAPE '\\'");
    }
    if let Some(after) = page.after {
        sql.push(format!(" AND {order_column} > ")).push_bind(after);
    }
    sql.push(format!(" ORDER BY {order_column} LIMIT "))
        .push_bind(page.fetch_limit());
}

/// A stored place; parts that do not parse are left out rather than failing the read.
pub(crate) fn geo_point(
    country: Option<String>,
    asn: Option<i64>,
    latitude: Option<f64>,
    longitude: Option<f64>,
) -> Option<GeoPoint> {
    let point = GeoPoint {
        country: country.as_deref().and_then(CountryCode::parse),
        asn: asn.and_then(|a| u32::try_from(a).ok()),
        coordinates: latitude
            .zip(longitude)
            .and_then(|(lat, lon)| Coordinates::new(lat, lon)),
    };
    (!point.is_empty()).then_some(point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_patterns_escape_wildcards() {
        assert_eq!(name_prefix_pattern("a%b_c\\"), "%\u{1f}a\\%b\\_c\\\\%");
    }

    #[test]
    fn search_names_are_lower_cased() {
        let profile = Profile {
            given_name: Some("Ädа".into()),
            name: Some("X Y".into()),
            ..Profile::default()
        };
        assert_eq!(search_names(&profile), "\u{1f}ädа\u{1f}x y");
    }
}
