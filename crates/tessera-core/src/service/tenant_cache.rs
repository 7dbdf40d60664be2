//! A short-lived copy of the tenants that requests are routed to. Every request names its
//! tenant (by `/t/{slug}` or by its domain), and reading it from the database each time
//! cost more than serving discovery itself. Entries live for [`TTL`]: a change made by
//! another instance shows within that time; a change made here clears the cache at once.
//! Unknown names are remembered too (a flood of made-up hosts must not reach the
//! database), and the cache is bounded so such a flood cannot grow it either.

use crate::tenant::{Domain, Tenant, TenantSlug};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use time::{Duration, OffsetDateTime};

/// How long an answer is reused.
pub(super) const TTL: Duration = Duration::seconds(1);

/// Most names remembered; when full, the cache starts again from empty.
const CAPACITY: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum TenantKey {
    Slug(TenantSlug),
    Domain(Domain),
}

#[derive(Debug)]
struct Entry {
    tenant: Option<Tenant>,
    read_at: OffsetDateTime,
}

#[derive(Debug, Default)]
pub(super) struct TenantCache {
    entries: Mutex<HashMap<TenantKey, Entry>>,
}

impl TenantCache {
    /// The remembered answer for `key` if it is younger than [`TTL`]; the outer `None` means
    /// "ask the database".
    pub(super) fn get(&self, key: &TenantKey, now: OffsetDateTime) -> Option<Option<Tenant>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|entry| now - entry.read_at < TTL && entry.read_at <= now)
            .map(|entry| entry.tenant.clone())
    }

    pub(super) fn put(&self, key: TenantKey, tenant: Option<Tenant>, now: OffsetDateTime) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                tenant,
                read_at: now,
            },
        );
    }

    /// Forgets everything: called after every tenant change made through this process.
    pub(super) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(slug: &str) -> TenantKey {
        TenantKey::Slug(TenantSlug::parse(slug).unwrap())
    }

    #[test]
    fn answers_expire_after_the_ttl_and_on_clear() {
        let cache = TenantCache::default();
        let start = OffsetDateTime::UNIX_EPOCH;
        cache.put(key("acme"), None, start);
        assert_eq!(
            cache.get(&key("acme"), start + Duration::milliseconds(999)),
            Some(None)
        );
        assert_eq!(cache.get(&key("acme"), start + TTL), None);
        cache.put(key("acme"), None, start);
        cache.clear();
        assert_eq!(cache.get(&key("acme"), start), None);
    }

    #[test]
    fn a_clock_that_goes_back_does_not_keep_an_entry_alive() {
        let cache = TenantCache::default();
        let start = OffsetDateTime::UNIX_EPOCH + Duration::hours(1);
        cache.put(key("acme"), None, start);
        assert_eq!(cache.get(&key("acme"), start - Duration::minutes(5)), None);
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = TenantCache::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        for i in 0..=CAPACITY {
            cache.put(key(&format!("t{i}")), None, now);
        }
        let kept = cache.entries.lock().unwrap().len();
        assert!(kept <= CAPACITY, "{kept} entries");
        assert_eq!(cache.get(&key(&format!("t{CAPACITY}")), now), Some(None));
    }
}
