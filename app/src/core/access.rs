//! Loading a namespace or repository for a caller and deciding what they may
//! do with it. Rights come from `domain::rights` (the one decision); this file
//! gathers the facts it needs and holds the one `require` and owner check.

use super::caller::{AuthUser, Caller};
use crate::db::{Backend, Tx};
use crate::domain::ids::{NamespaceId, RepoId, UserId};
use crate::domain::namespace::{logo_variant_path, shown_logo_file};
use crate::domain::rights::{RepoFacts, namespace_rights, repository_rights};
use crate::domain::{NamespaceKind, RepoSummary, Rights, Timestamp};
use crate::error::{AppError, AppResult};

/// A namespace as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NsRow {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: NamespaceKind,
    pub user_id: Option<i64>,
    pub created_at: i64,
    /// The organization logo's stored file name.
    pub logo: Option<String>,
}

impl NsRow {
    pub fn id(&self) -> NamespaceId {
        NamespaceId(self.id)
    }
    pub fn created_at(&self) -> Timestamp {
        Timestamp(self.created_at)
    }
}

/// A repository as stored.
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
    /// The repository logo's stored file name.
    pub logo: Option<String>,
    #[sqlx(try_from = "crate::db::Flag")]
    pub scout_enabled: bool,
}

impl RepoRow {
    pub fn id(&self) -> RepoId {
        RepoId(self.id)
    }
}

/// A repository the caller may read, with their rights on it.
#[derive(Debug, Clone)]
pub struct RepoAccess {
    pub ns: NsRow,
    pub repo: RepoRow,
    pub rights: Rights,
}

impl RepoAccess {
    /// `ns/repo`, for messages.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.ns.name, self.repo.name)
    }
}

/// The one gate: `have` below `need` is refused. A token whose scope is too
/// small is named as the reason; otherwise `refusal` says who may do it.
pub fn require(
    caller: &Caller,
    have: Rights,
    need: Rights,
    refusal: impl FnOnce() -> String,
) -> AppResult<()> {
    if have >= need {
        return Ok(());
    }
    caller.require_scope(need)?;
    Err(AppError::forbidden(refusal()))
}

pub async fn namespace_by_name(tx: &mut Tx<'_>, name: &str) -> Result<Option<NsRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, kind, user_id, created_at, logo FROM namespaces WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(&mut **tx)
    .await
}

/// Loads a namespace or answers 404 naming it.
pub async fn load_namespace(tx: &mut Tx<'_>, name: &str) -> AppResult<NsRow> {
    namespace_by_name(tx, name.trim())
        .await?
        .ok_or_else(|| AppError::not_found(format!("There is no namespace “{}”.", name.trim())))
}

/// The user owns the namespace: it is theirs, or they are an owner of the org.
pub async fn is_owner(tx: &mut Tx<'_>, ns: &NsRow, user: UserId) -> Result<bool, sqlx::Error> {
    if ns.kind == NamespaceKind::User {
        return Ok(ns.user_id == Some(user.0));
    }
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM org_owners WHERE namespace_id = $1 AND user_id = $2")
            .bind(ns.id)
            .bind(user.0)
            .fetch_one(&mut **tx)
            .await?;
    Ok(n > 0)
}

/// The user owns the namespace or is on one of its teams.
pub async fn belongs_to(tx: &mut Tx<'_>, ns: &NsRow, user: UserId) -> Result<bool, sqlx::Error> {
    if is_owner(tx, ns, user).await? {
        return Ok(true);
    }
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM team_members m JOIN teams t ON t.id = m.team_id
         WHERE t.namespace_id = $1 AND m.user_id = $2",
    )
    .bind(ns.id)
    .bind(user.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

/// The caller owns the namespace (false when anonymous).
pub async fn caller_owns(tx: &mut Tx<'_>, caller: &Caller, ns: &NsRow) -> AppResult<bool> {
    Ok(match caller.user_id() {
        Some(u) => is_owner(tx, ns, u).await?,
        None => false,
    })
}

/// The one owner check: signed in (401), an owner of `ns` (403 saying that
/// only owners can `what`), through a session or an admin-scoped token.
pub async fn require_owner<'c>(
    tx: &mut Tx<'_>,
    caller: &'c Caller,
    ns: &NsRow,
    what: &str,
) -> AppResult<&'c AuthUser> {
    let me = caller.require_user()?;
    let rights = if is_owner(tx, ns, me.id).await? {
        namespace_rights(true, true, caller.token_scope)
    } else {
        Rights::None
    };
    require(caller, rights, Rights::Admin, || {
        format!("Only owners of “{}” can {what}.", ns.name)
    })?;
    Ok(me)
}

