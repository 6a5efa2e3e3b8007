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
    use crate::domain::NamespaceName;
    use crate::domain::ids::{TokenId, UserId};
    use crate::domain::rights::TokenScope;
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
        {
            let mut tx = state.db.begin().await?;
            let taken_already = name_taken(&mut tx, name.as_str()).await?;
            tx.commit().await?;
            if taken_already {
                return Err(taken(name.as_str()));
            }
        }
        let hash = auth::hash_password(password.to_string()).await?;
        let now = state.clock.now();
        let mut tx = state.db.begin_write().await?;
        if name_taken(&mut tx, name.as_str()).await? {
            return Err(taken(name.as_str()));
        }
        let id = store::insert_user(&mut tx, name.as_str(), &hash, is_staff, now)
            .await
            .map_err(|e| unique_or(e, name.as_str()))?;
        tx.commit().await?;
        Ok(id)
    }

    /// Throttles new accounts per network address; runs before any hashing.
    pub fn check_sign_up(state: &AppState, ip: Option<std::net::IpAddr>) -> AppResult<()> {
        match ip {
            Some(ip) => state
                .limits
                .check(LimitedAction::SignUpPerAddress, &ip.to_string()),
            None => Ok(()),
        }
    }

    /// Opens a session for the user; returns its secret (for the cookie).
    pub async fn open_session(state: &AppState, user: UserId) -> AppResult<String> {
        let secret = auth::random_secret(43);
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        store::insert_session(
            &mut tx,
            &auth::hash_secret(&secret),
            user,
            now,
            now.plus_days(auth::SESSION_DAYS),
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Checks the credentials (throttled per address, and per account from
    /// that address) and opens a session; returns the user and its secret.
    pub async fn sign_in(
        state: &AppState,
        name: &str,
        password: &str,
        ip: Option<std::net::IpAddr>,
    ) -> AppResult<(store::UserRow, String)> {
        let wrong = || {
            AppError::new(
                crate::error::ErrorKind::Unauthenticated,
                "The user name or password is not right.",
            )
        };
        // Only a valid name becomes a limiter key (bounded, no junk keys).
        let name = NamespaceName::parse(name).map_err(|_| wrong())?;
        state.limits.check_sign_in(name.as_str(), ip)?;
        let mut tx = state.db.begin().await?;
        let user = store::user_by_name(&mut tx, name.as_str()).await?;
        tx.commit().await?;
        let Some(user) = user else {
            // Same work as a real check, so timing does not reveal which names exist.
            let _ = auth::hash_password(password.to_string()).await;
            return Err(wrong());
        };
        if !auth::verify_password(password.to_string(), user.password_hash.clone()).await? {
            return Err(wrong());
        }
        let secret = open_session(state, UserId(user.id)).await?;
        Ok((user, secret))
    }

    pub async fn sign_out(state: &AppState, caller: &Caller) -> AppResult<()> {
        if let Some(h) = &caller.session_hash {
            let mut tx = state.db.begin().await?;
            store::delete_session(&mut tx, h).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Changes the password and ends every other session; with
    /// `revoke_tokens`, also revokes every access token of the account.
    pub async fn change_password(
        state: &AppState,
        caller: &Caller,
        current: &str,
        new: &str,
        revoke_tokens: bool,
    ) -> AppResult<()> {
        let me = caller.require_account_access()?;
        super::super::validate_password(new)
            .map_err(|m| AppError::invalid_field("new_password", m))?;
        state.limits.check(
            LimitedAction::PasswordChangePerAccount,
            &me.id.0.to_string(),
        )?;
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
        if revoke_tokens {
            store::revoke_all_tokens(&mut tx, me.id, state.clock.now()).await?;
        }
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
        let scope = TokenScope::parse(scope).map_err(|m| AppError::invalid_field("scope", m))?;
        let now = state.clock.now();
        let expires = expires_in_days.map(|d| now.plus_days(d));
        // A token never mints a token that outlives it.
        if let Some(limit) = caller.token_expires_at
            && expires.is_none_or(|e| e > limit)
        {
            return Err(AppError::invalid_field(
                "expires_in_days",
                format!(
                    "The access token you are using expires on {}; a token made with it must expire by then.",
                    limit.date()
                ),
            ));
        }
        let secret = format!("{}{}", auth::TOKEN_PREFIX, auth::random_secret(40));
        let mut tx = state.db.begin().await?;
        let row = store::insert_token(
            &mut tx,
            me.id,
            &name,
            scope,
            &auth::hash_secret(&secret),
            now,
            expires,
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
fn set_cookie(v: Result<axum::http::HeaderValue, AppError>) -> Result<(), AppError> {
    let v = v?;
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.append_header(axum::http::header::SET_COOKIE, v);
    }
    Ok(())
}

/// Who is signed in (none when anonymous).
#[server(endpoint = "whoami", output = crate::wire::Json)]
pub async fn whoami() -> Result<Option<SessionUser>, AppError> {
    let caller = crate::core::caller::current_caller().await?;
    Ok(session_user(&caller))
}

/// Creates an account and signs it in.
#[server(endpoint = "sign_up", output = crate::wire::Json)]
pub async fn sign_up(name: String, password: String) -> Result<SessionUser, AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    check_sign_up(&state, caller.ip)?;
    let id = create_user(&state, &name, &password, false).await?;
    let secret = open_session(&state, id).await?;
    set_cookie(super::auth::session_cookie(&secret, &state.settings))?;
    Ok(SessionUser {
        name: name.trim().to_string(),
        is_staff: false,
    })
}

/// Signs in with name and password; sets the session cookie.
#[server(name = SignIn, endpoint = "sign_in", output = crate::wire::Json)]
pub async fn sign_in_fn(name: String, password: String) -> Result<SessionUser, AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    let (user, secret) = sign_in(&state, &name, &password, caller.ip).await?;
    set_cookie(super::auth::session_cookie(&secret, &state.settings))?;
    // A plain HTML form post (no JavaScript): go where the visitor was
    // going (the form page's `?next=`), else home.
    if let Some(to) = html_form_target() {
        leptos_axum::redirect(&to);
    }
    Ok(SessionUser {
        name: user.name,
        is_staff: user.is_staff,
    })
}

/// For a request from a plain HTML form (it accepts HTML, not JSON), where
/// to send the browser after success: the `next` of the page the form was
/// on, when it is a path on this site, else `/`.
#[cfg(feature = "ssr")]
fn html_form_target() -> Option<String> {
    let parts = use_context::<axum::http::request::Parts>()?;
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    if !header(axum::http::header::ACCEPT).contains("text/html") {
        return None;
    }
    let referer = header(axum::http::header::REFERER);
    let next = referer
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "next")
        .and_then(|(_, v)| percent_encoding::percent_decode_str(v).decode_utf8().ok())
        .and_then(|v| crate::ui::safe_next(&v));
    Some(next.unwrap_or_else(|| "/".to_string()))
}

/// Ends the current session.
#[server(name = SignOut, endpoint = "sign_out", output = crate::wire::Json)]
pub async fn sign_out_fn() -> Result<(), AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    sign_out(&state, &caller).await?;
    set_cookie(super::auth::clear_session_cookie(&state.settings))?;
    Ok(())
}

/// Changes the password and ends every other session.
#[server(name = ChangePassword, endpoint = "change_password", output = crate::wire::Json)]
pub async fn change_password_fn(
    current_password: String,
    new_password: String,
    #[server(default)] revoke_tokens: bool,
) -> Result<(), AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    change_password(
        &state,
        &caller,
        &current_password,
        &new_password,
        revoke_tokens,
    )
    .await
}

/// Creates a personal access token; the secret is in the answer only.
#[server(name = CreateToken, endpoint = "create_token", output = crate::wire::Json)]
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
#[server(name = ListTokens, endpoint = "list_tokens", output = crate::wire::Json)]
pub async fn list_tokens_fn() -> Result<Vec<TokenInfo>, AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    list_tokens(&state, &caller).await
}

/// Revokes one of the caller's tokens.
#[server(name = RevokeToken, endpoint = "revoke_token", output = crate::wire::Json)]
pub async fn revoke_token_fn(id: i64) -> Result<(), AppError> {
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    revoke_token(&state, &caller, crate::domain::ids::TokenId(id)).await
}

/// The caller's unread count and latest notifications.
#[server(name = GetInbox, endpoint = "notifications", output = crate::wire::Json)]
pub async fn inbox_fn() -> Result<Inbox, AppError> {
    with_caller!(|state, caller| inbox(&state, &caller).await)
}

/// Marks all the caller's notifications read.
#[server(name = MarkNotificationsRead, endpoint = "mark_notifications_read", output = crate::wire::Json)]
pub async fn mark_notifications_read_fn() -> Result<(), AppError> {
    with_caller!(|state, caller| mark_inbox_read(&state, &caller).await)
}
