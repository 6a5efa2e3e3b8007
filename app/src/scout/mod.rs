//! iEchor Scout image analysis, per repository: who may switch it on, and the
//! quota (up to 100 repositories for sponsored namespaces, 1 otherwise).

pub mod api;
#[cfg(feature = "ssr")]
pub mod store;
pub mod views;

pub use crate::domain::membership::{SCOUT_LIMIT_DEFAULT, SCOUT_LIMIT_SPONSORED};
use serde::{Deserialize, Serialize};

/// Refuses one more enable when `enabled` already reaches `limit`.
pub fn check_quota(enabled: i64, limit: i64, sponsored: bool) -> Result<(), String> {
    if enabled < limit {
        return Ok(());
    }
    let why = if sponsored {
        format!(
            "sponsored namespaces may enable image analysis on up to {SCOUT_LIMIT_SPONSORED} repositories"
        )
    } else {
        format!(
            "namespaces outside the Sponsored Open Source program may enable image analysis on {SCOUT_LIMIT_DEFAULT} repositor{}",
            if SCOUT_LIMIT_DEFAULT == 1 { "y" } else { "ies" }
        )
    };
    Err(format!(
        "Image analysis is already enabled on {enabled} of {limit} repositories: {why}. Disable it on another repository first."
    ))
}

/// A repository's setting after a change, with the namespace's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoutState {
    pub enabled: bool,
    /// Repositories of the namespace with it on (private ones included).
    pub enabled_in_namespace: i64,
    pub limit: i64,
}

/// A namespace's Scout use, as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoutOverview {
    pub namespace: String,
    /// Repositories with analysis on that the caller may read, by name.
    pub enabled_repositories: Vec<String>,
    /// All repositories with analysis on, private ones included (a count only).
    pub enabled_in_namespace: i64,
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota() {
        assert!(check_quota(0, SCOUT_LIMIT_DEFAULT, false).is_ok());
        assert!(check_quota(1, SCOUT_LIMIT_DEFAULT, false).is_err());
        assert!(check_quota(99, SCOUT_LIMIT_SPONSORED, true).is_ok());
        let e = check_quota(100, SCOUT_LIMIT_SPONSORED, true).expect_err("101st");
        assert!(e.contains("100 of 100") && e.contains("up to 100"), "{e}");
        let e = check_quota(1, SCOUT_LIMIT_DEFAULT, false).expect_err("2nd");
        assert!(e.contains("on 1 repository"), "{e}");
    }
}
