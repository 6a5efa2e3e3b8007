//! Reads of the rollups (charts, the JSON API, summaries) and the raw events
//! (the raw export, streamed). Writes go through `core::events::ingest`.

use crate::db::{Db, Tx};
use crate::domain::pulls::{Action, Day, Granularity, GroupBy, Span};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Whose numbers: a namespace's repositories (the ones the caller may
/// read), or one repository.
#[derive(Debug, Clone)]
pub enum Scope {
    /// `all`: the caller may read every repository of the namespace, so the
    /// namespace-level rollups (migration 0009) answer without a filter.
    Namespace {
        id: i64,
        repositories: Vec<i64>,
        all: bool,
    },
    Repository(i64),
}

impl Scope {
    /// The rollups' filter: their primary keys start with the repository.
    fn filter(&self) -> (String, i64) {
        match self {
            Scope::Namespace {
                id, repositories, ..
            } => {
                let list = repositories
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                // `$1` stays bound (the namespace) so every query has the same parameters.
                (
                    format!(
                        "repository_id IN ({}) AND namespace_id = $1",
                        if list.is_empty() { "NULL".into() } else { list }
                    ),
                    *id,
                )
            }
            Scope::Repository(id) => ("repository_id = $1".into(), *id),
        }
    }
    /// The raw events' filter (indexed by namespace and time).
    fn raw_filter(&self) -> (&'static str, i64) {
        match self {
            Scope::Namespace { id, .. } => ("namespace_id = $1", *id),
            Scope::Repository(id) => ("repository_id = $1", *id),
        }
    }
}

/// Pulls of one key of one repository on one day.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayRow {
    pub repository_id: i64,
    pub day: i64,
    pub key: String,
    #[sqlx(try_from = "String")]
    pub action: Action,
    pub pulls: i64,
}

/// Daily counts grouped by `by`, read from the rollups.
pub async fn daily(
    tx: &mut Tx<'_>,
    scope: &Scope,
    span: Span,
    by: GroupBy,
) -> Result<Vec<DayRow>, sqlx::Error> {
    let (filter, id) = scope.filter();
    let sql = match by {
        GroupBy::Tag | GroupBy::Digest | GroupBy::Action => {
            let key = match by {
                GroupBy::Tag => "tag",
                GroupBy::Digest => "digest",
                _ => "action",
            };
            format!(
                "SELECT repository_id, day, {key} AS key, action, CAST(SUM(pulls) AS BIGINT) AS pulls
                 FROM pull_daily WHERE {filter} AND day BETWEEN $2 AND $3
                 GROUP BY repository_id, day, {key}, action"
            )
        }
        GroupBy::Country | GroupBy::Host | GroupBy::Tool => format!(
            "SELECT repository_id, day, value AS key, action, CAST(SUM(pulls) AS BIGINT) AS pulls
             FROM pull_breakdowns WHERE {filter} AND dimension = '{}' AND day BETWEEN $2 AND $3
             GROUP BY repository_id, day, value, action",
            by.as_str()
        ),
    };
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(span.from)
        .bind(span.to)
        .fetch_all(&mut **tx)
        .await
}

/// A repository's key (tag or digest) and its pulls over a span.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyTotal {
    pub repository_id: i64,
    pub key: String,
    pub pulls: i64,
}

