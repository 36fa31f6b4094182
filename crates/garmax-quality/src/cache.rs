//! Caches of analysis and validation results keyed by content hash, as the
//! seed's `cacheConfig` describes: bounded in size (least recently used entry
//! evicted first) and in age (entries expire after `cacheTimeout`).
//!
//! In memory only: the crate does no I/O. Time comes from an injected
//! [`Clock`] so tests can move it; the server will share one cache behind a
//! mutex.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::RgbaImage;
use sha2::{Digest, Sha256};

use crate::config::{CacheSettings, QualityConfig};

/// Monotonic time since an arbitrary origin.
pub trait Clock: Send + Sync {
    fn now(&self) -> Duration;
}

/// The process's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock tests set by hand.
#[derive(Debug, Default)]
pub struct ManualClock {
    now_us: std::sync::atomic::AtomicU64,
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.now_us.fetch_add(
            by.as_micros().min(u128::from(u64::MAX)) as u64,
            std::sync::atomic::Ordering::SeqCst,
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_micros(self.now_us.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// SHA-256 of everything a result depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentKey(pub [u8; 32]);

impl ContentKey {
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Builds a [`ContentKey`] from typed parts. Each part is framed with a tag
/// and its length so that different splits of the same bytes differ.
pub struct KeyBuilder {
    hasher: Sha256,
}

impl KeyBuilder {
    /// `purpose` separates key spaces ("analysis", "validation").
    pub fn new(purpose: &str) -> KeyBuilder {
        let mut b = KeyBuilder {
            hasher: Sha256::new(),
        };
        b.bytes("purpose", purpose.as_bytes());
        b
    }

    pub fn bytes(&mut self, tag: &str, data: &[u8]) -> &mut KeyBuilder {
        self.hasher.update((tag.len() as u64).to_le_bytes());
        self.hasher.update(tag.as_bytes());
        self.hasher.update((data.len() as u64).to_le_bytes());
        self.hasher.update(data);
        self
    }

    /// The pixels and dimensions of an image.
    pub fn image(&mut self, tag: &str, image: &RgbaImage) -> &mut KeyBuilder {
        let dims = [image.width().to_le_bytes(), image.height().to_le_bytes()].concat();
        self.bytes(tag, &dims);
        self.bytes(tag, image.as_raw())
    }

    /// Any serialisable value (landmarks, analysis, configuration) through
    /// its JSON form, which is deterministic for these types.
    pub fn json<T: serde::Serialize>(&mut self, tag: &str, value: &T) -> &mut KeyBuilder {
        let text = serde_json::to_vec(value).unwrap_or_default();
        self.bytes(tag, &text)
    }

    /// The whole quality configuration: a changed threshold or weight must
    /// not return a stale verdict.
    pub fn config(&mut self, config: &QualityConfig) -> &mut KeyBuilder {
        self.json("config", config)
    }

    pub fn finish(&self) -> ContentKey {
        ContentKey(self.hasher.clone().finalize().into())
    }
}

struct Entry<V> {
    value: Arc<V>,
    inserted: Duration,
    tick: u64,
}

/// A size- and age-bounded map with least-recently-used eviction.
pub struct TtlLru<K, V> {
    capacity: usize,
    ttl: Duration,
    entries: HashMap<K, Entry<V>>,
    /// Use order: tick → key; the smallest tick is the least recently used.
    order: BTreeMap<u64, K>,
    next_tick: u64,
    clock: Arc<dyn Clock>,
    hits: u64,
    misses: u64,
}

/// Counters for monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    pub entries: usize,
    pub hits: u64,
    pub misses: u64,
}

impl<K: Eq + Hash + Clone, V> TtlLru<K, V> {
    /// `capacity` is at least 1.
    pub fn new(capacity: usize, ttl: Duration, clock: Arc<dyn Clock>) -> TtlLru<K, V> {
        TtlLru {
            capacity: capacity.max(1),
            ttl,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_tick: 0,
            clock,
            hits: 0,
            misses: 0,
        }
    }

    fn touch(&mut self, key: &K) {
        let tick = self.next_tick;
        self.next_tick += 1;
        if let Some(e) = self.entries.get_mut(key) {
            self.order.remove(&e.tick);
            e.tick = tick;
            self.order.insert(tick, key.clone());
        }
    }

    fn remove(&mut self, key: &K) {
        if let Some(e) = self.entries.remove(key) {
            self.order.remove(&e.tick);
        }
    }

    /// The value, if present and younger than the TTL; counts as a use.
    pub fn get(&mut self, key: &K) -> Option<Arc<V>> {
        let now = self.clock.now();
        let expired = match self.entries.get(key) {
            None => {
                self.misses += 1;
                return None;
            }
            Some(e) => now.saturating_sub(e.inserted) >= self.ttl,
        };
        if expired {
            self.remove(key);
            self.misses += 1;
            return None;
        }
        self.touch(key);
        self.hits += 1;
        self.entries.get(key).map(|e| Arc::clone(&e.value))
    }

    /// Inserts or replaces; evicts expired entries first, then the least
    /// recently used ones while over capacity.
    pub fn insert(&mut self, key: K, value: V) -> Arc<V> {
        let now = self.clock.now();
        self.remove(&key);
        self.purge_expired(now);
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        let tick = self.next_tick;
        self.next_tick += 1;
        let value = Arc::new(value);
        self.entries.insert(
            key.clone(),
            Entry {
                value: Arc::clone(&value),
                inserted: now,
                tick,
            },
        );
        self.order.insert(tick, key);
        value
    }

    /// The cached value, or computes, stores and returns it.
    pub fn get_or_insert_with<E>(
        &mut self,
        key: K,
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        Ok(self.insert(key, compute()?))
    }

    fn purge_expired(&mut self, now: Duration) {
        let ttl = self.ttl;
        let stale: Vec<K> = self
            .entries
            .iter()
            .filter(|(_, e)| now.saturating_sub(e.inserted) >= ttl)
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            self.remove(&k);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            entries: self.entries.len(),
            hits: self.hits,
            misses: self.misses,
        }
    }
}

/// The two caches of the seed's `cacheConfig`; a disabled one stores nothing.
pub struct ResultCaches<A, V> {
    pub analysis: Option<TtlLru<ContentKey, A>>,
    pub validation: Option<TtlLru<ContentKey, V>>,
}

impl<A, V> ResultCaches<A, V> {
    pub fn new(settings: &CacheSettings, clock: Arc<dyn Clock>) -> ResultCaches<A, V> {
        let ttl = Duration::from_millis(settings.cache_timeout);
        ResultCaches {
            analysis: settings
                .enable_analysis_cache
                .then(|| TtlLru::new(settings.max_cache_size, ttl, Arc::clone(&clock))),
            validation: settings
                .enable_validation_cache
                .then(|| TtlLru::new(settings.max_cache_size, ttl, clock)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(cap: usize, ttl_s: u64) -> (Arc<ManualClock>, TtlLru<u32, String>) {
        let clock = Arc::new(ManualClock::default());
        let c = TtlLru::new(
            cap,
            Duration::from_secs(ttl_s),
            clock.clone() as Arc<dyn Clock>,
        );
        (clock, c)
    }

    #[test]
    fn least_recently_used_is_evicted_first() {
        let (_, mut c) = cache(3, 3600);
        for k in 1..=3 {
            c.insert(k, format!("v{k}"));
        }
        // Using 1 makes 2 the least recently used.
        assert_eq!(c.get(&1).as_deref().map(String::as_str), Some("v1"));
        c.insert(4, "v4".into());
        assert_eq!(c.len(), 3);
        assert!(c.get(&2).is_none(), "2 was least recently used");
        assert!(c.get(&1).is_some());
        assert!(c.get(&3).is_some());
        assert!(c.get(&4).is_some());
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let (clock, mut c) = cache(10, 3600);
        c.insert(1, "a".into());
        clock.advance(Duration::from_secs(3599));
        assert!(c.get(&1).is_some(), "still fresh one second before the TTL");
        c.insert(2, "b".into());
        clock.advance(Duration::from_secs(1));
        assert!(
            c.get(&1).is_none(),
            "expired at the TTL, even though it was just read"
        );
        assert!(c.get(&2).is_some());
        clock.advance(Duration::from_secs(3600));
        c.insert(3, "c".into());
        assert_eq!(c.len(), 1, "inserting purges expired entries");
        let s = c.stats();
        assert_eq!((s.hits, s.misses), (2, 1));
    }

    #[test]
    fn replacing_a_key_keeps_one_entry_and_refreshes_it() {
        let (clock, mut c) = cache(2, 10);
        c.insert(1, "a".into());
        clock.advance(Duration::from_secs(8));
        c.insert(1, "b".into());
        clock.advance(Duration::from_secs(8));
        assert_eq!(c.get(&1).as_deref().map(String::as_str), Some("b"));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn get_or_insert_computes_once() {
        let (_, mut c) = cache(2, 10);
        let mut calls = 0;
        for _ in 0..3 {
            let v = c
                .get_or_insert_with(7, || {
                    calls += 1;
                    Ok::<_, ()>("x".to_string())
                })
                .unwrap();
            assert_eq!(v.as_str(), "x");
        }
        assert_eq!(calls, 1);
    }

    #[test]
    fn keys_depend_on_every_part_and_its_framing() {
        let img = RgbaImage::new(2, 3);
        let a = KeyBuilder::new("validation").image("g", &img).finish();
        let b = KeyBuilder::new("analysis").image("g", &img).finish();
        let c = KeyBuilder::new("validation")
            .image("g", &RgbaImage::new(3, 2))
            .finish();
        assert_ne!(a, b);
        assert_ne!(a, c, "same bytes, other shape");
        let d = KeyBuilder::new("x")
            .bytes("t", b"ab")
            .bytes("t", b"c")
            .finish();
        let e = KeyBuilder::new("x")
            .bytes("t", b"a")
            .bytes("t", b"bc")
            .finish();
        assert_ne!(d, e);
        let mut cfg = QualityConfig::default();
        let k1 = KeyBuilder::new("v").config(&cfg).finish();
        cfg.tiers.standard.thresholds.overall = 0.7;
        assert_ne!(k1, KeyBuilder::new("v").config(&cfg).finish());
        assert_eq!(a.hex().len(), 64);
    }

    #[test]
    fn disabled_caches_are_absent() {
        let mut s = QualityConfig::default().cache;
        s.enable_analysis_cache = false;
        let caches: ResultCaches<u8, u8> = ResultCaches::new(&s, Arc::new(ManualClock::default()));
        assert!(caches.analysis.is_none());
        assert!(caches.validation.is_some());
    }
}
