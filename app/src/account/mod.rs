//! Accounts: users, sessions, personal access tokens. The rules here are
//! shared by the sign-up form (wasm) and the server.

pub mod api;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod store;
pub mod views;

use crate::domain::Timestamp;
use crate::domain::ids::TokenId;
use crate::domain::rights::TokenScope;
use serde::{Deserialize, Serialize};

/// Passwords: long enough to resist guessing, short enough to hash quickly.
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// Checks a new password; the message says what to change.
pub fn validate_password(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if n < PASSWORD_MIN {
        return Err(format!(
            "The password is {n} characters; use at least {PASSWORD_MIN}."
        ));
    }
    if n > PASSWORD_MAX {
        return Err(format!(
            "The password is {n} characters; use at most {PASSWORD_MAX}."
        ));
    }
    if p.trim().is_empty() {
        return Err("The password cannot be only spaces.".into());
    }
    Ok(())
}

/// A token name: 1–64 printable characters.
pub fn validate_token_name(n: &str) -> Result<String, String> {
    let t = n.trim();
    if t.is_empty() {
        return Err("Give the token a name, such as “ci” or “laptop”.".into());
    }
    if t.chars().count() > 64 {
        return Err("A token name has at most 64 characters.".into());
    }
    if t.chars().any(|c| c.is_control()) {
        return Err("A token name cannot contain control characters.".into());
    }
    Ok(t.to_string())
}

/// Token lifetimes offered: days, or `None` for no expiry.
pub fn parse_expiry_days(raw: &str) -> Result<Option<i64>, String> {
    let t = raw.trim();
    if t.is_empty() || t == "never" || t == "0" {
        return Ok(None);
    }
    match t.parse::<i64>() {
        Ok(d) if (1..=3650).contains(&d) => Ok(Some(d)),
        _ => Err("Expiry is a number of days from 1 to 3650, or empty for none.".into()),
    }
}

/// The signed-in user, as pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub name: String,
    pub is_staff: bool,
}

/// A personal access token as listed (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: TokenId,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A token just created: the secret is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub token: TokenInfo,
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password("1234567").is_err());
        assert!(validate_password(&"x".repeat(129)).is_err());
        assert!(validate_password("        ").is_err());
        assert!(validate_password("").unwrap_err().contains("at least 8"));
    }

    #[test]
    fn token_names_and_expiry() {
        assert_eq!(validate_token_name(" ci "), Ok("ci".into()));
        assert!(validate_token_name("").is_err());
        assert!(validate_token_name(&"a".repeat(65)).is_err());
        assert!(validate_token_name("a\u{7}b").is_err());
        assert_eq!(parse_expiry_days(""), Ok(None));
        assert_eq!(parse_expiry_days("30"), Ok(Some(30)));
        assert!(parse_expiry_days("-1").is_err());
        assert!(parse_expiry_days("abc").is_err());
        assert!(parse_expiry_days("9999").is_err());
    }
}
