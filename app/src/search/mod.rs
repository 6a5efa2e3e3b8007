//! Discoverability: search over public repositories, with a Sponsored OSS
//! filter; sponsored repositories rank first among equally relevant results.

pub mod api;
pub mod views;

use crate::domain::RepoSummary;
use serde::{Deserialize, Serialize};

/// Results per page.
pub const PAGE_SIZE: usize = 20;

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    pub query: String,
    pub open_source_only: bool,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub results: Vec<RepoSummary>,
}

/// How well a repository matches the query (higher is better).
pub fn relevance(query: &str, namespace: &str, name: &str, description: &str) -> u32 {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return 0;
    }
    let full = format!("{namespace}/{name}");
    let mut score = 0;
    if name == q || full == q {
        score += 100;
    } else if name.starts_with(&q) {
        score += 60;
    } else if name.contains(&q) || full.contains(&q) {
        score += 40;
    }
    if namespace.contains(&q) {
        score += 20;
    }
    // The description counts only where the name does not match: among
    // names that match alike, the most pulled comes first, not the one whose
    // text repeats the word.
    if !full.contains(&q) && description.to_lowercase().contains(&q) {
        score += 10;
    }
    score
}

/// Orders hits: relevance, then sponsored first, then pulls, then name.
pub fn rank(query: &str, hits: &mut [RepoSummary]) {
    hits.sort_by(|a, b| {
        let ra = relevance(query, &a.namespace, &a.name, &a.description);
        let rb = relevance(query, &b.namespace, &b.name, &b.description);
        rb.cmp(&ra)
            .then(b.sponsored.cmp(&a.sponsored))
            .then(b.pull_count.cmp(&a.pull_count))
            .then((&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)))
    });
}

/// Reads the filter from the URL: `image_filter=open_source` or `badges=open_source`.
pub fn open_source_filter(image_filter: Option<&str>, badges: Option<&str>) -> bool {
    [image_filter, badges]
        .iter()
        .flatten()
        .any(|v| v.split(',').any(|p| p.trim() == "open_source"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(ns: &str, name: &str, desc: &str, sponsored: bool, pulls: i64) -> RepoSummary {
        RepoSummary {
            namespace: ns.into(),
            name: name.into(),
            description: desc.into(),
            is_private: false,
            pull_count: pulls,
            tag_count: 0,
            last_pushed_at: None,
            sponsored,
            small_logo: None,
        }
    }

    #[test]
    fn sponsored_first_among_equals() {
        let mut hits = vec![
            hit("acme", "logger", "a log shipper", false, 900),
            hit("fluentorg", "logger", "a log shipper", true, 10),
            hit("zed", "log", "exact", false, 0),
            hit("misc", "tools", "includes a logger", true, 0),
        ];
        rank("log", &mut hits);
        let order: Vec<String> = hits
            .iter()
            .map(|h| format!("{}/{}", h.namespace, h.name))
            .collect();
        assert_eq!(
            order,
            vec!["zed/log", "fluentorg/logger", "acme/logger", "misc/tools"]
        );
    }

    #[test]
    fn a_mention_in_the_description_does_not_outrank_pulls() {
        let mut hits = vec![
            hit(
                "fluentorg",
                "fluent-operator",
                "an operator for Fluent Bit",
                true,
                9_085,
            ),
            hit(
                "fluentorg",
                "fluent-bit",
                "logs and metrics processor",
                true,
                38_292,
            ),
            hit("misc", "shipper", "ships to fluent bit", false, 50_000),
            hit("misc", "fluent", "the exact name", false, 0),
        ];
        rank("fluent", &mut hits);
        let order: Vec<&str> = hits.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            order,
            vec!["fluent", "fluent-bit", "fluent-operator", "shipper"]
        );
        assert_eq!(
            relevance("fluent", "misc", "shipper", "ships to Fluent bit"),
            10
        );
    }

    #[test]
    fn filter_from_url() {
        assert!(open_source_filter(Some("open_source"), None));
        assert!(open_source_filter(None, Some("official,open_source")));
        assert!(!open_source_filter(Some("official"), None));
        assert!(!open_source_filter(None, None));
    }
}
