//! Results kept in memory while the data they were computed from holds: per zone (occupancy and
//! available land, each for the span of dates it holds), valid while the zone's data version holds
//! (every write bumps the version of each zone it touches, in its own transaction), and tiles, valid
//! while the store's data version holds; bounded by an estimate of their bytes (moka
//! evicts the least useful entries first). Never stale: a hit needs the version the store reports now;
//! a miss recomputes one zone (or one tile), not the province.

use std::sync::atomic::{AtomicU64, Ordering};

/// Zones measured (or read back from the store) by one computation from which the memory it freed is
/// handed back to the system afterwards ([`give_back_memory`]).
const GIVE_BACK_AFTER_ZONES: usize = 32;

/// Hands back to the system the memory the allocator still holds but no longer uses, on a blocking
/// thread (it walks the heap: a few milliseconds), without waiting for it. glibc keeps what a large
/// computation freed in its arenas: after measuring 310,000 plots' zones the process held 319 MB where
/// it used 83 MB (`cargo bench --bench national`), and the caches' bound (`LANDBANK_CACHE_MB`) meant
/// little for the resident size. One at a time: computations ending together ask for one trim, not
/// one each (each locks the arenas while it walks them). Nothing is done on other allocators, nor
/// after computations of fewer than 32 zones (`zones`: how many the one that ended measured).
pub fn give_back_memory(zones: usize) {
    if zones < GIVE_BACK_AFTER_ZONES {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        static TRIMMING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if TRIMMING.swap(true, Ordering::AcqRel) {
            return;
        }
        runtime.spawn_blocking(|| {
            // SAFETY: malloc_trim only returns the allocator's own free pages to the system; it is
            // thread-safe (glibc locks each arena while it trims it).
            unsafe { libc::malloc_trim(0) };
            TRIMMING.store(false, Ordering::Release);
        });
    }
}

/// Caps glibc's malloc arenas at the machine's cores (its default is eight a core). A thread that
/// allocates while another holds an arena gets one of its own, and what is freed in an arena stays there
/// for that arena's next allocations, so a computation spread over several blocking threads left each
/// one's high-water mark resident: at 1,036,430 plots, a new date's available land peaked at 813 MB
/// with glibc's default and 555 MB with two arenas, two such questions at once at 1.6 GB and 1.0 GB, in
/// the same time (docs/benchmarks.md). Call it before any thread starts (`main` does, before the
/// runtime); `MALLOC_ARENA_MAX` in the environment wins. Does nothing on other allocators.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        // SAFETY: mallopt only sets a parameter of glibc's allocator, and no other thread runs yet.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, i32::try_from(cores).unwrap_or(i32::MAX)) };
    }
}

