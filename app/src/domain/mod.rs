//! Small shared value types: names, ids, rights, time and membership rules.
//! No IO, so every rule here compiles to wasm and runs in the browser too.

pub mod agent;
pub mod clock;
pub mod ids;
pub mod membership;
pub mod names;
pub mod namespace;
pub mod pulls;
pub mod rights;

pub use clock::Timestamp;
pub use membership::{Membership, MembershipStatus, ProgramRules};
pub use names::{Digest, NamespaceName, RepoName, TagName, TeamName};
pub use namespace::{NamespaceKind, RepoSummary};
pub use rights::Rights;
