//! SQL for repositories, tags and the facts rights depend on.

use super::{RepoSummary, TagInfo};
use crate::db::Tx;
use crate::domain::ids::{NamespaceId, RepoId, UserId};
use crate::domain::{Rights, Timestamp};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RepoRow {
    pub id: i64,
    pub namespace_id: i64,
    pub name: String,
    pub description: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_private: bool,
    pub pull_count: i64,
    pub created_at: i64,
}

impl RepoRow {
    pub fn id(&self) -> RepoId {
        RepoId(self.id)
    }
}

pub async fn repo_by_name(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    name: &str,
) -> Result<Option<RepoRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, namespace_id, name, description, is_private, pull_count, created_at
         FROM repositories WHERE namespace_id = $1 AND name = $2",
    )
    .bind(ns.0)
    .bind(name)
    .fetch_optional(&mut **tx)
    .await
}

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

/// The highest grant among the user's teams on the repository.
pub async fn best_team_grant(
    tx: &mut Tx<'_>,
    user: UserId,
    repo: RepoId,
) -> Result<Rights, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT g.rights FROM team_grants g JOIN team_members m ON m.team_id = g.team_id
         WHERE m.user_id = $1 AND g.repository_id = $2",
    )
    .bind(user.0)
    .bind(repo.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|(r,)| Rights::parse_grant(r).ok())
        .max()
        .unwrap_or(Rights::None))
}

/// Every grant the user holds in the namespace, per repository id.
pub async fn team_grants_in(
    tx: &mut Tx<'_>,
    user: UserId,
    ns: NamespaceId,
) -> Result<Vec<(i64, Rights)>, sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT g.repository_id, g.rights FROM team_grants g
         JOIN team_members m ON m.team_id = g.team_id
         JOIN repositories r ON r.id = g.repository_id
         WHERE m.user_id = $1 AND r.namespace_id = $2",
    )
    .bind(user.0)
    .bind(ns.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, r)| Rights::parse_grant(&r).ok().map(|g| (id, g)))
        .collect())
}

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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummaryRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_private: bool,
    pub pull_count: i64,
    pub tag_count: i64,
    pub last_pushed_at: Option<i64>,
    pub logo: Option<String>,
}

impl SummaryRow {
    /// The summary; `sponsored` and `org_logo` decide which logo lists show.
    pub fn summary_with(
        &self,
        namespace: &str,
        sponsored: bool,
        org_logo: Option<&str>,
    ) -> RepoSummary {
        let file = self.logo.as_deref().filter(|_| sponsored).or(org_logo);
        RepoSummary {
            sponsored,
            small_logo: file.map(|f| crate::logo::variant_path(f, 64)),
            ..self.summary(namespace)
        }
    }

    pub fn summary(&self, namespace: &str) -> RepoSummary {
        RepoSummary {
            namespace: namespace.to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            is_private: self.is_private,
            pull_count: self.pull_count,
            tag_count: self.tag_count,
            last_pushed_at: self.last_pushed_at.map(Timestamp),
            sponsored: false,
            small_logo: None,
        }
    }
}

/// All repositories of a namespace with tag counts; the caller filters by rights.
pub async fn summaries(tx: &mut Tx<'_>, ns: NamespaceId) -> Result<Vec<SummaryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, r.name, r.description, r.is_private, r.pull_count,
                (SELECT COUNT(*) FROM tags t WHERE t.repository_id = r.id) AS tag_count,
                (SELECT MAX(t.pushed_at) FROM tags t WHERE t.repository_id = r.id) AS last_pushed_at,
                r.logo
         FROM repositories r WHERE r.namespace_id = $1 ORDER BY r.name",
    )
    .bind(ns.0)
    .fetch_all(&mut **tx)
    .await
}
