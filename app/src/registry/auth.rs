//! Who pulls and pushes: anonymous, HTTP Basic (user name with a password or
//! an access token), an access token as Bearer, or a short-lived registry
//! token from `GET /token` (the flow docker, podman and skopeo follow after a
//! `401` with a `WWW-Authenticate: Bearer realm=…` challenge).

use crate::core::caller::{AuthUser, Caller, caller_from_headers};
use crate::core::state::AppState;
use crate::domain::ids::UserId;
use crate::domain::{Rights, Timestamp};
use crate::error::{AppError, ErrorKind};
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a registry token lives.
pub const TOKEN_SECONDS: i64 = 300;

/// HMAC-SHA256 (RFC 2104) with a key of at most 64 bytes.
fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .into()
}

fn cap_code(cap: Option<Rights>) -> &'static str {
    match cap {
        None => "s",
        Some(Rights::Admin) => "a",
        Some(Rights::Write) => "w",
        Some(Rights::Read) => "r",
        Some(Rights::None) => "n",
    }
}

/// Signs a token for `user` (none: anonymous), capped at `cap`, until `expires`.
pub fn issue(
    secret: &[u8],
    user: Option<UserId>,
    cap: Option<Rights>,
    expires: Timestamp,
) -> String {
    let body = format!(
        "v1|{}|{}|{}",
        user.map_or(0, |u| u.0),
        cap_code(cap),
        expires.0
    );
    let sig = hmac(secret, body.as_bytes());
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(body),
        URL_SAFE_NO_PAD.encode(sig)
    )
}

/// What a valid token says: the user (none: anonymous) and the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims {
    pub user: Option<UserId>,
    pub cap: Option<Rights>,
}

/// Checks a token's signature and expiry.
pub fn verify(secret: &[u8], token: &str, now: Timestamp) -> Option<Claims> {
    let (body, sig) = token.split_once('.')?;
    let body = URL_SAFE_NO_PAD.decode(body).ok()?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let want = hmac(secret, &body);
    // Constant-time comparison.
    if sig.len() != want.len()
        || sig
            .iter()
            .zip(want.iter())
            .fold(0u8, |a, (x, y)| a | (x ^ y))
            != 0
    {
        return None;
    }
    let body = String::from_utf8(body).ok()?;
    let mut parts = body.split('|');
    if parts.next()? != "v1" {
        return None;
    }
    let uid: i64 = parts.next()?.parse().ok()?;
    let cap = match parts.next()? {
        "s" => None,
        "a" => Some(Rights::Admin),
        "w" => Some(Rights::Write),
        "r" => Some(Rights::Read),
        _ => Some(Rights::None),
    };
    let exp: i64 = parts.next()?.parse().ok()?;
    if exp <= now.0 {
        return None;
    }
    Some(Claims {
        user: (uid > 0).then_some(UserId(uid)),
        cap,
    })
}

fn refused(msg: &str) -> AppError {
    AppError::new(ErrorKind::Unauthenticated, msg)
}

/// The caller of a registry request. Bad credentials are an error (401).
pub async fn registry_caller(
    state: &AppState,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
) -> Result<Caller, AppError> {
    let anonymous = Caller {
        ip,
        ..Caller::default()
    };
    let Some(raw) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(anonymous);
    };
    if let Some(b64) = raw
        .strip_prefix("Basic ")
        .or_else(|| raw.strip_prefix("basic "))
    {
        return basic(state, b64.trim(), ip).await;
    }
    let Some(token) = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
    else {
        return Err(refused("Send `Authorization: Basic …` or `Bearer …`."));
    };
    let token = token.trim();
    if token.starts_with(crate::core::caller::TOKEN_PREFIX) {
        return caller_from_headers(state, headers, ip).await;
    }
    let claims = verify(state.token_secret.as_ref(), token, state.clock.now())
        .ok_or_else(|| refused("The registry token is not valid or has expired; log in again."))?;
    let Some(uid) = claims.user else {
        return Ok(anonymous);
    };
    let mut tx = state.db.begin().await?;
    let user = crate::core::caller::user_by_id(&mut tx, uid).await?;
    tx.commit().await?;
    let user = user.ok_or_else(|| refused("The registry token's user no longer exists."))?;
    Ok(Caller {
        user: Some(user),
        token_scope: claims.cap,
        ip,
        ..Caller::default()
    })
}

