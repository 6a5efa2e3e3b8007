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
        namespace: String,
        name: String,
        description: String,
        pull_count: i64,
        tag_count: i64,
        last_pushed_at: Option<i64>,
        repo_logo: Option<String>,
        org_logo: Option<String>,
        sponsored: i64,
        total: i64,
    }
    // Ranked, filtered, counted and paged in SQL: the same relevance as
    // `super::relevance` (exact name 100, name prefix 60, name or full name
    // contains 40, namespace contains 20, description contains 10), then
    // sponsored first, then pulls. Sponsorship is the membership's perks
    // window (until the end of grace), so the filter applies in the query.
    let now = state.clock.now().0;
    let grace_ms = state.settings.program.grace_days * crate::domain::clock::DAY_MS;
    let exact = q.to_lowercase();
    let prefix = format!(
        "{}%",
        exact
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let per_page = super::PAGE_SIZE as i64;
    // Which repositories contain the words: on SQLite from the full-text
    // index (FTS5 trigram, migration 0011) when the query has the 3
    // characters a trigram needs, else by scanning.
    let indexed = exact.chars().count() >= 3;
    let (matching, fts) = match (state.db.backend, indexed) {
        (crate::db::Backend::Sqlite, true) => (
            "r.id IN (SELECT rowid FROM repo_search WHERE repo_search MATCH $9)",
            // One phrase: the words as typed, quotes doubled.
            Some(format!("\"{}\"", exact.replace('"', "\"\""))),
        ),
        // PostgreSQL: a scan. Trigram indexes (pg_trgm) with this ranking
        // query were tried: once analyzed, the planner chose plans taking
        // seconds for common words over 100,000 repositories.
        _ => (
            "(LOWER(r.name) LIKE $1 ESCAPE '\\' OR LOWER(r.description) LIKE $1 ESCAPE '\\'
              OR LOWER(n.name) LIKE $1 ESCAPE '\\')",
            None,
        ),
    };
    let sql = format!(
            "WITH hits AS (
                SELECT r.id, n.name AS namespace, r.name, r.description, r.pull_count,
                       r.logo AS repo_logo, n.logo AS org_logo,
                       CASE WHEN EXISTS (SELECT 1 FROM memberships m WHERE m.namespace_id = n.id
                                          AND m.expires_at + $4 > $3) THEN 1 ELSE 0 END AS sponsored,
                       (CASE WHEN LOWER(r.name) = $5 OR LOWER(n.name || '/' || r.name) = $5 THEN 100
                             WHEN LOWER(r.name) LIKE $2 ESCAPE '\\' THEN 60
                             WHEN LOWER(n.name || '/' || r.name) LIKE $1 ESCAPE '\\' THEN 40
                             ELSE 0 END)
                     + (CASE WHEN LOWER(n.name) LIKE $1 ESCAPE '\\' THEN 20 ELSE 0 END)
                     + (CASE WHEN LOWER(r.description) LIKE $1 ESCAPE '\\' THEN 10 ELSE 0 END) AS score
                FROM repositories r JOIN namespaces n ON n.id = r.namespace_id
                WHERE r.is_private = FALSE AND {matching}
             ),
             page AS (
                SELECT h.*, COUNT(*) OVER () AS total FROM hits h
                WHERE $6 = 0 OR h.sponsored = 1
                ORDER BY h.score DESC, h.sponsored DESC, h.pull_count DESC, h.namespace, h.name
                LIMIT $7 OFFSET $8
             )
             SELECT p.namespace, p.name, p.description, p.pull_count, p.repo_logo, p.org_logo,
                    p.sponsored, p.total,
                    (SELECT COUNT(*) FROM tags t WHERE t.repository_id = p.id) AS tag_count,
                    (SELECT MAX(t.pushed_at) FROM tags t WHERE t.repository_id = p.id) AS last_pushed_at
             FROM page p
             ORDER BY p.score DESC, p.sponsored DESC, p.pull_count DESC, p.namespace, p.name"
    );
    let mut tx = state.db.begin().await?;
    let run = |offset: i64| {
        let q = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone()))
            // Planned for these words each time (an unnamed statement), so
            // PostgreSQL never runs a cached generic plan that cannot know
            // how many repositories match. A precaution: the 41 s search
            // noted above came from the analyzed trigram plan, not from this.
            .persistent(false)
            .bind(like.clone())
            .bind(prefix.clone())
            .bind(now)
            .bind(grace_ms)
            .bind(exact.clone())
            .bind(i64::from(open_source_only))
            .bind(per_page)
            .bind(offset);
        match &fts {
            Some(phrase) => q.bind(phrase.clone()),
            None => q,
        }
    };
    let wanted = page.max(1) as i64;
    let mut rows: Vec<Row> = run((wanted - 1) * per_page).fetch_all(&mut *tx).await?;
    // Past the last page: show the last one (the total says where it is).
    let mut total = rows.first().map_or(0, |r| r.total) as usize;
    if rows.is_empty() && wanted > 1 {
        let (n,): (i64,) = {
            let all = run(0).fetch_all(&mut *tx).await?;
            (all.first().map_or(0, |r| r.total),)
        };
        total = n as usize;
        let last = total.div_ceil(super::PAGE_SIZE).max(1) as i64;
        rows = run((last - 1) * per_page).fetch_all(&mut *tx).await?;
    }
    tx.commit().await?;
    let pages = total.div_ceil(super::PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let results = rows
        .into_iter()
        .map(|r| {
            let sponsored = r.sponsored != 0;
            let logo = shown_logo_file(r.repo_logo.as_deref(), r.org_logo.as_deref(), sponsored);
            RepoSummary {
                small_logo: logo.map(|f| logo_variant_path(f, 64)),
                namespace: r.namespace,
                name: r.name,
                description: r.description,
                is_private: false,
                pull_count: r.pull_count,
                tag_count: r.tag_count,
                last_pushed_at: r.last_pushed_at.map(Timestamp),
                sponsored,
            }
        })
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
