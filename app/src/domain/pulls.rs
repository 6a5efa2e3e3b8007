//! Pull analytics as values: the three actions, UTC days, periods (day, week
//! Monday–Sunday, month), spans and the bucketing of daily counts. No IO: the
//! server's JSON API and the browser's dashboard bucket with the same code, so
//! switching granularity in the browser needs no round trip and shows the
//! numbers the API and the exports give.

use super::clock::{MAX_YEAR, civil_from_days, days_from_civil, days_in_month};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a manifest request was, as Docker Hub counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A manifest GET by tag.
    PullByTag,
    /// A manifest GET by digest.
    PullByDigest,
    /// A manifest HEAD (a client checking for a newer version).
    VersionCheck,
}

impl Action {
    pub const ALL: [Action; 3] = [
        Action::PullByTag,
        Action::PullByDigest,
        Action::VersionCheck,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::PullByTag => "pull_by_tag",
            Action::PullByDigest => "pull_by_digest",
            Action::VersionCheck => "version_check",
        }
    }

    pub fn parse(s: &str) -> Result<Action, String> {
        match s {
            "pull_by_tag" => Ok(Action::PullByTag),
            "pull_by_digest" => Ok(Action::PullByDigest),
            "version_check" => Ok(Action::VersionCheck),
            other => Err(format!(
                "“{other}” is not an action: use pull_by_tag, pull_by_digest or version_check."
            )),
        }
    }

    /// What a manifest request was: HEAD is a version check, GET a pull.
    pub fn of_request(head: bool, by_tag: bool) -> Action {
        match (head, by_tag) {
            (true, _) => Action::VersionCheck,
            (false, true) => Action::PullByTag,
            (false, false) => Action::PullByDigest,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::PullByTag => "Pulls by tag",
            Action::PullByDigest => "Pulls by digest",
            Action::VersionCheck => "Version checks",
        }
    }

    /// Counts as a pull (a GET), not a version check.
    pub fn is_pull(self) -> bool {
        self != Action::VersionCheck
    }
}

/// Reads a stored action; an unknown value is an error, never a guess.
impl TryFrom<String> for Action {
    type Error = String;
    fn try_from(s: String) -> Result<Action, String> {
        Action::parse(&s)
    }
}

/// UTC days since 1970-01-01.
pub type Day = i64;

/// The UTC day of an instant (milliseconds since the epoch).
pub fn day_of_millis(ms: i64) -> Day {
    ms.div_euclid(super::clock::DAY_MS)
}

/// The calendar date (year, month 1–12, day) of a day, for the years
/// -9999 to 9999 (the calendar arithmetic is `clock`'s).
fn date_of(day: Day) -> Option<(i64, u32, u32)> {
    let (y, m, d) = civil_from_days(day);
    (-MAX_YEAR..=MAX_YEAR).contains(&y).then_some((y, m, d))
}

/// `2026-11-30`
pub fn format_day(day: Day) -> String {
    date_of(day)
        .map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
        .unwrap_or_default()
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Result<Day, String> {
    let bad = || format!("“{s}” is not a date: write it as YYYY-MM-DD, e.g. 2026-11-30.");
    let mut parts = s.trim().splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    let d: u8 = d.parse().map_err(|_| bad())?;
    let (y, m, d) = (i64::from(y), u32::from(m), u32::from(d));
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d))
}

/// How counts are bucketed over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    #[default]
    Day,
    /// Monday to Sunday.
    Week,
    /// Calendar month.
    Month,
}

impl Granularity {
    pub const ALL: [Granularity; 3] = [Granularity::Day, Granularity::Week, Granularity::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Result<Granularity, String> {
        match s {
            "day" => Ok(Granularity::Day),
            "week" => Ok(Granularity::Week),
            "month" => Ok(Granularity::Month),
            other => Err(format!(
                "“{other}” is not a granularity: use day, week or month."
            )),
        }
    }

    /// The first day of the period holding `day`.
    pub fn start(self, day: Day) -> Day {
        match self {
            Granularity::Day => day,
            // 1970-01-01 was a Thursday: day 4 is Monday 1970-01-05.
            Granularity::Week => day - (day - 4).rem_euclid(7),
            Granularity::Month => date_of(day)
                .map(|(y, m, _)| days_from_civil(y, m, 1))
                .unwrap_or(day),
        }
    }

    /// The last day of the period holding `day`.
    pub fn end(self, day: Day) -> Day {
        match self {
            Granularity::Day => day,
            Granularity::Week => self.start(day) + 6,
            Granularity::Month => date_of(day)
                .map(|(y, m, _)| days_from_civil(y, m, days_in_month(y, m)))
                .unwrap_or(day),
        }
    }
}

/// The preset time spans of the dashboard.
pub const PRESETS: [(&str, &str); 5] = [
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("6m", "Last 6 months"),
    ("12m", "Last 12 months"),
];

/// A closed range of UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub from: Day,
    pub to: Day,
}

