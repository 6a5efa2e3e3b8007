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
        let Some(c) = self.civil() else {
            return self.plus_days(365 * years as i64);
        };
        let year = c.year + i64::from(years);
        if !(-MAX_YEAR..=MAX_YEAR).contains(&year) {
            return self;
        }
        let day = c.day.min(days_in_month(year, c.month));
        Timestamp(days_from_civil(year, c.month, day) * DAY_MS + self.0.rem_euclid(DAY_MS))
    }
    /// `2026-11-28`
    pub fn date(self) -> String {
        self.civil()
            .map(|c| format!("{}-{:02}-{:02}", c.year_text(), c.month, c.day))
            .unwrap_or_default()
    }
    /// `2026-11-28 15:04 UTC`
    pub fn date_time(self) -> String {
        self.civil()
            .map(|c| {
                let (y, m, d) = (c.year_text(), c.month, c.day);
                format!("{y}-{m:02}-{d:02} {:02}:{:02} UTC", c.hour, c.minute)
            })
            .unwrap_or_default()
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
    /// RFC 3339, for JSON: `2026-11-28T15:04:05Z`, with the milliseconds
    /// when there are any (`…05.12Z`); empty outside the years 0–9999.
    pub fn rfc3339(self) -> String {
        let Some(c) = self.civil().filter(|c| (0..=MAX_YEAR).contains(&c.year)) else {
            return String::new();
        };
        let mut out = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        );
        if c.milli != 0 {
            let digits = format!("{:03}", c.milli);
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }
    /// Parses RFC 3339: `2026-01-01T00:00:00Z`, any one-byte separator
    /// between date and time, an optional fraction (read to the
    /// millisecond), `Z` or an offset `±hh:mm`; a leap second (`:60`) only
    /// where one can fall, the last second of a month in UTC, read as the
    /// millisecond before the next minute.
    pub fn parse_rfc3339(raw: &str) -> Option<Timestamp> {
        let b = raw.as_bytes();
        let num = |from: usize, len: usize| -> Option<i64> {
            let digits = b.get(from..from + len)?;
            digits.iter().try_fold(0i64, |n, &d| {
                d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
            })
        };
        let lit = |at: usize, c: u8| b.get(at) == Some(&c);
        let year = num(0, 4)?;
        let month = u32::try_from(num(5, 2)?).ok()?;
        let day = u32::try_from(num(8, 2)?).ok()?;
        let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if !(lit(4, b'-') && lit(7, b'-') && b.len() > 10 && lit(13, b':') && lit(16, b':')) {
            return None;
        }
        let mut at = 19;
        let mut nanos: i64 = 0;
        if lit(at, b'.') {
            at += 1;
            let start = at;
            let mut scale = 100_000_000;
            while let Some(d) = b.get(at).filter(|d| d.is_ascii_digit()) {
                nanos += i64::from(d - b'0') * scale;
                scale /= 10;
                at += 1;
            }
            if at == start {
                return None;
            }
        }
        let offset_minutes = match b.get(at)? {
            b'Z' | b'z' => {
                at += 1;
                0
            }
            sign @ (b'+' | b'-') => {
                let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
                if !lit(at + 3, b':') || h > 23 || m > 59 {
                    return None;
                }
                at += 6;
                if *sign == b'-' {
                    -(h * 60 + m)
                } else {
                    h * 60 + m
                }
            }
            _ => return None,
        };
        let leap = second == 60;
        if at != b.len()
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let (second, nanos) = if leap {
            (59, 999_999_999)
        } else {
            (second, nanos)
        };
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
                - offset_minutes * 60;
        let total_nanos = i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
        let t = Timestamp((total_nanos / 1_000_000) as i64);
        if leap {
            // In UTC: 23:59:59 on a month's last day.
            let c = t.civil()?;
            if (c.hour, c.minute, c.second) != (23, 59, 59)
                || c.day != days_in_month(c.year, c.month)
            {
                return None;
            }
        }
        Some(t)
    }
    /// The calendar date and time of day in UTC, for the years -9999 to
    /// 9999.
    fn civil(self) -> Option<Civil> {
        let (year, month, day) = civil_from_days(self.0.div_euclid(DAY_MS));
        let ms = self.0.rem_euclid(DAY_MS);
        (-MAX_YEAR..=MAX_YEAR).contains(&year).then_some(Civil {
            year,
            month,
            day,
            hour: (ms / 3_600_000) as u32,
            minute: (ms / 60_000 % 60) as u32,
            second: (ms / 1000 % 60) as u32,
            milli: (ms % 1000) as u32,
        })
    }
}

/// The last year a [`Timestamp`] is shown in (and the first, negated).
pub(crate) const MAX_YEAR: i64 = 9999;

/// A [`Timestamp`] as a calendar date and a time of day, in UTC.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    milli: u32,
}

impl Civil {
    /// At least four digits, with a sign before the years BC.
    fn year_text(&self) -> String {
        if self.year < 0 {
            format!("-{:04}", -self.year)
        } else {
            format!("{:04}", self.year)
        }
    }
}

