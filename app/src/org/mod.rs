//! Namespaces (personal and organizations), owners, teams and grants.

pub mod api;
#[cfg(feature = "ssr")]
pub mod store;
pub mod views;

pub use crate::domain::NamespaceKind;
use crate::domain::{Membership, RepoSummary, Rights, Timestamp};
use serde::{Deserialize, Serialize};

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
    /// The program membership, if the namespace ever had one.
    #[serde(rename = "program")]
    pub membership: Option<Membership>,
}

/// A team, as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRef {
    pub org: String,
    pub name: String,
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
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OwnedNamespace {
    pub name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: NamespaceKind,
}