impl Span {
    /// The span a preset names, ending today.
    pub fn preset(name: &str, today: Day) -> Option<Span> {
        let days = match name {
            "7d" => 7,
            "30d" => 30,
            "90d" => 90,
            "6m" => 182,
            "12m" => 365,
            _ => return None,
        };
        Some(Span {
            from: today - days + 1,
            to: today,
        })
    }

    /// Reads `span` (a preset) or `from`/`to` (dates), the way URLs and the
    /// API give them; the default is the last 30 days. `max_days` bounds the
    /// length (the raw retention).
    pub fn from_query(
        span: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        today: Day,
        max_days: i64,
    ) -> Result<Span, SpanError> {
        let from = from.map(str::trim).filter(|s| !s.is_empty());
        let to = to.map(str::trim).filter(|s| !s.is_empty());
        let s = match (span.map(str::trim).filter(|s| !s.is_empty()), from, to) {
            (_, Some(f), t) => {
                let from = parse_day(f).map_err(|m| SpanError::field("from", m))?;
                let to = match t {
                    Some(t) => parse_day(t).map_err(|m| SpanError::field("to", m))?,
                    None => today,
                };
                Span { from, to }
            }
            (_, None, Some(_)) => {
                return Err(SpanError::field(
                    "from",
                    "Give the first day of the span too (from=YYYY-MM-DD).".into(),
                ));
            }
            (Some(name), None, None) => Span::preset(name, today).ok_or_else(|| {
                SpanError::field(
                    "span",
                    format!("“{name}” is not a time span: use 7d, 30d, 90d, 6m or 12m, or give from and to."),
                )
            })?,
            (None, None, None) => Span::preset("30d", today).unwrap_or(Span { from: today, to: today }),
        };
        s.check(today, max_days)?;
        Ok(s)
    }

    /// Refuses spans that end before they start, start in the future or are
    /// longer than `max_days`.
    pub fn check(self, today: Day, max_days: i64) -> Result<(), SpanError> {
        if self.from > self.to {
            return Err(SpanError::field(
                "to",
                format!(
                    "The span ends ({}) before it starts ({}).",
                    format_day(self.to),
                    format_day(self.from)
                ),
            ));
        }
        if self.from > today {
            return Err(SpanError::field(
                "from",
                format!("The span starts in the future ({}).", format_day(self.from)),
            ));
        }
        if self.days() > max_days {
            return Err(SpanError::field(
                "from",
                format!(
                    "The span is {} days long; the longest is {max_days} days.",
                    self.days()
                ),
            ));
        }
        Ok(())
    }

    pub fn days(self) -> i64 {
        self.to - self.from + 1
    }

    /// The name for files: `2026-11-01_2026-11-30`.
    pub fn slug(self) -> String {
        format!("{}_{}", format_day(self.from), format_day(self.to))
    }
}

/// A refused span, naming the query field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanError {
    pub field: &'static str,
    pub message: String,
}

impl SpanError {
    fn field(field: &'static str, message: String) -> SpanError {
        SpanError { field, message }
    }
}

/// What the counts are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    #[default]
    Tag,
    Digest,
    Country,
    Host,
    Tool,
    Action,
}

impl GroupBy {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Tag => "tag",
            GroupBy::Digest => "digest",
            GroupBy::Country => "country",
            GroupBy::Host => "host",
            GroupBy::Tool => "tool",
            GroupBy::Action => "action",
        }
    }

    pub fn parse(s: &str) -> Result<GroupBy, String> {
        match s {
            "tag" => Ok(GroupBy::Tag),
            "digest" => Ok(GroupBy::Digest),
            "country" => Ok(GroupBy::Country),
            "host" => Ok(GroupBy::Host),
            "tool" => Ok(GroupBy::Tool),
            "action" => Ok(GroupBy::Action),
            other => Err(format!(
                "“{other}” cannot group pulls: use tag, digest, country, host, tool or action."
            )),
        }
    }
}

