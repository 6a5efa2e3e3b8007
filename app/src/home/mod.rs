//! The home page: what the hub and the program are, with live numbers.

pub mod api;
#[cfg(feature = "ssr")]
pub mod store;
pub mod views;

use serde::{Deserialize, Serialize};

/// Counts shown on the home page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HubStats {
    pub namespaces: i64,
    pub public_repositories: i64,
    pub tags: i64,
}
