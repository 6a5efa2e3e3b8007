//! The search server function.

use super::SearchPage;
use crate::error::AppError;
use leptos::prelude::*;

/// Searches public repositories; sponsorship comes from the perks read model.
#[cfg(feature = "ssr")]
pub async fn search(
    state: &crate::core::state::AppState,
    query: &str,
    open_source_only: bool,
    page: usize,
) -> crate::error::AppResult<SearchPage> {
    use crate::domain::namespace::{logo_variant_path, shown_logo_file};
    use crate::domain::{RepoSummary, Timestamp};
    let q = query.trim();
    if q.chars().count() > 100 {
        return Err(AppError::invalid_field(
            "q",
            "Search for at most 100 characters.",
        ));
    }
    let like = format!(
        "%{}%",
        q.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    #[derive(sqlx::FromRow)]
    struct Row {
        ns_id: i64,
        namespace: String,
        name: String,
        description: String,
        pull_count: i64,
        tag_count: i64,
        last_pushed_at: Option<i64>,
        repo_logo: Option<String>,
        org_logo: Option<String>,
    }
    let mut tx = state.db.begin().await?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT n.id AS ns_id, n.name AS namespace, r.name, r.description, r.pull_count,
                (SELECT COUNT(*) FROM tags t WHERE t.repository_id = r.id) AS tag_count,
                (SELECT MAX(t.pushed_at) FROM tags t WHERE t.repository_id = r.id) AS last_pushed_at,
                r.logo AS repo_logo, n.logo AS org_logo
         FROM repositories r JOIN namespaces n ON n.id = r.namespace_id
         WHERE r.is_private = FALSE
           AND (LOWER(r.name) LIKE $1 ESCAPE '\\' OR LOWER(r.description) LIKE $1 ESCAPE '\\'
                OR LOWER(n.name) LIKE $1 ESCAPE '\\')
         LIMIT 5000",
    )
    .bind(&like)
    .fetch_all(&mut *tx)
    .await?;
    let mut hits = Vec::with_capacity(rows.len());
    for r in rows {
        let ns = crate::domain::ids::NamespaceId(r.ns_id);
        let sponsored = crate::core::perks::of(state, &mut tx, ns).await?.badge();
        if open_source_only && !sponsored {
            continue;
        }
        let logo = shown_logo_file(r.repo_logo.as_deref(), r.org_logo.as_deref(), sponsored);
        hits.push(RepoSummary {
            small_logo: logo.map(|f| logo_variant_path(f, 64)),
            namespace: r.namespace,
            name: r.name,
            description: r.description,
            is_private: false,
            pull_count: r.pull_count,
            tag_count: r.tag_count,
            last_pushed_at: r.last_pushed_at.map(Timestamp),
            sponsored,
        });
    }
    tx.commit().await?;
    super::rank(q, &mut hits);
    let total = hits.len();
    let pages = total.div_ceil(super::PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let results = hits
        .into_iter()
        .skip((page - 1) * super::PAGE_SIZE)
        .take(super::PAGE_SIZE)
        .collect();
    Ok(SearchPage {
        query: q.to_string(),
        open_source_only,
        page,
        pages,
        total,
        results,
    })
}

/// Searches public repositories; `open_source_only` keeps sponsored ones.
#[server(name = Search, endpoint = "search")]
pub async fn search_fn(
    q: String,
    #[server(default)] open_source_only: bool,
    #[server(default)] page: usize,
) -> Result<SearchPage, AppError> {
    let state = crate::core::state::AppState::current()?;
    search(&state, &q, open_source_only, page.max(1)).await
}