/// Pulls of one key on one day: `[day, key index, action, count]` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell(pub Day, pub u32, pub Action, pub u64);

/// Counts of the three actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub pulls_by_tag: u64,
    pub pulls_by_digest: u64,
    pub version_checks: u64,
}

impl Counts {
    pub fn add(&mut self, action: Action, n: u64) {
        match action {
            Action::PullByTag => self.pulls_by_tag += n,
            Action::PullByDigest => self.pulls_by_digest += n,
            Action::VersionCheck => self.version_checks += n,
        }
    }
    /// GETs: pulls by tag and by digest.
    pub fn pulls(&self) -> u64 {
        self.pulls_by_tag + self.pulls_by_digest
    }
    pub fn total(&self) -> u64 {
        self.pulls() + self.version_checks
    }
}

/// Daily cells of one grouping, with the names their indexes point at.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Series {
    pub keys: Vec<String>,
    pub cells: Vec<Cell>,
}

/// One period of one key, after bucketing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    pub period_start: String,
    pub period_end: String,
    pub key: String,
    #[serde(flatten)]
    pub counts: Counts,
}

impl Series {
    /// Builds a series from `(day, key, action, count)` rows in any order.
    pub fn from_rows<K: AsRef<str>>(
        rows: impl IntoIterator<Item = (Day, K, Action, u64)>,
    ) -> Series {
        let mut index: BTreeMap<String, u32> = BTreeMap::new();
        let mut s = Series::default();
        for (day, key, action, n) in rows {
            let k = match index.get(key.as_ref()) {
                Some(k) => *k,
                None => {
                    let k = s.keys.len() as u32;
                    s.keys.push(key.as_ref().to_owned());
                    index.insert(key.as_ref().to_owned(), k);
                    k
                }
            };
            s.cells.push(Cell(day, k, action, n));
        }
        s
    }

