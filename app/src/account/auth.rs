//! Who is calling: a session cookie or a bearer token, resolved once per
//! request into a [`Caller`]. Password hashing runs off the async runtime.

use super::store;
use crate::domain::ids::UserId;
use crate::domain::{Rights, Timestamp};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, header};
use rand::Rng;
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "hub_session";
/// How long a session lasts.
pub const SESSION_DAYS: i64 = 30;
/// Prefix that makes a leaked token easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "hubpat_";

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
    pub name: String,
    pub is_staff: bool,
}

/// The caller of a request: maybe a user, maybe through a scoped token.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub user: Option<AuthUser>,
    /// Set when the request authenticated with an access token.
    pub token_scope: Option<Rights>,
    /// The session cookie's hash, when the request came with a live session.
    pub session_hash: Option<String>,
    pub ip: Option<IpAddr>,
}

impl Caller {
    /// The user, or 401.
    pub fn require_user(&self) -> AppResult<&AuthUser> {
        self.user.as_ref().ok_or_else(AppError::unauthenticated)
    }
    pub fn user_id(&self) -> Option<UserId> {
        self.user.as_ref().map(|u| u.id)
    }
    /// Refuses a token whose scope is below `min` (sessions are unscoped).
    pub fn require_scope(&self, min: Rights) -> AppResult<()> {
        match self.token_scope {
            Some(s) if s < min => Err(AppError::forbidden(format!(
                "This access token has the “{s}” scope; this action needs “{min}”."
            ))),
            _ => Ok(()),
        }
    }
    /// Account management (tokens, passwords) needs a session or an admin-scoped token.
    pub fn require_account_access(&self) -> AppResult<&AuthUser> {
        let u = self.require_user()?;
        match self.token_scope {
            Some(s) if s < Rights::Admin => Err(AppError::forbidden(format!(
                "This token has the “{s}” scope; managing the account needs an admin-scoped token or a signed-in session."
            ))),
            _ => Ok(u),
        }
    }
}

/// SHA-256 of a secret, hex: what we store for sessions and tokens.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A fresh random secret of `len` alphanumeric characters (≈5.95 bits each).
pub fn random_secret(len: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn argon2() -> argon2::Argon2<'static> {
    // OWASP: argon2id, m = 19 MiB, t = 2, p = 1.
    let params = argon2::Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Hashes a password on a blocking thread.
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let bytes: [u8; 16] = rand::random();
        let salt = SaltString::encode_b64(&bytes).map_err(|e| {
            tracing::error!(error = %e, "salt encoding failed");
            AppError::internal()
        })?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                AppError::internal()
            })
    })
    .await?
}

/// Checks a password against a stored hash on a blocking thread.
pub async fn verify_password(password: String, hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        match PasswordHash::new(&hash) {
            Ok(parsed) => Ok(argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()),
            Err(e) => {
                tracing::error!(error = %e, "stored password hash unreadable");
                Err(AppError::internal())
            }
        }
    })
    .await?
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(secret: &str, secure: bool) -> HeaderValue {
    let max_age = SESSION_DAYS * 24 * 3600;
    let s = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    let s = format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// Resolves the caller from request headers. A bad bearer token is an error
/// (401 naming the problem); a stale session cookie just means anonymous.
pub async fn caller_from_headers(
    state: &AppState,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
) -> AppResult<Caller> {
    let now = state.clock.now();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let raw = auth.to_str().unwrap_or("");
        let Some(token) = raw
            .strip_prefix("Bearer ")
            .or_else(|| raw.strip_prefix("bearer "))
        else {
            return Err(AppError::new(
                crate::error::ErrorKind::Unauthenticated,
                "Send the access token as `Authorization: Bearer <token>`.",
            ));
        };
        return caller_from_token(state, token.trim(), now, ip).await;
    }
    let Some(secret) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(Caller {
            ip,
            ..Caller::default()
        });
    };
    let hash = hash_secret(&secret);
    let mut tx = state.db.begin().await?;
    let row = store::session_user(&mut tx, &hash, now).await?;
    tx.commit().await?;
    Ok(match row {
        Some(u) => Caller {
            user: Some(AuthUser {
                id: UserId(u.id),
                name: u.name,
                is_staff: u.is_staff,
            }),
            token_scope: None,
            session_hash: Some(hash),
            ip,
        },
        None => Caller {
            ip,
            ..Caller::default()
        },
    })
}

