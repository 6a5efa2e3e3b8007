//! The catalog rows two features write: a repository (created from the web,
//! the REST API, or a first `docker push`) and a tag (set from the REST API
//! or by a manifest push).

use crate::db::Tx;
use crate::domain::Timestamp;
use crate::domain::ids::{NamespaceId, RepoId};

/// Inserts a repository.
pub async fn insert_repo(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    name: &str,
    description: &str,
    is_private: bool,
    now: Timestamp,
) -> Result<RepoId, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO repositories (namespace_id, name, description, is_private, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(ns.0)
    .bind(name)
    .bind(description)
    .bind(is_private)
    .bind(now.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(RepoId(id))
}

/// Creates or moves a tag.
pub async fn upsert_tag(
    tx: &mut Tx<'_>,
    repo: RepoId,
    name: &str,
    digest: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tags (repository_id, name, digest, pushed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (repository_id, name)
         DO UPDATE SET digest = excluded.digest, pushed_at = excluded.pushed_at",
    )
    .bind(repo.0)
    .bind(name)
    .bind(digest)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
