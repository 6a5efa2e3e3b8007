//! Business time. Every rule that depends on "now" takes a [`Timestamp`] from a
//! [`Clock`] passed in, so tests can move time a year ahead.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC. Stored as an integer in both
/// databases; in JSON (REST and server functions alike) an RFC 3339 string,
/// so every type that carries one has a single JSON shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&raw)
            .ok_or_else(|| serde::de::Error::custom(format!("“{raw}” is not an RFC 3339 time")))
    }
}

/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl Timestamp {
    pub fn millis(self) -> i64 {
        self.0
    }
    pub fn plus_days(self, days: i64) -> Timestamp {
        Timestamp(self.0 + days * DAY_MS)
    }
    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0 + ms)
    }
    /// The same instant `years` calendar years later (29 February becomes 28 February).
    pub fn plus_years(self, years: i32) -> Timestamp {
        let Some(t) = self.to_offset() else {
            return self.plus_days(365 * years as i64);
        };
        let y = t.year() + years;
        let date = t
            .date()
            .replace_year(y)
            .or_else(|_| time::Date::from_calendar_date(y, t.month(), 28))
            .unwrap_or(t.date());
        let shifted = t.replace_date(date);
        Timestamp((shifted.unix_timestamp_nanos() / 1_000_000) as i64)
    }
    /// `2026-11-28`
    pub fn date(self) -> String {
        self.format(time::macros::format_description!("[year]-[month]-[day]"))
    }
    /// `2026-11-28 15:04 UTC`
    pub fn date_time(self) -> String {
        self.format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
    }
    /// How long ago, as people say it: `just now`, `5 minutes ago`,
    /// `3 days ago`, `2 months ago`, `in 4 days`.
    pub fn ago(self, now: Timestamp) -> String {
        let diff = now.0 - self.0;
        let (n, unit) = match diff.unsigned_abs() / 1000 {
            s if s < 60 => return "just now".into(),
            s if s < 3600 => (s / 60, "minute"),
            s if s < 86_400 => (s / 3600, "hour"),
            s if s < 30 * 86_400 => (s / 86_400, "day"),
            s if s < 365 * 86_400 => (s / (30 * 86_400), "month"),
            s => (s / (365 * 86_400), "year"),
        };
        let what = format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        if diff >= 0 {
            format!("{what} ago")
        } else {
            format!("in {what}")
        }
    }
    /// RFC 3339, for JSON.
    pub fn rfc3339(self) -> String {
        self.to_offset()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }
    /// Parses RFC 3339 (`2026-01-01T00:00:00Z`, offsets and fractions allowed).
    pub fn parse_rfc3339(raw: &str) -> Option<Timestamp> {
        time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64))
    }
    fn to_offset(self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000).ok()
    }
    fn format(self, f: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
        self.to_offset()
            .and_then(|t| t.format(f).ok())
            .unwrap_or_default()
    }
}

/// The source of "now".
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp(ms)
    }
}

/// A clock tests set and move by hand.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        ManualClock(std::sync::atomic::AtomicI64::new(at.0))
    }
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.0, std::sync::atomic::Ordering::SeqCst);
    }
    pub fn advance_days(&self, days: i64) {
        self.0
            .fetch_add(days * DAY_MS, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        let t = Timestamp(1_764_342_000_000); // 2025-11-28 15:00 UTC
        assert_eq!(t.date(), "2025-11-28");
        assert_eq!(t.date_time(), "2025-11-28 15:00 UTC");
        assert_eq!(t.rfc3339(), "2025-11-28T15:00:00Z");
    }

    #[test]
    fn years_are_calendar_years() {
        let t = Timestamp(1_764_342_000_000); // 2025-11-28 15:00
        assert_eq!(t.plus_years(1).date_time(), "2026-11-28 15:00 UTC");
        let leap = Timestamp(1_709_208_000_000); // 2024-02-29 12:00
        assert_eq!(leap.date(), "2024-02-29");
        assert_eq!(leap.plus_years(1).date(), "2025-02-28");
    }

    #[test]
    fn json_is_rfc3339_and_round_trips() {
        let t = Timestamp(1_764_342_000_123);
        let j = serde_json::to_string(&t).expect("ser");
        assert_eq!(j, "\"2025-11-28T15:00:00.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&j).expect("de"), t);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }

    #[test]
    fn manual_clock_moves() {
        let c = ManualClock::new(Timestamp(0));
        c.advance_days(2);
        assert_eq!(c.now(), Timestamp(2 * DAY_MS));
    }

    #[test]
    fn relative_times() {
        let now = Timestamp(1_767_225_600_000);
        assert_eq!(now.plus_millis(-30_000).ago(now), "just now");
        assert_eq!(now.plus_millis(-60_000).ago(now), "1 minute ago");
        assert_eq!(now.plus_millis(-5 * 3_600_000).ago(now), "5 hours ago");
        assert_eq!(now.plus_days(-1).ago(now), "1 day ago");
        assert_eq!(now.plus_days(-45).ago(now), "1 month ago");
        assert_eq!(now.plus_days(-800).ago(now), "2 years ago");
        assert_eq!(now.plus_days(4).ago(now), "in 4 days");
    }
}