/// The caller's rights over the namespace itself.
pub async fn namespace_rights_of(
    tx: &mut Tx<'_>,
    caller: &Caller,
    ns: &NsRow,
) -> AppResult<Rights> {
    let owner = caller_owns(tx, caller, ns).await?;
    Ok(namespace_rights(
        caller.user.is_some(),
        owner,
        caller.token_scope,
    ))
}

const REPO_COLS: &str =
    "id, namespace_id, name, description, is_private, pull_count, created_at, logo, scout_enabled";

pub async fn repo_by_name(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    name: &str,
) -> Result<Option<RepoRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REPO_COLS} FROM repositories WHERE namespace_id = $1 AND name = $2"
    )))
    .bind(ns.0)
    .bind(name)
    .fetch_optional(&mut **tx)
    .await
}

/// The highest grant among the user's teams on the repository.
async fn best_team_grant(
    tx: &mut Tx<'_>,
    user: UserId,
    repo: RepoId,
) -> Result<Rights, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Grant {
        #[sqlx(try_from = "String")]
        rights: Rights,
    }
    let rows: Vec<Grant> = sqlx::query_as(
        "SELECT g.rights FROM team_grants g JOIN team_members m ON m.team_id = g.team_id
         WHERE m.user_id = $1 AND g.repository_id = $2",
    )
    .bind(user.0)
    .bind(repo.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|g| g.rights)
        .max()
        .unwrap_or(Rights::None))
}

/// The caller's rights on a repository: the facts for `repository_rights`.
pub async fn repo_rights(
    tx: &mut Tx<'_>,
    caller: &Caller,
    ns: &NsRow,
    repo: &RepoRow,
) -> AppResult<Rights> {
    let (owner, best) = match caller.user_id() {
        Some(u) => (
            is_owner(tx, ns, u).await?,
            best_team_grant(tx, u, repo.id()).await?,
        ),
        None => (false, Rights::None),
    };
    Ok(repository_rights(&RepoFacts {
        signed_in: caller.user.is_some(),
        is_namespace_owner: owner,
        best_team_grant: best,
        is_private: repo.is_private,
        token_scope: caller.token_scope,
    }))
}

/// Loads a repository the caller may at least read. A private repository
/// the caller cannot read answers 404, as if it did not exist.
pub async fn load_repo(
    tx: &mut Tx<'_>,
    caller: &Caller,
    namespace: &str,
    name: &str,
) -> AppResult<RepoAccess> {
    let ns = load_namespace(tx, namespace).await?;
    let missing = || {
        AppError::not_found(format!(
            "There is no repository “{}/{}”.",
            ns.name,
            name.trim()
        ))
    };
    let repo = repo_by_name(tx, ns.id(), name.trim())
        .await?
        .ok_or_else(missing)?;
    let rights = repo_rights(tx, caller, &ns, &repo).await?;
    if rights < Rights::Read {
        return Err(missing());
    }
    Ok(RepoAccess { ns, repo, rights })
}

/// A repository in a listing, before the caller's rights filter it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedRepo {
    pub id: i64,
    pub name: String,
    pub description: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_private: bool,
    pub pull_count: i64,
    pub tag_count: i64,
    pub last_pushed_at: Option<i64>,
    pub logo: Option<String>,
    #[sqlx(try_from = "crate::db::Flag")]
    pub scout_enabled: bool,
}

impl ListedRepo {
    /// As lists show it: `perks_active` decides the badge and whether the
    /// repository's own logo shows over the organization's.
    pub fn summary(&self, ns: &NsRow, perks_active: bool) -> RepoSummary {
        let file = shown_logo_file(self.logo.as_deref(), ns.logo.as_deref(), perks_active);
        RepoSummary {
            namespace: ns.name.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            is_private: self.is_private,
            pull_count: self.pull_count,
            tag_count: self.tag_count,
            last_pushed_at: self.last_pushed_at.map(Timestamp),
            sponsored: perks_active,
            small_logo: file.map(|f| logo_variant_path(f, 64)),
        }
    }
}

