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
    /// The logo shown, resolved through repository → organization → default.
    #[serde(flatten)]
    pub logo: LogoInfo,
}

#[cfg(test)]
mod tests {
    use super::*;

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
