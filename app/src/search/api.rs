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
    // contains 40, namespace contains 20, description contains 10 where the
    // name does not match), then
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
    // Which repositories contain the words, and how the ranking reads the
    // lowercased texts, per backend:
    // * SQLite matches through the full-text index (FTS5 trigram, migration
    //   0011) when the query has the 3 characters a trigram needs, else by
    //   scanning. Its `LIKE` ignores ASCII case and its `LOWER` folds only
    //   ASCII, so the ranking compares the columns as stored with `LIKE`
    //   and `COLLATE NOCASE` (the same answers as `LOWER(x) LIKE`, without
    //   a lowercased copy of every text per hit).
    // * PostgreSQL reads the stored lowercase columns (`*_lc`, migration
    //   0011) through their trigram indexes (pg_trgm) in a first,
    //   materialized step, and ranks only those rows (ranking straight from
    //   the indexes in one statement was planned into nested loops taking
    //   seconds for common words); shorter queries scan the same columns.
    // * With "Sponsored OSS only", the sponsored namespaces' repositories
    //   are fewer than a common word's matches: PostgreSQL starts from them
    //   (no index step), and on both the filter applies before ranking.
    let indexed = exact.chars().count() >= 3;
    let pg = state.db.backend == crate::db::Backend::Postgres;
    // The lowercased name, description, namespace and full name as each
    // backend compares them, and its case-blind equality.
    let (name, description, namespace, full, equals) = if pg {
        (
            "r.name_lc",
            "r.description_lc",
            "n.name_lc",
            "(n.name_lc || '/' || r.name_lc)",
            "",
        )
    } else {
        (
            "r.name",
            "r.description",
            "n.name",
            "(n.name || '/' || r.name)",
            " COLLATE NOCASE",
        )
    };
    let public = "repositories r JOIN namespaces n ON n.id = r.namespace_id
             WHERE r.is_private = FALSE";
    let (ids, source, fts) = match (pg, indexed && !(pg && open_source_only)) {
        (false, true) => (
            "",
            format!(
                "{public} AND r.id IN (SELECT rowid FROM repo_search WHERE repo_search MATCH $9)"
            ),
            // One phrase: the words as typed, quotes doubled.
            Some(format!("\"{}\"", exact.replace('"', "\"\""))),
        ),
        (true, true) => (
            // The matching rows with what ranking reads (no second visit
            // to `repositories`); the two parts are disjoint, so no
            // deduplication either.
            "ids AS MATERIALIZED (
                SELECT id, namespace_id, name, name_lc, description_lc, pull_count, is_private
                FROM repositories
                WHERE name_lc LIKE $1 ESCAPE '\\' OR description_lc LIKE $1 ESCAPE '\\'
                UNION ALL
                SELECT r.id, r.namespace_id, r.name, r.name_lc, r.description_lc, r.pull_count, r.is_private
                FROM namespaces n JOIN repositories r ON r.namespace_id = n.id
                WHERE n.name_lc LIKE $1 ESCAPE '\\'
                  AND NOT (r.name_lc LIKE $1 ESCAPE '\\' OR r.description_lc LIKE $1 ESCAPE '\\')
             ),",
            "ids r JOIN namespaces n ON n.id = r.namespace_id WHERE r.is_private = FALSE"
                .to_string(),
            None,
        ),
        // A scan: short queries, and PostgreSQL's Sponsored OSS search.
        (_, false) => (
            "",
            format!(
                "{public} AND ({name} LIKE $1 ESCAPE '\\' OR {description} LIKE $1 ESCAPE '\\'
                               OR {namespace} LIKE $1 ESCAPE '\\')"
            ),
            None,
        ),
    };
    // The score (see `super::relevance`). Without a '/' in the words
    // (names cannot have one), "ns/name" contains them exactly when the
    // name or the namespace does and can never equal them, so the score is
    // one chain that tests each text at most once per hit (an exact or a
    // prefix name contains the words too). With a '/', the full name is
    // built per hit and the rule is spelled out as written.
    let score = if exact.contains('/') {
        let full_contains = format!("{full} LIKE $1 ESCAPE '\\'");
        format!(
            "(CASE WHEN {name} = $5{equals} OR {full} = $5{equals} THEN 100
                   WHEN {name} LIKE $2 ESCAPE '\\' THEN 60
                   WHEN {full_contains} THEN 40
                   ELSE 0 END)
           + (CASE WHEN {namespace} LIKE $1 ESCAPE '\\' THEN 20 ELSE 0 END)
           + (CASE WHEN NOT {full_contains} AND {description} LIKE $1 ESCAPE '\\' THEN 10 ELSE 0 END)"
        )
    } else {
        format!(
            "CASE WHEN {name} LIKE $1 ESCAPE '\\' THEN
                      (CASE WHEN {name} = $5{equals} THEN 100
                            WHEN {name} LIKE $2 ESCAPE '\\' THEN 60
                            ELSE 40 END)
                    + (CASE WHEN {namespace} LIKE $1 ESCAPE '\\' THEN 20 ELSE 0 END)
                  WHEN {namespace} LIKE $1 ESCAPE '\\' THEN 60
                  WHEN {description} LIKE $1 ESCAPE '\\' THEN 10
                  ELSE 0 END"
        )
    };
    // Only what ranking reads is kept per hit; the page's 20 rows are
    // joined to their descriptions and logos at the end, and the total is
    // counted from the kept hits, so the sort keeps only the page's rows
    // (no window over every hit).
    let sql = format!(
        "WITH {ids}
         sponsors AS (SELECT namespace_id FROM memberships WHERE expires_at + $4 > $3),
         hits AS MATERIALIZED (
            SELECT r.id, n.name AS namespace, r.name, r.pull_count,
                   CASE WHEN n.id IN (SELECT namespace_id FROM sponsors) THEN 1 ELSE 0 END AS sponsored,
                   {score} AS score
            FROM {source}
              AND ($6 = 0 OR n.id IN (SELECT namespace_id FROM sponsors))
         ),
         page AS (
            SELECT h.* FROM hits h
            ORDER BY h.score DESC, h.sponsored DESC, h.pull_count DESC, h.namespace, h.name
            LIMIT $7 OFFSET $8
         )
         SELECT p.namespace, p.name, r.description, p.pull_count, r.logo AS repo_logo,
                n.logo AS org_logo, p.sponsored, (SELECT COUNT(*) FROM hits) AS total,
                (SELECT COUNT(*) FROM tags t WHERE t.repository_id = p.id) AS tag_count,
                (SELECT MAX(t.pushed_at) FROM tags t WHERE t.repository_id = p.id) AS last_pushed_at
         FROM page p JOIN repositories r ON r.id = p.id JOIN namespaces n ON n.id = r.namespace_id
         ORDER BY p.score DESC, p.sponsored DESC, p.pull_count DESC, p.namespace, p.name"
    );
    let mut tx = state.db.begin().await?;
    if pg {
        // The ranking's estimated cost crosses PostgreSQL's JIT threshold,
        // and compiling it costs more than the query (measured: +80 ms).
        sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await?;
    }
    let run = |offset: i64| {
        let q = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone()))
            // Planned for these words each time (an unnamed statement), so
            // PostgreSQL never runs a cached generic plan that cannot know
            // how many repositories match.
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
#[server(name = Search, endpoint = "search", output = crate::wire::Json)]
pub async fn search_fn(
    q: String,
    #[server(default)] open_source_only: bool,
    #[server(default)] page: usize,
) -> Result<SearchPage, AppError> {
    let state = crate::core::state::AppState::current()?;
    search(&state, &q, open_source_only, page.max(1)).await
}
