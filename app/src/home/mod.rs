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

/// One of the signed-in user's namespaces, as their home page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyNamespace {
    pub name: String,
    pub is_org: bool,
    pub repositories: i64,
    pub membership: Option<crate::domain::Membership>,
    /// An application waiting for review (`submitted`) or for the owner
    /// (`changes_requested`), and whether it is a renewal.
    pub open_application: Option<(String, bool)>,
}

/// The signed-in home: your namespaces and their program status, what waits
/// for you, the latest notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyHome {
    pub user: String,
    pub namespaces: Vec<MyNamespace>,
    /// Staff: applications waiting in the review queue.
    pub review_waiting: Option<i64>,
    pub inbox: crate::core::notify::Inbox,
}
