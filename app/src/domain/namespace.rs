//! What a namespace is, and a repository as lists show it.

use super::Timestamp;
use serde::{Deserialize, Serialize};

/// A user's personal namespace or an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamespaceKind {
    User,
    Org,
}

impl NamespaceKind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            NamespaceKind::User => "user",
            NamespaceKind::Org => "org",
        }
    }
    /// Reads a stored kind; anything else is an error, never a guess.
    pub fn parse(raw: &str) -> Result<NamespaceKind, String> {
        match raw {
            "user" => Ok(NamespaceKind::User),
            "org" => Ok(NamespaceKind::Org),
            other => Err(format!("unknown namespace kind “{other}”")),
        }
    }
}

impl TryFrom<String> for NamespaceKind {
    type Error = String;
    fn try_from(s: String) -> Result<NamespaceKind, String> {
        NamespaceKind::parse(&s)
    }
}

/// A repository in a list (namespace page, search results, review queue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoSummary {
    pub namespace: String,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub pull_count: i64,
    pub tag_count: i64,
    pub last_pushed_at: Option<Timestamp>,
    /// The namespace's program perks are on (shows the badge).
    pub sponsored: bool,
    /// The 64 px logo (repository → organization), or `None` for the default cube.
    pub small_logo: Option<String>,
}

/// The default logo: a grey 3D cube.
pub const DEFAULT_LOGO_PATH: &str = "/default-logo.svg";

/// The path of a stored logo's `px` variant (`/logos/<hash>-64.png`).
pub fn logo_variant_path(file: &str, px: u32) -> String {
    match file.rsplit_once('.') {
        Some((hash, ext)) => format!("/logos/{hash}-{px}.{ext}"),
        None => DEFAULT_LOGO_PATH.to_string(),
    }
}

/// The logo a list shows: the repository's own while perks are on, else the
/// organization's, else none (the default cube).
pub fn shown_logo_file<'a>(
    repo_file: Option<&'a str>,
    org_file: Option<&'a str>,
    perks_active: bool,
) -> Option<&'a str> {
    repo_file.filter(|_| perks_active).or(org_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_strictly() {
        assert_eq!(NamespaceKind::parse("org"), Ok(NamespaceKind::Org));
        assert_eq!(NamespaceKind::parse("user"), Ok(NamespaceKind::User));
        assert!(NamespaceKind::parse("team").is_err());
    }

    #[test]
    fn logo_fallbacks() {
        assert_eq!(shown_logo_file(Some("r"), Some("o"), true), Some("r"));
        assert_eq!(shown_logo_file(Some("r"), Some("o"), false), Some("o"));
        assert_eq!(shown_logo_file(None, None, true), None);
        assert_eq!(logo_variant_path("ab.png", 64), "/logos/ab-64.png");
    }
}