async fn caller_from_token(
    state: &AppState,
    token: &str,
    now: Timestamp,
    ip: Option<IpAddr>,
) -> AppResult<Caller> {
    let invalid = || {
        AppError::new(
            crate::error::ErrorKind::Unauthenticated,
            "This access token is not valid. Create a new one under Settings → Access tokens.",
        )
    };
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Err(invalid());
    }
    let mut tx = state.db.begin().await?;
    let Some(row) = store::token_by_hash(&mut tx, &hash_secret(token)).await? else {
        return Err(invalid());
    };
    if let Some(at) = row.revoked_at {
        return Err(AppError::new(
            crate::error::ErrorKind::Unauthenticated,
            format!(
                "The access token “{}” was revoked on {}. Create a new one under Settings → Access tokens.",
                row.name,
                Timestamp(at).date()
            ),
        ));
    }
    if let Some(exp) = row.expires_at.filter(|e| *e <= now.0) {
        return Err(AppError::new(
            crate::error::ErrorKind::Unauthenticated,
            format!(
                "The access token “{}” expired on {}. Create a new one under Settings → Access tokens.",
                row.name,
                Timestamp(exp).date()
            ),
        ));
    }
    let Some(user) = store::user_by_id(&mut tx, UserId(row.user_id)).await? else {
        return Err(invalid());
    };
    // Stamp use at most once a minute, to keep reads cheap.
    if row.last_used_at.is_none_or(|t| now.0 - t > 60_000) {
        store::touch_token(&mut tx, row.id, now).await?;
    }
    tx.commit().await?;
    Ok(Caller {
        user: Some(AuthUser {
            id: UserId(user.id),
            name: user.name,
            is_staff: user.is_staff,
        }),
        token_scope: Some(Rights::parse_grant(&row.scope).unwrap_or(Rights::Read)),
        session_hash: None,
        ip,
    })
}

/// The caller of the current server function.
pub async fn current_caller() -> AppResult<Caller> {
    let state = AppState::current()?;
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from server function context");
        AppError::internal()
    })?;
    let ip = client_ip(&parts);
    caller_from_headers(&state, &parts.headers, ip).await
}

/// The peer address (the server is meant to run behind one trusted proxy at most;
/// `X-Forwarded-For` is not trusted here).
pub fn client_ip(parts: &axum::http::request::Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Sign-in throttles: per account name and per client address.
pub struct SignInLimits {
    per_account: governor::DefaultKeyedRateLimiter<String>,
    per_ip: governor::DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for SignInLimits {
    fn default() -> Self {
        use governor::Quota;
        use std::num::NonZeroU32;
        let q = |per_min: u32, burst: u32| {
            Quota::per_minute(NonZeroU32::new(per_min).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        };
        SignInLimits {
            per_account: governor::RateLimiter::keyed(q(5, 10)),
            per_ip: governor::RateLimiter::keyed(q(30, 30)),
        }
    }
}

impl SignInLimits {
    /// Counts one attempt; refuses with 429 when over either limit.
    pub fn check(&self, account: &str, ip: Option<IpAddr>) -> AppResult<()> {
        let too_many = |what: &str| {
            AppError::rate_limited(format!(
                "Too many sign-in attempts {what}. Wait a minute and try again."
            ))
        };
        if let Some(ip) = ip
            && self.per_ip.check_key(&ip).is_err()
        {
            return Err(too_many("from your network address"));
        }
        if self.per_account.check_key(&account.to_string()).is_err() {
            return Err(too_many("for this account"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_parse_and_format() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; hub_session=abc; b=2"),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE), Some("abc".into()));
        let c = session_cookie("xyz", true);
        let s = c.to_str().unwrap_or("");
        assert!(s.contains("HttpOnly") && s.contains("SameSite=Lax") && s.contains("Secure"));
        assert!(
            !session_cookie("xyz", false)
                .to_str()
                .unwrap_or("")
                .contains("Secure")
        );
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = random_secret(32);
        let b = random_secret(32);
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(hash_secret("x").len(), 64);
    }

    #[tokio::test]
    async fn password_round_trip_is_argon2id() {
        let h = hash_password("correct horse".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(
            verify_password("correct horse".into(), h.clone())
                .await
                .expect("v")
        );
        assert!(!verify_password("wrong horse".into(), h).await.expect("v"));
    }

    #[test]
    fn sign_in_limits_trip() {
        let l = SignInLimits::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..10 {
            assert!(l.check("alice", Some(ip)).is_ok());
        }
        let e = l.check("alice", Some(ip)).expect_err("11th is refused");
        assert_eq!(e.status(), 429);
        assert!(l.check("bob", Some(ip)).is_ok());
    }
}