/// The repositories of `ns` the caller may read, by name.
pub async fn readable_repositories(
    tx: &mut Tx<'_>,
    caller: &Caller,
    ns: &NsRow,
) -> AppResult<Vec<ListedRepo>> {
    let rows: Vec<ListedRepo> = sqlx::query_as(
        "SELECT r.id, r.name, r.description, r.is_private, r.pull_count,
                (SELECT COUNT(*) FROM tags t WHERE t.repository_id = r.id) AS tag_count,
                (SELECT MAX(t.pushed_at) FROM tags t WHERE t.repository_id = r.id) AS last_pushed_at,
                r.logo, r.scout_enabled
         FROM repositories r WHERE r.namespace_id = $1 ORDER BY r.name",
    )
    .bind(ns.id)
    .fetch_all(&mut **tx)
    .await?;
    let (owner, grants) = match caller.user_id() {
        Some(u) => (
            is_owner(tx, ns, u).await?,
            team_grants_in(tx, u, ns.id()).await?,
        ),
        None => (false, Vec::new()),
    };
    Ok(rows
        .into_iter()
        .filter(|r| {
            let best = grants
                .iter()
                .filter(|(id, _)| *id == r.id)
                .map(|(_, g)| *g)
                .max()
                .unwrap_or(Rights::None);
            repository_rights(&RepoFacts {
                signed_in: caller.user.is_some(),
                is_namespace_owner: owner,
                best_team_grant: best,
                is_private: r.is_private,
                token_scope: caller.token_scope,
            }) >= Rights::Read
        })
        .collect())
}

/// Every grant the user holds in the namespace, per repository id.
async fn team_grants_in(
    tx: &mut Tx<'_>,
    user: UserId,
    ns: NamespaceId,
) -> Result<Vec<(i64, Rights)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Grant {
        repository_id: i64,
        #[sqlx(try_from = "String")]
        rights: Rights,
    }
    let rows: Vec<Grant> = sqlx::query_as(
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
        .map(|g| (g.repository_id, g.rights))
        .collect())
}

/// Loads a user by name or answers 404 naming it.
pub async fn load_user(tx: &mut Tx<'_>, name: &str) -> AppResult<UserId> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE name = $1")
        .bind(name.trim())
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|(id,)| UserId(id))
        .ok_or_else(|| AppError::not_found(format!("There is no user “{}”.", name.trim())))
}

/// Org owners' ids (the user for a personal namespace): who gets told.
pub async fn owner_ids(tx: &mut Tx<'_>, ns: NamespaceId) -> Result<Vec<UserId>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT user_id FROM org_owners WHERE namespace_id = $1
         UNION SELECT user_id FROM namespaces WHERE id = $1 AND user_id IS NOT NULL",
    )
    .bind(ns.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(id,)| UserId(id)).collect())
}

/// Serializes writers on one namespace: a row lock on PostgreSQL; on SQLite
/// the write transaction (BEGIN IMMEDIATE) already holds the database lock.
pub async fn lock_namespace(
    tx: &mut Tx<'_>,
    backend: Backend,
    ns: NamespaceId,
) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM namespaces WHERE id = $1 FOR UPDATE")
            .bind(ns.0)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Serializes writers acting for one user (per-user quotas): a row lock on
/// PostgreSQL; SQLite's write transaction already holds the database lock.
pub async fn lock_user(tx: &mut Tx<'_>, backend: Backend, user: UserId) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind(user.0)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_names_the_token_scope_first() {
        let token = Caller {
            user: None,
            token_scope: Some(Rights::Read),
            ..Caller::default()
        };
        let e = require(&token, Rights::Read, Rights::Admin, || "owners only".into())
            .expect_err("refused");
        assert!(e.message.contains("scope"), "{}", e.message);
        let session = Caller::default();
        let e = require(&session, Rights::Write, Rights::Admin, || {
            "owners only".into()
        })
        .expect_err("refused");
        assert_eq!(e.message, "owners only");
        assert!(require(&session, Rights::Admin, Rights::Admin, String::new).is_ok());
    }
}
