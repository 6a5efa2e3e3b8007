//! SQL for Scout settings.

use crate::db::Tx;
use crate::domain::ids::{NamespaceId, RepoId};

/// Repositories of the namespace with analysis on.
pub async fn count(tx: &mut Tx<'_>, ns: NamespaceId) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM repositories WHERE namespace_id = $1 AND scout_enabled = TRUE",
    )
    .bind(ns.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}

pub async fn set(tx: &mut Tx<'_>, repo: RepoId, enabled: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE repositories SET scout_enabled = $1 WHERE id = $2")
        .bind(enabled)
        .bind(repo.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
