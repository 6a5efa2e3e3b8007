//! Repository actions: services shared by server functions and REST v1.

use super::{RepoDetail, TagInfo};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::super::{RepoDetail, TagInfo, store, validate_description};
    use crate::core::access::{
        RepoAccess, load_namespace, load_repo, namespace_rights_of, repo_by_name, require,
    };
    use crate::core::caller::Caller;
    use crate::core::http::{ApiRoutes, JsonBody};
    use crate::core::perks;
    use crate::core::state::AppState;
    use crate::domain::{Digest, RepoName, Rights, TagName};
    use crate::error::{AppError, AppResult};
    use crate::logo::{LogoFacts, LogoInfo};
    use axum::Json;
    use axum::extract::{Path, State};
    use axum::http::StatusCode;

    /// Input for a new repository.
    #[derive(Debug, Clone, serde::Deserialize)]
    pub struct NewRepo {
        pub namespace: String,
        pub name: String,
        #[serde(default)]
        pub description: String,
        #[serde(default)]
        pub is_private: bool,
    }

    fn conflict(ns: &str, name: &str) -> AppError {
        AppError::conflict_field(
            "name",
            format!("“{ns}/{name}” already exists; choose another name."),
        )
    }

    /// Creates a repository in a namespace the caller may write to.
    pub async fn create_repository(
        state: &AppState,
        caller: &Caller,
        input: &NewRepo,
    ) -> AppResult<RepoDetail> {
        caller.require_user()?;
        let name = RepoName::parse(&input.name).map_err(|m| AppError::invalid_field("name", m))?;
        let description = validate_description(&input.description)
            .map_err(|m| AppError::invalid_field("description", m))?;
        let mut tx = state.db.begin_write().await?;
        let ns = load_namespace(&mut tx, &input.namespace).await?;
        let rights = namespace_rights_of(&mut tx, caller, &ns).await?;
        require(caller, rights, Rights::Write, || {
            format!(
                "You cannot create repositories in “{}”: only its owners can.",
                ns.name
            )
        })?;
        if repo_by_name(&mut tx, ns.id(), name.as_str())
            .await?
            .is_some()
        {
            return Err(conflict(&ns.name, name.as_str()));
        }
        crate::core::catalog::insert_repo(
            &mut tx,
            ns.id(),
            name.as_str(),
            &description,
            input.is_private,
            state.clock.now(),
        )
        .await
        .map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                conflict(&ns.name, name.as_str())
            } else {
                e.into()
            }
        })?;
        tx.commit().await?;
        get_repository(state, caller, &ns.name, name.as_str()).await
    }

    /// A repository page's data.
    pub async fn get_repository(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> AppResult<RepoDetail> {
        let mut tx = state.db.begin().await?;
        let RepoAccess { ns, repo, rights } = load_repo(&mut tx, caller, namespace, name).await?;
        let tags = store::tags(&mut tx, repo.id()).await?;
        let overview = store::overview(&mut tx, repo.id()).await?;
        let p = perks::of(state, &mut tx, ns.id()).await?;
        tx.commit().await?;
        let overview_html = super::super::render_overview(&overview);
        let logo = LogoInfo::resolve(&LogoFacts {
            public_url: &state.settings.public_url,
            namespace: &ns.name,
            repository_file: Some(repo.logo.as_deref()),
            organization_file: ns.logo.as_deref(),
            perk: p.repository_logos(),
            is_admin: rights == Rights::Admin,
        });
        Ok(RepoDetail {
            sponsored: p.badge(),
            sponsored_until: p.sponsored_until(),
            membership: p.membership,
            scout_enabled: repo.scout_enabled,
            badge_markdown: crate::badge::markdown_snippet(
                &state.settings.public_url,
                &ns.name,
                &repo.name,
            ),
            logo,
            now: state.clock.now(),
            overview,
            overview_html,
            pull_host: crate::core::origin::origin_of(&state.settings.public_url)
                .split("://")
                .nth(1)
                .unwrap_or_default()
                .to_string(),
            created_at: crate::domain::Timestamp(repo.created_at),
            namespace: ns.name,
            name: repo.name,
            description: repo.description,
            is_private: repo.is_private,
            pull_count: repo.pull_count,
            tags,
            viewer_rights: rights,
        })
    }

    /// Points a tag at a digest (write rights needed).
    pub async fn put_tag(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        name: &str,
        tag: &str,
        digest: &str,
    ) -> AppResult<TagInfo> {
        caller.require_user()?;
        let tag = TagName::parse(tag).map_err(|m| AppError::invalid_field("tag", m))?;
        let digest = Digest::parse(digest).map_err(|m| AppError::invalid_field("digest", m))?;
        let mut tx = state.db.begin_write().await?;
        let r = load_repo(&mut tx, caller, namespace, name).await?;
        require(caller, r.rights, Rights::Write, || {
            format!(
                "You have {} access to “{}”; pushing tags needs write.",
                r.rights,
                r.full_name()
            )
        })?;
        let now = state.clock.now();
        crate::core::catalog::upsert_tag(&mut tx, r.repo.id(), tag.as_str(), digest.as_str(), now)
            .await?;
        tx.commit().await?;
        Ok(TagInfo {
            name: tag.to_string(),
            digest: digest.to_string(),
            pushed_at: now,
            size: None,
            platforms: Vec::new(),
            last_pulled_at: None,
        })
    }

    /// Replaces the repository's overview (Markdown); needs write rights.
    pub async fn set_overview(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        name: &str,
        overview: &str,
    ) -> AppResult<RepoDetail> {
        caller.require_user()?;
        super::super::validate_overview(overview)
            .map_err(|m| AppError::invalid_field("overview", m))?;
        let mut tx = state.db.begin_write().await?;
        let r = load_repo(&mut tx, caller, namespace, name).await?;
        require(caller, r.rights, Rights::Write, || {
            format!(
                "You have {} access to “{}”; editing the overview needs write.",
                r.rights,
                r.full_name()
            )
        })?;
        store::set_overview(&mut tx, r.repo.id(), overview).await?;
        tx.commit().await?;
        get_repository(state, caller, namespace, name).await
    }

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct OverviewBody {
        overview: String,
    }

    async fn put_overview_route(
        State(s): State<AppState>,
        caller: Caller,
        Path((ns, repo)): Path<(String, String)>,
        JsonBody(b): JsonBody<OverviewBody>,
    ) -> AppResult<Json<RepoDetail>> {
        Ok(Json(
            set_overview(&s, &caller, &ns, &repo, &b.overview).await?,
        ))
    }

    async fn post_repository(
        State(s): State<AppState>,
        caller: Caller,
        JsonBody(input): JsonBody<NewRepo>,
    ) -> AppResult<(StatusCode, Json<RepoDetail>)> {
        let r = create_repository(&s, &caller, &input).await?;
        Ok((StatusCode::CREATED, Json(r)))
    }

    async fn get_repository_route(
        State(s): State<AppState>,
        caller: Caller,
        Path((ns, repo)): Path<(String, String)>,
    ) -> AppResult<Json<RepoDetail>> {
        Ok(Json(get_repository(&s, &caller, &ns, &repo).await?))
    }

    #[derive(serde::Deserialize)]
    struct DigestBody {
        digest: String,
    }

    async fn put_tag_route(
        State(s): State<AppState>,
        caller: Caller,
        Path((ns, repo, tag)): Path<(String, String, String)>,
        JsonBody(b): JsonBody<DigestBody>,
    ) -> AppResult<Json<TagInfo>> {
        Ok(Json(
            put_tag(&s, &caller, &ns, &repo, &tag, &b.digest).await?,
        ))
    }

    /// `/api/v1/repositories…`
    pub fn routes() -> ApiRoutes {
        ApiRoutes::new()
            .post("/api/v1/repositories", post_repository)
            .get("/api/v1/repositories/{ns}/{repo}", get_repository_route)
            .put("/api/v1/repositories/{ns}/{repo}/tags/{tag}", put_tag_route)
            .put(
                "/api/v1/repositories/{ns}/{repo}/overview",
                put_overview_route,
            )
    }
}

