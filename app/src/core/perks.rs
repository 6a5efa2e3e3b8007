//! A namespace's sponsorship as a read model: the one place every perk asks
//! (badge, repository logos, search, Scout quota, and the registry's pull
//! path). The membership term is cached in memory for a few seconds; the
//! status is derived from the term and the clock on every read, so expiry
//! needs no invalidation, and the program invalidates the entry on every
//! decision and renewal.

use super::state::AppState;
use crate::db::Tx;
use crate::domain::ids::NamespaceId;
use crate::domain::membership::{SCOUT_LIMIT_DEFAULT, SCOUT_LIMIT_SPONSORED};
use crate::domain::{Membership, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a cached term is trusted without asking the database.
pub const CACHE_TTL: Duration = Duration::from_secs(10);
/// Entries kept before the cache is emptied (bounds memory on a big hub).
const CACHE_MAX: usize = 100_000;

/// What the program grants a namespace right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perks {
    /// The membership, if the namespace ever had one.
    pub membership: Option<Membership>,
}

impl Perks {
    /// Perks are on: active, renewal due, or in grace.
    pub fn active(&self) -> bool {
        self.membership.is_some_and(|m| m.status.perks_active())
    }
    /// The verified badge shows.
    pub fn badge(&self) -> bool {
        self.active()
    }
    /// Repositories may show their own logo.
    pub fn repository_logos(&self) -> bool {
        self.active()
    }
    /// Public pulls are exempt from rate limits.
    pub fn unlimited_pulls(&self) -> bool {
        self.active()
    }
    /// Repositories that may have Scout image analysis on.
    pub fn scout_limit(&self) -> i64 {
        if self.active() {
            SCOUT_LIMIT_SPONSORED
        } else {
            SCOUT_LIMIT_DEFAULT
        }
    }
    /// The expiry shown with the badge, while perks are on.
    pub fn sponsored_until(&self) -> Option<Timestamp> {
        self.membership
            .filter(|m| m.status.perks_active())
            .map(|m| m.expires_at)
    }
}

type Term = Option<(Timestamp, Timestamp)>;

/// Cached membership terms by namespace.
#[derive(Default)]
pub struct PerksCache {
    entries: Mutex<HashMap<NamespaceId, (Instant, Term)>>,
    /// Bumped by every invalidation, so a read that raced one is not cached.
    generation: AtomicU64,
}

impl PerksCache {
    fn cached(&self, ns: NamespaceId) -> Option<Term> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&ns)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, t)| *t)
    }

    fn store(&self, ns: NamespaceId, term: Term, generation: u64) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if map.len() >= CACHE_MAX {
            map.clear();
        }
        map.insert(ns, (Instant::now(), term));
    }

    /// Forgets a namespace's term; call after committing a change to it.
    pub fn invalidate(&self, ns: NamespaceId) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        map.remove(&ns);
    }
}

async fn load_term(tx: &mut Tx<'_>, ns: NamespaceId) -> Result<Term, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT starts_at, expires_at FROM memberships WHERE namespace_id = $1")
            .bind(ns.0)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|(s, e)| (Timestamp(s), Timestamp(e))))
}

/// The namespace's perks now if its term is cached (no database at all).
pub fn cached(state: &AppState, ns: NamespaceId) -> Option<Perks> {
    let term = state.perks.cached(ns)?;
    let now = state.clock.now();
    Some(Perks {
        membership: term.map(|(s, e)| Membership::derive(s, e, now, &state.settings.program)),
    })
}

/// The namespace's perks now, from the cache or (on a miss) through `tx`.
pub async fn of(state: &AppState, tx: &mut Tx<'_>, ns: NamespaceId) -> Result<Perks, sqlx::Error> {
    let term = match state.perks.cached(ns) {
        Some(t) => t,
        None => {
            let generation = state.perks.generation.load(Ordering::SeqCst);
            let t = load_term(tx, ns).await?;
            state.perks.store(ns, t, generation);
            t
        }
    };
    let now = state.clock.now();
    Ok(Perks {
        membership: term.map(|(s, e)| Membership::derive(s, e, now, &state.settings.program)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_wins_over_a_racing_read() {
        let c = PerksCache::default();
        let ns = NamespaceId(1);
        let g = c.generation.load(Ordering::SeqCst);
        c.invalidate(ns);
        c.store(ns, None, g);
        assert_eq!(
            c.cached(ns),
            None,
            "a read from before the invalidation is dropped"
        );
        let g = c.generation.load(Ordering::SeqCst);
        let term = Some((Timestamp(1), Timestamp(2)));
        c.store(ns, term, g);
        assert_eq!(c.cached(ns), Some(term));
        c.invalidate(ns);
        assert_eq!(c.cached(ns), None);
    }

    #[test]
    fn perks_follow_the_status() {
        let rules = crate::domain::ProgramRules::default();
        let t0 = Timestamp(1_767_225_600_000);
        let m = Membership::derive(t0, t0.plus_days(365), t0, &rules);
        let on = Perks {
            membership: Some(m),
        };
        assert!(on.active() && on.badge() && on.unlimited_pulls());
        assert_eq!(on.scout_limit(), SCOUT_LIMIT_SPONSORED);
        assert_eq!(on.sponsored_until(), Some(t0.plus_days(365)));
        let late = Membership::derive(t0, t0.plus_days(365), t0.plus_days(400), &rules);
        let off = Perks {
            membership: Some(late),
        };
        assert!(!off.active());
        assert_eq!(off.scout_limit(), SCOUT_LIMIT_DEFAULT);
        assert_eq!(off.sponsored_until(), None);
        assert!(!Perks { membership: None }.repository_logos());
    }
}
