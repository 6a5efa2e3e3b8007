//! Scout actions: switch analysis on or off (repository admins, within the
//! quota), and a namespace's overview; as server functions and REST routes.

use super::{ScoutOverview, ScoutState};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::super::{ScoutOverview, ScoutState, check_quota, store};
    use crate::core::access::{self, load_namespace, load_repo, readable_repositories, require};
    use crate::core::audit::{self, Record};
    use crate::core::caller::Caller;
    use crate::core::http::{ApiRoutes, JsonBody};
    use crate::core::perks;
    use crate::core::state::AppState;
    use crate::domain::Rights;
    use crate::error::{AppError, AppResult, ErrorKind};
    use axum::Json;
    use axum::extract::{Path, State};

    /// Enables or disables analysis on a repository (admins). The quota is
    /// counted under a namespace lock, so two concurrent enables cannot both
    /// pass the limit.
    pub async fn set_scout(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        repository: &str,
        enabled: bool,
    ) -> AppResult<ScoutState> {
        caller.require_user()?;
        let now = state.clock.now();
        let mut tx = state.db.begin_write().await?;
        let r = load_repo(&mut tx, caller, namespace, repository).await?;
        require(caller, r.rights, Rights::Admin, || {
            format!(
                "Only admins of “{}” can change its image analysis setting.",
                r.full_name()
            )
        })?;
        access::lock_namespace(&mut tx, state.db.backend, r.ns.id()).await?;
        let p = perks::of(state, &mut tx, r.ns.id()).await?;
        let already = r.repo.scout_enabled;
        if enabled && !already {
            let count = store::count(&mut tx, r.ns.id()).await?;
            check_quota(count, p.scout_limit(), p.active())
                .map_err(|m| AppError::new(ErrorKind::Conflict, m))?;
        }
        if enabled != already {
            store::set(&mut tx, r.repo.id(), enabled).await?;
            let record = Record {
                namespace: r.ns.id(),
                application: None,
                actor: caller.user_id(),
                action: if enabled {
                    "scout_enabled"
                } else {
                    "scout_disabled"
                },
                detail: &r.repo.name,
            };
            audit::record(&mut tx, record, now).await?;
        }
        let count = store::count(&mut tx, r.ns.id()).await?;
        tx.commit().await?;
        Ok(ScoutState {
            enabled,
            enabled_in_namespace: count,
            limit: p.scout_limit(),
        })
    }

    /// A namespace's Scout use: names only of repositories the caller may read.
    pub async fn overview(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
    ) -> AppResult<ScoutOverview> {
        let mut tx = state.db.begin().await?;
        let ns = load_namespace(&mut tx, namespace).await?;
        let p = perks::of(state, &mut tx, ns.id()).await?;
        let enabled_repositories = readable_repositories(&mut tx, caller, &ns)
            .await?
            .into_iter()
            .filter(|r| r.scout_enabled)
            .map(|r| r.name)
            .collect();
        let enabled_in_namespace = store::count(&mut tx, ns.id()).await?;
        tx.commit().await?;
        Ok(ScoutOverview {
            namespace: ns.name,
            enabled_repositories,
            enabled_in_namespace,
            limit: p.scout_limit(),
        })
    }

    #[derive(serde::Deserialize)]
    struct EnabledBody {
        enabled: bool,
    }

    async fn put_scout(
        State(s): State<AppState>,
        caller: Caller,
        Path((ns, repo)): Path<(String, String)>,
        JsonBody(b): JsonBody<EnabledBody>,
    ) -> AppResult<Json<ScoutState>> {
        Ok(Json(set_scout(&s, &caller, &ns, &repo, b.enabled).await?))
    }

    async fn get_overview(
        State(s): State<AppState>,
        caller: Caller,
        Path(ns): Path<String>,
    ) -> AppResult<Json<ScoutOverview>> {
        Ok(Json(overview(&s, &caller, &ns).await?))
    }

    /// `PUT /api/v1/repositories/{ns}/{repo}/scout`, `GET /api/v1/namespaces/{ns}/scout`.
    pub fn routes() -> ApiRoutes {
        ApiRoutes::new()
            .put("/api/v1/repositories/{ns}/{repo}/scout", put_scout)
            .get("/api/v1/namespaces/{ns}/scout", get_overview)
    }
}

/// Enables or disables Scout image analysis on a repository.
#[server(name = SetScout, endpoint = "set_scout", output = crate::wire::Json)]
pub async fn set_scout_fn(
    namespace: String,
    repository: String,
    enabled: bool,
) -> Result<ScoutState, AppError> {
    with_caller!(|state, caller| set_scout(&state, &caller, &namespace, &repository, enabled).await)
}

/// A namespace's Scout use (repository names the caller may read).
#[server(name = GetScoutOverview, endpoint = "scout_overview", output = crate::wire::Json)]
pub async fn scout_overview_fn(namespace: String) -> Result<ScoutOverview, AppError> {
    with_caller!(|state, caller| overview(&state, &caller, &namespace).await)
}
