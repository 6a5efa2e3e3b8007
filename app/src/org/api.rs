//! Organization and namespace actions: services shared by server functions
//! and REST v1, each checking rights itself.

use super::{NamespaceInfo, OwnedNamespace, TeamInfo};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::super::store;
    use super::super::{NamespaceInfo, NamespaceKind, OwnedNamespace, TeamInfo, TeamRef};
    use crate::core::access::{
        NsRow, load_namespace, load_user, namespace_rights_of, readable_repositories, repo_by_name,
        require_owner,
    };
    use crate::core::caller::Caller;
    use crate::core::http::{ApiRoutes, JsonBody};
    use crate::core::names;
    use crate::core::perks;
    use crate::core::state::AppState;
    use crate::db::Tx;
    use crate::domain::ids::TeamId;
    use crate::domain::{NamespaceName, RepoName, Rights, TeamName};
    use crate::error::{AppError, AppResult};
    use axum::Json;
    use axum::extract::{Path, State};
    use axum::http::StatusCode;

    /// Loads an organization the caller administers: 404 unknown, 422 personal
    /// namespace, 403 not an owner.
    async fn load_org_as_owner(tx: &mut Tx<'_>, caller: &Caller, name: &str) -> AppResult<NsRow> {
        caller.require_user()?;
        let ns = load_namespace(tx, name).await?;
        if ns.kind != NamespaceKind::Org {
            return Err(AppError::invalid(format!(
                "“{}” is a personal namespace; teams belong to organizations.",
                ns.name
            )));
        }
        require_owner(tx, caller, &ns, "manage its owners and teams").await?;
        Ok(ns)
    }

    async fn load_team(tx: &mut Tx<'_>, ns: &NsRow, team: &str) -> AppResult<TeamId> {
        store::team_id(tx, ns.id(), team.trim())
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!("“{}” has no team “{}”.", ns.name, team.trim()))
            })
    }

    /// Creates an organization owned by the caller.
    pub async fn create_org(
        state: &AppState,
        caller: &Caller,
        name: &str,
    ) -> AppResult<OwnedNamespace> {
        let me = caller.require_user()?;
        caller.require_scope(Rights::Write)?;
        let name = NamespaceName::parse(name).map_err(|m| AppError::invalid_field("name", m))?;
        let mut tx = state.db.begin_write().await?;
        if names::name_taken(&mut tx, name.as_str()).await? {
            return Err(names::taken(name.as_str()));
        }
        crate::core::access::lock_user(&mut tx, state.db.backend, me.id).await?;
        let owned = store::orgs_owned(&mut tx, me.id).await?;
        if owned >= state.settings.max_orgs_per_user {
            return Err(AppError::conflict(format!(
                "You already own {owned} organizations, the most one account may own here; ask an operator to raise HUB_MAX_ORGS_PER_USER, or hand one over."
            )));
        }
        store::insert_org(&mut tx, name.as_str(), me.id, state.clock.now())
            .await
            .map_err(|e| names::unique_or(e, name.as_str()))?;
        tx.commit().await?;
        Ok(OwnedNamespace {
            name: name.to_string(),
            kind: NamespaceKind::Org,
        })
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
        let p = perks::of(state, &mut tx, ns.id()).await?;
        let repositories = readable_repositories(&mut tx, caller, &ns)
            .await?
            .iter()
            .map(|r| r.summary(&ns, p.active()))
            .collect();
        let info = NamespaceInfo {
            membership: p.membership,
            name: ns.name.clone(),
            kind: ns.kind,
            created_at: ns.created_at(),
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
        let mut tx = state.db.begin_write().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        let uid = load_user(&mut tx, user).await?;
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
    ) -> AppResult<TeamRef> {
        let team = TeamName::parse(team).map_err(|m| AppError::invalid_field("team", m))?;
        let mut tx = state.db.begin_write().await?;
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
        store::insert_team(&mut tx, ns.id(), team.as_str(), state.clock.now())
            .await
            .map_err(|e| {
                if crate::db::is_unique_violation(&e) {
                    AppError::conflict_field(
                        "team",
                        format!("“{}” already has a team “{team}”.", ns.name),
                    )
                } else {
                    e.into()
                }
            })?;
        tx.commit().await?;
        Ok(TeamRef {
            org: ns.name,
            name: team.to_string(),
        })
    }

    pub async fn delete_team(
        state: &AppState,
        caller: &Caller,
        org: &str,
        team: &str,
    ) -> AppResult<()> {
        let mut tx = state.db.begin_write().await?;
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
        let mut tx = state.db.begin_write().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        let tid = load_team(&mut tx, &ns, team).await?;
        let uid = load_user(&mut tx, user).await?;
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
        let mut tx = state.db.begin_write().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        let tid = load_team(&mut tx, &ns, team).await?;
        let uid = load_user(&mut tx, user).await?;
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
        let mut tx = state.db.begin_write().await?;
        let ns = load_org_as_owner(&mut tx, caller, org).await?;
        let tid = load_team(&mut tx, &ns, team).await?;
        let repo = repo_by_name(&mut tx, ns.id(), repo_name.as_str())
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
        Ok(rows)
    }

    #[derive(serde::Deserialize)]
    struct NameBody {
        name: String,
    }

    async fn post_org(
        State(s): State<AppState>,
        caller: Caller,
        JsonBody(b): JsonBody<NameBody>,
    ) -> AppResult<(StatusCode, Json<OwnedNamespace>)> {
        Ok((
            StatusCode::CREATED,
            Json(create_org(&s, &caller, &b.name).await?),
        ))
    }

    async fn post_team(
        State(s): State<AppState>,
        caller: Caller,
        Path(org): Path<String>,
        JsonBody(b): JsonBody<NameBody>,
    ) -> AppResult<(StatusCode, Json<TeamRef>)> {
        let t = create_team(&s, &caller, &org, &b.name).await?;
        Ok((StatusCode::CREATED, Json(t)))
    }

    async fn put_member(
        State(s): State<AppState>,
        caller: Caller,
        Path((org, team, user)): Path<(String, String, String)>,
    ) -> AppResult<StatusCode> {
        add_team_member(&s, &caller, &org, &team, &user).await?;
        Ok(StatusCode::NO_CONTENT)
    }

    async fn delete_member(
        State(s): State<AppState>,
        caller: Caller,
        Path((org, team, user)): Path<(String, String, String)>,
    ) -> AppResult<StatusCode> {
        remove_team_member(&s, &caller, &org, &team, &user).await?;
        Ok(StatusCode::NO_CONTENT)
    }

    #[derive(serde::Deserialize)]
    struct GrantBody {
        rights: String,
    }

    async fn put_grant(
        State(s): State<AppState>,
        caller: Caller,
        Path((org, team, repo)): Path<(String, String, String)>,
        JsonBody(b): JsonBody<GrantBody>,
    ) -> AppResult<StatusCode> {
        set_team_grant(&s, &caller, &org, &team, &repo, &b.rights).await?;
        Ok(StatusCode::NO_CONTENT)
    }

    async fn get_namespace_route(
        State(s): State<AppState>,
        caller: Caller,
        Path(ns): Path<String>,
    ) -> AppResult<Json<NamespaceInfo>> {
        Ok(Json(get_namespace(&s, &caller, &ns).await?))
    }

    /// `/api/v1/orgs…` and `GET /api/v1/namespaces/{ns}`.
    pub fn routes() -> ApiRoutes {
        ApiRoutes::new()
            .post("/api/v1/orgs", post_org)
            .post("/api/v1/orgs/{org}/teams", post_team)
            .put("/api/v1/orgs/{org}/teams/{team}/members/{user}", put_member)
            .delete(
                "/api/v1/orgs/{org}/teams/{team}/members/{user}",
                delete_member,
            )
            .put(
                "/api/v1/orgs/{org}/teams/{team}/repositories/{repo}",
                put_grant,
            )
            .get("/api/v1/namespaces/{ns}", get_namespace_route)
    }
}

