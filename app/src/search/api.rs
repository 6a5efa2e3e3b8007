//! The search server function.

use super::SearchPage;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub async fn search(
    state: &crate::state::AppState,
    query: &str,
    open_source_only: bool,
    page: usize,
) -> crate::error::AppResult<SearchPage> {
    use std::collections::HashMap;
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
    let now = state.clock.now();
    let rules = state.settings.program;
    let mut tx = state.db.begin().await?;
    type Row = (
        i64,
        String,
        String,
        String,
        i64,
        i64,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT n.id, n.name, r.name, r.description, r.pull_count,
                (SELECT COUNT(*) FROM tags t WHERE t.repository_id = r.id),
                (SELECT MAX(t.pushed_at) FROM tags t WHERE t.repository_id = r.id),
                r.logo, n.logo
         FROM repositories r JOIN namespaces n ON n.id = r.namespace_id
         WHERE r.is_private = FALSE
           AND (LOWER(r.name) LIKE $1 ESCAPE '\\' OR LOWER(r.description) LIKE $1 ESCAPE '\\'
                OR LOWER(n.name) LIKE $1 ESCAPE '\\')
         LIMIT 5000",
    )
    .bind(&like)
    .fetch_all(&mut *tx)
    .await?;
    let mut perks: HashMap<i64, bool> = HashMap::new();
    let mut hits = Vec::with_capacity(rows.len());
    for (ns_id, ns, name, description, pulls, tags, last, repo_logo, org_logo) in rows {
        let sponsored = match perks.get(&ns_id) {
            Some(s) => *s,
            None => {
                let s = crate::program::api::perks_active(
                    &mut tx,
                    crate::domain::ids::NamespaceId(ns_id),
                    now,
                    &rules,
                )
                .await?;
                perks.insert(ns_id, s);
                s
            }
        };
        if open_source_only && !sponsored {
            continue;
        }
        hits.push(crate::repo::RepoSummary {
            namespace: ns,
            name,
            description,
            is_private: false,
            pull_count: pulls,
            tag_count: tags,
            last_pushed_at: last.map(crate::domain::Timestamp),
            sponsored,
            small_logo: repo_logo
                .filter(|_| sponsored)
                .or(org_logo)
                .map(|f| crate::logo::variant_path(&f, 64)),
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
    let state = crate::state::AppState::current()?;
    search(&state, &q, open_source_only, page.max(1)).await
}
