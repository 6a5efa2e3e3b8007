//! SQL for users, sessions and tokens.

use crate::db::Tx;
use crate::domain::Timestamp;
use crate::domain::ids::{TokenId, UserId};
use crate::domain::rights::TokenScope;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub password_hash: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_staff: bool,
}

pub async fn user_by_name(tx: &mut Tx<'_>, name: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, password_hash, is_staff FROM users WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn user_by_id(tx: &mut Tx<'_>, id: UserId) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, password_hash, is_staff FROM users WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await
}

/// Inserts the user and their personal namespace.
pub async fn insert_user(
    tx: &mut Tx<'_>,
    name: &str,
    password_hash: &str,
    is_staff: bool,
    now: Timestamp,
) -> Result<UserId, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (name, password_hash, is_staff, created_at) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(name)
    .bind(password_hash)
    .bind(is_staff)
    .bind(now.0)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO namespaces (name, kind, user_id, created_at) VALUES ($1, 'user', $2, $3)",
    )
    .bind(name)
    .bind(id)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(UserId(id))
}

pub async fn set_password(tx: &mut Tx<'_>, id: UserId, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_staff(tx: &mut Tx<'_>, id: UserId, staff: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET is_staff = $1 WHERE id = $2")
        .bind(staff)
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn insert_session(
    tx: &mut Tx<'_>,
    token_hash: &str,
    user: UserId,
    now: Timestamp,
    expires: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user.0)
    .bind(now.0)
    .bind(expires.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_session(tx: &mut Tx<'_>, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends every other session of the user (after a password change).
pub async fn delete_other_sessions(
    tx: &mut Tx<'_>,
    user: UserId,
    keep_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user.0)
        .bind(keep_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub scope: TokenScope,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenRow {
    pub fn info(&self) -> super::TokenInfo {
        super::TokenInfo {
            id: TokenId(self.id),
            name: self.name.clone(),
            scope: self.scope,
            created_at: Timestamp(self.created_at),
            expires_at: self.expires_at.map(Timestamp),
            last_used_at: self.last_used_at.map(Timestamp),
            revoked_at: self.revoked_at.map(Timestamp),
        }
    }
}

const TOKEN_COLS: &str =
    "id, user_id, name, scope, created_at, expires_at, last_used_at, revoked_at";

pub async fn insert_token(
    tx: &mut Tx<'_>,
    user: UserId,
    name: &str,
    scope: TokenScope,
    token_hash: &str,
    now: Timestamp,
    expires: Option<Timestamp>,
) -> Result<TokenRow, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO access_tokens (user_id, name, scope, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLS}"
    )))
    .bind(user.0)
    .bind(name)
    .bind(scope.as_str())
    .bind(token_hash)
    .bind(now.0)
    .bind(expires.map(|t| t.0))
    .fetch_one(&mut **tx)
    .await
}

pub async fn tokens_of(tx: &mut Tx<'_>, user: UserId) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLS} FROM access_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
    )))
    .bind(user.0)
    .fetch_all(&mut **tx)
    .await
}

/// Revokes the user's token; false if there is no such token of theirs.
pub async fn revoke_token(
    tx: &mut Tx<'_>,
    user: UserId,
    id: TokenId,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND user_id = $3",
    )
    .bind(now.0)
    .bind(id.0)
    .bind(user.0)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Revokes every live token of the user (after a password change, on request).
pub async fn revoke_all_tokens(
    tx: &mut Tx<'_>,
    user: UserId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE access_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now.0)
    .bind(user.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
