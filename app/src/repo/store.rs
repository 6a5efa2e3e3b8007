//! SQL for reading tags (creating repositories and tags, which the registry
//! does too, is `core::catalog`; loading one for a caller is `core::access`).

use super::TagInfo;
use crate::db::Tx;
use crate::domain::Timestamp;
use crate::domain::ids::RepoId;

pub async fn tags(tx: &mut Tx<'_>, repo: RepoId) -> Result<Vec<TagInfo>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        name: String,
        digest: String,
        pushed_at: i64,
        last_pulled_at: Option<i64>,
        total_size: Option<i64>,
        platforms: Option<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT t.name, t.digest, t.pushed_at, t.last_pulled_at, m.total_size, m.platforms
         FROM tags t LEFT JOIN registry_manifests m
           ON m.repository_id = t.repository_id AND m.digest = t.digest
         WHERE t.repository_id = $1
         ORDER BY t.pushed_at DESC, t.name",
    )
    .bind(repo.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TagInfo {
            name: r.name,
            digest: r.digest,
            pushed_at: Timestamp(r.pushed_at),
            size: r.total_size,
            platforms: r
                .platforms
                .map(|p| p.split(',').map(String::from).collect())
                .unwrap_or_default(),
            last_pulled_at: r.last_pulled_at.map(Timestamp),
        })
        .collect())
}

/// The repository's overview (Markdown, as written).
pub async fn overview(tx: &mut Tx<'_>, repo: RepoId) -> Result<String, sqlx::Error> {
    let (o,): (String,) = sqlx::query_as("SELECT overview FROM repositories WHERE id = $1")
        .bind(repo.0)
        .fetch_one(&mut **tx)
        .await?;
    Ok(o)
}

pub async fn set_overview(tx: &mut Tx<'_>, repo: RepoId, text: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE repositories SET overview = $1 WHERE id = $2")
        .bind(text)
        .bind(repo.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