/// Results of type `V` kept per key `K`, each with the data version it was computed at (a zone's, or
/// the store's), bounded by their estimated bytes: moka evicts the least useful entries first. Every
/// cache of landbank is one of these (per-zone figures, available land, tiles).
pub struct VersionedCache<K, V> {
    entries: moka::sync::Cache<K, (i64, V)>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> VersionedCache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache of at most about `max_bytes`, each entry weighing `weigh(value)` bytes plus 64 for its
    /// key and bookkeeping.
    pub fn new(max_bytes: u64, weigh: fn(&V) -> u32) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(move |_key: &K, (_, value): &(i64, V)| weigh(value).saturating_add(64))
            .build();
        VersionedCache { entries, hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    /// The value kept for `key` if it was computed at data `version`.
    pub fn get(&self, key: &K, version: i64) -> Option<V> {
        let found = self.entries.get(key).filter(|(v, _)| *v == version).map(|(_, value)| value);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// [`VersionedCache::get`] through `usable`, which may still turn down what is kept (a miss then).
    pub fn get_usable<T>(&self, key: &K, version: i64, usable: impl FnOnce(V) -> Option<T>) -> Option<T> {
        let found = self.peek(key, version).and_then(usable);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// [`VersionedCache::get`] without counting a lookup (to add to what is kept).
    pub fn peek(&self, key: &K, version: i64) -> Option<V> {
        self.entries.get(key).filter(|(v, _)| *v == version).map(|(_, value)| value)
    }

    /// Lookups so far: (hits, misses); a stale version counts as a miss.
    pub fn lookups(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Keeps `value`, computed at data `version`.
    pub fn put(&self, key: K, version: i64, value: V) {
        self.entries.insert(key, (version, value));
    }

    /// Estimated bytes held (for logs and metrics; eviction runs in the background).
    pub fn weighted_bytes(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }
}

impl<K, S> VersionedCache<K, std::sync::Arc<Vec<S>>>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
{
    /// Adds `new` (results each holding over a span of dates) to the spans kept for `key` at data
    /// `version`, each in place of any that `same` says covers the same dates, the spans ordered by
    /// `order`; returns them all (to be kept in the store as well).
    pub fn add_spans<O: Ord>(
        &self,
        key: K,
        version: i64,
        new: impl IntoIterator<Item = S>,
        same: impl Fn(&S, &S) -> bool,
        order: impl Fn(&S) -> O,
    ) -> std::sync::Arc<Vec<S>> {
        let before = self.peek(&key, version).map(|s| s.to_vec()).unwrap_or_default();
        let spans = std::sync::Arc::new(merge_spans(before, new, same, order));
        self.put(key, version, spans.clone());
        spans
    }
}

/// `before` (results each holding over a span of dates) with `new` added, each in place of any that
/// `same` says covers the same dates, ordered by `order`.
pub fn merge_spans<S, O: Ord>(
    mut before: Vec<S>,
    new: impl IntoIterator<Item = S>,
    same: impl Fn(&S, &S) -> bool,
    order: impl Fn(&S) -> O,
) -> Vec<S> {
    let new: Vec<S> = new.into_iter().collect();
    before.retain(|s| !new.iter().any(|n| same(s, n)));
    before.extend(new);
    before.sort_by_key(|s| order(s));
    before
}

/// The byte budget of a cache: `LANDBANK_CACHE_MB` (default 256) split by `share` (0–1).
pub fn budget_bytes(share: f64) -> u64 {
    let mb: f64 = std::env::var("LANDBANK_CACHE_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(256.0);
    (mb.max(1.0) * share * 1024.0 * 1024.0) as u64
}

/// Zones whose results one computation is working out right now, so that another that needs them
/// (a second request, or the warmer) waits for those results instead of working them out again: two
/// cold questions about a province cost one computation, not two fighting over the same two cores.
/// Keys are claimed a chunk at a time, just before it is read, so a small question waits at most for
/// the chunks in flight, never for the whole country a warmer has still to do.
#[derive(Default)]
pub struct Claims {
    held: std::sync::Arc<std::sync::Mutex<ClaimMap>>,
    measured: AtomicU64,
}

type ClaimMap = std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>;

/// One key claimed; let go when dropped (after its results were made findable).
pub struct Claim {
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    held: std::sync::Arc<std::sync::Mutex<ClaimMap>>,
}

/// The map, even if a thread panicked while holding its lock (every change to it is one call).
fn lock(held: &std::sync::Mutex<ClaimMap>) -> std::sync::MutexGuard<'_, ClaimMap> {
    held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Forgets `key`'s lock unless a claim or a waiter still holds it.
fn forget_if_unused(map: &mut ClaimMap, key: &str) {
    if map.get(key).is_some_and(|lock| std::sync::Arc::strong_count(lock) == 1) {
        map.remove(key);
    }
}

impl Claims {
    /// Claims `key`, unless another computation holds it (`None`: wait for it with [`Claims::wait`]).
    pub fn try_claim(&self, key: &str) -> Option<Claim> {
        let mut map = lock(&self.held);
        let guard = map.entry(key.to_string()).or_default().clone().try_lock_owned().ok()?;
        Some(Claim { key: key.to_string(), guard: Some(guard), held: self.held.clone() })
    }

    /// Waits until no computation holds `key`.
    pub async fn wait(&self, key: &str) {
        let Some(key_lock) = lock(&self.held).get(key).cloned() else { return };
        drop(key_lock.lock().await);
        drop(key_lock);
        forget_if_unused(&mut lock(&self.held), key);
    }

    /// Counts `n` keys whose results were worked out (not found kept).
    pub fn count_measured(&self, n: usize) {
        self.measured.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Keys whose results were worked out so far (each time one was, by whichever computation).
    pub fn measured(&self) -> u64 {
        self.measured.load(Ordering::Relaxed)
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut map = lock(&self.held);
        drop(self.guard.take());
        forget_if_unused(&mut map, &self.key);
    }
}
