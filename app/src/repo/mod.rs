//! Repositories and their tags.

pub mod api;
#[cfg(feature = "ssr")]
pub mod store;
pub mod views;

pub use crate::domain::RepoSummary;
use crate::domain::{Membership, Rights, Timestamp};
use crate::logo::LogoInfo;
use serde::{Deserialize, Serialize};

/// The longest description accepted.
pub const DESCRIPTION_MAX: usize = 300;

/// Checks a repository description: up to 300 characters, one line.
pub fn validate_description(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    let n = t.chars().count();
    if n > DESCRIPTION_MAX {
        return Err(format!(
            "The description is {n} characters; keep it to {DESCRIPTION_MAX}."
        ));
    }
    if t.chars().any(|c| c.is_control()) {
        return Err("The description is one line of text, without control characters.".into());
    }
    Ok(t.to_string())
}

/// A tag: a name pointing at a manifest digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagInfo {
    pub name: String,
    pub digest: String,
    pub pushed_at: Timestamp,
    /// Compressed size (manifest, config and layers), when pushed through the registry.
    #[serde(default)]
    pub size: Option<i64>,
    /// Platforms of a multi-platform image (`linux/amd64`, …).
    #[serde(default)]
    pub platforms: Vec<String>,
    #[serde(default)]
    pub last_pulled_at: Option<Timestamp>,
}

/// The tag a pull command names: `latest` if there is one, else the highest
/// version tag (`v1.10.0` > `1.9`), else the most recently pushed.
pub fn default_tag(tags: &[TagInfo]) -> Option<&TagInfo> {
    tags.iter()
        .find(|t| t.name == "latest")
        .or_else(|| {
            tags.iter()
                .filter_map(|t| version_key(&t.name).map(|k| (k, t)))
                .max_by(|a, b| a.0.cmp(&b.0))
                .map(|(_, t)| t)
        })
        .or_else(|| tags.iter().max_by_key(|t| t.pushed_at))
}

/// A release tag's numbers (`v1.2.3` → [1, 2, 3]); pre-releases and other
/// names (`nightly`, `1.2.3-rc1`) are not versions here.
fn version_key(tag: &str) -> Option<Vec<u64>> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let parts: Option<Vec<u64>> = t.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty() && p.len() <= 4)
}

/// `12.3 MB`: sizes as registries show them (decimal units).
pub fn human_size(bytes: i64) -> String {
    use crate::ui::decimal;
    let b = bytes.max(0) as u64;
    match b {
        1_000_000_000.. => format!("{} GB", decimal(b, 1_000_000_000)),
        1_000_000.. => format!("{} MB", decimal(b, 1_000_000)),
        1_000.. => format!("{} kB", decimal(b, 1_000)),
        b => format!("{b} B"),
    }
}

/// Everything a repository page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoDetail {
    pub namespace: String,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub pull_count: i64,
    pub created_at: Timestamp,
    pub tags: Vec<TagInfo>,
    /// The caller's rights on it.
    pub viewer_rights: Rights,
    /// Sponsored Open Source perks are on for the namespace.
    pub sponsored: bool,
    /// The membership's expiry while perks are on.
    pub sponsored_until: Option<Timestamp>,
    /// The namespace's membership (for the renew banner).
    pub membership: Option<Membership>,
    /// Scout image analysis is enabled.
    pub scout_enabled: bool,
    /// Markdown for the embeddable badge.
    pub badge_markdown: String,
    /// The host clients pull from (`hub.example.org`), for the pull command.
    pub pull_host: String,
    /// The logo shown, resolved through repository → organization → default.
    #[serde(flatten)]
    pub logo: LogoInfo,
    /// The server's clock when this was read (relative times on the page).
    pub now: Timestamp,
    /// The overview as written (Markdown), for its editors.
    #[serde(default)]
    pub overview: String,
    /// The overview rendered to sanitized HTML on the server.
    #[serde(default)]
    pub overview_html: String,
}

/// The longest overview a repository may have, in characters.
pub const OVERVIEW_MAX: usize = 25_000;

/// Checks an overview before it is saved (the editor and the server).
pub fn validate_overview(text: &str) -> Result<(), String> {
    let n = text.chars().count();
    if n > OVERVIEW_MAX {
        return Err(format!(
            "The overview is {n} characters; the most is {OVERVIEW_MAX}."
        ));
    }
    if text.contains('\0') {
        return Err("The overview contains a NUL character.".into());
    }
    Ok(())
}

/// Renders Markdown (CommonMark with tables, strikethrough and task lists)
/// to HTML and sanitizes it: no scripts, styles or event handlers; links get
/// `rel="noopener noreferrer nofollow"`.
#[cfg(feature = "ssr")]
pub fn render_overview(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&out)
        .to_string()
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "ssr")]
    #[test]
    fn overviews_render_and_lose_anything_active() {
        let html = super::render_overview(
            "# Fluent Bit\n\nFast **logs**. [site](https://fluentbit.io)\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[x](javascript:alert(1))",
        );
        assert!(html.contains("<h1>Fluent Bit</h1>"), "{html}");
        assert!(html.contains("<strong>logs</strong>"), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
        assert!(html.contains("<table>"), "{html}");
        for bad in ["<script", "onerror", "javascript:"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(super::validate_overview(&"a".repeat(super::OVERVIEW_MAX)).is_ok());
        assert!(super::validate_overview(&"a".repeat(super::OVERVIEW_MAX + 1)).is_err());
    }

    use super::*;

    #[test]
    fn pull_commands_prefer_latest_then_newest() {
        let tag = |n: &str, at: i64| TagInfo {
            name: n.into(),
            digest: String::new(),
            pushed_at: Timestamp(at),
            size: None,
            platforms: Vec::new(),
            last_pulled_at: None,
        };
        let tags = vec![tag("1.0", 1), tag("2.0", 3), tag("latest", 2)];
        assert_eq!(default_tag(&tags).map(|t| t.name.as_str()), Some("latest"));
        assert_eq!(
            default_tag(&tags[..2]).map(|t| t.name.as_str()),
            Some("2.0")
        );
        assert_eq!(default_tag(&[]), None);
        // The highest version wins over the last pushed; pre-releases and names do not count.
        let tags = vec![
            tag("v1.10.0", 1),
            tag("1.9.9", 5),
            tag("2.0.0-rc1", 6),
            tag("nightly", 7),
        ];
        assert_eq!(default_tag(&tags).map(|t| t.name.as_str()), Some("v1.10.0"));
        let names = vec![tag("nightly", 1), tag("edge", 2)];
        assert_eq!(default_tag(&names).map(|t| t.name.as_str()), Some("edge"));
        assert_eq!(human_size(12_345_678), "12.3 MB");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1_000), "1.0 kB");
        assert_eq!(human_size(1_049), "1.0 kB");
        assert_eq!(human_size(1_050), "1.1 kB");
        assert_eq!(human_size(999_999_999_999), "1000.0 GB");
        assert_eq!(human_size(-5), "0 B");
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            validate_description("  A web server "),
            Ok("A web server".into())
        );
        assert!(validate_description(&"x".repeat(301)).is_err());
        assert!(validate_description(&"x".repeat(300)).is_ok());
        assert!(validate_description("two\nlines").is_err());
    }
}
