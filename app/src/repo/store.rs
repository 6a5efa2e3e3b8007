//! SQL for reading tags (creating repositories and tags, which the registry
//! does too, is `core::catalog`; loading one for a caller is `core::access`).

use super::TagInfo;
use crate::db::Tx;
use crate::domain::Timestamp;
use crate::domain::ids::RepoId;

pub async fn tags(tx: &mut Tx<'_>, repo: RepoId) -> Result<Vec<TagInfo>, sqlx::Error> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT name, digest, pushed_at FROM tags WHERE repository_id = $1
         ORDER BY pushed_at DESC, name",
    )
    .bind(repo.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, digest, at)| TagInfo {
            name,
            digest,
            pushed_at: Timestamp(at),
        })
        .collect())
}
