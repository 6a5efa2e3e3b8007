//! Who may do what. Rights on a repository are decided here and nowhere else;
//! every server function and REST handler asks [`repository_rights`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// Ordered so that `rights < Rights::Admin` reads as English.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Rights {
    #[default]
    None,
    Read,
    Write,
    Admin,
}

impl Rights {
    pub fn as_str(self) -> &'static str {
        match self {
            Rights::None => "none",
            Rights::Read => "read",
            Rights::Write => "write",
            Rights::Admin => "admin",
        }
    }

    /// Parses a grant or token scope: `read`, `write` or `admin`.
    pub fn parse_grant(s: &str) -> Result<Rights, String> {
        match s.trim() {
            "read" => Ok(Rights::Read),
            "write" => Ok(Rights::Write),
            "admin" => Ok(Rights::Admin),
            other => Err(format!(
                "“{other}” is not a permission: choose read, write or admin."
            )),
        }
    }
}

/// Reads a stored grant or scope; an unknown value is an error, never a guess.
impl TryFrom<String> for Rights {
    type Error = String;
    fn try_from(s: String) -> Result<Rights, String> {
        Rights::parse_grant(&s)
    }
}

impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an access token may do: act with read, write or admin rights, or
/// only send pull events (`ingest`, for a registry's notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    Read,
    Write,
    Admin,
    Ingest,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
            TokenScope::Admin => "admin",
            TokenScope::Ingest => "ingest",
        }
    }

    /// The rights the token carries elsewhere: none for an ingest token.
    pub fn rights(self) -> Rights {
        match self {
            TokenScope::Read => Rights::Read,
            TokenScope::Write => Rights::Write,
            TokenScope::Admin => Rights::Admin,
            TokenScope::Ingest => Rights::None,
        }
    }

    pub fn parse(s: &str) -> Result<TokenScope, String> {
        match s.trim() {
            "read" => Ok(TokenScope::Read),
            "write" => Ok(TokenScope::Write),
            "admin" => Ok(TokenScope::Admin),
            "ingest" => Ok(TokenScope::Ingest),
            other => Err(format!(
                "“{other}” is not a token scope: choose read, write, admin or ingest."
            )),
        }
    }
}

impl TryFrom<String> for TokenScope {
    type Error = String;
    fn try_from(s: String) -> Result<TokenScope, String> {
        TokenScope::parse(&s)
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the rights decision depends on, loaded by the caller.
#[derive(Debug, Clone, Copy, Default)]
pub struct RepoFacts {
    /// The caller is signed in (session or token).
    pub signed_in: bool,
    /// The caller owns the namespace (an org owner, or the user of a personal namespace).
    pub is_namespace_owner: bool,
    /// The highest grant among the caller's teams on this repository.
    pub best_team_grant: Rights,
    /// The repository is private.
    pub is_private: bool,
    /// The scope of the access token used, if the call came with one.
    pub token_scope: Option<Rights>,
}

/// Owner ⇒ admin; otherwise the highest team grant; a public repository gives
/// everyone read. A token never grants more than its scope.
pub fn repository_rights(f: &RepoFacts) -> Rights {
    let base = if !f.signed_in {
        Rights::None
    } else if f.is_namespace_owner {
        Rights::Admin
    } else {
        f.best_team_grant
    };
    let base = match f.token_scope {
        Some(scope) => base.min(scope),
        None => base,
    };
    if f.is_private {
        base
    } else {
        base.max(Rights::Read)
    }
}

/// Rights over a namespace itself: owners administer it (teams, members,
/// new repositories, program applications); anyone else has none.
pub fn namespace_rights(signed_in: bool, is_owner: bool, token_scope: Option<Rights>) -> Rights {
    let base = if signed_in && is_owner {
        Rights::Admin
    } else {
        Rights::None
    };
    match token_scope {
        Some(scope) => base.min(scope),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rights::*;

    #[derive(Clone, Copy, Debug)]
    enum Who {
        Owner,
        AdminTeam,
        WriteTeam,
        ReadTeam,
        MemberNoGrant,
        Outsider,
        Anonymous,
    }

    fn facts(who: Who, is_private: bool) -> RepoFacts {
        let (signed_in, owner, grant) = match who {
            Who::Owner => (true, true, None),
            Who::AdminTeam => (true, false, Admin),
            Who::WriteTeam => (true, false, Write),
            Who::ReadTeam => (true, false, Read),
            Who::MemberNoGrant => (true, false, None),
            Who::Outsider => (true, false, None),
            Who::Anonymous => (false, false, None),
        };
        RepoFacts {
            signed_in,
            is_namespace_owner: owner,
            best_team_grant: grant,
            is_private,
            token_scope: Option::None,
        }
    }

    #[test]
    fn table() {
        let table = [
            (Who::Owner, Admin, Admin),
            (Who::AdminTeam, Admin, Admin),
            (Who::WriteTeam, Write, Write),
            (Who::ReadTeam, Read, Read),
            (Who::MemberNoGrant, Read, None),
            (Who::Outsider, Read, None),
            (Who::Anonymous, Read, None),
        ];
        for (who, public, private) in table {
            assert_eq!(
                repository_rights(&facts(who, false)),
                public,
                "{who:?} public"
            );
            assert_eq!(
                repository_rights(&facts(who, true)),
                private,
                "{who:?} private"
            );
        }
    }

    #[test]
    fn token_scope_caps() {
        let mut f = facts(Who::Owner, true);
        f.token_scope = Some(Read);
        assert_eq!(repository_rights(&f), Read);
        f.token_scope = Some(Write);
        assert_eq!(repository_rights(&f), Write);
        f.is_private = false;
        f.token_scope = Some(Read);
        assert_eq!(repository_rights(&f), Read);
        assert_eq!(namespace_rights(true, true, Some(Write)), Write);
        assert_eq!(namespace_rights(true, false, Option::None), None);
        assert_eq!(namespace_rights(false, true, Option::None), None);
    }

    #[test]
    fn order_reads_as_english() {
        assert!(None < Read && Read < Write && Write < Admin);
        assert_eq!(Rights::parse_grant("write"), Ok(Write));
        assert!(Rights::parse_grant("owner").is_err());
    }
}