// The proleptic Gregorian calendar as day counts, after Howard Hinnant's
// "chrono-compatible low-level date algorithms" (public domain): plain
// integer arithmetic, so the browser build carries no date library. The
// tests check them against the `time` crate.

fn is_leap_year(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap_year(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date (`m` 1–12, `d` 1–31).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month 1–12, day 1–31) `z` days after 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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

    /// What these functions gave when they were written with the `time`
    /// crate: the reference the hand-written calendar must match.
    mod reference {
        use time::format_description::well_known::Rfc3339;
        use time::{Date, OffsetDateTime, macros::format_description};

        fn at(ms: i64) -> Option<OffsetDateTime> {
            OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok()
        }
        pub fn rfc3339(ms: i64) -> String {
            at(ms)
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_default()
        }
        pub fn date(ms: i64) -> String {
            at(ms)
                .and_then(|t| t.format(format_description!("[year]-[month]-[day]")).ok())
                .unwrap_or_default()
        }
        pub fn date_time(ms: i64) -> String {
            let f = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
            at(ms).and_then(|t| t.format(f).ok()).unwrap_or_default()
        }
        pub fn parse(raw: &str) -> Option<i64> {
            OffsetDateTime::parse(raw, &Rfc3339)
                .ok()
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        }
        pub fn plus_years(ms: i64, years: i32) -> i64 {
            let Some(t) = at(ms) else {
                return ms + 365 * years as i64 * super::DAY_MS;
            };
            let y = t.year() + years;
            let date = t
                .date()
                .replace_year(y)
                .or_else(|_| Date::from_calendar_date(y, t.month(), 28))
                .unwrap_or(t.date());
            (t.replace_date(date).unix_timestamp_nanos() / 1_000_000) as i64
        }
    }

    /// Instants spread over the years -10100 to 10100 (a fixed sequence),
    /// and the edges: epoch, leap days, the ends of the representable years.
    fn instants() -> Vec<i64> {
        let span = 10_100 * 366 * DAY_MS;
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut out: Vec<i64> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % (2 * span as u64)) as i64 - span
            })
            .collect();
        for edge in [
            0,
            -1,
            1,
            999,
            -DAY_MS,
            1_709_208_000_000,    // 2024-02-29 12:00
            951_782_400_000,      // 2000-02-29
            253_402_300_799_999,  // 9999-12-31 23:59:59.999
            253_402_300_800_000,  // 10000-01-01
            -62_167_219_200_000,  // 0000-01-01
            -62_167_219_200_001,  // -0001-12-31 23:59:59.999
            -377_705_116_800_000, // -9999-01-01
            -377_705_116_800_001,
        ] {
            out.push(edge);
        }
        out
    }

    #[test]
    fn calendar_matches_the_time_crate() {
        for ms in instants() {
            let t = Timestamp(ms);
            assert_eq!(t.rfc3339(), reference::rfc3339(ms), "rfc3339 of {ms}");
            assert_eq!(t.date(), reference::date(ms), "date of {ms}");
            assert_eq!(t.date_time(), reference::date_time(ms), "date_time of {ms}");
            for years in [1, -1, 4, 100, 9999] {
                assert_eq!(
                    t.plus_years(years).0,
                    reference::plus_years(ms, years),
                    "{ms} plus {years} years"
                );
            }
            let text = t.rfc3339();
            if !text.is_empty() {
                assert_eq!(
                    Timestamp::parse_rfc3339(&text),
                    Some(t),
                    "round trip of {text}"
                );
            }
        }
    }

    #[test]
    fn parsing_matches_the_time_crate() {
        let cases = [
            "2026-01-01T00:00:00Z",
            "2026-01-01t00:00:00z",
            "2026-01-01 00:00:00Z",
            "2026-01-01_00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.5Z",
            "2026-01-01T00:00:00.123456789123Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.999+02:00",
            "2026-01-01T00:00:00-23:59",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00+05:60",
            "2026-01-01T00:00:00+0500",
            "2026-01-01T00:00:00+05:00x",
            "2026-01-01T24:00:00Z",
            "2026-01-01T23:60:00Z",
            "2026-01-01T23:59:61Z",
            "2015-06-30T23:59:60Z",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5Z",
            "2017-01-01T01:59:60+02:00",
            "2016-12-30T23:59:60Z",
            "2016-12-31T22:59:60Z",
            "2024-02-29T12:00:00Z",
            "2023-02-29T12:00:00Z",
            "2100-02-29T12:00:00Z",
            "2000-02-29T12:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "+2026-01-01T00:00:00Z",
            "26-01-01T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "2026/01/01T00:00:00Z",
            "2026-01-01T00-00-00Z",
            "2026-01-01Té0:00:00Z",
            "2026-01-01éT00:00:00Z",
            "2026-01-01",
            "2026-01-01T",
            "",
            "yesterday",
            "２０２６-01-01T00:00:00Z",
        ];
        for raw in cases {
            assert_eq!(
                Timestamp::parse_rfc3339(raw).map(|t| t.0),
                reference::parse(raw),
                "{raw:?}"
            );
        }
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