/// The daily series of the `k` busiest tags (or digests) of the span, and
/// everything else summed per day as one series (`DayRow` with an empty key
/// and repository 0): what the dashboard draws, bounded however many
/// repositories and tags a namespace has.
pub async fn daily_top(
    tx: &mut Tx<'_>,
    scope: &Scope,
    span: Span,
    by: GroupBy,
    k: usize,
) -> Result<Vec<DayRow>, sqlx::Error> {
    if let Scope::Namespace {
        id,
        repositories,
        all,
    } = scope
    {
        return namespace_top(tx, *id, repositories, *all, span, by, k).await;
    }
    let key = if by == GroupBy::Digest {
        "digest"
    } else {
        "tag"
    };
    let (filter, id) = scope.filter();
    let mut totals: Vec<KeyTotal> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT repository_id, {key} AS key, CAST(SUM(pulls) AS BIGINT) AS pulls
         FROM pull_daily WHERE {filter} AND day BETWEEN $2 AND $3
         GROUP BY repository_id, {key}"
    )))
    .bind(id)
    .bind(span.from)
    .bind(span.to)
    .fetch_all(&mut **tx)
    .await?;
    if totals.len() <= k {
        return daily(tx, scope, span, by).await;
    }
    totals.sort_by(|a, b| b.pulls.cmp(&a.pulls).then_with(|| a.key.cmp(&b.key)));
    totals.truncate(k);
    let values = (0..totals.len())
        .map(|i| {
            format!(
                "(CAST(${} AS BIGINT), CAST(${} AS TEXT))",
                4 + 2 * i,
                5 + 2 * i
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let top_sql = format!(
        "SELECT repository_id, day, {key} AS key, action, CAST(SUM(pulls) AS BIGINT) AS pulls
         FROM pull_daily WHERE {filter} AND day BETWEEN $2 AND $3
           AND (repository_id, {key}) IN (VALUES {values})
         GROUP BY repository_id, day, {key}, action"
    );
    let rest_sql = format!(
        "SELECT 0 AS repository_id, day, '' AS key, action, CAST(SUM(pulls) AS BIGINT) AS pulls
         FROM pull_daily WHERE {filter} AND day BETWEEN $2 AND $3
           AND NOT ((repository_id, {key}) IN (VALUES {values}))
         GROUP BY day, action"
    );
    let mut out = Vec::new();
    for sql in [top_sql, rest_sql] {
        let mut q = sqlx::query_as::<_, DayRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(span.from)
            .bind(span.to);
        for t in &totals {
            q = q.bind(t.repository_id).bind(t.key.clone());
        }
        out.extend(q.fetch_all(&mut **tx).await?);
    }
    Ok(out)
}

/// The repository filter of the namespace-level rollups: none when the
/// caller reads every repository.
fn repo_filter(repositories: &[i64], all: bool) -> String {
    if all {
        return String::new();
    }
    let list = repositories
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        " AND repository_id IN ({})",
        if list.is_empty() { "NULL".into() } else { list }
    )
}

/// Each tag's (`kind` "tag") or digest's pulls over the span, every action,
/// from the namespace-level rollups: weekly totals for the whole weeks inside
/// the span and daily totals for the days at its edges.
pub async fn key_totals(
    tx: &mut Tx<'_>,
    ns: i64,
    repositories: &[i64],
    all: bool,
    span: Span,
    kind: &str,
) -> Result<HashMap<(i64, String), i64>, sqlx::Error> {
    let kind = if kind == "digest" { "digest" } else { "tag" };
    let repos = repo_filter(repositories, all);
    // Whole weeks inside the span, and the edge days outside them.
    let first_week = Granularity::Week.start(span.from + 6);
    let last_week = Granularity::Week.start(span.to + 1) - 7;
    let mut ranges = Vec::new();
    if first_week <= last_week {
        ranges.push(("pull_ns_week_keys", "week", first_week, last_week));
        if span.from < first_week {
            ranges.push(("pull_ns_keys", "day", span.from, first_week - 1));
        }
        if last_week + 6 < span.to {
            ranges.push(("pull_ns_keys", "day", last_week + 7, span.to));
        }
    } else {
        ranges.push(("pull_ns_keys", "day", span.from, span.to));
    }
    let mut totals: HashMap<(i64, String), i64> = HashMap::new();
    for (table, col, a, b) in ranges {
        let rows: Vec<KeyTotal> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT repository_id, key, CAST(SUM(pulls) AS BIGINT) AS pulls FROM {table}
             WHERE namespace_id = $1 AND kind = '{kind}' AND {col} BETWEEN $2 AND $3{repos}
             GROUP BY repository_id, key"
        )))
        .bind(ns)
        .bind(a)
        .bind(b)
        .fetch_all(&mut **tx)
        .await?;
        for r in rows {
            *totals.entry((r.repository_id, r.key)).or_default() += r.pulls;
        }
    }
    Ok(totals)
}

