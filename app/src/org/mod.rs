//! Namespaces (personal and organizations), owners, teams and grants.

pub mod api;
#[cfg(feature = "ssr")]
pub mod store;
pub mod views;

use crate::domain::{Rights, Timestamp};
use crate::repo::RepoSummary;
use serde::{Deserialize, Serialize};

/// A user's personal namespace or an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamespaceKind {
    User,
    Org,
}

impl NamespaceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NamespaceKind::User => "user",
            NamespaceKind::Org => "org",
        }
    }
}

/// A namespace page's data, as the caller may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamespaceInfo {
    pub name: String,
    pub kind: NamespaceKind,
    pub created_at: Timestamp,
    pub members_count: i64,
    pub owners: Vec<String>,
    /// The caller's rights over the namespace (admin for owners).
    pub viewer_rights: Rights,
    /// Repositories the caller may see.
    pub repositories: Vec<RepoSummary>,
    /// The organization logo's path, if one is set.
    pub logo: Option<String>,
    /// The program membership, if the namespace ever had one.
    pub membership: Option<crate::program::Membership>,
}

/// A team with its members and repository grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamInfo {
    pub name: String,
    pub members: Vec<String>,
    pub grants: Vec<TeamGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamGrant {
    pub repository: String,
    pub rights: Rights,
}

/// A namespace the caller owns, for pickers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedNamespace {
    pub name: String,
    pub kind: NamespaceKind,
}
