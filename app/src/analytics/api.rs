//! Insights over HTTP: the dashboard's server function, the JSON API, the CSV
//! exports and the two ingestion endpoints.

use super::Insights;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::super::events::{self as incoming, BatchError, Incoming, Notified};
    use super::super::store::{self, Scope};
    use super::super::{Gate, Insights};
    use crate::core::access::{self, NsRow, belongs_to, load_namespace, readable_repositories};
    use crate::core::caller::Caller;
    use crate::core::events::{Ingested, PullEvent, ingest};
    use crate::core::http::ApiRoutes;
    use crate::core::perks;
    use crate::core::state::AppState;
    use crate::db::Tx;
    use crate::domain::Rights;
    use crate::domain::ids::{NamespaceId, RepoId};
    use crate::domain::pulls::{
        Counts, Day, Granularity, GroupBy, Point, Series, Span, day_of_millis, format_day,
    };
    use crate::error::{AppError, AppResult, ErrorKind};
    use axum::Json;
    use axum::body::{Body, Bytes};
    use axum::extract::{Path, Query, Request, State};
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use serde::{Deserialize, Serialize};
    use std::collections::{BTreeMap, HashMap};

    /// The query of the dashboard, the JSON API and the exports.
    #[derive(Debug, Default, Clone, Deserialize)]
    pub struct PullsQuery {
        pub span: Option<String>,
        pub from: Option<String>,
        pub to: Option<String>,
        pub granularity: Option<String>,
        pub group_by: Option<String>,
        pub view: Option<String>,
        pub level: Option<String>,
    }

    /// Who may see what: the gate, and the repositories included (id → name).
    struct Access {
        ns: NsRow,
        gate: Gate,
        repos: BTreeMap<i64, String>,
        scope: Scope,
        repository: Option<String>,
        signed_in: bool,
    }

    async fn access(
        state: &AppState,
        tx: &mut Tx<'_>,
        caller: &Caller,
        namespace: &str,
        repository: Option<&str>,
    ) -> AppResult<Access> {
        let ns = load_namespace(tx, namespace).await?;
        let mut repos: BTreeMap<i64, String> = readable_repositories(tx, caller, &ns)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
        let scope = match repository {
            Some(name) => {
                let Some((&id, _)) = repos.iter().find(|(_, n)| n.as_str() == name) else {
                    return Err(AppError::not_found(format!(
                        "There is no repository “{}/{name}”.",
                        ns.name
                    )));
                };
                repos.retain(|k, _| *k == id);
                Scope::Repository(id)
            }
            None => {
                let (count,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM repositories WHERE namespace_id = $1")
                        .bind(ns.id)
                        .fetch_one(&mut **tx)
                        .await?;
                Scope::Namespace {
                    id: ns.id,
                    repositories: repos.keys().copied().collect(),
                    all: count == repos.len() as i64,
                }
            }
        };
        let member = match caller.user_id() {
            Some(u) => caller.require_scope(Rights::Read).is_ok() && belongs_to(tx, &ns, u).await?,
            None => false,
        };
        let p = perks::of(state, tx, ns.id()).await?;
        let gate = if !member {
            Gate::NotMember
        } else if p.active() {
            Gate::Open
        } else if let Some(m) = p.membership {
            Gate::Lapsed {
                ended: m.expires_at.date(),
            }
        } else {
            Gate::NotSponsored
        };
        Ok(Access {
            ns,
            gate,
            repos,
            scope,
            repository: repository.map(str::to_string),
            signed_in: caller.user.is_some(),
        })
    }

    impl Access {
        fn refuse(&self) -> AppResult<()> {
            match self.gate.refusal(&self.ns.name) {
                None => Ok(()),
                Some(_) if !self.signed_in => Err(AppError::unauthenticated()),
                Some(m) => Err(AppError::forbidden(m)),
            }
        }
        /// `tag` in a repository's view, `repo:tag` in a namespace's.
        fn key(&self, repo: i64, by: GroupBy, key: &str) -> Option<String> {
            let name = self.repos.get(&repo)?;
            let key = match (by, key) {
                (GroupBy::Tag, "") => "(by digest)".to_string(),
                _ => key.to_string(),
            };
            Some(match (by, self.repository.is_some()) {
                (GroupBy::Tag, false) => format!("{name}:{key}"),
                (GroupBy::Digest, false) => format!("{name}@{key}"),
                _ => key,
            })
        }
    }

    fn span_of(state: &AppState, q: &PullsQuery) -> AppResult<Span> {
        let today = day_of_millis(state.clock.now().0);
        Span::from_query(
            q.span.as_deref(),
            q.from.as_deref(),
            q.to.as_deref(),
            today,
            state.settings.analytics_retention_days,
        )
        .map_err(|e| AppError::invalid_field(e.field, e.message))
    }

    /// Keys the dashboard draws separately; the rest is one "Other" series.
    const DASHBOARD_KEYS: usize = 12;

    async fn series(tx: &mut Tx<'_>, a: &Access, span: Span, by: GroupBy) -> AppResult<Series> {
        let rows = store::daily(tx, &a.scope, span, by).await?;
        Ok(a.series(by, rows))
    }

    impl Access {
        fn series(&self, by: GroupBy, rows: Vec<store::DayRow>) -> Series {
            Series::from_rows(rows.into_iter().filter_map(|r| {
                let key = if r.repository_id == 0 {
                    Some(super::super::OTHER_KEY.to_string())
                } else {
                    self.key(r.repository_id, by, &r.key)
                };
                key.map(|k| (r.day, k, r.action, r.pulls.max(0) as u64))
            }))
        }
    }

    /// The dashboard's data for one span (empty, with the reason, when gated).
    pub async fn insights(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        repository: Option<&str>,
        q: &PullsQuery,
    ) -> AppResult<Insights> {
        let span = span_of(state, q)?;
        let mut tx = state.db.begin().await?;
        let a = access(state, &mut tx, caller, namespace, repository).await?;
        let mut out = Insights {
            namespace: a.ns.name.clone(),
            repository: a.repository.clone(),
            gate: a.gate.clone(),
            span,
            today: day_of_millis(state.clock.now().0),
            max_days: state.settings.analytics_retention_days,
            by_tag: Series::default(),
            by_digest: Series::default(),
            countries: Vec::new(),
            hosts: Vec::new(),
            tools: Vec::new(),
            unique_ips: Vec::new(),
            repositories: a.repos.values().cloned().collect(),
        };
        if a.gate != Gate::Open {
            tx.commit().await?;
            return Ok(out);
        }
        for by in [GroupBy::Tag, GroupBy::Digest] {
            let rows = store::daily_top(&mut tx, &a.scope, span, by, DASHBOARD_KEYS).await?;
            let s = a.series(by, rows);
            match by {
                GroupBy::Tag => out.by_tag = s,
                _ => out.by_digest = s,
            }
        }
        let mut dims: HashMap<String, BTreeMap<String, Counts>> = HashMap::new();
        // The store reads only the scope's repositories.
        for r in store::breakdowns(&mut tx, &a.scope, span).await? {
            dims.entry(r.dimension)
                .or_default()
                .entry(r.value)
                .or_default()
                .add(r.action, r.pulls.max(0) as u64);
        }
        let sorted = |m: Option<BTreeMap<String, Counts>>| {
            let mut v: Vec<(String, Counts)> = m.unwrap_or_default().into_iter().collect();
            v.sort_by(|x, y| y.1.total().cmp(&x.1.total()).then_with(|| x.0.cmp(&y.0)));
            v
        };
        out.countries = sorted(dims.remove("country"));
        out.hosts = sorted(dims.remove("host"));
        out.tools = sorted(dims.remove("tool"));
        let mut days: BTreeMap<Day, u64> = BTreeMap::new();
        for u in store::uniques(&mut tx, &a.scope, span, None).await? {
            *days.entry(u.day).or_default() += u.addresses.max(0) as u64;
        }
        out.unique_ips = days.into_iter().collect();
        tx.commit().await?;
        Ok(out)
    }

    /// `GET …/pulls`: counts per period and key.
    #[derive(Debug, Serialize)]
    pub struct PullsReport {
        pub namespace: String,
        pub repository: Option<String>,
        pub from: String,
        pub to: String,
        pub granularity: Granularity,
        pub group_by: GroupBy,
        pub totals: Totals,
        pub points: Vec<Point>,
    }

    #[derive(Debug, Serialize)]
    pub struct Totals {
        #[serde(flatten)]
        pub counts: Counts,
        pub unique_ips: u64,
    }

    pub async fn pulls(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        repository: Option<&str>,
        q: &PullsQuery,
    ) -> AppResult<PullsReport> {
        let span = span_of(state, q)?;
        let g = Granularity::parse(q.granularity.as_deref().unwrap_or("day"))
            .map_err(|m| AppError::invalid_field("granularity", m))?;
        let by = GroupBy::parse(q.group_by.as_deref().unwrap_or("tag"))
            .map_err(|m| AppError::invalid_field("group_by", m))?;
        let mut tx = state.db.begin().await?;
        let a = access(state, &mut tx, caller, namespace, repository).await?;
        a.refuse()?;
        let s = series(&mut tx, &a, span, by).await?;
        let uniques = store::uniques(&mut tx, &a.scope, span, None).await?;
        tx.commit().await?;
        let mut counts = Counts::default();
        for c in &s.cells {
            counts.add(c.2, c.3);
        }
        Ok(PullsReport {
            namespace: a.ns.name.clone(),
            repository: a.repository.clone(),
            from: format_day(span.from),
            to: format_day(span.to),
            granularity: g,
            group_by: by,
            totals: Totals {
                counts,
                unique_ips: uniques
                    .iter()
                    .filter(|u| a.repos.contains_key(&u.repository_id))
                    .map(|u| u.addresses.max(0) as u64)
                    .sum(),
            },
            points: s.points(g, span),
        })
    }

    /// Which CSV.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum View {
        Summary,
        Raw,
    }

    fn csv_line(fields: &[&str]) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(128));
        let _ = w.write_record(fields);
        w.into_inner().unwrap_or_default()
    }

    /// The summary CSV: per period × repository (or × tag / digest).
    async fn summary_csv(
        state: &AppState,
        a: &Access,
        span: Span,
        g: Granularity,
        level: Option<GroupBy>,
    ) -> AppResult<Vec<u8>> {
        let mut tx = state.db.begin().await?;
        let by = level.unwrap_or(GroupBy::Action);
        let rows = store::daily(&mut tx, &a.scope, span, by).await?;
        let uniques = store::uniques(&mut tx, &a.scope, span, level).await?;
        tx.commit().await?;
        type Key = (Day, String, String);
        let mut acc: BTreeMap<Key, (Counts, u64)> = BTreeMap::new();
        for r in rows {
            let Some(repo) = a.repos.get(&r.repository_id) else {
                continue;
            };
            let key = if level.is_some() {
                r.key
            } else {
                String::new()
            };
            acc.entry((g.start(r.day), repo.clone(), key))
                .or_default()
                .0
                .add(r.action, r.pulls.max(0) as u64);
        }
        for u in uniques {
            let Some(repo) = a.repos.get(&u.repository_id) else {
                continue;
            };
            acc.entry((g.start(u.day), repo.clone(), u.key))
                .or_default()
                .1 += u.addresses.max(0) as u64;
        }
        let mut header = vec!["period_start", "period_end", "namespace", "repository"];
        match level {
            Some(GroupBy::Tag) => header.push("tag"),
            Some(GroupBy::Digest) => header.push("digest"),
            _ => {}
        }
        header.extend([
            "unique_ips",
            "pulls_by_tag",
            "pulls_by_digest",
            "version_checks",
        ]);
        let mut out = csv_line(&header);
        for ((start, repo, key), (c, uniq)) in acc {
            let (ps, pe) = (
                format_day(start.max(span.from)),
                format_day(g.end(start).min(span.to)),
            );
            let (u, t, d, v) = (
                uniq.to_string(),
                c.pulls_by_tag.to_string(),
                c.pulls_by_digest.to_string(),
                c.version_checks.to_string(),
            );
            let mut f: Vec<&str> = vec![&ps, &pe, &a.ns.name, &repo];
            if level.is_some() {
                f.push(&key);
            }
            f.extend([u.as_str(), &t, &d, &v]);
            out.extend(csv_line(&f));
        }
        Ok(out)
    }

    /// `GET /api/v1/namespaces/{ns}/pulls/export?view=summary|raw`: the CSV,
    /// streamed (raw rows are read from the database as they are sent).
    pub async fn export(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        q: &PullsQuery,
    ) -> AppResult<Response> {
        let view = match q.view.as_deref().unwrap_or("summary") {
            "summary" => View::Summary,
            "raw" => View::Raw,
            other => {
                return Err(AppError::invalid_field(
                    "view",
                    format!("“{other}” is not an export: use view=summary or view=raw."),
                ));
            }
        };
        let span = span_of(state, q)?;
        let g = Granularity::parse(q.granularity.as_deref().unwrap_or("day"))
            .map_err(|m| AppError::invalid_field("granularity", m))?;
        let level = match q.level.as_deref().unwrap_or("repository") {
            "repository" => None,
            "tag" => Some(GroupBy::Tag),
            "digest" => Some(GroupBy::Digest),
            other => {
                return Err(AppError::invalid_field(
                    "level",
                    format!("“{other}” is not a summary level: use repository, tag or digest."),
                ));
            }
        };
        let today = day_of_millis(state.clock.now().0);
        let oldest_raw = today - state.settings.analytics_retention_days + 1;
        if view == View::Raw && span.from < oldest_raw {
            return Err(AppError::invalid_field(
                "from",
                format!(
                    "Raw events are kept {} days (since {}); export the summary for older periods.",
                    state.settings.analytics_retention_days,
                    format_day(oldest_raw)
                ),
            ));
        }
        let mut tx = state.db.begin().await?;
        let a = access(state, &mut tx, caller, namespace, None).await?;
        tx.commit().await?;
        a.refuse()?;
        let name = format!(
            "{}-pulls-{}-{}.csv",
            a.ns.name,
            match view {
                View::Summary => "summary",
                View::Raw => "raw",
            },
            span.slug()
        );
        let body = match view {
            View::Summary => Body::from(summary_csv(state, &a, span, g, level).await?),
            View::Raw => raw_body(state, a, span),
        };
        let mut res = Response::new(body);
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(res)
    }

    /// The raw CSV's columns (Docker Hub's raw export, in snake_case).
    pub const RAW_HEADER: [&str; 13] = [
        "timestamp",
        "action_day",
        "namespace",
        "repository",
        "reference",
        "tag",
        "digest",
        "action",
        "http_method",
        "country",
        "host",
        "user_agent_tool",
        "user_agent_version",
    ];

    /// One raw event as a CSV record under [`RAW_HEADER`].
    pub fn write_raw_record<W: std::io::Write>(
        w: &mut csv::Writer<W>,
        namespace: &str,
        repository: &str,
        row: &store::RawRow,
    ) -> csv::Result<()> {
        w.write_record([
            crate::domain::Timestamp(row.at).rfc3339().as_str(),
            &format_day(day_of_millis(row.at)),
            namespace,
            repository,
            &row.reference,
            row.tag.as_deref().unwrap_or(""),
            &row.digest,
            &row.action,
            &row.http_method,
            &row.country,
            &row.host,
            &row.tool,
            &row.tool_version,
        ])
    }

    /// The raw CSV as a stream: a task reads rows into a bounded channel and
    /// the body turns them into chunks of about 64 KiB as the client reads,
    /// so memory stays flat and a slow client slows the query.
    fn raw_body(state: &AppState, a: Access, span: Span) -> Body {
        let (send, recv) = tokio::sync::mpsc::channel(2048);
        let db = state.db.clone();
        let scope = a.scope.clone();
        tokio::spawn(async move { store::raw_events(&db, &scope, span, send).await });
        let header = csv_line(&RAW_HEADER);
        let state = (recv, a, Some(header));
        Body::from_stream(futures::stream::unfold(
            state,
            |(mut recv, a, mut first)| async move {
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(first.take().unwrap_or_default());
                let mut ended = false;
                while w.get_ref().len() < 64 * 1024 {
                    match recv.recv().await {
                        None => {
                            ended = true;
                            break;
                        }
                        Some(Err(e)) => {
                            tracing::error!(error = %e, "raw export failed");
                            return Some((
                                Err(std::io::Error::other("export failed")),
                                (recv, a, None),
                            ));
                        }
                        Some(Ok(row)) => {
                            let Some(repo) = a.repos.get(&row.repository_id) else {
                                continue;
                            };
                            let _ = write_raw_record(&mut w, &a.ns.name, repo, &row);
                            let _ = w.flush();
                        }
                    }
                }
                let chunk = w.into_inner().unwrap_or_default();
                if chunk.is_empty() && ended {
                    return None;
                }
                if ended {
                    recv.close();
                }
                Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), (recv, a, None)))
            },
        ))
    }

    /// Reply to an ingestion batch.
    #[derive(Debug, Serialize)]
    pub struct IngestReply {
        /// Events in the batch.
        pub received: usize,
        /// Pulls stored now.
        pub stored: usize,
        /// Already stored (a retried batch), counted once.
        pub duplicates: usize,
        /// Distribution notifications that were not pulls (blob fetches, pushes).
        pub not_pulls: usize,
        /// Distribution pulls of repositories this hub does not have, or that
        /// the token's account does not own.
        pub skipped: usize,
    }

    fn batch_error(e: BatchError) -> AppError {
        let kind = match e {
            BatchError::TooMany { .. } => ErrorKind::PayloadTooLarge,
            BatchError::Line { .. } => ErrorKind::Invalid,
            BatchError::Body(_) => ErrorKind::BadRequest,
        };
        AppError::new(kind, e.message())
    }

    /// Reads the body up to the configured size (413 beyond).
    async fn body_text(state: &AppState, req: Request) -> AppResult<String> {
        let max = state.settings.ingest_max_bytes;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let too_big = || {
            AppError::new(
                ErrorKind::PayloadTooLarge,
                format!("A batch may be at most {max} bytes; split it into smaller batches."),
            )
        };
        if declared.is_some_and(|n| n > max) {
            return Err(too_big());
        }
        let bytes = axum::body::to_bytes(req.into_body(), max)
            .await
            .map_err(|_| too_big())?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| AppError::bad_request("The body is not UTF-8 text."))
    }

    fn require_ingest(caller: &Caller) -> AppResult<()> {
        caller.require_user()?;
        if !caller.ingest {
            return Err(AppError::forbidden(
                "Sending pull events needs an access token with the “ingest” scope (Settings → Access tokens, or `server token create --scope ingest`).",
            ));
        }
        Ok(())
    }

    #[derive(Clone)]
    enum Owner {
        Missing,
        NotOwned,
        Owned(NsRow),
    }

    /// Where the events go: (namespace, repository) → ids, or why not.
    async fn place(
        tx: &mut Tx<'_>,
        caller: &Caller,
        events: &[&Incoming],
    ) -> AppResult<HashMap<(String, String), Result<(NamespaceId, RepoId), AppError>>> {
        let mut owners: HashMap<String, Owner> = HashMap::new();
        let mut out = HashMap::new();
        for e in events {
            let key = (e.namespace.clone(), e.repository.clone());
            if out.contains_key(&key) {
                continue;
            }
            let owner = match owners.get(&e.namespace) {
                Some(o) => o.clone(),
                None => {
                    let o = match access::namespace_by_name(tx, &e.namespace).await? {
                        None => Owner::Missing,
                        Some(ns)
                            if caller.is_staff()
                                || access::caller_owns(tx, caller, &ns).await? =>
                        {
                            Owner::Owned(ns)
                        }
                        Some(_) => Owner::NotOwned,
                    };
                    owners.insert(e.namespace.clone(), o.clone());
                    o
                }
            };
            let missing = || {
                AppError::invalid_field(
                    "repository",
                    format!(
                        "Line {}: there is no repository “{}/{}” on this hub. Nothing from this batch was stored.",
                        e.line, e.namespace, e.repository
                    ),
                )
            };
            let placed = match owner {
                Owner::Missing => Err(missing()),
                Owner::NotOwned => Err(AppError::forbidden(format!(
                    "Line {}: the token's account does not own “{}”; only its owners (or staff) can send its pull events. Nothing from this batch was stored.",
                    e.line, e.namespace
                ))),
                Owner::Owned(ns) => match access::repo_by_name(tx, ns.id(), &e.repository).await? {
                    Some(r) => Ok((ns.id(), r.id())),
                    None => Err(missing()),
                },
            };
            out.insert(key, placed);
        }
        Ok(out)
    }

    fn event_of(e: &Incoming, ns: NamespaceId, repo: RepoId) -> PullEvent {
        PullEvent {
            at: e.at,
            namespace: ns,
            repository: repo,
            source_id: Some(e.id.clone()),
            reference: e.reference.clone(),
            tag: e.tag.clone(),
            digest: e.digest.clone(),
            action: e.action,
            http_method: e.http_method,
            country: e.country.clone(),
            host: e.host.clone(),
            user_agent: e.user_agent.clone(),
            ip: e.ip,
            authenticated: e.authenticated,
        }
    }

    /// `POST /api/v1/events`: NDJSON or a JSON array; all or nothing.
    pub async fn post_events(
        state: &AppState,
        caller: &Caller,
        req: Request,
    ) -> AppResult<IngestReply> {
        require_ingest(caller)?;
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let ndjson = match ct.as_str() {
            "application/x-ndjson" | "application/jsonl" => true,
            "application/json" => false,
            _ => {
                return Err(AppError::new(
                    ErrorKind::UnsupportedMediaType,
                    "Send events as NDJSON (Content-Type: application/x-ndjson) or as a JSON array (Content-Type: application/json).",
                ));
            }
        };
        let text = body_text(state, req).await?;
        let now = state.clock.now();
        let max = state.settings.ingest_max_events;
        let events = if ndjson {
            incoming::parse_ndjson(&text, now, max)
        } else {
            incoming::parse_json_array(&text, now, max)
        }
        .map_err(batch_error)?;
        let refs: Vec<&Incoming> = events.iter().collect();
        let mut tx = state.db.begin().await?;
        let places = place(&mut tx, caller, &refs).await?;
        tx.commit().await?;
        let mut batch = Vec::with_capacity(events.len());
        for e in &events {
            match places.get(&(e.namespace.clone(), e.repository.clone())) {
                Some(Ok((ns, repo))) => batch.push(event_of(e, *ns, *repo)),
                Some(Err(err)) => return Err(err.clone()),
                None => return Err(AppError::internal()),
            }
        }
        let Ingested { stored, duplicates } = {
            let _slot = state
                .ingest_slots
                .acquire()
                .await
                .map_err(|_| AppError::internal())?;
            ingest(&state.db, &state.geo, &batch).await?
        };
        state.metrics.events_ingested(stored, duplicates);
        Ok(IngestReply {
            received: events.len(),
            stored,
            duplicates,
            not_pulls: 0,
            skipped: 0,
        })
    }

    /// `POST /api/v1/events/distribution`: a Distribution registry's
    /// notifications. Events it cannot place are skipped (and counted), so the
    /// registry does not retry a batch forever.
    pub async fn post_distribution(
        state: &AppState,
        caller: &Caller,
        req: Request,
    ) -> AppResult<IngestReply> {
        require_ingest(caller)?;
        let text = body_text(state, req).await?;
        let items = incoming::parse_distribution(
            &text,
            state.clock.now(),
            state.settings.ingest_max_events,
        )
        .map_err(batch_error)?;
        let pulls: Vec<&Incoming> = items
            .iter()
            .filter_map(|n| match n {
                Notified::Pull(e) => Some(e.as_ref()),
                Notified::NotAPull => None,
            })
            .collect();
        let mut tx = state.db.begin().await?;
        let places = place(&mut tx, caller, &pulls).await?;
        tx.commit().await?;
        let batch: Vec<PullEvent> = pulls
            .iter()
            .filter_map(
                |e| match places.get(&(e.namespace.clone(), e.repository.clone())) {
                    Some(Ok((ns, repo))) => Some(event_of(e, *ns, *repo)),
                    _ => None,
                },
            )
            .collect();
        let Ingested { stored, duplicates } = {
            let _slot = state
                .ingest_slots
                .acquire()
                .await
                .map_err(|_| AppError::internal())?;
            ingest(&state.db, &state.geo, &batch).await?
        };
        state.metrics.events_ingested(stored, duplicates);
        Ok(IngestReply {
            received: items.len(),
            stored,
            duplicates,
            not_pulls: items.len() - pulls.len(),
            skipped: pulls.len() - batch.len(),
        })
    }

    async fn get_ns_pulls(
        State(s): State<AppState>,
        caller: Caller,
        Path(ns): Path<String>,
        Query(q): Query<PullsQuery>,
    ) -> AppResult<Json<PullsReport>> {
        Ok(Json(pulls(&s, &caller, &ns, None, &q).await?))
    }

    async fn get_repo_pulls(
        State(s): State<AppState>,
        caller: Caller,
        Path((ns, repo)): Path<(String, String)>,
        Query(q): Query<PullsQuery>,
    ) -> AppResult<Json<PullsReport>> {
        Ok(Json(pulls(&s, &caller, &ns, Some(&repo), &q).await?))
    }

    async fn get_export(
        State(s): State<AppState>,
        caller: Caller,
        Path(ns): Path<String>,
        Query(q): Query<PullsQuery>,
    ) -> AppResult<Response> {
        export(&s, &caller, &ns, &q).await
    }

    async fn post_events_route(
        State(s): State<AppState>,
        caller: Caller,
        req: Request,
    ) -> AppResult<Json<IngestReply>> {
        Ok(Json(post_events(&s, &caller, req).await?))
    }

    async fn post_distribution_route(
        State(s): State<AppState>,
        caller: Caller,
        req: Request,
    ) -> AppResult<Response> {
        let reply = post_distribution(&s, &caller, req).await?;
        Ok((StatusCode::OK, Json(reply)).into_response())
    }

    /// The analytics routes.
    pub fn routes() -> ApiRoutes {
        ApiRoutes::new()
            .get("/api/v1/namespaces/{ns}/pulls", get_ns_pulls)
            .get("/api/v1/namespaces/{ns}/pulls/export", get_export)
            .get(
                "/api/v1/namespaces/{ns}/repositories/{repo}/pulls",
                get_repo_pulls,
            )
            .post("/api/v1/events", post_events_route)
            .post("/api/v1/events/distribution", post_distribution_route)
    }
}

/// The Insights dashboard's data for a span (`span` preset or `from`/`to`).
#[server(name = GetInsights, endpoint = "insights", output = crate::wire::Json)]
pub async fn insights_fn(
    namespace: String,
    repository: Option<String>,
    span: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> Result<Insights, AppError> {
    let q = PullsQuery {
        span,
        from,
        to,
        ..PullsQuery::default()
    };
    with_caller!(
        |state, caller| insights(&state, &caller, &namespace, repository.as_deref(), &q).await
    )
}
