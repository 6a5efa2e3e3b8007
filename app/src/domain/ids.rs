//! Typed ids, so a user id can never be passed where a repository id is meant.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
    };
}

id_type!(/// A user account.
    UserId);
id_type!(/// A namespace (personal or organization).
    NamespaceId);
id_type!(/// A team inside an organization.
    TeamId);
id_type!(/// A repository.
    RepoId);
id_type!(/// A personal access token.
    TokenId);
id_type!(/// A program application.
    ApplicationId);
id_type!(/// An in-app notification.
    NotificationId);

impl std::fmt::Display for ApplicationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
