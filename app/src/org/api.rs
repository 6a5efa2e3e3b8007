//! Organization and namespace actions: services shared by server functions
//! and REST v1, each checking rights itself.

use super::{NamespaceInfo, OwnedNamespace, TeamInfo};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::super::store::{self, NsRow};
    use super::super::{NamespaceInfo, NamespaceKind, OwnedNamespace, TeamInfo};
    use crate::account::auth::Caller;
    use crate::db::Tx;
    use crate::domain::rights::{RepoFacts, namespace_rights, repository_rights};
    use crate::domain::{NamespaceName, RepoName, Rights, TeamName};
    use crate::error::{AppError, AppResult};
    use crate::state::AppState;

    /// Loads a namespace or answers 404 naming it.
    pub async fn load_namespace(tx: &mut Tx<'_>, name: &str) -> AppResult<NsRow> {
        store::namespace_by_name(tx, name.trim())
            .await?
            .ok_or_else(|| AppError::not_found(format!("There is no namespace “{}”.", name.trim())))
    }

    /// The caller's rights over the namespace itself.
    pub async fn namespace_rights_of(
        tx: &mut Tx<'_>,
        caller: &Caller,
        ns: &NsRow,
    ) -> AppResult<Rights> {
        let owner = match caller.user_id() {
            Some(u) => store::is_owner(tx, ns, u).await?,
            None => false,
        };
        Ok(namespace_rights(
            caller.user.is_some(),
            owner,
            caller.token_scope,
        ))
    }

    /// Loads an organization the caller administers: 404 unknown, 422 personal
    /// namespace, 403 not an owner.
    async fn load_org_as_owner(tx: &mut Tx<'_>, caller: &Caller, name: &str) -> AppResult<NsRow> {
        caller.require_user()?;
        let ns = load_namespace(tx, name).await?;
        if ns.kind() != NamespaceKind::Org {
            return Err(AppError::invalid(format!(
                "“{}” is a personal namespace; teams belong to organizations.",
                ns.name
            )));
        }
        let owner = match caller.user_id() {
            Some(u) => store::is_owner(tx, &ns, u).await?,
            None => false,
        };
        if !owner {
            return Err(AppError::forbidden(format!(
                "Only owners of “{}” can manage its owners and teams.",
                ns.name
            )));
        }
        caller.require_scope(Rights::Admin)?;
        Ok(ns)
    }

    async fn load_user_id(tx: &mut Tx<'_>, name: &str) -> AppResult<crate::domain::ids::UserId> {
        crate::account::store::user_by_name(tx, name.trim())
            .await?
            .map(|u| crate::domain::ids::UserId(u.id))
            .ok_or_else(|| AppError::not_found(format!("There is no user “{}”.", name.trim())))
    }

    async fn load_team(
        tx: &mut Tx<'_>,
        ns: &NsRow,
        team: &str,
    ) -> AppResult<crate::domain::ids::TeamId> {
        store::team_id(tx, ns.id(), team.trim())
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!("“{}” has no team “{}”.", ns.name, team.trim()))
            })
    }

    /// Creates an organization owned by the caller.
    pub async fn create_org(state: &AppState, caller: &Caller, name: &str) -> AppResult<String> {
        let me = caller.require_user()?;
        caller.require_scope(Rights::Write)?;
        let name = NamespaceName::parse(name).map_err(|m| AppError::invalid_field("name", m))?;
        let mut tx = state.db.begin().await?;
        if crate::account::store::name_taken(&mut tx, name.as_str()).await? {
            return Err(crate::account::api::taken(name.as_str()));
        }
        store::insert_org(&mut tx, name.as_str(), me.id, state.clock.now())
            .await
            .map_err(|e| crate::account::api::unique_or(e, name.as_str()))?;
        tx.commit().await?;
        Ok(name.to_string())
    }

    /// A namespace as the caller may see it.
    pub async fn get_namespace(
        state: &AppState,
        caller: &Caller,
        name: &str,
    ) -> AppResult<NamespaceInfo> {
        let mut tx = state.db.begin().await?;
        let ns = load_namespace(&mut tx, name).await?;
        let viewer_rights = namespace_rights_of(&mut tx, caller, &ns).await?;
        let owner = viewer_rights == Rights::Admin
            || match caller.user_id() {
                Some(u) => store::is_owner(&mut tx, &ns, u).await?,
                None => false,
            };
        let grants = match caller.user_id() {
            Some(u) => crate::repo::store::team_grants_in(&mut tx, u, ns.id()).await?,
            None => Vec::new(),
        };
        let rows = crate::repo::store::summaries(&mut tx, ns.id()).await?;
        let now = state.clock.now();
        let rules = state.settings.program;
        let membership = crate::program::api::membership(&mut tx, ns.id(), now, &rules).await?;
        let sponsored = crate::program::api::perks_active(&mut tx, ns.id(), now, &rules).await?;
        let org_logo = crate::logo::store::namespace_logo(&mut tx, ns.id()).await?;
        let repositories = rows
            .iter()
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
            .map(|r| r.summary_with(&ns.name, sponsored, org_logo.as_deref()))
            .collect();
        let info = NamespaceInfo {
            logo: org_logo.as_deref().map(|f| format!("/logos/{f}")),
            membership,
            name: ns.name.clone(),
            kind: ns.kind(),
            created_at: crate::domain::Timestamp(ns.created_at),
            members_count: store::members_count(&mut tx, &ns).await?,
            owners: store::owners(&mut tx, &ns).await?,
            viewer_rights,
            repositories,
        };
        tx.commit().await?;
        Ok(info)
    }

    /// Makes another user an owner of the organization.
    pub async fn add_owner(
        state: &AppState,
        caller: &Caller,
        org: &str,
        user: &str,
    ) -> AppResult<()> {
        let mut tx = state.db.begin().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        let uid = load_user_id(&mut tx, user).await?;
        store::add_owner(&mut tx, ns.id(), uid).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The organization's teams (owners only).
    pub async fn list_teams(
        state: &AppState,
        caller: &Caller,
        org: &str,
    ) -> AppResult<Vec<TeamInfo>> {
        let mut tx = state.db.begin().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        let teams = store::teams(&mut tx, ns.id()).await?;
        tx.commit().await?;
        Ok(teams)
    }

    pub async fn create_team(
        state: &AppState,
        caller: &Caller,
        org: &str,
        team: &str,
    ) -> AppResult<()> {
        let team = TeamName::parse(team).map_err(|m| AppError::invalid_field("team", m))?;
        let mut tx = state.db.begin().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        if store::team_id(&mut tx, ns.id(), team.as_str())
            .await?
            .is_some()
        {
            return Err(AppError::conflict_field(
                "team",
                format!("“{}” already has a team “{team}”.", ns.name),
            ));
        }
        store::insert_team(&mut tx, ns.id(), team.as_str(), state.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_team(
        state: &AppState,
        caller: &Caller,
        org: &str,
        team: &str,
    ) -> AppResult<()> {
        let mut tx = state.db.begin().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        let tid = load_team(&mut tx, &ns, team).await?;
        store::delete_team(&mut tx, tid).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_team_member(
        state: &AppState,
        caller: &Caller,
        org: &str,
        team: &str,
        user: &str,
    ) -> AppResult<()> {
        let mut tx = state.db.begin().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        let tid = load_team(&mut tx, &ns, team).await?;
        let uid = load_user_id(&mut tx, user).await?;
        store::add_member(&mut tx, tid, uid).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_team_member(
        state: &AppState,
        caller: &Caller,
        org: &str,
        team: &str,
        user: &str,
    ) -> AppResult<()> {
        let mut tx = state.db.begin().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        let tid = load_team(&mut tx, &ns, team).await?;
        let uid = load_user_id(&mut tx, user).await?;
        if !store::remove_member(&mut tx, tid, uid).await? {
            return Err(AppError::not_found(format!(
                "“{}” is not a member of team “{}”.",
                user.trim(),
                team.trim()
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Grants a team `read`, `write` or `admin` on a repository (`none` removes it).
    pub async fn set_team_grant(
        state: &AppState,
        caller: &Caller,
        org: &str,
        team: &str,
        repository: &str,
        rights: &str,
    ) -> AppResult<()> {
        let rights = match rights.trim() {
            "none" => Rights::None,
            other => {
                Rights::parse_grant(other).map_err(|m| AppError::invalid_field("rights", m))?
            }
        };
        let repo_name =
            RepoName::parse(repository).map_err(|m| AppError::invalid_field("repository", m))?;
        let mut tx = state.db.begin().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        let tid = load_team(&mut tx, &ns, team).await?;
        let repo = crate::repo::store::repo_by_name(&mut tx, ns.id(), repo_name.as_str())
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!("“{}” has no repository “{repo_name}”.", ns.name))
            })?;
        store::set_grant(&mut tx, tid, repo.id(), rights).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Namespaces the caller owns (personal first).
    pub async fn my_namespaces(
        state: &AppState,
        caller: &Caller,
    ) -> AppResult<Vec<OwnedNamespace>> {
        let me = caller.require_user()?;
        let mut tx = state.db.begin().await?;
        let rows = store::owned_by(&mut tx, me.id).await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|(name, kind)| OwnedNamespace {
                name,
                kind: if kind == "org" {
                    NamespaceKind::Org
                } else {
                    NamespaceKind::User
                },
            })
            .collect())
    }
}

/// Creates an organization owned by the caller.
#[server(name = CreateOrg, endpoint = "create_org")]
pub async fn create_org_fn(name: String) -> Result<String, AppError> {
    with_caller!(|state, caller| create_org(&state, &caller, &name).await)
}

/// A namespace page's data.
#[server(name = GetNamespace, endpoint = "get_namespace")]
pub async fn get_namespace_fn(name: String) -> Result<NamespaceInfo, AppError> {
    with_caller!(|state, caller| get_namespace(&state, &caller, &name).await)
}

/// Adds an owner to an organization (owners only).
#[server(name = AddOwner, endpoint = "add_owner")]
pub async fn add_owner_fn(org: String, user: String) -> Result<(), AppError> {
    with_caller!(|state, caller| add_owner(&state, &caller, &org, &user).await)
}

/// An organization's teams (owners only).
#[server(name = ListTeams, endpoint = "list_teams")]
pub async fn list_teams_fn(org: String) -> Result<Vec<TeamInfo>, AppError> {
    with_caller!(|state, caller| list_teams(&state, &caller, &org).await)
}

/// Creates a team (owners only).
#[server(name = CreateTeam, endpoint = "create_team")]
pub async fn create_team_fn(org: String, team: String) -> Result<(), AppError> {
    with_caller!(|state, caller| create_team(&state, &caller, &org, &team).await)
}

/// Deletes a team with its memberships and grants (owners only).
#[server(name = DeleteTeam, endpoint = "delete_team")]
pub async fn delete_team_fn(org: String, team: String) -> Result<(), AppError> {
    with_caller!(|state, caller| delete_team(&state, &caller, &org, &team).await)
}

/// Adds a user to a team (owners only).
#[server(name = AddTeamMember, endpoint = "add_team_member")]
pub async fn add_team_member_fn(org: String, team: String, user: String) -> Result<(), AppError> {
    with_caller!(|state, caller| add_team_member(&state, &caller, &org, &team, &user).await)
}

/// Removes a user from a team (owners only).
#[server(name = RemoveTeamMember, endpoint = "remove_team_member")]
pub async fn remove_team_member_fn(
    org: String,
    team: String,
    user: String,
) -> Result<(), AppError> {
    with_caller!(|state, caller| remove_team_member(&state, &caller, &org, &team, &user).await)
}

/// Sets a team's permission on a repository: read, write, admin or none.
#[server(name = SetTeamGrant, endpoint = "set_team_grant")]
pub async fn set_team_grant_fn(
    org: String,
    team: String,
    repository: String,
    rights: String,
) -> Result<(), AppError> {
    with_caller!(
        |state, caller| set_team_grant(&state, &caller, &org, &team, &repository, &rights).await
    )
}

/// Namespaces the caller owns.
#[server(name = MyNamespaces, endpoint = "my_namespaces")]
pub async fn my_namespaces_fn() -> Result<Vec<OwnedNamespace>, AppError> {
    with_caller!(|state, caller| my_namespaces(&state, &caller).await)
}
