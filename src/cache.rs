//! Results kept per zone and date, valid while the zone's data version holds (every write bumps the
//! version of each zone it touches, in its own transaction), bounded by an estimate of their bytes
//! (moka evicts the least useful entries first). Never stale: a hit needs the version the store reports
//! now; a miss recomputes one zone, not the province.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::Date;

/// Zone code, date, and one more number a result depends on (e.g. a minimum piece size, as bits).
pub type ZoneKey = (String, Date, u64);

/// A cache of `V` per [`ZoneKey`].
pub struct ZoneCache<V> {
    entries: moka::sync::Cache<ZoneKey, (i64, Arc<V>)>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<V: Send + Sync + 'static> ZoneCache<V> {
    /// A cache of at most about `max_bytes`, each entry weighing `weigh(value)` bytes.
    pub fn new(max_bytes: u64, weigh: fn(&V) -> u32) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(move |_key: &ZoneKey, (_, value): &(i64, Arc<V>)| weigh(value).saturating_add(64))
            .build();
        ZoneCache { entries, hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    /// The value kept for `key` if it was computed at the zone's data `version`.
    pub fn get(&self, key: &ZoneKey, version: i64) -> Option<Arc<V>> {
        let found = self.entries.get(key).filter(|(v, _)| *v == version).map(|(_, value)| value);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Lookups so far: (hits, misses); a stale version counts as a miss.
    pub fn lookups(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Keeps `value`, computed at the zone's data `version`.
    pub fn put(&self, key: ZoneKey, version: i64, value: Arc<V>) {
        self.entries.insert(key, (version, value));
    }

    /// Estimated bytes held (for logs and metrics; eviction runs in the background).
    pub fn weighted_bytes(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }
}

/// The byte budget of a cache: `LANDBANK_CACHE_MB` (default 256) split by `share` (0–1).
pub fn budget_bytes(share: f64) -> u64 {
    let mb: f64 = std::env::var("LANDBANK_CACHE_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(256.0);
    (mb.max(1.0) * share * 1024.0 * 1024.0) as u64
}
