//! Name rules, parsed once: a value of these types is always valid. The same
//! parsers run in the browser (live form feedback) and on the server.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A namespace name (user or organization): 4–30 lowercase letters and digits,
/// as on Docker Hub.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NamespaceName(String);

impl NamespaceName {
    pub const MIN: usize = 4;
    pub const MAX: usize = 30;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("Enter a name: 4 to 30 lowercase letters and digits.".into());
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        {
            let hint = if c.is_ascii_uppercase() {
                " Use lowercase letters."
            } else {
                ""
            };
            return Err(format!(
                "“{c}” is not allowed: a namespace uses only lowercase letters a–z and digits 0–9.{hint}"
            ));
        }
        let n = s.chars().count();
        if n < Self::MIN {
            return Err(format!(
                "“{s}” is {n} characters; a namespace needs at least {}.",
                Self::MIN
            ));
        }
        if n > Self::MAX {
            return Err(format!(
                "The name is {n} characters; a namespace has at most {}.",
                Self::MAX
            ));
        }
        Ok(NamespaceName(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A repository name: 2–255 characters of the OCI distribution spec's path
/// component grammar `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoName(String);

impl RepoName {
    pub const MIN: usize = 2;
    pub const MAX: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("Enter a repository name.".into());
        }
        let n = s.len();
        if n < Self::MIN {
            return Err(format!(
                "“{s}” is {n} character; a repository name needs at least {}.",
                Self::MIN
            ));
        }
        if n > Self::MAX {
            return Err(format!(
                "The name is {n} characters; a repository name has at most {}.",
                Self::MAX
            ));
        }
        if let Some(c) = s.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        }) {
            return Err(format!(
                "“{c}” is not allowed: use lowercase letters, digits, and the separators . _ __ -"
            ));
        }
        if !path_component(s) {
            return Err(
                "A repository name starts and ends with a letter or digit, and separators (., _, __ or dashes) stand between letters or digits."
                    .into(),
            );
        }
        Ok(RepoName(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut i = 0;
    loop {
        // one or more alphanumerics
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        // a separator
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// A tag: the OCI grammar `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TagName(String);

impl TagName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("Enter a tag, such as `latest` or `1.2.0`.".into());
        }
        if s.len() > 128 {
            return Err(format!("The tag is {} characters; at most 128.", s.len()));
        }
        let b = s.as_bytes();
        if !(b[0].is_ascii_alphanumeric() || b[0] == b'_') {
            return Err("A tag starts with a letter, a digit or an underscore.".into());
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!(
                "“{c}” is not allowed in a tag: use letters, digits, '.', '_' and '-'."
            ));
        }
        Ok(TagName(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A content digest: `sha256:` and 64 lowercase hex digits (or `sha512:` and 128).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let (alg, hex) = s.split_once(':').ok_or_else(|| {
            "A digest looks like `sha256:` followed by 64 hex digits.".to_string()
        })?;
        let want = match alg {
            "sha256" => 64,
            "sha512" => 128,
            _ => {
                return Err(format!(
                    "Unknown digest algorithm “{alg}”: use sha256 or sha512."
                ));
            }
        };
        if hex.len() != want
            || !hex
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        {
            return Err(format!(
                "A {alg} digest has exactly {want} lowercase hex digits after `{alg}:`."
            ));
        }
        Ok(Digest(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A team name inside an organization: 2–30 of lowercase letters, digits, `-`
/// and `_`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TeamName(String);

impl TeamName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let n = s.chars().count();
        if !(2..=30).contains(&n) {
            return Err(format!(
                "A team name has 2 to 30 characters; “{s}” has {n}."
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_')))
        {
            return Err(format!(
                "“{c}” is not allowed in a team name: use lowercase letters, digits, '-' and '_'."
            ));
        }
        if s.starts_with(['-', '_']) {
            return Err("A team name starts with a letter or a digit.".into());
        }
        Ok(TeamName(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_impls {
    ($($t:ident),*) => {$(
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $t::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}
string_impls!(NamespaceName, RepoName, TagName, Digest, TeamName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_names() {
        for ok in [
            "abcd",
            "iechor",
            "a1b2c3",
            "0000",
            "abcdefghijklmnopqrstuvwxyz0123",
        ] {
            assert!(NamespaceName::parse(ok).is_ok(), "{ok} should pass");
        }
        for bad in [
            "",
            "abc",
            "ABCD",
            "ab-cd",
            "ab_cd",
            "ab.cd",
            "abcdefghijklmnopqrstuvwxyz01234",
            "héllo",
            "ab cd",
            "../etc",
        ] {
            assert!(NamespaceName::parse(bad).is_err(), "{bad:?} should fail");
        }
        assert!(
            NamespaceName::parse("ABCD")
                .unwrap_err()
                .contains("lowercase")
        );
        assert!(
            NamespaceName::parse("abc")
                .unwrap_err()
                .contains("at least 4")
        );
        assert_eq!(
            NamespaceName::parse("  abcd ").map(|n| n.0),
            Ok("abcd".into())
        );
    }

    #[test]
    fn repo_names() {
        for ok in [
            "ab",
            "nginx",
            "my-app",
            "my--app",
            "my.app",
            "my_app",
            "my__app",
            "a1.b2-c3_d4",
            &"a".repeat(255),
        ] {
            assert!(RepoName::parse(ok).is_ok(), "{ok} should pass");
        }
        for bad in [
            "",
            "a",
            "-ab",
            "ab-",
            ".ab",
            "ab.",
            "a..b",
            "a___b",
            "a_.b",
            "a._b",
            "AB",
            "a/b",
            "a b",
            &"a".repeat(256),
            "_ab",
        ] {
            assert!(RepoName::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn tags() {
        for ok in ["latest", "1.2.0", "_x", "v1-rc.1", &"a".repeat(128)] {
            assert!(TagName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".x", "-x", "a/b", "a:b", &"a".repeat(129)] {
            assert!(TagName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn digests() {
        let h = "a".repeat(64);
        assert!(Digest::parse(&format!("sha256:{h}")).is_ok());
        assert!(Digest::parse(&format!("sha512:{}", "0".repeat(128))).is_ok());
        for bad in [
            String::new(),
            h.clone(),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "a".repeat(63)),
            format!("md5:{h}"),
            format!("sha256:{}g", "a".repeat(63)),
        ] {
            assert!(Digest::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn team_names() {
        for ok in ["ci", "core-devs", "release_managers", "a1"] {
            assert!(TeamName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "-ci", "Core", "core devs", &"a".repeat(31)] {
            assert!(TeamName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serde_rejects_invalid() {
        assert!(serde_json::from_str::<NamespaceName>("\"AB\"").is_err());
        assert!(serde_json::from_str::<NamespaceName>("\"abcd\"").is_ok());
    }
}
