//! Short-lived copies of what nearly every request reads and almost nothing writes: the
//! tenant a request is routed to and the client calling the token endpoint. Reading them
//! from the database each time cost more than serving discovery or a token itself.
//! Entries live for [`TTL`]: a change made by another instance shows within that time; a
//! change made through this process clears the cache at once. Unknown names are
//! remembered too (a flood of made-up hosts or client ids must not reach the database),
//! and each cache is bounded so such a flood cannot grow it either.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use time::{Duration, OffsetDateTime};

/// How long an answer is reused.
pub(super) const TTL: Duration = Duration::seconds(1);

/// Most entries remembered; when full, the cache starts again from empty.
const CAPACITY: usize = 4096;

#[derive(Debug)]
struct Entry<V> {
    value: Option<V>,
    read_at: OffsetDateTime,
}

#[derive(Debug)]
pub(super) struct ShortCache<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
}

impl<K, V> Default for ShortCache<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> ShortCache<K, V> {
    /// The remembered answer for `key` if it is younger than [`TTL`]; the outer `None` means
    /// "ask the database".
    pub(super) fn get(&self, key: &K, now: OffsetDateTime) -> Option<Option<V>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|entry| now - entry.read_at < TTL && entry.read_at <= now)
            .map(|entry| entry.value.clone())
    }

    pub(super) fn put(&self, key: K, value: Option<V>, now: OffsetDateTime) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                value,
                read_at: now,
            },
        );
    }

    /// Forgets everything: called after every change made through this process.
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

    fn key(name: &str) -> String {
        name.to_owned()
    }

    #[test]
    fn answers_expire_after_the_ttl_and_on_clear() {
        let cache = ShortCache::<String, u32>::default();
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
        let cache = ShortCache::<String, u32>::default();
        let start = OffsetDateTime::UNIX_EPOCH + Duration::hours(1);
        cache.put(key("acme"), None, start);
        assert_eq!(cache.get(&key("acme"), start - Duration::minutes(5)), None);
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = ShortCache::<String, u32>::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        for i in 0..=CAPACITY {
            cache.put(key(&format!("t{i}")), None, now);
        }
        let kept = cache.entries.lock().unwrap().len();
        assert!(kept <= CAPACITY, "{kept} entries");
        assert_eq!(cache.get(&key(&format!("t{CAPACITY}")), now), Some(None));
    }
}
