//! Every rate limit of the hub in one table ([`LimitedAction`]), enforced by
//! one keyed GCRA limiter per action (`governor`) that reads time from the
//! hub's [`Clock`], so tests can move time instead of sleeping.

use crate::domain::clock::Clock;
use crate::error::{AppError, AppResult};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// An action with a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitedAction {
    /// Sign-in attempts for one account from one network address (so nobody
    /// can lock an account out from elsewhere).
    SignInPerAccount,
    /// Sign-in attempts from one network address, whatever the account.
    SignInPerAddress,
    /// New accounts from one network address.
    SignUpPerAddress,
    /// Password changes by one account.
    PasswordChangePerAccount,
    /// Logo uploads by one account.
    LogoUploadPerAccount,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed per `window` on average.
    pub quota: u32,
    pub window: Duration,
    /// Requests allowed at once after a quiet period.
    pub burst: u32,
    /// Completes "Too many … ": what was counted.
    pub what: &'static str,
}

impl LimitedAction {
    /// Every action, for listing and for building the limiters.
    pub const ALL: [LimitedAction; 5] = [
        LimitedAction::SignInPerAccount,
        LimitedAction::SignInPerAddress,
        LimitedAction::SignUpPerAddress,
        LimitedAction::PasswordChangePerAccount,
        LimitedAction::LogoUploadPerAccount,
    ];

    /// The table.
    pub fn limit(self) -> Limit {
        match self {
            LimitedAction::SignInPerAccount => Limit {
                quota: 5,
                window: Duration::from_secs(60),
                burst: 10,
                what: "sign-in attempts for this account",
            },
            LimitedAction::SignInPerAddress => Limit {
                quota: 30,
                window: Duration::from_secs(60),
                burst: 30,
                what: "sign-in attempts from your network address",
            },
            LimitedAction::SignUpPerAddress => Limit {
                quota: 5,
                window: Duration::from_secs(3600),
                burst: 5,
                what: "new accounts from your network address",
            },
            LimitedAction::PasswordChangePerAccount => Limit {
                quota: 5,
                window: Duration::from_secs(3600),
                burst: 5,
                what: "password changes for this account",
            },
            LimitedAction::LogoUploadPerAccount => Limit {
                quota: 120,
                window: Duration::from_secs(3600),
                burst: 60,
                what: "logo uploads from this account",
            },
        }
    }
}

/// The hub's clock as governor's clock (milliseconds since the epoch).
#[derive(Clone)]
struct HubClock(Arc<dyn Clock>);

impl governor::clock::Clock for HubClock {
    type Instant = Duration;
    fn now(&self) -> Duration {
        Duration::from_millis(self.0.now().0.max(0) as u64)
    }
}

type Keyed = RateLimiter<String, DashMapStateStore<String>, HubClock, NoOpMiddleware<Duration>>;

/// Keys each limiter holds at most by default (`HUB_LIMITER_MAX_KEYS`):
/// about 10 MB per limiter.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// The key every further caller shares while a limiter is full: memory stays
/// bounded and the limit still holds (for all of them together) until keys
/// recover and are pruned.
pub const OVERFLOW_KEY: &str = "\u{1}overflow";

/// The limiters, one per action, and the pull allowances.
pub struct Limiter {
    clock: HubClock,
    limiters: Vec<(LimitedAction, Keyed)>,
    /// Most keys one limiter holds; see [`OVERFLOW_KEY`].
    max_keys: usize,
    /// When a full limiter last pruned itself (milliseconds), so a flood of
    /// new keys prunes at most once a second.
    last_prune_ms: std::sync::atomic::AtomicI64,
    /// Decisions made on [`OVERFLOW_KEY`] because a limiter was full.
    overflowed: std::sync::atomic::AtomicU64,
    /// Registry pulls: counted per address or user, with a peek for `HEAD`.
    pub pulls: PullStore,
}

/// One pull allowance decision, with what the response headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub window_secs: u64,
    /// When refused: seconds until one more pull is allowed.
    pub retry_after_secs: u64,
}

/// The GCRA arithmetic both stores share (the Redis script does the same).
#[derive(Debug, Clone, Copy)]
struct Gcra {
    limit: u32,
    window_ms: i64,
    /// Milliseconds one pull takes to refill.
    t: i64,
    window_secs: u64,
}

