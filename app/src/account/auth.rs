//! Passwords (argon2id, off the async runtime), session secrets and the
//! session cookie. Resolving who is calling lives in `core::caller`.

pub use crate::core::caller::{SESSION_COOKIE, TOKEN_PREFIX, hash_secret};
use crate::error::{AppError, AppResult};
use axum::http::HeaderValue;
use rand::Rng;

/// How long a session lasts.
pub const SESSION_DAYS: i64 = 30;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_format() {
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
}
