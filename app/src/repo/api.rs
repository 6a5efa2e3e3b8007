//! Repository actions: services shared by server functions and REST v1.

use super::RepoDetail;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::super::store::{self, RepoRow};
    use super::super::{RepoDetail, validate_description};
    use crate::account::auth::Caller;
    use crate::db::Tx;
    use crate::domain::rights::{RepoFacts, repository_rights};
    use crate::domain::{Digest, RepoName, Rights, TagName};
    use crate::error::{AppError, AppResult};
    use crate::org::api::{load_namespace, namespace_rights_of};
    use crate::org::store::{NsRow, is_owner};
    use crate::state::AppState;

    /// The caller's rights on a repository: the one place they are derived.
    pub async fn repo_rights(
        tx: &mut Tx<'_>,
        caller: &Caller,
        ns: &NsRow,
        repo: &RepoRow,
    ) -> AppResult<Rights> {
        let (owner, best) = match caller.user_id() {
            Some(u) => (
                is_owner(tx, ns, u).await?,
                store::best_team_grant(tx, u, repo.id()).await?,
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
    ) -> AppResult<(NsRow, RepoRow, Rights)> {
        let ns = load_namespace(tx, namespace).await?;
        let missing = || {
            AppError::not_found(format!(
                "There is no repository “{}/{}”.",
                ns.name,
                name.trim()
            ))
        };
        let repo = store::repo_by_name(tx, ns.id(), name.trim())
            .await?
            .ok_or_else(missing)?;
        let rights = repo_rights(tx, caller, &ns, &repo).await?;
        if rights < Rights::Read {
            return Err(missing());
        }
        Ok((ns, repo, rights))
    }

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
        let mut tx = state.db.begin().await?;
        let ns = load_namespace(&mut tx, &input.namespace).await?;
        if namespace_rights_of(&mut tx, caller, &ns).await? < Rights::Write {
            caller.require_scope(Rights::Write)?;
            return Err(AppError::forbidden(format!(
                "You cannot create repositories in “{}”: only its owners can.",
                ns.name
            )));
        }
        if store::repo_by_name(&mut tx, ns.id(), name.as_str())
            .await?
            .is_some()
        {
            return Err(conflict(&ns.name, name.as_str()));
        }
        let now = state.clock.now();
        store::insert_repo(
            &mut tx,
            ns.id(),
            name.as_str(),
            &description,
            input.is_private,
            now,
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
        Ok(RepoDetail {
            namespace: ns.name,
            name: name.to_string(),
            description,
            is_private: input.is_private,
            pull_count: 0,
            created_at: now,
            tags: Vec::new(),
            viewer_rights: Rights::Admin,
            sponsored: false,
            sponsored_until: None,
            membership: None,
            scout_enabled: false,
            badge_markdown: String::new(),
            logo: None,
        })
    }

    fn conflict(ns: &str, name: &str) -> AppError {
        AppError::conflict_field(
            "name",
            format!("“{ns}/{name}” already exists; choose another name."),
        )
    }

    /// A repository page's data.
    pub async fn get_repository(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> AppResult<RepoDetail> {
        let mut tx = state.db.begin().await?;
        let (ns, repo, rights) = load_repo(&mut tx, caller, namespace, name).await?;
        let tags = store::tags(&mut tx, repo.id()).await?;
        let now = state.clock.now();
        let rules = state.settings.program;
        let sponsored_until =
            crate::program::api::sponsored_until(&mut tx, ns.id(), now, &rules).await?;
        let membership = crate::program::api::membership(&mut tx, ns.id(), now, &rules).await?;
        let scout_enabled = crate::program::store::scout_enabled(&mut tx, repo.id()).await?;
        let badge_markdown =
            crate::badge::markdown_snippet(&state.settings.public_url, &ns.name, &repo.name);
        let logo = crate::logo::api::resolve(state, &mut tx, caller, &ns, Some(&repo)).await?;
        tx.commit().await?;
        Ok(RepoDetail {
            sponsored: sponsored_until.is_some(),
            sponsored_until,
            membership,
            scout_enabled,
            badge_markdown,
            logo: Some(logo),
            namespace: ns.name,
            name: repo.name,
            description: repo.description,
            is_private: repo.is_private,
            pull_count: repo.pull_count,
            created_at: crate::domain::Timestamp(repo.created_at),
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
    ) -> AppResult<crate::repo::TagInfo> {
        caller.require_user()?;
        let tag = TagName::parse(tag).map_err(|m| AppError::invalid_field("tag", m))?;
        let digest = Digest::parse(digest).map_err(|m| AppError::invalid_field("digest", m))?;
        let mut tx = state.db.begin().await?;
        let (ns, repo, rights) = load_repo(&mut tx, caller, namespace, name).await?;
        if rights < Rights::Write {
            caller.require_scope(Rights::Write)?;
            return Err(AppError::forbidden(format!(
                "You have {rights} access to “{}/{}”; pushing tags needs write.",
                ns.name, repo.name
            )));
        }
        let now = state.clock.now();
        store::upsert_tag(&mut tx, repo.id(), tag.as_str(), digest.as_str(), now).await?;
        tx.commit().await?;
        Ok(crate::repo::TagInfo {
            name: tag.to_string(),
            digest: digest.to_string(),
            pushed_at: now,
        })
    }
}

/// Creates a repository.
#[server(name = CreateRepository, endpoint = "create_repository")]
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
#[server(name = GetRepository, endpoint = "get_repository")]
pub async fn get_repository_fn(namespace: String, name: String) -> Result<RepoDetail, AppError> {
    with_caller!(|state, caller| get_repository(&state, &caller, &namespace, &name).await)
}

/// Points a tag at a digest.
#[server(name = PutTag, endpoint = "put_tag")]
pub async fn put_tag_fn(
    namespace: String,
    name: String,
    tag: String,
    digest: String,
) -> Result<super::TagInfo, AppError> {
    with_caller!(|state, caller| put_tag(&state, &caller, &namespace, &name, &tag, &digest).await)
}