impl Gcra {
    fn new(limit: u32, window: Duration) -> Gcra {
        let window_ms = window.as_millis().max(1) as i64;
        let limit = limit.max(1);
        Gcra {
            limit,
            window_ms,
            t: (window_ms / i64::from(limit)).max(1),
            window_secs: window.as_secs(),
        }
    }
    /// With the key's theoretical arrival time `tat` (at least `now`): the
    /// decision, and the new time to store when a pull was spent.
    fn decide(&self, tat: i64, now: i64, consume: bool) -> (PullDecision, Option<i64>) {
        let new_tat = tat + self.t;
        let allowed = new_tat - now <= self.window_ms;
        let spend = allowed && consume;
        let after = if spend { new_tat } else { tat };
        (
            self.decision(allowed, after, new_tat, now),
            spend.then_some(new_tat),
        )
    }
    fn decision(&self, allowed: bool, after: i64, new_tat: i64, now: i64) -> PullDecision {
        let remaining =
            ((now + self.window_ms - after) / self.t).clamp(0, i64::from(self.limit)) as u32;
        let retry_ms = if allowed {
            0
        } else {
            new_tat - self.window_ms - now
        };
        PullDecision {
            allowed,
            limit: self.limit,
            remaining,
            window_secs: self.window_secs,
            retry_after_secs: ((retry_ms + 999) / 1000).max(0) as u64,
        }
    }
}

/// Where pull allowances live: this process, or Redis when several server
/// instances share the limits.
pub enum PullStore {
    Memory(PullAllowance),
    Redis(Box<RedisAllowance>),
}

impl PullStore {
    /// Decides for `key`; see [`PullAllowance::decide`].
    pub async fn decide(
        &self,
        key: &str,
        now_ms: i64,
        limit: u32,
        window: Duration,
        consume: bool,
    ) -> AppResult<PullDecision> {
        match self {
            PullStore::Memory(m) => Ok(m.decide(key, now_ms, limit, window, consume)),
            PullStore::Redis(r) => r.decide(key, now_ms, limit, window, consume).await,
        }
    }
    fn prune(&self, now_ms: i64) {
        if let PullStore::Memory(m) = self {
            m.prune(now_ms);
        }
    }
}

/// Pull allowances in Redis: one key per caller holding its theoretical
/// arrival time, read and updated atomically by a Lua script, expiring by
/// itself once the allowance has refilled (bounded memory).
pub struct RedisAllowance {
    client: redis::Client,
    conn: tokio::sync::OnceCell<redis::aio::MultiplexedConnection>,
    prefix: String,
    script: redis::Script,
}

const GCRA_LUA: &str = r#"
local now = tonumber(ARGV[1])
local t = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + t
local allowed = (new_tat - now) <= window
if allowed and ARGV[4] == '1' then
  redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
  return {1, new_tat, new_tat}
end
if allowed then return {1, tat, new_tat} end
return {0, tat, new_tat}
"#;

impl RedisAllowance {
    /// A store at `url` (`redis://host:port/db`), keys under `prefix`.
    pub fn new(url: &str, prefix: &str) -> Result<RedisAllowance, String> {
        let client = redis::Client::open(url).map_err(|e| format!("HUB_REDIS_URL: {e}"))?;
        Ok(RedisAllowance {
            client,
            conn: tokio::sync::OnceCell::new(),
            prefix: prefix.to_string(),
            script: redis::Script::new(GCRA_LUA),
        })
    }

    async fn decide(
        &self,
        key: &str,
        now_ms: i64,
        limit: u32,
        window: Duration,
        consume: bool,
    ) -> AppResult<PullDecision> {
        let unavailable = |e: redis::RedisError| {
            tracing::error!(error = %e, "redis rate-limit store failed");
            AppError::internal()
        };
        let conn = self
            .conn
            .get_or_try_init(|| self.client.get_multiplexed_async_connection())
            .await
            .map_err(unavailable)?;
        let mut conn = conn.clone();
        let g = Gcra::new(limit, window);
        let (allowed, after, new_tat): (i64, i64, i64) = self
            .script
            .key(format!("{}pull:{key}", self.prefix))
            .arg(now_ms)
            .arg(g.t)
            .arg(g.window_ms)
            .arg(if consume { "1" } else { "0" })
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(g.decision(allowed == 1, after, new_tat, now_ms))
    }
}

/// Docker Hub's pull limits as GCRA: `limit` pulls per `window`, all of them
/// usable at once, refilling evenly. A `HEAD` peeks without consuming.
/// In-process; keys that have fully refilled are pruned, and at most
/// `max_keys` are held (bounded memory; see [`OVERFLOW_KEY`]).
pub struct PullAllowance {
    tat: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    max_keys: usize,
    last_prune_ms: std::sync::atomic::AtomicI64,
    overflowed: std::sync::atomic::AtomicU64,
}

impl Default for PullAllowance {
    fn default() -> Self {
        PullAllowance::with_max_keys(DEFAULT_MAX_KEYS)
    }
}

impl PullAllowance {
    /// Allowances holding at most `max_keys` keys (at least 1).
    pub fn with_max_keys(max_keys: usize) -> PullAllowance {
        PullAllowance {
            tat: Default::default(),
            max_keys: max_keys.max(1),
            last_prune_ms: Default::default(),
            overflowed: Default::default(),
        }
    }

