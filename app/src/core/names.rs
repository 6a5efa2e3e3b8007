//! Namespace names are one pool shared by users and organizations: a name is
//! taken once, whichever kind took it.

use crate::db::Tx;
use crate::error::AppError;

/// True when a user or organization already holds `name`.
pub async fn name_taken(tx: &mut Tx<'_>, name: &str) -> Result<bool, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM namespaces WHERE name = $1")
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

/// 409 on the `name` field.
pub fn taken(name: &str) -> AppError {
    AppError::conflict_field(
        "name",
        format!("The name “{name}” is already taken; choose another."),
    )
}

/// A unique-constraint violation (a concurrent claim) becomes [`taken`].
pub fn unique_or(e: sqlx::Error, name: &str) -> AppError {
    if crate::db::is_unique_violation(&e) {
        taken(name)
    } else {
        e.into()
    }
}
