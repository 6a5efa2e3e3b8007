//! Who is calling: a session cookie or a bearer token, resolved once per
//! request into a [`Caller`], with the checks every action starts with.

use crate::core::state::{AppState, Settings};
use crate::db::Tx;
use crate::domain::ids::{TokenId, UserId};
use crate::domain::rights::TokenScope;
use crate::domain::{Rights, Timestamp};
use crate::error::{AppError, AppResult, ErrorKind};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;

/// The session cookie's name over plain http.
pub const SESSION_COOKIE: &str = "hub_session";
/// Its name when served over https: the browser then enforces `Secure`,
/// `Path=/` and no `Domain` (a sibling subdomain cannot plant or read it).
pub const SESSION_COOKIE_HOST: &str = "__Host-hub_session";
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
    /// When that token expires, if it does.
    pub token_expires_at: Option<Timestamp>,
    /// The session cookie's hash, when the request came with a live session.
    pub session_hash: Option<String>,
    pub ip: Option<IpAddr>,
    /// The token has the `ingest` scope: it may send pull events, nothing else.
    pub ingest: bool,
}

impl Caller {
    /// A caller acting as `user` with a full session's rights (CLI, tests).
    pub fn acting_as(user: AuthUser) -> Caller {
        Caller {
            user: Some(user),
            ..Caller::default()
        }
    }
    /// The user, or 401.
    pub fn require_user(&self) -> AppResult<&AuthUser> {
        self.user.as_ref().ok_or_else(AppError::unauthenticated)
    }
    /// The user's id, when signed in.
    pub fn user_id(&self) -> Option<UserId> {
        self.user.as_ref().map(|u| u.id)
    }
    /// The caller is a program reviewer.
    pub fn is_staff(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_staff)
    }
    /// Refuses a token whose scope is below `min` (sessions are unscoped).
    pub fn require_scope(&self, min: Rights) -> AppResult<()> {
        if self.ingest {
            return Err(AppError::forbidden(
                "This access token has the “ingest” scope: it can only send pull events (POST /api/v1/events).",
            ));
        }
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
        self.require_scope(Rights::Read)?;
        match self.token_scope {
            Some(s) if s < Rights::Admin => Err(AppError::forbidden(format!(
                "This token has the “{s}” scope; managing the account needs an admin-scoped token or a signed-in session."
            ))),
            _ => Ok(u),
        }
    }
    /// Staff only (program reviewers), with at least a write-scoped token.
    pub fn require_staff(&self) -> AppResult<&AuthUser> {
        let me = self.require_user()?;
        if !me.is_staff {
            return Err(AppError::forbidden(
                "Only program reviewers (staff) can review applications.",
            ));
        }
        self.require_scope(Rights::Write)?;
        Ok(me)
    }
}

/// SHA-256 of a secret, hex: what we store for sessions and tokens.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The session secret the request carries, under the configured cookie name.
pub fn session_secret(headers: &HeaderMap, settings: &Settings) -> Option<String> {
    cookie_value(headers, settings.session_cookie_name())
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

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    name: String,
    #[sqlx(try_from = "crate::db::Flag")]
    is_staff: bool,
}

impl UserRow {
    fn user(self) -> AuthUser {
        AuthUser {
            id: UserId(self.id),
            name: self.name,
            is_staff: self.is_staff,
        }
    }
}

/// A user by id, as a caller (registry tokens carry only the id).
pub async fn user_by_id(tx: &mut Tx<'_>, id: UserId) -> Result<Option<AuthUser>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as("SELECT id, name, is_staff FROM users WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(UserRow::user))
}

/// A user by name with the stored password hash (HTTP Basic on the registry).
pub async fn user_with_password(
    tx: &mut Tx<'_>,
    name: &str,
) -> Result<Option<(AuthUser, String)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let row: Option<Row> =
        sqlx::query_as("SELECT id, name, is_staff, password_hash FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|r| (r.user.user(), r.password_hash)))
}

async fn session_user(
    tx: &mut Tx<'_>,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.name, u.is_staff FROM sessions s
         JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now.0)
    .fetch_optional(&mut **tx)
    .await
}

#[derive(sqlx::FromRow)]
struct TokenUserRow {
    token_id: i64,
    token_name: String,
    #[sqlx(try_from = "String")]
    scope: TokenScope,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    #[sqlx(flatten)]
    user: UserRow,
}

async fn token_user(
    tx: &mut Tx<'_>,
    token_hash: &str,
) -> Result<Option<TokenUserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id AS token_id, t.name AS token_name, t.scope, t.expires_at, t.last_used_at,
                t.revoked_at, u.id, u.name, u.is_staff
         FROM access_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&mut **tx)
    .await
}

async fn touch_token(db: &crate::db::Db, id: TokenId, now: Timestamp) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE access_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)")
        .bind(now.0)
        .bind(id.0)
        .execute(&db.pool)
        .await?;
    Ok(())
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
                ErrorKind::Unauthenticated,
                "Send the access token as `Authorization: Bearer <token>`.",
            ));
        };
        return caller_from_token(state, token.trim(), now, ip).await;
    }
    let anonymous = Caller {
        ip,
        ..Caller::default()
    };
    let Some(secret) = session_secret(headers, &state.settings) else {
        return Ok(anonymous);
    };
    let hash = hash_secret(&secret);
    let mut tx = state.db.begin().await?;
    let row = session_user(&mut tx, &hash, now).await?;
    tx.commit().await?;
    Ok(match row {
        Some(u) => Caller {
            user: Some(u.user()),
            token_scope: None,
            token_expires_at: None,
            session_hash: Some(hash),
            ip,
            ingest: false,
        },
        None => anonymous,
    })
}

