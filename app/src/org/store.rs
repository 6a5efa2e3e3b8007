//! SQL for organizations, owners, teams and grants (loading a namespace for a
//! caller is `core::access`).

use super::{NamespaceKind, OwnedNamespace, TeamGrant, TeamInfo};
use crate::core::access::NsRow;
use crate::db::Tx;
use crate::domain::ids::{NamespaceId, TeamId, UserId};
use crate::domain::{Rights, Timestamp};

pub async fn insert_org(
    tx: &mut Tx<'_>,
    name: &str,
    owner: UserId,
    now: Timestamp,
) -> Result<NamespaceId, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO namespaces (name, kind, created_at) VALUES ($1, 'org', $2) RETURNING id",
    )
    .bind(name)
    .bind(now.0)
    .fetch_one(&mut **tx)
    .await?;
    add_owner(tx, NamespaceId(id), owner).await?;
    Ok(NamespaceId(id))
}

/// Organizations the user owns.
pub async fn orgs_owned(tx: &mut Tx<'_>, user: UserId) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM org_owners WHERE user_id = $1")
        .bind(user.0)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n)
}

pub async fn add_owner(tx: &mut Tx<'_>, ns: NamespaceId, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO org_owners (namespace_id, user_id) VALUES ($1, $2)
         ON CONFLICT (namespace_id, user_id) DO NOTHING",
    )
    .bind(ns.0)
    .bind(user.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn owners(tx: &mut Tx<'_>, ns: &NsRow) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = if ns.kind == NamespaceKind::User {
        sqlx::query_as("SELECT name FROM users WHERE id = $1")
            .bind(ns.user_id.unwrap_or(-1))
            .fetch_all(&mut **tx)
            .await?
    } else {
        sqlx::query_as(
            "SELECT u.name FROM org_owners o JOIN users u ON u.id = o.user_id
             WHERE o.namespace_id = $1 ORDER BY u.name",
        )
        .bind(ns.id)
        .fetch_all(&mut **tx)
        .await?
    };
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

/// Owners and team members, each counted once.
pub async fn members_count(tx: &mut Tx<'_>, ns: &NsRow) -> Result<i64, sqlx::Error> {
    if ns.kind == NamespaceKind::User {
        return Ok(1);
    }
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (
            SELECT user_id FROM org_owners WHERE namespace_id = $1
            UNION
            SELECT m.user_id FROM team_members m JOIN teams t ON t.id = m.team_id
             WHERE t.namespace_id = $1
         ) members",
    )
    .bind(ns.id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}

pub async fn team_id(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    name: &str,
) -> Result<Option<TeamId>, sqlx::Error> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM teams WHERE namespace_id = $1 AND name = $2")
            .bind(ns.0)
            .bind(name)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|(id,)| TeamId(id)))
}

pub async fn insert_team(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    name: &str,
    now: Timestamp,
) -> Result<TeamId, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO teams (namespace_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(ns.0)
    .bind(name)
    .bind(now.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(TeamId(id))
}

pub async fn delete_team(tx: &mut Tx<'_>, team: TeamId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM team_grants WHERE team_id = $1")
        .bind(team.0)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM team_members WHERE team_id = $1")
        .bind(team.0)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM teams WHERE id = $1")
        .bind(team.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn add_member(tx: &mut Tx<'_>, team: TeamId, user: UserId) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)
         ON CONFLICT (team_id, user_id) DO NOTHING",
    )
    .bind(team.0)
    .bind(user.0)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn remove_member(
    tx: &mut Tx<'_>,
    team: TeamId,
    user: UserId,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
        .bind(team.0)
        .bind(user.0)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Sets (or with `Rights::None` removes) a team's grant on a repository.
pub async fn set_grant(
    tx: &mut Tx<'_>,
    team: TeamId,
    repo: crate::domain::ids::RepoId,
    rights: Rights,
) -> Result<(), sqlx::Error> {
    if rights == Rights::None {
        sqlx::query("DELETE FROM team_grants WHERE team_id = $1 AND repository_id = $2")
            .bind(team.0)
            .bind(repo.0)
            .execute(&mut **tx)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO team_grants (team_id, repository_id, rights) VALUES ($1, $2, $3)
             ON CONFLICT (team_id, repository_id) DO UPDATE SET rights = excluded.rights",
        )
        .bind(team.0)
        .bind(repo.0)
        .bind(rights.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn teams(tx: &mut Tx<'_>, ns: NamespaceId) -> Result<Vec<TeamInfo>, sqlx::Error> {
    let teams: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM teams WHERE namespace_id = $1 ORDER BY name")
            .bind(ns.0)
            .fetch_all(&mut **tx)
            .await?;
    let members: Vec<(i64, String)> = sqlx::query_as(
        "SELECT m.team_id, u.name FROM team_members m JOIN teams t ON t.id = m.team_id
         JOIN users u ON u.id = m.user_id WHERE t.namespace_id = $1 ORDER BY u.name",
    )
    .bind(ns.0)
    .fetch_all(&mut **tx)
    .await?;
    #[derive(sqlx::FromRow)]
    struct Grant {
        team_id: i64,
        repository: String,
        #[sqlx(try_from = "String")]
        rights: Rights,
    }
    let grants: Vec<Grant> = sqlx::query_as(
        "SELECT g.team_id, r.name AS repository, g.rights FROM team_grants g JOIN teams t ON t.id = g.team_id
         JOIN repositories r ON r.id = g.repository_id WHERE t.namespace_id = $1 ORDER BY r.name",
    )
    .bind(ns.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(teams
        .into_iter()
        .map(|(id, name)| TeamInfo {
            name,
            members: members
                .iter()
                .filter(|(t, _)| *t == id)
                .map(|(_, n)| n.clone())
                .collect(),
            grants: grants
                .iter()
                .filter(|g| g.team_id == id)
                .map(|g| TeamGrant {
                    repository: g.repository.clone(),
                    rights: g.rights,
                })
                .collect(),
        })
        .collect())
}

/// Namespaces the user owns: their own, then organizations by name.
pub async fn owned_by(tx: &mut Tx<'_>, user: UserId) -> Result<Vec<OwnedNamespace>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, kind FROM namespaces WHERE user_id = $1
         UNION ALL
         SELECT n.name, n.kind FROM namespaces n JOIN org_owners o ON o.namespace_id = n.id
          WHERE o.user_id = $1
         ORDER BY kind DESC, name",
    )
    .bind(user.0)
    .fetch_all(&mut **tx)
    .await
}