/// `daily_top` for a namespace, from the namespace-level rollups: the
/// busiest keys of the span are ranked from weekly totals for the whole
/// weeks inside it and daily totals for the days at its edges; their series
/// come from the daily rollups of those repositories only; "Other" is the
/// namespace's day totals minus those series.
async fn namespace_top(
    tx: &mut Tx<'_>,
    ns: i64,
    repositories: &[i64],
    all: bool,
    span: Span,
    by: GroupBy,
    k: usize,
) -> Result<Vec<DayRow>, sqlx::Error> {
    let (kind, column) = if by == GroupBy::Digest {
        ("digest", "digest")
    } else {
        ("tag", "tag")
    };
    let totals = key_totals(tx, ns, repositories, all, span, kind).await?;
    let mut ranked: Vec<((i64, String), i64)> = totals.into_iter().filter(|t| t.1 > 0).collect();
    ranked.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.1.cmp(&b.0.1))
            .then_with(|| a.0.0.cmp(&b.0.0))
    });
    let everything = ranked.len() <= k;
    ranked.truncate(k);
    let top: HashSet<(i64, String)> = ranked.into_iter().map(|t| t.0).collect();
    let mut out = Vec::new();
    if !top.is_empty() {
        let top_repos: BTreeSet<i64> = top.iter().map(|t| t.0).collect();
        let list = top_repos
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let keys: BTreeSet<&str> = top.iter().map(|t| t.1.as_str()).collect();
        let placeholders = (0..keys.len())
            .map(|i| format!("${}", 4 + i))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT repository_id, day, {column} AS key, action, CAST(SUM(pulls) AS BIGINT) AS pulls
             FROM pull_daily WHERE repository_id IN ({list}) AND namespace_id = $1
               AND day BETWEEN $2 AND $3 AND {column} IN ({placeholders})
             GROUP BY repository_id, day, {column}, action"
        );
        let mut q = sqlx::query_as::<_, DayRow>(sqlx::AssertSqlSafe(sql))
            .bind(ns)
            .bind(span.from)
            .bind(span.to);
        for key in &keys {
            q = q.bind(key.to_string());
        }
        out = q
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .filter(|r| top.contains(&(r.repository_id, r.key.clone())))
            .collect();
    }
    if everything {
        return Ok(out);
    }
    // Everything else: the day totals less the busiest keys' series.
    let mut rest: BTreeMap<(Day, Action), i64> = BTreeMap::new();
    if all {
        let days: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT day, action, CAST(SUM(pulls) AS BIGINT) FROM pull_ns_days
             WHERE namespace_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day, action",
        )
        .bind(ns)
        .bind(span.from)
        .bind(span.to)
        .fetch_all(&mut **tx)
        .await?;
        for (day, action, n) in days {
            if let Ok(a) = Action::parse(&action) {
                *rest.entry((day, a)).or_default() += n;
            }
        }
    } else {
        let (filter, id) = scope_filter(repositories, ns);
        let rows: Vec<DayRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT 0 AS repository_id, day, '' AS key, action, CAST(SUM(pulls) AS BIGINT) AS pulls
             FROM pull_daily WHERE {filter} AND day BETWEEN $2 AND $3 GROUP BY day, action"
        )))
        .bind(id)
        .bind(span.from)
        .bind(span.to)
        .fetch_all(&mut **tx)
        .await?;
        for r in rows {
            *rest.entry((r.day, r.action)).or_default() += r.pulls;
        }
    }
    for r in &out {
        *rest.entry((r.day, r.action)).or_default() -= r.pulls;
    }
    out.extend(
        rest.into_iter()
            .filter(|r| r.1 > 0)
            .map(|((day, action), pulls)| DayRow {
                repository_id: 0,
                day,
                key: String::new(),
                action,
                pulls,
            }),
    );
    Ok(out)
}

fn scope_filter(repositories: &[i64], ns: i64) -> (String, i64) {
    Scope::Namespace {
        id: ns,
        repositories: repositories.to_vec(),
        all: false,
    }
    .filter()
}

/// Span totals of one breakdown value.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BreakdownRow {
    pub repository_id: i64,
    pub dimension: String,
    pub value: String,
    #[sqlx(try_from = "String")]
    pub action: Action,
    pub pulls: i64,
}

