//! Namespace names are one pool shared by users and organizations: a name is
//! taken once, whichever kind took it.

#[cfg(feature = "ssr")]
use crate::db::Tx;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Whether a name can be claimed now (sign-up, new organization, the home
/// page's checker): the shared name rule first, then the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "message", rename_all = "snake_case")]
pub enum Availability {
    Invalid(String),
    Taken,
    Available,
}

/// Anyone may ask whether a namespace name is free (names are public).
#[server(endpoint = "name_available", output = crate::wire::Json)]
pub async fn name_available(name: String) -> Result<Availability, AppError> {
    let parsed = match crate::domain::NamespaceName::parse(&name) {
        Ok(p) => p,
        Err(e) => return Ok(Availability::Invalid(e)),
    };
    let state = crate::core::state::AppState::current()?;
    let mut tx = state.db.begin().await?;
    let taken = name_taken(&mut tx, parsed.as_str()).await?;
    tx.commit().await?;
    Ok(if taken {
        Availability::Taken
    } else {
        Availability::Available
    })
}

/// True when a user or organization already holds `name`.
#[cfg(feature = "ssr")]
pub async fn name_taken(tx: &mut Tx<'_>, name: &str) -> Result<bool, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM namespaces WHERE name = $1")
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

/// 409 on the `name` field.
#[cfg(feature = "ssr")]
pub fn taken(name: &str) -> AppError {
    AppError::conflict_field(
        "name",
        format!("The name “{name}” is already taken; choose another."),
    )
}

/// A unique-constraint violation (a concurrent claim) becomes [`taken`].
#[cfg(feature = "ssr")]
pub fn unique_or(e: sqlx::Error, name: &str) -> AppError {
    if crate::db::is_unique_violation(&e) {
        taken(name)
    } else {
        e.into()
    }
}
