//! A program membership's time rules: one year at a time, a renewal window
//! before expiry and a grace period after it. The status is derived from the
//! dates and the clock, never stored, so every perk agrees on it.

use super::Timestamp;
use super::clock::DAY_MS;
use serde::{Deserialize, Serialize};

/// The program's time rules (days), configurable by the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramRules {
    /// A tag pushed to a public repository within this many days counts as active development.
    pub activity_days: i64,
    /// Renewal opens this many days before expiry.
    pub renewal_window_days: i64,
    /// Perks keep working this many days after expiry.
    pub grace_days: i64,
}

impl Default for ProgramRules {
    fn default() -> Self {
        ProgramRules {
            activity_days: 180,
            renewal_window_days: 45,
            grace_days: 14,
        }
    }
}

/// Scout image analysis: a sponsored namespace may enable it on this many
/// repositories...
pub const SCOUT_LIMIT_SPONSORED: i64 = 100;
/// ...and any other namespace on this many.
pub const SCOUT_LIMIT_DEFAULT: i64 = 1;

/// A membership's state, derived from its expiry and the clock (never stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    Active,
    RenewalDue,
    Grace,
    Expired,
}

impl MembershipStatus {
    /// The wire name (`renewal_due`).
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Active => "active",
            MembershipStatus::RenewalDue => "renewal_due",
            MembershipStatus::Grace => "grace",
            MembershipStatus::Expired => "expired",
        }
    }
    /// Perks (badge, logos, insights, Scout quota, no rate limits) are on.
    pub fn perks_active(self) -> bool {
        !matches!(self, MembershipStatus::Expired)
    }
    /// An owner may renew now.
    pub fn can_renew(self) -> bool {
        matches!(self, MembershipStatus::RenewalDue | MembershipStatus::Grace)
    }
    /// How pages name it.
    pub fn label(self) -> &'static str {
        match self {
            MembershipStatus::Active => "Active",
            MembershipStatus::RenewalDue => "Renewal due",
            MembershipStatus::Grace => "Expired — in grace period",
            MembershipStatus::Expired => "Expired",
        }
    }
}

/// active → renewal_due from `renewal_window_days` before expiry → grace for
/// `grace_days` after expiry → expired.
pub fn membership_status(
    expires_at: Timestamp,
    now: Timestamp,
    rules: &ProgramRules,
) -> MembershipStatus {
    if now.0 < expires_at.0 - rules.renewal_window_days * DAY_MS {
        MembershipStatus::Active
    } else if now.0 < expires_at.0 {
        MembershipStatus::RenewalDue
    } else if now.0 < expires_at.0 + rules.grace_days * DAY_MS {
        MembershipStatus::Grace
    } else {
        MembershipStatus::Expired
    }
}

/// A membership as shown: dates and derived status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub starts_at: Timestamp,
    pub expires_at: Timestamp,
    pub status: MembershipStatus,
    /// When renewal opens.
    pub renewal_opens_at: Timestamp,
    /// When perks stop.
    pub grace_ends_at: Timestamp,
}

impl Membership {
    /// The membership of a term `starts_at..expires_at` as of `now`.
    pub fn derive(
        starts_at: Timestamp,
        expires_at: Timestamp,
        now: Timestamp,
        rules: &ProgramRules,
    ) -> Membership {
        Membership {
            starts_at,
            expires_at,
            status: membership_status(expires_at, now, rules),
            renewal_opens_at: Timestamp(expires_at.0 - rules.renewal_window_days * DAY_MS),
            grace_ends_at: Timestamp(expires_at.0 + rules.grace_days * DAY_MS),
        }
    }

    /// Whole days from `now` until expiry, rounded up (0 on the day itself).
    pub fn days_left(&self, now: Timestamp) -> i64 {
        let ms = self.expires_at.0 - now.0;
        if ms <= 0 {
            0
        } else {
            (ms + DAY_MS - 1) / DAY_MS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_767_225_600_000);

    #[test]
    fn status_across_a_year_day_by_day() {
        let rules = ProgramRules::default();
        let expires = T0.plus_days(365);
        for day in 0..=400 {
            let now = T0.plus_days(day);
            let s = membership_status(expires, now, &rules);
            let want = if day < 365 - 45 {
                MembershipStatus::Active
            } else if day < 365 {
                MembershipStatus::RenewalDue
            } else if day < 365 + 14 {
                MembershipStatus::Grace
            } else {
                MembershipStatus::Expired
            };
            assert_eq!(s, want, "day {day}");
            assert_eq!(s.perks_active(), day < 379, "perks on day {day}");
        }
        // Exact boundaries, to the millisecond.
        let at = |ms: i64| membership_status(expires, Timestamp(ms), &rules);
        let due = expires.0 - 45 * DAY_MS;
        assert_eq!(at(due - 1), MembershipStatus::Active);
        assert_eq!(at(due), MembershipStatus::RenewalDue);
        assert_eq!(at(expires.0 - 1), MembershipStatus::RenewalDue);
        assert_eq!(at(expires.0), MembershipStatus::Grace);
        let end = expires.0 + 14 * DAY_MS;
        assert_eq!(at(end - 1), MembershipStatus::Grace);
        assert_eq!(at(end), MembershipStatus::Expired);
        // A different grace period is honoured.
        let long = ProgramRules {
            grace_days: 30,
            ..rules
        };
        assert_eq!(
            membership_status(expires, Timestamp(end), &long),
            MembershipStatus::Grace
        );
    }

    #[test]
    fn days_left_come_from_the_dates() {
        let rules = ProgramRules::default();
        let m = Membership::derive(T0, T0.plus_days(20), T0, &rules);
        assert_eq!(m.days_left(T0), 20);
        assert_eq!(m.days_left(T0.plus_millis(1)), 20);
        assert_eq!(m.days_left(T0.plus_days(20)), 0);
    }
}