    /// Totals per key over the whole series, largest first (ties by name).
    pub fn totals(&self) -> Vec<(String, Counts)> {
        let mut t = vec![Counts::default(); self.keys.len()];
        for c in &self.cells {
            if let Some(slot) = t.get_mut(c.1 as usize) {
                slot.add(c.2, c.3);
            }
        }
        let mut out: Vec<(String, Counts)> = self.keys.iter().cloned().zip(t).collect();
        out.sort_by(|a, b| b.1.total().cmp(&a.1.total()).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Counts per period (within `span`) and key: `(period start, key index) → counts`.
    pub fn bucket(&self, g: Granularity, span: Span) -> BTreeMap<(Day, u32), Counts> {
        let mut out: BTreeMap<(Day, u32), Counts> = BTreeMap::new();
        for c in self
            .cells
            .iter()
            .filter(|c| c.0 >= span.from && c.0 <= span.to)
        {
            out.entry((g.start(c.0), c.1)).or_default().add(c.2, c.3);
        }
        out
    }

    /// The periods of a span, in order: `(start, end)` clipped to the span.
    pub fn periods(g: Granularity, span: Span) -> Vec<(Day, Day)> {
        let mut out = Vec::new();
        let mut d = g.start(span.from);
        while d <= span.to {
            let end = g.end(d);
            out.push((d.max(span.from), end.min(span.to)));
            d = end + 1;
        }
        out
    }

    /// Points for the JSON API: every period and key with pulls, in order.
    pub fn points(&self, g: Granularity, span: Span) -> Vec<Point> {
        self.bucket(g, span)
            .into_iter()
            .map(|((start, k), counts)| Point {
                period_start: format_day(start.max(span.from)),
                period_end: format_day(g.end(start).min(span.to)),
                key: self.keys.get(k as usize).cloned().unwrap_or_default(),
                counts,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Day {
        parse_day(s).unwrap()
    }

    #[test]
    fn days_round_trip() {
        assert_eq!(d("1970-01-01"), 0);
        assert_eq!(format_day(0), "1970-01-01");
        assert_eq!(format_day(d("2026-11-30")), "2026-11-30");
        assert_eq!(day_of_millis(-1), -1);
        assert!(parse_day("2026-02-30").is_err());
        assert!(parse_day("2026-1-3").is_err());
        assert!(parse_day("yesterday").is_err());
    }

    #[test]
    fn weeks_run_monday_to_sunday_across_year_ends() {
        // 2026-01-01 is a Thursday: its week starts Monday 2025-12-29.
        assert_eq!(Granularity::Week.start(d("2026-01-01")), d("2025-12-29"));
        assert_eq!(Granularity::Week.end(d("2026-01-01")), d("2026-01-04"));
        // A Monday starts its own week; a Sunday ends it.
        assert_eq!(Granularity::Week.start(d("2024-12-30")), d("2024-12-30"));
        assert_eq!(Granularity::Week.start(d("2025-01-05")), d("2024-12-30"));
        assert_eq!(Granularity::Week.start(d("1970-01-01")), d("1969-12-29"));
        for day in d("2020-01-01")..d("2030-01-01") {
            let s = Granularity::Week.start(day);
            assert!(s <= day && day - s < 7);
            let (y, m, dd) = date_of(s).unwrap();
            let date =
                time::Date::from_calendar_date(y as i32, (m as u8).try_into().unwrap(), dd as u8);
            assert_eq!(date.unwrap().weekday(), time::Weekday::Monday);
        }
    }

    #[test]
    fn months_follow_the_calendar() {
        assert_eq!(Granularity::Month.start(d("2026-12-31")), d("2026-12-01"));
        assert_eq!(Granularity::Month.end(d("2026-12-15")), d("2026-12-31"));
        assert_eq!(Granularity::Month.end(d("2024-02-10")), d("2024-02-29"));
        assert_eq!(Granularity::Month.end(d("2025-02-10")), d("2025-02-28"));
        assert_eq!(Granularity::Month.start(d("2027-01-01")), d("2027-01-01"));
        let p = Series::periods(
            Granularity::Month,
            Span {
                from: d("2025-12-15"),
                to: d("2026-02-03"),
            },
        );
        assert_eq!(
            p,
            vec![
                (d("2025-12-15"), d("2025-12-31")),
                (d("2026-01-01"), d("2026-01-31")),
                (d("2026-02-01"), d("2026-02-03"))
            ]
        );
    }

    #[test]
    fn spans_are_checked() {
        let today = d("2026-11-30");
        let s = Span::from_query(Some("7d"), None, None, today, 400).unwrap();
        assert_eq!((s.from, s.to), (d("2026-11-24"), today));
        assert_eq!(s.days(), 7);
        let e = Span::from_query(None, Some("2026-11-10"), Some("2026-11-01"), today, 400);
        assert_eq!(e.unwrap_err().field, "to");
        let e = Span::from_query(None, Some("2020-01-01"), Some("2026-11-01"), today, 400);
        assert!(e.unwrap_err().message.contains("longest is 400 days"));
        assert!(Span::from_query(Some("3w"), None, None, today, 400).is_err());
        assert!(Span::from_query(None, Some("2026-12-24"), None, today, 400).is_err());
        assert_eq!(
            Span::from_query(None, None, None, today, 400)
                .unwrap()
                .days(),
            30
        );
    }

    #[test]
    fn bucketing_sums_every_cell_once() {
        let s = Series::from_rows([
            (d("2025-12-31"), "latest", Action::PullByTag, 3),
            (d("2026-01-01"), "latest", Action::PullByTag, 4),
            (d("2026-01-01"), "1.0", Action::VersionCheck, 2),
            (d("2026-01-05"), "latest", Action::PullByDigest, 1),
        ]);
        let span = Span {
            from: d("2025-12-01"),
            to: d("2026-01-31"),
        };
        let weeks = s.points(Granularity::Week, span);
        assert_eq!(weeks[0].period_start, "2025-12-29");
        assert_eq!(weeks[0].period_end, "2026-01-04");
        assert_eq!(weeks[0].counts.pulls_by_tag, 7);
        let months = s.points(Granularity::Month, span);
        let total: u64 = months.iter().map(|p| p.counts.total()).sum();
        assert_eq!(total, 10);
        assert_eq!(months[0].period_start, "2025-12-01");
        assert_eq!(
            s.totals()[0],
            (
                "latest".to_string(),
                Counts {
                    pulls_by_tag: 7,
                    pulls_by_digest: 1,
                    version_checks: 0
                }
            )
        );
    }

    #[test]
    fn actions_parse_strictly() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Ok(a));
        }
        assert!(Action::parse("push").is_err());
        assert_eq!(Action::of_request(true, true), Action::VersionCheck);
        assert_eq!(Action::of_request(false, false), Action::PullByDigest);
    }
}
