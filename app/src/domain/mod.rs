//! Small shared value types: names, ids, rights and time. No IO, so every
//! rule here compiles to wasm and runs in the browser too.

pub mod clock;
pub mod ids;
pub mod names;
pub mod rights;

pub use clock::Timestamp;
pub use names::{Digest, NamespaceName, RepoName, TagName, TeamName};
pub use rights::Rights;
