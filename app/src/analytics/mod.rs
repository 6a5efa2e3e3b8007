//! Insights and analytics: pull events in (the hub's registry, `POST
//! /api/v1/events`, and a CNCF Distribution registry's notifications),
//! rollups written with them, the namespace's Insights dashboard, the JSON
//! API and the summary and raw CSV exports.
//!
//! Who sees a namespace's numbers: its members (owners and team members), for
//! the repositories they may read, while the sponsorship is active, renewal
//! due or in grace. After that the page explains the perk lapsed and the data
//! is kept. Everyone sees a repository's lifetime pull count on its page.

pub mod api;
#[cfg(feature = "ssr")]
pub mod events;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod synthetic;
pub mod views;

use crate::domain::pulls::{Counts, Day, Series, Span};
use serde::{Deserialize, Serialize};

/// The dashboard's series of everything past its busiest keys.
pub const OTHER_KEY: &str = "Everything else";

/// Why a caller may or may not see a namespace's insights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gate {
    /// Member, perk on.
    Open,
    /// Not signed in, or not a member of the namespace.
    NotMember,
    /// The namespace was never sponsored.
    NotSponsored,
    /// The sponsorship ended on this date (grace over); the data is kept.
    Lapsed { ended: String },
}

impl Gate {
    /// What to tell a caller who is refused (the API's 403 message).
    pub fn refusal(&self, namespace: &str) -> Option<String> {
        match self {
            Gate::Open => None,
            Gate::NotMember => Some(format!(
                "Insights for “{namespace}” are shown to its members only. Sign in with an account that belongs to it."
            )),
            Gate::NotSponsored => Some(format!(
                "Insights and analytics are a perk of the Sponsored Open Source program, and “{namespace}” is not sponsored. Apply from the namespace's Program page."
            )),
            Gate::Lapsed { ended } => Some(format!(
                "The sponsorship of “{namespace}” ended on {ended}, and insights with it. The data is kept: renew from the namespace's Program page to see it again."
            )),
        }
    }
}

/// What the Insights dashboard loads for one span; switching granularity or
/// tag/digest is computed from it in the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Insights {
    pub namespace: String,
    /// Set for a repository's own view.
    pub repository: Option<String>,
    pub gate: Gate,
    pub span: Span,
    /// Today (UTC), for presets.
    pub today: Day,
    /// Days per granularity the retention allows (the longest span).
    pub max_days: i64,
    /// Daily pulls by tag (`repo:tag` in a namespace's view); pulls by
    /// digest have the empty tag. Every event is in it once.
    pub by_tag: Series,
    /// Daily pulls by digest (`repo@sha256:…` in a namespace's view); every
    /// event is in it once too.
    pub by_digest: Series,
    /// Span totals by country code ('' unknown), cloud host ('' none) and tool.
    pub countries: Vec<(String, Counts)>,
    pub hosts: Vec<(String, Counts)>,
    pub tools: Vec<(String, Counts)>,
    /// Unique addresses per day (an address pulling two repositories counts
    /// in each; the secret changes every day, so days are summed).
    pub unique_ips: Vec<(Day, u64)>,
    /// The repositories included (the caller may read them).
    pub repositories: Vec<String>,
}

impl Insights {
    /// Totals over the span, by action.
    pub fn totals(&self) -> Counts {
        let mut c = Counts::default();
        for cell in &self.by_tag.cells {
            if cell.0 >= self.span.from && cell.0 <= self.span.to {
                c.add(cell.2, cell.3);
            }
        }
        c
    }

    /// Unique addresses summed over the span.
    pub fn unique_total(&self) -> u64 {
        self.unique_ips
            .iter()
            .filter(|(d, _)| *d >= self.span.from && *d <= self.span.to)
            .map(|(_, n)| n)
            .sum()
    }
}

/// Country names for the breakdown table (the common ones; others show the code).
pub fn country_name(code: &str) -> &str {
    match code {
        "" => "Unknown",
        "US" => "United States",
        "DE" => "Germany",
        "GB" => "United Kingdom",
        "FR" => "France",
        "NL" => "Netherlands",
        "IN" => "India",
        "CN" => "China",
        "JP" => "Japan",
        "BR" => "Brazil",
        "CA" => "Canada",
        "AU" => "Australia",
        "SE" => "Sweden",
        "IE" => "Ireland",
        "SG" => "Singapore",
        "KR" => "South Korea",
        "FI" => "Finland",
        "PL" => "Poland",
        "ES" => "Spain",
        "IT" => "Italy",
        "CH" => "Switzerland",
        other => other,
    }
}

/// Cloud provider names for the breakdown table.
pub fn host_name(host: &str) -> &str {
    match host {
        "" => "Not a cloud",
        "aws" => "Amazon Web Services",
        "gcp" => "Google Cloud",
        "azure" => "Microsoft Azure",
        "oracle" => "Oracle Cloud",
        "alibaba" => "Alibaba Cloud",
        "digitalocean" => "DigitalOcean",
        other => other,
    }
}
