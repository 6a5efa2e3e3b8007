//! Passwords (argon2id, off the async runtime), session secrets and the
//! session cookie. Resolving who is calling lives in `core::caller`.

pub use crate::core::caller::{SESSION_COOKIE, TOKEN_PREFIX, hash_secret};
use crate::core::state::Settings;
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

/// At most one argon2 run per core at a time (each takes 19 MiB), so a burst
/// of sign-ins queues instead of exhausting memory.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(n)
    })
}

async fn hashing_permit() -> AppResult<tokio::sync::SemaphorePermit<'static>> {
    hashing_permits().acquire().await.map_err(|e| {
        tracing::error!(error = %e, "password hashing semaphore closed");
        AppError::internal()
    })
}

/// Hashes a password on a blocking thread.
pub async fn hash_password(password: String) -> AppResult<String> {
    let _permit = hashing_permit().await?;
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
    let _permit = hashing_permit().await?;
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

fn cookie_header(c: cookie::Cookie<'_>) -> AppResult<HeaderValue> {
    HeaderValue::from_str(&c.to_string()).map_err(|e| {
        tracing::error!(error = %e, "session cookie could not be built");
        AppError::internal()
    })
}

fn base_cookie(value: String, settings: &Settings) -> cookie::CookieBuilder<'static> {
    cookie::Cookie::build((settings.session_cookie_name(), value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(settings.cookie_secure())
}

/// The `Set-Cookie` value that starts a session (`__Host-` and `Secure` over https).
pub fn session_cookie(secret: &str, settings: &Settings) -> AppResult<HeaderValue> {
    cookie_header(
        base_cookie(secret.to_string(), settings)
            .max_age(cookie::time::Duration::days(SESSION_DAYS))
            .build(),
    )
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_session_cookie(settings: &Settings) -> AppResult<HeaderValue> {
    cookie_header(
        base_cookie(String::new(), settings)
            .max_age(cookie::time::Duration::ZERO)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_follow_the_public_url() {
        let plain = Settings::default();
        let c = session_cookie("xyz", &plain).expect("cookie");
        let s = c.to_str().unwrap_or("");
        assert!(s.starts_with("hub_session=xyz;"), "{s}");
        assert!(s.contains("HttpOnly") && s.contains("SameSite=Lax") && s.contains("Path=/"));
        assert!(!s.contains("Secure"), "{s}");
        let https = Settings {
            public_url: "https://hub.example.org".into(),
            ..Settings::default()
        };
        let s = session_cookie("xyz", &https).expect("cookie");
        let s = s.to_str().unwrap_or("");
        assert!(
            s.starts_with("__Host-hub_session=xyz;") && s.contains("Secure"),
            "{s}"
        );
        assert!(!s.contains("Domain"), "{s}");
        let forced = Settings {
            secure_cookies: true,
            ..Settings::default()
        };
        let s = clear_session_cookie(&forced).expect("cookie");
        let s = s.to_str().unwrap_or("");
        assert!(s.contains("Secure") && s.contains("Max-Age=0"), "{s}");
        // A secret that cannot be a header is an error, not an empty cookie.
        assert!(session_cookie("bad\nsecret", &plain).is_err());
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