async fn caller_from_token(
    state: &AppState,
    token: &str,
    now: Timestamp,
    ip: Option<IpAddr>,
) -> AppResult<Caller> {
    let refused = |m: String| AppError::new(ErrorKind::Unauthenticated, m);
    let invalid = || {
        refused(
            "This access token is not valid. Create a new one under Settings → Access tokens."
                .into(),
        )
    };
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Err(invalid());
    }
    let mut tx = state.db.begin().await?;
    let Some(row) = token_user(&mut tx, &hash_secret(token)).await? else {
        return Err(invalid());
    };
    if let Some(at) = row.revoked_at {
        return Err(refused(format!(
            "The access token “{}” was revoked on {}. Create a new one under Settings → Access tokens.",
            row.token_name,
            Timestamp(at).date()
        )));
    }
    if let Some(exp) = row.expires_at.filter(|e| *e <= now.0) {
        return Err(refused(format!(
            "The access token “{}” expired on {}. Create a new one under Settings → Access tokens.",
            row.token_name,
            Timestamp(exp).date()
        )));
    }
    tx.commit().await?;
    // Stamp use at most once a minute, to keep reads cheap: one statement of
    // its own, never a read-then-write transaction (SQLite: no busy snapshot).
    if row.last_used_at.is_none_or(|t| now.0 - t > 60_000) {
        touch_token(&state.db, TokenId(row.token_id), now).await?;
    }
    Ok(Caller {
        user: Some(row.user.user()),
        token_scope: Some(row.scope.rights()),
        ingest: row.scope == TokenScope::Ingest,
        token_expires_at: row.expires_at.map(Timestamp),
        session_hash: None,
        ip,
    })
}

/// The caller of the current server function.
pub async fn current_caller() -> AppResult<Caller> {
    let state = AppState::current()?;
    let parts = leptos::prelude::use_context::<Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from server function context");
        AppError::internal()
    })?;
    let ip = client_ip(&parts, &state.settings);
    caller_from_headers(&state, &parts.headers, ip).await
}

/// The client's address: the socket peer, unless the peer is a configured
/// trusted proxy; then the nearest address in `X-Forwarded-For` (or
/// `Forwarded: for=`) that is not itself a trusted proxy.
pub fn client_ip(parts: &Parts, settings: &Settings) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())?;
    Some(forwarded_client(
        peer,
        &parts.headers,
        &settings.trusted_proxies,
    ))
}

/// See [`client_ip`]; pure, for tests.
pub fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for v in headers.get_all("x-forwarded-for").iter() {
        if let Ok(v) = v.to_str() {
            hops.extend(v.split(',').filter_map(|h| h.trim().parse::<IpAddr>().ok()));
        }
    }
    if hops.is_empty() {
        for v in headers.get_all(header::FORWARDED).iter() {
            let Ok(v) = v.to_str() else { continue };
            for element in v.split(',') {
                for pair in element.split(';') {
                    let Some((k, val)) = pair.trim().split_once('=') else {
                        continue;
                    };
                    if !k.trim().eq_ignore_ascii_case("for") {
                        continue;
                    }
                    let val = val.trim().trim_matches('"');
                    let host = match val.strip_prefix('[') {
                        Some(v6) => v6.split(']').next().unwrap_or(""),
                        None => val.split(':').next().unwrap_or(""),
                    };
                    if let Ok(ip) = host.parse::<IpAddr>() {
                        hops.push(ip);
                    }
                }
            }
        }
    }
    hops.into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

impl axum::extract::FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ip = client_ip(parts, &state.settings);
        caller_from_headers(state, &parts.headers, ip).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; hub_session=abc; b=2"),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE), Some("abc".into()));
        assert_eq!(cookie_value(&h, "missing"), None);
    }

    #[test]
    fn forwarded_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.7, 198.51.100.2, 10.0.0.3"),
        );
        let proxy: IpAddr = [10, 0, 0, 1].into();
        let stranger: IpAddr = [192, 0, 2, 9].into();
        // From the proxy: the nearest untrusted hop.
        assert_eq!(
            forwarded_client(proxy, &h, &trusted),
            IpAddr::from([198, 51, 100, 2])
        );
        // From anyone else the header is ignored (it could be forged).
        assert_eq!(forwarded_client(stranger, &h, &trusted), stranger);
        assert_eq!(forwarded_client(proxy, &h, &[]), proxy);
        let mut f = HeaderMap::new();
        f.insert(
            header::FORWARDED,
            HeaderValue::from_static("for=\"[2001:db8::1]:4711\";proto=https, for=10.1.2.3"),
        );
        assert_eq!(
            forwarded_client(proxy, &f, &trusted),
            "2001:db8::1".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(forwarded_client(proxy, &HeaderMap::new(), &trusted), proxy);
    }

    #[test]
    fn secrets_hash_to_hex() {
        assert_eq!(hash_secret("x").len(), 64);
        assert_ne!(hash_secret("x"), hash_secret("y"));
    }

    #[test]
    fn scopes_cap_actions() {
        let c = Caller {
            token_scope: Some(Rights::Read),
            ..Caller::default()
        };
        assert_eq!(
            c.require_scope(Rights::Write).map_err(|e| e.status()),
            Err(403)
        );
        assert!(c.require_scope(Rights::Read).is_ok());
        assert!(Caller::default().require_scope(Rights::Admin).is_ok());
    }
}