    /// Decisions made on [`OVERFLOW_KEY`] because the allowances were full.
    pub fn overflowed(&self) -> u64 {
        self.overflowed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Decides for `key` at `now_ms`; `consume` counts the pull when allowed.
    /// A new key while `max_keys` are held first prunes (at most once a
    /// second), then shares [`OVERFLOW_KEY`].
    pub fn decide(
        &self,
        key: &str,
        now_ms: i64,
        limit: u32,
        window: Duration,
        consume: bool,
    ) -> PullDecision {
        use std::sync::atomic::Ordering::Relaxed;
        let g = Gcra::new(limit, window);
        let mut map = self.tat.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = key;
        if map.len() >= self.max_keys && !map.contains_key(key) {
            if now_ms - self.last_prune_ms.load(Relaxed) >= 1000 {
                self.last_prune_ms.store(now_ms, Relaxed);
                map.retain(|_, tat| *tat > now_ms);
            }
            if map.len() >= self.max_keys {
                self.overflowed.fetch_add(1, Relaxed);
                key = OVERFLOW_KEY;
            }
        }
        let tat = map.get(key).copied().unwrap_or(now_ms).max(now_ms);
        let (d, store) = g.decide(tat, now_ms, consume);
        if let Some(new_tat) = store {
            map.insert(key.to_string(), new_tat);
        }
        d
    }

    /// Forgets keys whose allowance has fully refilled.
    pub fn prune(&self, now_ms: i64) {
        self.tat
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, tat| *tat > now_ms);
    }

    /// Keys held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.tat.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn quota(l: Limit) -> Quota {
    let per = l.window / l.quota.max(1);
    Quota::with_period(per)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(l.burst).unwrap_or(NonZeroU32::MIN))
}

impl Limiter {
    /// Fresh limiters reading `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Limiter {
        let clock = HubClock(clock);
        let limiters = LimitedAction::ALL
            .iter()
            .map(|a| {
                (
                    *a,
                    RateLimiter::dashmap_with_clock(quota(a.limit()), clock.clone()),
                )
            })
            .collect();
        Limiter {
            clock,
            limiters,
            max_keys: DEFAULT_MAX_KEYS,
            last_prune_ms: Default::default(),
            overflowed: Default::default(),
            pulls: PullStore::Memory(PullAllowance::default()),
        }
    }

    /// The same limiters holding at most `max_keys` keys each (at least 1),
    /// in-process pull allowances included.
    pub fn with_max_keys(mut self, max_keys: usize) -> Limiter {
        self.max_keys = max_keys.max(1);
        if let PullStore::Memory(_) = self.pulls {
            self.pulls = PullStore::Memory(PullAllowance::with_max_keys(self.max_keys));
        }
        self
    }

    /// Decisions made on [`OVERFLOW_KEY`] because a limiter was full.
    pub fn overflowed(&self) -> u64 {
        let pulls = match &self.pulls {
            PullStore::Memory(m) => m.overflowed(),
            PullStore::Redis(_) => 0,
        };
        self.overflowed.load(std::sync::atomic::Ordering::Relaxed) + pulls
    }

    /// Keys held by the in-process limiters and pull allowances.
    pub fn keys(&self) -> usize {
        let pulls = match &self.pulls {
            PullStore::Memory(m) => m.len(),
            PullStore::Redis(_) => 0,
        };
        self.limiters.iter().map(|(_, l)| l.len()).sum::<usize>() + pulls
    }

    /// The same limiters with pull allowances kept in `pulls` (e.g. Redis).
    pub fn with_pulls(mut self, pulls: PullStore) -> Limiter {
        self.pulls = pulls;
        self
    }

    /// Counts one `action` for `key`; over the limit answers 429 saying when
    /// to retry (also sent as `Retry-After`).
    pub fn check(&self, action: LimitedAction, key: &str) -> AppResult<()> {
        use governor::clock::Clock as _;
        use std::sync::atomic::Ordering::Relaxed;
        let Some((_, limiter)) = self.limiters.iter().find(|(a, _)| *a == action) else {
            return Ok(());
        };
        // Full: prune (at most once a second), then share the overflow key.
        // Keys already held share it too while the limiter stays full.
        let mut key = key;
        if limiter.len() >= self.max_keys {
            let now = self.clock.now().as_millis() as i64;
            if now - self.last_prune_ms.load(Relaxed) >= 1000 {
                self.last_prune_ms.store(now, Relaxed);
                limiter.retain_recent();
            }
            if limiter.len() >= self.max_keys {
                self.overflowed.fetch_add(1, Relaxed);
                key = OVERFLOW_KEY;
            }
        }
        match limiter.check_key(&key.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(AppError::rate_limited(format!(
                    "Too many {}. Try again in {secs} s.",
                    action.limit().what
                ))
                .with_details(serde_json::json!({ "retry_after": secs })))
            }
        }
    }

    /// Counts one sign-in attempt for `name` (a valid name: only those become
    /// keys) from `ip`: per address, and per account from that address, so
    /// nobody can lock an account out from elsewhere.
    pub fn check_sign_in(&self, name: &str, ip: Option<std::net::IpAddr>) -> AppResult<()> {
        match ip {
            Some(ip) => {
                self.check(LimitedAction::SignInPerAddress, &ip.to_string())?;
                self.check(LimitedAction::SignInPerAccount, &format!("{name}|{ip}"))
            }
            None => self.check(LimitedAction::SignInPerAccount, name),
        }
    }

    /// Forgets keys whose limits have fully recovered (bounds memory).
    pub fn prune(&self) {
        use governor::clock::Clock as _;
        for (_, l) in &self.limiters {
            l.retain_recent();
        }
        self.pulls.prune(self.clock.now().as_millis() as i64);
    }
}