/// Totals over the span by country, host and tool.
pub async fn breakdowns(
    tx: &mut Tx<'_>,
    scope: &Scope,
    span: Span,
) -> Result<Vec<BreakdownRow>, sqlx::Error> {
    if let Scope::Namespace { id, all: true, .. } = scope {
        // Summed over the namespace's repositories (`repository_id` 0).
        return sqlx::query_as(
            "SELECT 0 AS repository_id, dimension, value, action, CAST(SUM(pulls) AS BIGINT) AS pulls
             FROM pull_ns_breakdowns WHERE namespace_id = $1 AND day BETWEEN $2 AND $3
             GROUP BY dimension, value, action",
        )
        .bind(*id)
        .bind(span.from)
        .bind(span.to)
        .fetch_all(&mut **tx)
        .await;
    }
    let (filter, id) = scope.filter();
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT repository_id, dimension, value, action, CAST(SUM(pulls) AS BIGINT) AS pulls
         FROM pull_breakdowns WHERE {filter} AND day BETWEEN $2 AND $3
         GROUP BY repository_id, dimension, value, action"
    )))
    .bind(id)
    .bind(span.from)
    .bind(span.to)
    .fetch_all(&mut **tx)
    .await
}

/// Unique addresses per repository, day and (optionally) tag or digest.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UniqueRow {
    pub repository_id: i64,
    pub day: i64,
    pub key: String,
    pub addresses: i64,
}

pub async fn uniques(
    tx: &mut Tx<'_>,
    scope: &Scope,
    span: Span,
    by: Option<GroupBy>,
) -> Result<Vec<UniqueRow>, sqlx::Error> {
    if let (
        Scope::Namespace {
            id,
            repositories,
            all,
        },
        None,
    ) = (scope, by)
    {
        // Each repository's distinct addresses per day, counted at ingest.
        let repos = repo_filter(repositories, *all);
        return sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT repository_id, day, '' AS key, addresses FROM pull_ns_addresses
             WHERE namespace_id = $1 AND day BETWEEN $2 AND $3{repos}"
        )))
        .bind(*id)
        .bind(span.from)
        .bind(span.to)
        .fetch_all(&mut **tx)
        .await;
    }
    let (filter, id) = scope.filter();
    let key = match by {
        Some(GroupBy::Tag) => "tag",
        Some(GroupBy::Digest) => "digest",
        _ => "''",
    };
    let group = if key == "''" {
        String::new()
    } else {
        format!(", {key}")
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT repository_id, day, {key} AS key, CAST(COUNT(DISTINCT ip_hash) AS BIGINT) AS addresses
         FROM pull_uniques WHERE {filter} AND day BETWEEN $2 AND $3
         GROUP BY repository_id, day{group}"
    )))
    .bind(id)
    .bind(span.from)
    .bind(span.to)
    .fetch_all(&mut **tx)
    .await
}

/// One stored event, as the raw export writes it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RawRow {
    pub at: i64,
    pub repository_id: i64,
    pub reference: String,
    pub tag: Option<String>,
    pub digest: String,
    pub action: String,
    pub http_method: String,
    pub country: String,
    pub host: String,
    pub tool: String,
    pub tool_version: String,
}

/// Streams raw events of the span in time order into `out` (bounded, so a
/// slow reader slows the query instead of filling memory); stops when the
/// receiver is gone.
pub async fn raw_events(
    db: &Db,
    scope: &Scope,
    span: Span,
    out: tokio::sync::mpsc::Sender<Result<RawRow, sqlx::Error>>,
) {
    let (filter, id) = scope.raw_filter();
    let from = span.from * crate::domain::clock::DAY_MS;
    let to = (span.to + 1) * crate::domain::clock::DAY_MS;
    let sql = format!(
        "SELECT at, repository_id, reference, tag, digest, action, http_method, country, host, tool, tool_version
         FROM pull_events WHERE {filter} AND at >= $2 AND at < $3 ORDER BY at, id"
    );
    let mut rows = sqlx::query_as::<_, RawRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(from)
        .bind(to)
        .fetch(&db.pool);
    while let Some(row) = rows.next().await {
        let failed = row.is_err();
        if out.send(row).await.is_err() || failed {
            break;
        }
    }
}

/// Deletes raw events before `day` (rollups stay) and day secrets older
/// than `salt_day`; returns the events deleted.
pub async fn prune(db: &Db, before_day: Day, salt_day: Day) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    // In slices, so a big first prune does not hold the writer for long.
    loop {
        let mut tx = db.begin_write().await?;
        let n = sqlx::query(
            "DELETE FROM pull_events WHERE id IN (SELECT id FROM pull_events WHERE at < $1 LIMIT 10000)",
        )
        .bind(before_day * crate::domain::clock::DAY_MS)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        total += n;
        if n < 10_000 {
            break;
        }
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM pull_salts WHERE day < $1")
        .bind(salt_day)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(total)
}