/// Creates an organization owned by the caller.
#[server(name = CreateOrg, endpoint = "create_org", output = crate::wire::Json)]
pub async fn create_org_fn(name: String) -> Result<OwnedNamespace, AppError> {
    with_caller!(|state, caller| create_org(&state, &caller, &name).await)
}

/// A namespace page's data.
#[server(name = GetNamespace, endpoint = "get_namespace", output = crate::wire::Json)]
pub async fn get_namespace_fn(name: String) -> Result<NamespaceInfo, AppError> {
    with_caller!(|state, caller| get_namespace(&state, &caller, &name).await)
}

/// Adds an owner to an organization (owners only).
#[server(name = AddOwner, endpoint = "add_owner", output = crate::wire::Json)]
pub async fn add_owner_fn(org: String, user: String) -> Result<(), AppError> {
    with_caller!(|state, caller| add_owner(&state, &caller, &org, &user).await)
}

/// An organization's teams (owners only).
#[server(name = ListTeams, endpoint = "list_teams", output = crate::wire::Json)]
pub async fn list_teams_fn(org: String) -> Result<Vec<TeamInfo>, AppError> {
    with_caller!(|state, caller| list_teams(&state, &caller, &org).await)
}

/// Creates a team (owners only).
#[server(name = CreateTeam, endpoint = "create_team", output = crate::wire::Json)]
pub async fn create_team_fn(org: String, team: String) -> Result<(), AppError> {
    with_caller!(|state, caller| create_team(&state, &caller, &org, &team).await.map(|_| ()))
}

/// Deletes a team with its memberships and grants (owners only).
#[server(name = DeleteTeam, endpoint = "delete_team", output = crate::wire::Json)]
pub async fn delete_team_fn(org: String, team: String) -> Result<(), AppError> {
    with_caller!(|state, caller| delete_team(&state, &caller, &org, &team).await)
}

/// Adds a user to a team (owners only).
#[server(name = AddTeamMember, endpoint = "add_team_member", output = crate::wire::Json)]
pub async fn add_team_member_fn(org: String, team: String, user: String) -> Result<(), AppError> {
    with_caller!(|state, caller| add_team_member(&state, &caller, &org, &team, &user).await)
}

/// Removes a user from a team (owners only).
#[server(name = RemoveTeamMember, endpoint = "remove_team_member", output = crate::wire::Json)]
pub async fn remove_team_member_fn(
    org: String,
    team: String,
    user: String,
) -> Result<(), AppError> {
    with_caller!(|state, caller| remove_team_member(&state, &caller, &org, &team, &user).await)
}

/// Sets a team's permission on a repository: read, write, admin or none.
#[server(name = SetTeamGrant, endpoint = "set_team_grant", output = crate::wire::Json)]
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
#[server(name = MyNamespaces, endpoint = "my_namespaces", output = crate::wire::Json)]
pub async fn my_namespaces_fn() -> Result<Vec<OwnedNamespace>, AppError> {
    with_caller!(|state, caller| my_namespaces(&state, &caller).await)
}
