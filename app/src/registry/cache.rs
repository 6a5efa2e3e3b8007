//! The hot pull path: what a manifest GET of a public repository resolves to
//! (repository, digest, bytes), kept in memory for a moment so that pulls of
//! public images touch no database. Manifests are content-addressed, so the
//! bytes never go stale; a tag can move, so entries live [`TTL`] and a push or
//! delete on this instance drops the repository's entries at once.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a resolved pull is trusted.
pub const TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 10_000;

/// A resolved pull of a public repository.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub repo_id: i64,
    pub ns_id: i64,
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub bytes: Bytes,
}

type Key = (u64, String, String, String);
type Map = Mutex<HashMap<Key, (Instant, Resolved)>>;

fn map() -> &'static Map {
    static MAP: OnceLock<Map> = OnceLock::new();
    MAP.get_or_init(Default::default)
}

/// An id for the app state the entries belong to (tests run many).
pub fn instance(secret: &[u8; 32]) -> u64 {
    u64::from_le_bytes([
        secret[0], secret[1], secret[2], secret[3], secret[4], secret[5], secret[6], secret[7],
    ])
}

pub fn get(instance: u64, ns: &str, repo: &str, reference: &str) -> Option<Resolved> {
    let m = map().lock().unwrap_or_else(|p| p.into_inner());
    m.get(&(
        instance,
        ns.to_string(),
        repo.to_string(),
        reference.to_string(),
    ))
    .filter(|(at, _)| at.elapsed() < TTL)
    .map(|(_, r)| r.clone())
}

pub fn put(instance: u64, ns: &str, repo: &str, reference: &str, r: Resolved) {
    let mut m = map().lock().unwrap_or_else(|p| p.into_inner());
    if m.len() >= MAX_ENTRIES {
        m.retain(|_, (at, _)| at.elapsed() < TTL);
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
    }
    m.insert(
        (
            instance,
            ns.to_string(),
            repo.to_string(),
            reference.to_string(),
        ),
        (Instant::now(), r),
    );
}

/// Drops a repository's entries (after a push or a delete).
pub fn forget(instance: u64, ns: &str, repo: &str) {
    map()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|(i, n, r, _), _| !(*i == instance && n == ns && r == repo));
}