/// Creates a repository.
#[server(name = CreateRepository, endpoint = "create_repository", output = crate::wire::Json)]
pub async fn create_repository_fn(
    namespace: String,
    name: String,
    description: String,
    #[server(default)] is_private: bool,
) -> Result<RepoDetail, AppError> {
    with_caller!(|state, caller| create_repository(
        &state,
        &caller,
        &NewRepo {
            namespace,
            name,
            description,
            is_private
        }
    )
    .await)
}

/// A repository page's data.
#[server(name = GetRepository, endpoint = "get_repository", output = crate::wire::Json)]
pub async fn get_repository_fn(namespace: String, name: String) -> Result<RepoDetail, AppError> {
    with_caller!(|state, caller| get_repository(&state, &caller, &namespace, &name).await)
}

/// Replaces a repository's overview (Markdown).
#[server(name = SetOverview, endpoint = "set_overview", output = crate::wire::Json)]
pub async fn set_overview_fn(
    namespace: String,
    name: String,
    overview: String,
) -> Result<RepoDetail, AppError> {
    with_caller!(|state, caller| set_overview(&state, &caller, &namespace, &name, &overview).await)
}

/// Points a tag at a digest.
#[server(name = PutTag, endpoint = "put_tag", output = crate::wire::Json)]
pub async fn put_tag_fn(
    namespace: String,
    name: String,
    tag: String,
    digest: String,
) -> Result<TagInfo, AppError> {
    with_caller!(|state, caller| put_tag(&state, &caller, &namespace, &name, &tag, &digest).await)
}
