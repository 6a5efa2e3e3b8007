//! Account actions. Each is one service function (used by REST and the CLI)
//! and, where pages need it, a server function with a stable endpoint.

use super::{NewToken, SessionUser, TokenInfo};
use crate::core::notify::Inbox;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::super::auth;
    use super::super::{NewToken, SessionUser, TokenInfo, store};
    use crate::core::caller::Caller;
    use crate::core::limits::LimitedAction;
    use crate::core::names::{name_taken, taken, unique_or};
    use crate::core::notify::{self, Inbox};
    use crate::core::state::AppState;
    use crate::domain::ids::{TokenId, UserId};
    use crate::domain::{NamespaceName, Rights};
    use crate::error::{AppError, AppResult};

    /// Creates a user and their personal namespace.
    pub async fn create_user(
        state: &AppState,
        name: &str,
        password: &str,
        is_staff: bool,
    ) -> AppResult<UserId> {
        let name = NamespaceName::parse(name).map_err(|m| AppError::invalid_field("name", m))?;
        super::super::validate_password(password)
            .map_err(|m| AppError::invalid_field("password", m))?;
        let hash = auth::hash_password(password.to_string()).await?;
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        if name_taken(&mut tx, name.as_str()).await? {
            return Err(taken(name.as_str()));
        }
        let id = store::insert_user(&mut tx, name.as_str(), &hash, is_staff, now)
            .await
            .map_err(|e| unique_or(e, name.as_str()))?;
        tx.commit().await?;
        Ok(id)
    }

    /// Checks the credentials (throttled) and opens a session; returns its secret.
    pub async fn sign_in(
        state: &AppState,
        name: &str,
        password: &str,
        ip: Option<std::net::IpAddr>,
    ) -> AppResult<(UserId, String)> {
        let name = name.trim();
        if let Some(ip) = ip {
            state
                .limits
                .check(LimitedAction::SignInPerAddress, &ip.to_string())?;
        }
        state.limits.check(LimitedAction::SignInPerAccount, name)?;
        let wrong = || {
            AppError::new(
                crate::error::ErrorKind::Unauthenticated,
                "The user name or password is not right.",
            )
        };
        let mut tx = state.db.begin().await?;
        let user = store::user_by_name(&mut tx, name).await?;
        tx.commit().await?;
        let Some(user) = user else {
            // Same work as a real check, so timing does not reveal which names exist.
            let _ = auth::hash_password(password.to_string()).await;
            return Err(wrong());
        };
        if !auth::verify_password(password.to_string(), user.password_hash.clone()).await? {
            return Err(wrong());
        }
        let secret = auth::random_secret(43);
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        store::insert_session(
            &mut tx,
            &auth::hash_secret(&secret),
            UserId(user.id),
            now,
            now.plus_days(auth::SESSION_DAYS),
        )
        .await?;
        tx.commit().await?;
        Ok((UserId(user.id), secret))
    }

    pub async fn sign_out(state: &AppState, caller: &Caller) -> AppResult<()> {
        if let Some(h) = &caller.session_hash {
            let mut tx = state.db.begin().await?;
            store::delete_session(&mut tx, h).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    pub async fn change_password(
        state: &AppState,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> AppResult<()> {
        let me = caller.require_account_access()?;
        super::super::validate_password(new)
            .map_err(|m| AppError::invalid_field("new_password", m))?;
        let mut tx = state.db.begin().await?;
        let row = store::user_by_id(&mut tx, me.id)
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        tx.commit().await?;
        if !auth::verify_password(current.to_string(), row.password_hash).await? {
            return Err(AppError::invalid_field(
                "current_password",
                "The current password is not right.",
            ));
        }
        let hash = auth::hash_password(new.to_string()).await?;
        let mut tx = state.db.begin().await?;
        store::set_password(&mut tx, me.id, &hash).await?;
        store::delete_other_sessions(&mut tx, me.id, caller.session_hash.as_deref().unwrap_or(""))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_token(
        state: &AppState,
        caller: &Caller,
        name: &str,
        scope: &str,
        expires_in_days: Option<i64>,
    ) -> AppResult<NewToken> {
        let me = caller.require_account_access()?;
        let name = super::super::validate_token_name(name)
            .map_err(|m| AppError::invalid_field("name", m))?;
        let scope = Rights::parse_grant(scope).map_err(|m| AppError::invalid_field("scope", m))?;
        let now = state.clock.now();
        let secret = format!("{}{}", auth::TOKEN_PREFIX, auth::random_secret(40));
        let mut tx = state.db.begin().await?;
        let row = store::insert_token(
            &mut tx,
            me.id,
            &name,
            scope,
            &auth::hash_secret(&secret),
            now,
            expires_in_days.map(|d| now.plus_days(d)),
        )
        .await?;
        tx.commit().await?;
        Ok(NewToken {
            token: row.info(),
            secret,
        })
    }

    pub async fn list_tokens(state: &AppState, caller: &Caller) -> AppResult<Vec<TokenInfo>> {
        let me = caller.require_account_access()?;
        let mut tx = state.db.begin().await?;
        let rows = store::tokens_of(&mut tx, me.id).await?;
        tx.commit().await?;
        Ok(rows.iter().map(|r| r.info()).collect())
    }

    pub async fn revoke_token(state: &AppState, caller: &Caller, id: TokenId) -> AppResult<()> {
        let me = caller.require_account_access()?;
        let mut tx = state.db.begin().await?;
        if !store::revoke_token(&mut tx, me.id, id, state.clock.now()).await? {
            return Err(AppError::not_found(
                "You have no access token with that id.",
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    pub fn session_user(caller: &Caller) -> Option<SessionUser> {
        caller.user.as_ref().map(|u| SessionUser {
            name: u.name.clone(),
            is_staff: u.is_staff,
        })
    }

    /// The caller's unread count and 20 latest notifications.
    pub async fn inbox(state: &AppState, caller: &Caller) -> AppResult<Inbox> {
        let me = caller.require_user()?;
        let mut tx = state.db.begin().await?;
        let inbox = notify::inbox(&mut tx, me.id, 20).await?;
        tx.commit().await?;
        Ok(inbox)
    }

    /// Marks all the caller's notifications read.
    pub async fn mark_inbox_read(state: &AppState, caller: &Caller) -> AppResult<()> {
        let me = caller.require_user()?;
        let mut tx = state.db.begin().await?;
        notify::mark_all_read(&mut tx, me.id, state.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(feature = "ssr")]
fn set_cookie(v: axum::http::HeaderValue) {
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.append_header(axum::http::header::SET_COOKIE, v);
    }
}

/// Who is signed in (none when anonymous).
#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<Option<SessionUser>, AppError> {
    let caller = crate::core::caller::current_caller().await?;
    Ok(session_user(&caller))
}

/// Creates an account and signs it in.
#[server(endpoint = "sign_up")]
pub async fn sign_up(name: String, password: String) -> Result<SessionUser, AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    create_user(&state, &name, &password, false).await?;
    let (_, secret) = sign_in(&state, &name, &password, caller.ip).await?;
    set_cookie(super::auth::session_cookie(
        &secret,
        state.settings.secure_cookies,
    ));
    Ok(SessionUser {
        name: name.trim().to_string(),
        is_staff: false,
    })
}

/// Signs in with name and password; sets the session cookie.
#[server(name = SignIn, endpoint = "sign_in")]
pub async fn sign_in_fn(name: String, password: String) -> Result<SessionUser, AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    let (_, secret) = sign_in(&state, &name, &password, caller.ip).await?;
    set_cookie(super::auth::session_cookie(
        &secret,
        state.settings.secure_cookies,
    ));
    let mut tx = state.db.begin().await?;
    let u = super::store::user_by_name(&mut tx, name.trim()).await?;
    tx.commit().await?;
    Ok(SessionUser {
        name: name.trim().to_string(),
        is_staff: u.is_some_and(|u| u.is_staff),
    })
}

/// Ends the current session.
#[server(name = SignOut, endpoint = "sign_out")]
pub async fn sign_out_fn() -> Result<(), AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    sign_out(&state, &caller).await?;
    set_cookie(super::auth::clear_session_cookie(
        state.settings.secure_cookies,
    ));
    Ok(())
}

/// Changes the password and ends every other session.
#[server(name = ChangePassword, endpoint = "change_password")]
pub async fn change_password_fn(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    change_password(&state, &caller, &current_password, &new_password).await
}

/// Creates a personal access token; the secret is in the answer only.
#[server(name = CreateToken, endpoint = "create_token")]
pub async fn create_token_fn(
    name: String,
    scope: String,
    expires_in_days: String,
) -> Result<NewToken, AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    let days = super::parse_expiry_days(&expires_in_days)
        .map_err(|m| AppError::invalid_field("expires_in_days", m))?;
    create_token(&state, &caller, &name, &scope, days).await
}

/// The caller's tokens, newest first.
#[server(name = ListTokens, endpoint = "list_tokens")]
pub async fn list_tokens_fn() -> Result<Vec<TokenInfo>, AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    list_tokens(&state, &caller).await
}

/// Revokes one of the caller's tokens.
#[server(name = RevokeToken, endpoint = "revoke_token")]
pub async fn revoke_token_fn(id: i64) -> Result<(), AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    revoke_token(&state, &caller, crate::domain::ids::TokenId(id)).await
}

/// The caller's unread count and latest notifications.
#[server(name = GetInbox, endpoint = "notifications")]
pub async fn inbox_fn() -> Result<Inbox, AppError> {
    with_caller!(|state, caller| inbox(&state, &caller).await)
}

/// Marks all the caller's notifications read.
#[server(name = MarkNotificationsRead, endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read_fn() -> Result<(), AppError> {
    with_caller!(|state, caller| mark_inbox_read(&state, &caller).await)
}
