//! A short-lived cache of rendered tally answers, so a room of dashboards polling the same
//! totals costs the database one snapshot read per `tally_cache_ms`, not one per request.
//!
//! An answer is served from the cache only while both hold:
//! - it is younger than `tally_cache_ms` (what bounds how late a write made through *another*
//!   instance, or straight into the database, can show up here), and
//! - this instance has served no write since it was computed: every request other than GET,
//!   HEAD and OPTIONS moves the generation on (see [`crate::observe`]), so a client that writes
//!   and then reads through the same instance always sees its write.
//!
//! The key holds everything the answer depends on: operation, query, the caller's visible
//! countries and the format. Scope, operation and country checks run before the lookup.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// Most answers kept; beyond it the stale ones go, then all of them.
const MAX_ENTRIES: usize = 4096;

/// Rendered answers by key, with the generation and time they were computed at.
pub struct ReportCache {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    generation: u64,
    made: Instant,
    body: Bytes,
}

impl ReportCache {
    /// A cache keeping answers for `ttl`; a zero `ttl` keeps nothing.
    pub fn new(ttl: Duration) -> ReportCache {
        ReportCache {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Marks every cached answer stale; called after each write request this instance serves.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The generation to tag an answer with; read it *before* reading the database, so a write
    /// that commits meanwhile makes the answer stale at once.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The cached answer for `key`, if it is still fresh.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        if self.ttl.is_zero() {
            return None;
        }
        let current = self.generation();
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == current && e.made.elapsed() < self.ttl)
            .map(|e| e.body.clone())
    }

    /// Keeps `body` as the answer for `key`, computed from what the database held at `generation`.
    pub fn put(&self, key: String, generation: u64, body: Bytes) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let current = self.generation();
            entries.retain(|_, e| e.generation == current && e.made.elapsed() < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                generation,
                made: Instant::now(),
                body,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_answers_only() {
        let cache = ReportCache::new(Duration::from_millis(50));
        let g = cache.generation();
        cache.put("k".into(), g, Bytes::from_static(b"one"));
        assert_eq!(cache.get("k").as_deref(), Some(&b"one"[..]));
        cache.invalidate();
        assert_eq!(cache.get("k"), None, "a write made it stale");
        cache.put("k".into(), g, Bytes::from_static(b"late"));
        assert_eq!(cache.get("k"), None, "computed before the write: stale on arrival");
        cache.put("k".into(), cache.generation(), Bytes::from_static(b"two"));
        assert!(cache.get("k").is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("k"), None, "older than the ttl");
        let off = ReportCache::new(Duration::ZERO);
        off.put("k".into(), 0, Bytes::from_static(b"x"));
        assert_eq!(off.get("k"), None, "a zero ttl keeps nothing");
    }
}