/// Recently verified passwords, so a client fetching a token per request
/// (docker, the conformance suite) costs one argon2 run and one sign-in
/// attempt a minute, not one per request. Keyed by a hash of the process's
/// token secret, the name and the password (never the password itself).
type Verified = std::sync::Mutex<HashMap<[u8; 32], (Instant, AuthUser)>>;

fn verified() -> &'static Verified {
    static CACHE: OnceLock<Verified> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

const VERIFIED_FOR: Duration = Duration::from_secs(60);

fn credential_key(secret: &[u8], name: &str, password: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(secret)
        .chain_update(name.as_bytes())
        .chain_update([0u8])
        .chain_update(password.as_bytes())
        .finalize()
        .into()
}

/// `Basic base64(user:secret)`: the secret is an access token or the password.
async fn basic(state: &AppState, b64: &str, ip: Option<IpAddr>) -> Result<Caller, AppError> {
    let wrong = || refused("The user name or password (or access token) is not right.");
    let decoded = STANDARD.decode(b64).map_err(|_| wrong())?;
    let decoded = String::from_utf8(decoded).map_err(|_| wrong())?;
    let (name, secret) = decoded.split_once(':').ok_or_else(wrong)?;
    if secret.starts_with(crate::core::caller::TOKEN_PREFIX) {
        let mut h = HeaderMap::new();
        let v = HeaderValue::from_str(&format!("Bearer {secret}")).map_err(|_| wrong())?;
        h.insert(header::AUTHORIZATION, v);
        let c = caller_from_headers(state, &h, ip).await?;
        if c.user.as_ref().is_some_and(|u| u.name != name.trim()) {
            return Err(wrong());
        }
        return Ok(c);
    }
    let name = crate::domain::NamespaceName::parse(name).map_err(|_| wrong())?;
    let key = credential_key(state.token_secret.as_ref(), name.as_str(), secret);
    {
        let cache = verified().lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, user)) = cache.get(&key)
            && at.elapsed() < VERIFIED_FOR
        {
            return Ok(Caller {
                user: Some(user.clone()),
                ip,
                ..Caller::default()
            });
        }
    }
    state.limits.check_sign_in(name.as_str(), ip)?;
    let mut tx = state.db.begin().await?;
    let found = crate::core::caller::user_with_password(&mut tx, name.as_str()).await?;
    tx.commit().await?;
    let Some((user, hash)) = found else {
        return Err(wrong());
    };
    if !crate::account::auth::verify_password(secret.to_string(), hash).await? {
        return Err(wrong());
    }
    {
        let mut cache = verified().lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), user.clone()));
    }
    Ok(Caller {
        user: Some(user),
        ip,
        ..Caller::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tokens_verify_and_expire() {
        let secret = [7u8; 32];
        let t = issue(
            &secret,
            Some(UserId(5)),
            Some(Rights::Read),
            Timestamp(1000),
        );
        assert_eq!(
            verify(&secret, &t, Timestamp(999)),
            Some(Claims {
                user: Some(UserId(5)),
                cap: Some(Rights::Read)
            })
        );
        assert_eq!(verify(&secret, &t, Timestamp(1000)), None, "expired");
        assert_eq!(verify(&[8u8; 32], &t, Timestamp(1)), None, "another secret");
        let mut forged = t.clone();
        forged.insert(1, 'x');
        assert_eq!(verify(&secret, &forged, Timestamp(1)), None);
        let anon = issue(&secret, None, None, Timestamp(1000));
        assert_eq!(
            verify(&secret, &anon, Timestamp(1)),
            Some(Claims {
                user: None,
                cap: None
            })
        );
    }
}