/// The registered job that forgets recovered limiter keys once a minute.
pub const PRUNE: super::jobs::Job = super::jobs::Job {
    name: "limiter-prune",
    every: |_| Duration::from_secs(60),
    run: |s| {
        Box::pin(async move {
            s.limits.prune();
            Ok(0)
        })
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use crate::domain::clock::ManualClock;

    #[test]
    fn sign_in_limit_trips_and_recovers_on_the_clock() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_000_000)));
        let l = Limiter::new(clock.clone());
        for _ in 0..10 {
            assert!(l.check(LimitedAction::SignInPerAccount, "alice").is_ok());
        }
        let e = l
            .check(LimitedAction::SignInPerAccount, "alice")
            .expect_err("11th is refused");
        assert_eq!(e.status(), 429);
        assert_eq!(
            e.details.as_ref().map(|d| d["retry_after"].clone()),
            Some(12.into())
        );
        assert!(l.check(LimitedAction::SignInPerAccount, "bobby").is_ok());
        clock.set(Timestamp(1_000_000 + 12_000));
        assert!(l.check(LimitedAction::SignInPerAccount, "alice").is_ok());
    }

    #[test]
    fn pull_allowance_counts_gets_and_peeks_heads() {
        let p = PullAllowance::default();
        let w = Duration::from_secs(6 * 3600);
        let now = 1_000_000;
        let d = p.decide("ip:1", now, 100, w, false);
        assert_eq!(
            (d.allowed, d.remaining),
            (true, 100),
            "a HEAD consumes nothing"
        );
        for i in 0..100 {
            let d = p.decide("ip:1", now, 100, w, true);
            assert!(d.allowed, "pull {i}");
            assert_eq!(d.remaining, 99 - i);
        }
        let d = p.decide("ip:1", now, 100, w, true);
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, 216, "one pull refills every 6 h / 100");
        assert!(p.decide("ip:2", now, 100, w, true).allowed, "another key");
        // Six hours later the whole allowance is back, and the key can go.
        let later = now + w.as_millis() as i64;
        assert_eq!(p.decide("ip:1", later, 100, w, false).remaining, 100);
        p.prune(later);
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn a_flood_of_new_keys_stays_within_the_cap_and_still_limited() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_000_000)));
        let l = Limiter::new(clock.clone()).with_max_keys(5);
        let refused = (0..1000)
            .filter(|i| {
                l.check(LimitedAction::SignInPerAccount, &format!("user{i}"))
                    .is_err()
            })
            .count();
        assert!(l.keys() <= 6, "{} keys held", l.keys());
        assert_eq!(l.overflowed(), 995, "every key past the fifth shares one");
        assert!(refused >= 900, "the shared key is still limited: {refused}");
        // Once the held keys recover, new keys get their own allowance again.
        clock.set(Timestamp(1_000_000 + 3_600_000));
        assert!(l.check(LimitedAction::SignInPerAccount, "late").is_ok());
        assert_eq!(l.overflowed(), 995);

        let p = PullAllowance::with_max_keys(3);
        let w = Duration::from_secs(6 * 3600);
        for i in 0..50 {
            p.decide(&format!("ip:{i}"), 1_000_000, 100, w, true);
        }
        assert_eq!(p.len(), 4, "three keys and the shared one");
        assert_eq!(p.overflowed(), 47);
        let d = p.decide("ip:new", 1_000_000, 100, w, false);
        assert_eq!(d.remaining, 53, "the newcomer shares the 47 pulls spent");
        // Keys that refilled make room.
        let later = 1_000_000 + w.as_millis() as i64 + 1;
        assert!(p.decide("ip:new", later, 100, w, true).allowed);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn every_action_has_a_sane_row() {
        for a in LimitedAction::ALL {
            let l = a.limit();
            assert!(l.quota > 0 && l.burst > 0 && !l.window.is_zero(), "{a:?}");
        }
    }
}
