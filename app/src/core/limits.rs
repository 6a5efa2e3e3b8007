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

/// The limiters, one per action.
pub struct Limiter {
    clock: HubClock,
    limiters: Vec<(LimitedAction, Keyed)>,
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
        Limiter { clock, limiters }
    }

    /// Counts one `action` for `key`; over the limit answers 429 saying when
    /// to retry (also sent as `Retry-After`).
    pub fn check(&self, action: LimitedAction, key: &str) -> AppResult<()> {
        let Some((_, limiter)) = self.limiters.iter().find(|(a, _)| *a == action) else {
            return Ok(());
        };
        match limiter.check_key(&key.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                use governor::clock::Clock as _;
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

    /// Forgets keys whose limits have fully recovered (bounds memory).
    pub fn prune(&self) {
        for (_, l) in &self.limiters {
            l.retain_recent();
        }
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
    fn every_action_has_a_sane_row() {
        for a in LimitedAction::ALL {
            let l = a.limit();
            assert!(l.quota > 0 && l.burst > 0 && !l.window.is_zero(), "{a:?}");
        }
    }
}
