//! Pull events: every manifest GET or HEAD on the registry becomes one event,
//! and so does every event sent to `POST /api/v1/events` (the analytics
//! feature). Registry events wait in a bounded in-memory queue (when full,
//! the pull still succeeds and a counter of dropped events rises) and are
//! written in batches by the registered `pull-events` job, or by `flush` at
//! shutdown; a pull never waits for the analytics write.
//!
//! [`ingest`] is the one write path for both sources. In one transaction per
//! batch it stores the raw rows (skipping sender ids already stored, so a
//! retried batch counts once), and adds the batch to the rollups the charts
//! read (`pull_rollups`, `pull_daily`, `pull_breakdowns`, `pull_uniques`),
//! the repositories' lifetime pull counts and the tags' last pulls: a chart is
//! never behind the raw data. The client's IP address only derives country,
//! cloud host and a keyed hash for unique-address counts (with a secret of the
//! day); it is never stored.
//!
//! Bulk writes send the whole batch as one JSON parameter and let the
//! database expand it (`json_each` on SQLite, `json_to_recordset` on
//! PostgreSQL): one statement per table per batch, on either backend.

use super::geo::Geo;
use super::jobs::{Job, JobResult};
use super::state::AppState;
use crate::db::{Backend, Db, Tx};
use crate::domain::Timestamp;
use crate::domain::agent;
use crate::domain::ids::{NamespaceId, RepoId};
use crate::domain::pulls::{Action, Day, Granularity, day_of_millis};
use serde::Serialize;
use sha2::Digest as _;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Events held before new ones are dropped.
pub const QUEUE_MAX: usize = 100_000;
/// Events per transaction.
const PER_TX: usize = 20_000;

/// One pull as it arrives; the IP address and user agent are read, not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullEvent {
    pub at: Timestamp,
    pub namespace: NamespaceId,
    pub repository: RepoId,
    /// The sender's id for events sent to the API (a retry counts once).
    pub source_id: Option<String>,
    pub reference: String,
    pub tag: Option<String>,
    pub digest: String,
    pub action: Action,
    /// `GET` or `HEAD`.
    pub http_method: &'static str,
    /// ISO 3166-1 alpha-2 as sent; empty → derived from `ip`.
    pub country: String,
    /// Cloud provider as sent; empty → derived from `ip`.
    pub host: String,
    pub user_agent: String,
    pub ip: Option<IpAddr>,
    pub authenticated: bool,
}

/// The in-memory queue.
#[derive(Default)]
pub struct EventQueue {
    queue: Mutex<VecDeque<PullEvent>>,
    dropped: AtomicU64,
    written: AtomicU64,
}

impl EventQueue {
    /// Queues an event; false (and counted) when the queue is full.
    pub fn push(&self, e: PullEvent) -> bool {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= QUEUE_MAX {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        q.push_back(e);
        true
    }
    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
    /// Events written so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
    /// Events waiting.
    pub fn len(&self) -> usize {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn take(&self, n: usize) -> Vec<PullEvent> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let n = n.min(q.len());
        q.drain(..n).collect()
    }
    /// Puts events back at the front after a failed write, in order.
    fn give_back(&self, events: Vec<PullEvent>) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        for e in events.into_iter().rev() {
            q.push_front(e);
        }
    }
}

/// What a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Ingested {
    /// Events stored now.
    pub stored: usize,
    /// Events whose sender id was already stored (or repeated in the batch).
    pub duplicates: usize,
}

/// One table's bulk statement: the JSON keys are the column names.
struct Bulk {
    table: &'static str,
    /// Column name and its PostgreSQL type.
    cols: &'static [(&'static str, &'static str)],
    /// `ON CONFLICT …` and `RETURNING …`.
    tail: &'static str,
}

async fn bulk<T: Serialize>(
    tx: &mut Tx<'_>,
    backend: Backend,
    b: &Bulk,
    rows: &[T],
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let names = b.cols.iter().map(|c| c.0).collect::<Vec<_>>().join(", ");
    match backend {
        // PostgreSQL expands one JSON document into the rows: one statement
        // and one round trip per table and batch (measured as fast as
        // multi-row VALUES with bound parameters, and simpler; the `Any`
        // driver cannot bind the arrays UNNEST would take, nor COPY).
        Backend::Postgres => {
            #[cfg(feature = "testing")]
            let started = std::time::Instant::now();
            let json = json(&rows);
            #[cfg(feature = "testing")]
            let encoded = started.elapsed();
            let sql = format!(
                "INSERT INTO {} ({names}) SELECT {names} FROM json_to_recordset($1::json) AS r({}) {}",
                b.table,
                b.cols
                    .iter()
                    .map(|c| format!("{} {}", c.0, c.1))
                    .collect::<Vec<_>>()
                    .join(", "),
                b.tail
            );
            let out = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(json)
                .fetch_all(&mut **tx)
                .await;
            #[cfg(feature = "testing")]
            timings::add(b.table, rows.len(), encoded, started.elapsed() - encoded);
            out
        }
        // SQLite: prepared multi-row inserts of up to SQLITE_ROWS rows with
        // bound values (about twice as fast as expanding JSON in SQL).
        Backend::Sqlite => {
            let mut out = Vec::new();
            let full = SQLITE_ROWS.min(32_766 / b.cols.len());
            for chunk in rows.chunks(full) {
                #[cfg(feature = "testing")]
                let started = std::time::Instant::now();
                let n = b.cols.len();
                let values = (0..chunk.len())
                    .map(|r| {
                        let row = (1..=n)
                            .map(|c| format!("${}", r * n + c))
                            .collect::<Vec<_>>()
                            .join(", ");
                        format!("({row})")
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO {} ({names}) VALUES {values} {}",
                    b.table, b.tail
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                    // Only full chunks repeat: cache only their statement.
                    .persistent(chunk.len() == full);
                for row in chunk {
                    let serde_json::Value::Object(map) =
                        serde_json::to_value(row).map_err(|e| sqlx::Error::Encode(e.into()))?
                    else {
                        return Err(sqlx::Error::Protocol("a bulk row is not an object".into()));
                    };
                    for (col, _) in b.cols {
                        q = match map.get(*col) {
                            Some(serde_json::Value::Number(n)) => q.bind(n.as_i64()),
                            Some(serde_json::Value::String(s)) => q.bind(s.clone()),
                            Some(serde_json::Value::Bool(v)) => q.bind(*v),
                            _ => q.bind(None::<String>),
                        };
                    }
                }
                #[cfg(feature = "testing")]
                let encoded = started.elapsed();
                out.extend(q.fetch_all(&mut **tx).await?);
                #[cfg(feature = "testing")]
                timings::add(b.table, chunk.len(), encoded, started.elapsed() - encoded);
            }
            Ok(out)
        }
    }
}

/// Rows per SQLite insert statement.
const SQLITE_ROWS: usize = 500;

/// Adds the time since `since` to the benchmark's step `name` (testing builds).
#[cfg(feature = "testing")]
fn step(name: &'static str, rows: usize, since: &mut std::time::Instant) {
    timings::add(name, rows, Duration::ZERO, since.elapsed());
    *since = std::time::Instant::now();
}
#[cfg(not(feature = "testing"))]
fn step(_: &'static str, _: usize, _: &mut std::time::Instant) {}

/// Where ingestion's time goes, per table (the analytics benchmark prints it).
#[cfg(feature = "testing")]
pub mod timings {
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::time::Duration;

    /// Table → (rows, encoding time, statement time).
    static TOTALS: Mutex<BTreeMap<&'static str, (usize, Duration, Duration)>> =
        Mutex::new(BTreeMap::new());

    pub(super) fn add(table: &'static str, rows: usize, encode: Duration, run: Duration) {
        let mut t = TOTALS.lock().unwrap_or_else(|p| p.into_inner());
        let e = t.entry(table).or_default();
        e.0 += rows;
        e.1 += encode;
        e.2 += run;
    }

    /// The totals so far, and zero again.
    pub fn take() -> BTreeMap<&'static str, (usize, Duration, Duration)> {
        std::mem::take(&mut *TOTALS.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

const RAW: Bulk = Bulk {
    table: "pull_events",
    cols: &[
        ("at", "bigint"),
        ("namespace_id", "bigint"),
        ("repository_id", "bigint"),
        ("source_id", "text"),
        ("reference", "text"),
        ("tag", "text"),
        ("digest", "text"),
        ("action", "text"),
        ("http_method", "text"),
        ("country", "text"),
        ("host", "text"),
        ("tool", "text"),
        ("tool_version", "text"),
        ("authenticated", "boolean"),
    ],
    tail: "ON CONFLICT (namespace_id, source_id) WHERE source_id IS NOT NULL DO NOTHING RETURNING namespace_id, source_id",
};

/// [`RAW`] for a batch without sender ids: every row is stored.
const RAW_PLAIN: Bulk = Bulk {
    table: "pull_events",
    cols: RAW.cols,
    tail: "",
};

const CUBE: Bulk = Bulk {
    table: "pull_rollups",
    cols: &[
        ("namespace_id", "bigint"),
        ("repository_id", "bigint"),
        ("day", "bigint"),
        ("tag", "text"),
        ("digest", "text"),
        ("action", "text"),
        ("country", "text"),
        ("host", "text"),
        ("tool", "text"),
        ("pulls", "bigint"),
    ],
    tail: "ON CONFLICT (repository_id, day, tag, digest, action, country, host, tool) DO UPDATE SET pulls = pull_rollups.pulls + excluded.pulls",
};

const DAILY: Bulk = Bulk {
    table: "pull_daily",
    cols: &[
        ("namespace_id", "bigint"),
        ("repository_id", "bigint"),
        ("day", "bigint"),
        ("tag", "text"),
        ("digest", "text"),
        ("action", "text"),
        ("pulls", "bigint"),
    ],
    tail: "ON CONFLICT (repository_id, day, tag, digest, action) DO UPDATE SET pulls = pull_daily.pulls + excluded.pulls",
};

const BREAKDOWNS: Bulk = Bulk {
    table: "pull_breakdowns",
    cols: &[
        ("namespace_id", "bigint"),
        ("repository_id", "bigint"),
        ("day", "bigint"),
        ("dimension", "text"),
        ("value", "text"),
        ("action", "text"),
        ("pulls", "bigint"),
    ],
    tail: "ON CONFLICT (repository_id, day, dimension, value, action) DO UPDATE SET pulls = pull_breakdowns.pulls + excluded.pulls",
};

const UNIQUES: Bulk = Bulk {
    table: "pull_uniques",
    cols: &[
        ("namespace_id", "bigint"),
        ("repository_id", "bigint"),
        ("day", "bigint"),
        ("tag", "text"),
        ("digest", "text"),
        ("ip_hash", "bigint"),
    ],
    tail: "ON CONFLICT (repository_id, day, tag, digest, ip_hash) DO NOTHING",
};

const NS_KEYS: Bulk = Bulk {
    table: "pull_ns_keys",
    cols: &[
        ("namespace_id", "bigint"),
        ("day", "bigint"),
        ("kind", "text"),
        ("repository_id", "bigint"),
        ("key", "text"),
        ("pulls", "bigint"),
    ],
    tail: "ON CONFLICT (namespace_id, kind, day, repository_id, key) DO UPDATE SET pulls = pull_ns_keys.pulls + excluded.pulls",
};

const NS_WEEK_KEYS: Bulk = Bulk {
    table: "pull_ns_week_keys",
    cols: &[
        ("namespace_id", "bigint"),
        ("week", "bigint"),
        ("kind", "text"),
        ("repository_id", "bigint"),
        ("key", "text"),
        ("pulls", "bigint"),
    ],
    tail: "ON CONFLICT (namespace_id, kind, week, repository_id, key) DO UPDATE SET pulls = pull_ns_week_keys.pulls + excluded.pulls",
};

const NS_DAYS: Bulk = Bulk {
    table: "pull_ns_days",
    cols: &[
        ("namespace_id", "bigint"),
        ("day", "bigint"),
        ("action", "text"),
        ("pulls", "bigint"),
    ],
    tail: "ON CONFLICT (namespace_id, day, action) DO UPDATE SET pulls = pull_ns_days.pulls + excluded.pulls",
};

const NS_BREAKDOWNS: Bulk = Bulk {
    table: "pull_ns_breakdowns",
    cols: &[
        ("namespace_id", "bigint"),
        ("day", "bigint"),
        ("dimension", "text"),
        ("value", "text"),
        ("action", "text"),
        ("pulls", "bigint"),
    ],
    tail: "ON CONFLICT (namespace_id, day, dimension, value, action) DO UPDATE SET pulls = pull_ns_breakdowns.pulls + excluded.pulls",
};

const DAY_IPS: Bulk = Bulk {
    table: "pull_day_ips",
    cols: &[
        ("repository_id", "bigint"),
        ("day", "bigint"),
        ("ip_hash", "bigint"),
    ],
    tail: "ON CONFLICT (repository_id, day, ip_hash) DO NOTHING RETURNING repository_id, day",
};

const NS_ADDRESSES: Bulk = Bulk {
    table: "pull_ns_addresses",
    cols: &[
        ("namespace_id", "bigint"),
        ("day", "bigint"),
        ("repository_id", "bigint"),
        ("addresses", "bigint"),
    ],
    tail: "ON CONFLICT (namespace_id, day, repository_id) DO UPDATE SET addresses = pull_ns_addresses.addresses + excluded.addresses",
};

#[derive(Serialize)]
struct RawRow<'a> {
    at: i64,
    namespace_id: i64,
    repository_id: i64,
    source_id: Option<&'a str>,
    reference: &'a str,
    tag: Option<&'a str>,
    digest: &'a str,
    action: &'static str,
    http_method: &'static str,
    country: &'a str,
    host: &'a str,
    tool: &'static str,
    tool_version: &'a str,
    authenticated: bool,
}

/// An event with its derived fields.
struct Derived<'a> {
    e: &'a PullEvent,
    day: Day,
    country: String,
    host: String,
    tool: &'static str,
    tool_version: String,
    ip_hash: Option<i64>,
}

/// The day's secret for unique-address hashes, created on first use.
async fn salts(tx: &mut Tx<'_>, days: &HashSet<Day>) -> Result<HashMap<Day, Vec<u8>>, sqlx::Error> {
    let mut out = HashMap::new();
    for &day in days {
        let fresh: [u8; 32] = rand::random();
        sqlx::query(
            "INSERT INTO pull_salts (day, secret) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
        )
        .bind(day)
        .bind(hex::encode(fresh))
        .execute(&mut **tx)
        .await?;
        let secret: String = sqlx::query_scalar("SELECT secret FROM pull_salts WHERE day = $1")
            .bind(day)
            .fetch_one(&mut **tx)
            .await?;
        out.insert(day, hex::decode(secret).unwrap_or_default());
    }
    Ok(out)
}

/// A keyed hash of an address with the day's secret: SHA-256(secret ‖ address),
/// first 8 bytes. Without the secret (deleted two days later) it cannot be
/// turned back into the address.
fn ip_hash(secret: &[u8], ip: IpAddr) -> i64 {
    let octets = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    };
    let mut h = sha2::Sha256::new();
    h.update(secret);
    h.update(octets);
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_le_bytes(b)
}

/// Stores a batch of events and their rollups in one transaction; the one
/// write path of the registry's events and of `POST /api/v1/events`.
pub async fn ingest(db: &Db, geo: &Geo, events: &[PullEvent]) -> Result<Ingested, sqlx::Error> {
    // A sender id repeated inside the batch counts once.
    let mut seen: HashSet<(i64, &str)> = HashSet::new();
    let mut dup_in_batch = 0;
    let events: Vec<&PullEvent> = events
        .iter()
        .filter(|e| match &e.source_id {
            Some(id) => {
                let fresh = seen.insert((e.namespace.0, id.as_str()));
                dup_in_batch += usize::from(!fresh);
                fresh
            }
            None => true,
        })
        .collect();
    let mut clock = std::time::Instant::now();
    let mut tx = db.begin_write().await?;
    step("(begin)", 1, &mut clock);
    let days: HashSet<Day> = events
        .iter()
        .filter(|e| e.ip.is_some())
        .map(|e| day_of_millis(e.at.0))
        .collect();
    let salts = salts(&mut tx, &days).await?;
    step("(salts)", days.len(), &mut clock);
    // A batch holds few distinct user agents: parse each once.
    let mut agents: HashMap<&str, agent::Agent> = HashMap::new();
    let derived: Vec<Derived> = events
        .iter()
        .map(|e| {
            let day = day_of_millis(e.at.0);
            let a = agents
                .entry(e.user_agent.as_str())
                .or_insert_with(|| agent::parse(&e.user_agent))
                .clone();
            let country = match (e.country.is_empty(), e.ip) {
                (true, Some(ip)) => geo.country(ip).unwrap_or_default(),
                _ => e.country.clone(),
            };
            let host = match (e.host.is_empty(), e.ip) {
                (true, Some(ip)) => geo.cloud(ip).unwrap_or_default().to_string(),
                _ => e.host.clone(),
            };
            Derived {
                e,
                day,
                country,
                host,
                tool: a.tool,
                tool_version: a.version,
                ip_hash: e.ip.and_then(|ip| salts.get(&day).map(|s| ip_hash(s, ip))),
            }
        })
        .collect();
    let raw: Vec<RawRow> = derived
        .iter()
        .map(|d| RawRow {
            at: d.e.at.0,
            namespace_id: d.e.namespace.0,
            repository_id: d.e.repository.0,
            source_id: d.e.source_id.as_deref(),
            reference: &d.e.reference,
            tag: d.e.tag.as_deref(),
            digest: &d.e.digest,
            action: d.e.action.as_str(),
            http_method: d.e.http_method,
            country: &d.country,
            host: &d.host,
            tool: d.tool,
            tool_version: &d.tool_version,
            authenticated: d.e.authenticated,
        })
        .collect();
    step("(derive)", raw.len(), &mut clock);
    // Events without a sender id (the registry's own) are all stored: no
    // need to read back which were.
    let with_ids = raw.iter().any(|r| r.source_id.is_some());
    let returned = bulk(
        &mut tx,
        db.backend,
        if with_ids { &RAW } else { &RAW_PLAIN },
        &raw,
    )
    .await?;
    let stored_sources: HashSet<(i64, String)> = returned
        .iter()
        .filter_map(|r| {
            let ns = r.try_get::<i64, _>(0).ok()?;
            r.try_get::<Option<String>, _>(1)
                .ok()
                .flatten()
                .map(|id| (ns, id))
        })
        .collect();
    let stored: Vec<&Derived> = derived
        .iter()
        .filter(|d| {
            d.e.source_id
                .as_ref()
                .is_none_or(|id| stored_sources.contains(&(d.e.namespace.0, id.clone())))
        })
        .collect();
    let ingested = Ingested {
        stored: stored.len(),
        duplicates: dup_in_batch + (derived.len() - stored.len()),
    };
    if stored.is_empty() {
        tx.commit().await?;
        return Ok(ingested);
    }
    rollups(&mut tx, db.backend, &stored).await?;
    clock = std::time::Instant::now();
    tx.commit().await?;
    step("(commit)", 1, &mut clock);
    Ok(ingested)
}

fn json<T: Serialize>(rows: &T) -> String {
    serde_json::to_string(rows).unwrap_or_else(|_| "[]".into())
}

/// Adds stored events to the rollups, the pull counts and the tags' last pulls.
async fn rollups(
    tx: &mut Tx<'_>,
    backend: Backend,
    stored: &[&Derived<'_>],
) -> Result<(), sqlx::Error> {
    type Key<'a> = (i64, i64, Day, &'a str, &'a str, &'static str);
    let mut cube: BTreeMap<(Key, &str, &str, &str), i64> = BTreeMap::new();
    let mut daily: BTreeMap<Key, i64> = BTreeMap::new();
    let mut breakdowns: BTreeMap<(i64, i64, Day, &str, &str, &str), i64> = BTreeMap::new();
    let mut uniques: BTreeSet<(i64, i64, Day, &str, &str, i64)> = BTreeSet::new();
    let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
    let mut pulled: BTreeMap<(i64, &str), i64> = BTreeMap::new();
    // The namespace-level rollups (see migration 0009).
    let mut ns_keys: BTreeMap<(i64, Day, &str, i64, &str), i64> = BTreeMap::new();
    let mut ns_days: BTreeMap<(i64, Day, &str), i64> = BTreeMap::new();
    let mut ns_breakdowns: BTreeMap<(i64, Day, &str, &str, &str), i64> = BTreeMap::new();
    let mut day_ips: BTreeSet<(i64, Day, i64)> = BTreeSet::new();
    let mut ns_of: HashMap<i64, i64> = HashMap::new();
    let mut clock = std::time::Instant::now();
    for d in stored {
        let e = d.e;
        let tag = e.tag.as_deref().unwrap_or("");
        let action = e.action.as_str();
        let key: Key = (
            e.namespace.0,
            e.repository.0,
            d.day,
            tag,
            e.digest.as_str(),
            action,
        );
        *cube
            .entry((key, d.country.as_str(), d.host.as_str(), d.tool))
            .or_default() += 1;
        *daily.entry(key).or_default() += 1;
        let ns = e.namespace.0;
        ns_of.insert(e.repository.0, ns);
        *ns_keys
            .entry((ns, d.day, "tag", e.repository.0, tag))
            .or_default() += 1;
        *ns_keys
            .entry((ns, d.day, "digest", e.repository.0, e.digest.as_str()))
            .or_default() += 1;
        *ns_days.entry((ns, d.day, action)).or_default() += 1;
        for (dim, value) in [
            ("country", d.country.as_str()),
            ("host", d.host.as_str()),
            ("tool", d.tool),
        ] {
            *ns_breakdowns
                .entry((ns, d.day, dim, value, action))
                .or_default() += 1;
        }
        for (dim, value) in [
            ("country", d.country.as_str()),
            ("host", d.host.as_str()),
            ("tool", d.tool),
        ] {
            *breakdowns
                .entry((e.namespace.0, e.repository.0, d.day, dim, value, action))
                .or_default() += 1;
        }
        if let Some(h) = d.ip_hash {
            day_ips.insert((e.repository.0, d.day, h));
            uniques.insert((
                e.namespace.0,
                e.repository.0,
                d.day,
                tag,
                e.digest.as_str(),
                h,
            ));
        }
        if e.action.is_pull() {
            *counts.entry(e.repository.0).or_default() += 1;
            if let Some(tag) = &e.tag {
                let at = pulled.entry((e.repository.0, tag.as_str())).or_default();
                *at = (*at).max(e.at.0);
            }
        }
    }
    step("(aggregate)", stored.len(), &mut clock);
    let rows: Vec<serde_json::Value> = cube
        .iter()
        .map(|(((ns, repo, day, tag, digest, action), country, host, tool), n)| {
            serde_json::json!({"namespace_id": ns, "repository_id": repo, "day": day, "tag": tag,
                "digest": digest, "action": action, "country": country, "host": host, "tool": tool, "pulls": n})
        })
        .collect();
    bulk(tx, backend, &CUBE, &rows).await?;
    let rows: Vec<serde_json::Value> = daily
        .iter()
        .map(|((ns, repo, day, tag, digest, action), n)| {
            serde_json::json!({"namespace_id": ns, "repository_id": repo, "day": day, "tag": tag,
                "digest": digest, "action": action, "pulls": n})
        })
        .collect();
    bulk(tx, backend, &DAILY, &rows).await?;
    let rows: Vec<serde_json::Value> = breakdowns
        .iter()
        .map(|((ns, repo, day, dim, value, action), n)| {
            serde_json::json!({"namespace_id": ns, "repository_id": repo, "day": day,
                "dimension": dim, "value": value, "action": action, "pulls": n})
        })
        .collect();
    bulk(tx, backend, &BREAKDOWNS, &rows).await?;
    if !uniques.is_empty() {
        let rows: Vec<serde_json::Value> = uniques
            .iter()
            .map(|(ns, repo, day, tag, digest, h)| {
                serde_json::json!({"namespace_id": ns, "repository_id": repo, "day": day,
                    "tag": tag, "digest": digest, "ip_hash": h})
            })
            .collect();
        bulk(tx, backend, &UNIQUES, &rows).await?;
    }
    namespace_rollups(
        tx,
        backend,
        &ns_keys,
        &ns_days,
        &ns_breakdowns,
        &day_ips,
        &ns_of,
    )
    .await?;
    clock = std::time::Instant::now();
    // The repository's lifetime pull count (GETs) and each tag's last pull:
    // one statement each per batch, whatever the number of repositories and tags.
    if !counts.is_empty() {
        let rows: Vec<serde_json::Value> = counts
            .iter()
            .map(|(id, n)| serde_json::json!({"id": id, "n": n}))
            .collect();
        let sql = match backend {
            Backend::Sqlite => {
                "UPDATE repositories SET pull_count = pull_count + j.n
                 FROM (SELECT value ->> 'id' AS id, value ->> 'n' AS n FROM json_each($1)) AS j
                 WHERE repositories.id = j.id"
            }
            Backend::Postgres => {
                "UPDATE repositories SET pull_count = repositories.pull_count + j.n
                 FROM json_to_recordset($1::json) AS j(id bigint, n bigint)
                 WHERE repositories.id = j.id"
            }
        };
        sqlx::query(sql)
            .bind(json(&rows))
            .execute(&mut **tx)
            .await?;
    }
    if !pulled.is_empty() {
        let rows: Vec<serde_json::Value> = pulled
            .iter()
            .map(|((repo, tag), at)| serde_json::json!({"repo": repo, "tag": tag, "at": at}))
            .collect();
        let sql = match backend {
            Backend::Sqlite => {
                "UPDATE tags SET last_pulled_at = j.at
                 FROM (SELECT value ->> 'repo' AS repo, value ->> 'tag' AS tag, value ->> 'at' AS at FROM json_each($1)) AS j
                 WHERE tags.repository_id = j.repo AND tags.name = j.tag
                   AND (tags.last_pulled_at IS NULL OR tags.last_pulled_at < j.at)"
            }
            Backend::Postgres => {
                "UPDATE tags SET last_pulled_at = j.at
                 FROM json_to_recordset($1::json) AS j(repo bigint, tag text, at bigint)
                 WHERE tags.repository_id = j.repo AND tags.name = j.tag
                   AND (tags.last_pulled_at IS NULL OR tags.last_pulled_at < j.at)"
            }
        };
        sqlx::query(sql)
            .bind(json(&rows))
            .execute(&mut **tx)
            .await?;
    }
    step("(counters)", counts.len() + pulled.len(), &mut clock);
    Ok(())
}

/// Adds a batch to the namespace-level rollups: keys per day and per week,
/// day totals, breakdowns, and each repository's new distinct addresses.
async fn namespace_rollups(
    tx: &mut Tx<'_>,
    backend: Backend,
    keys: &BTreeMap<(i64, Day, &str, i64, &str), i64>,
    days: &BTreeMap<(i64, Day, &str), i64>,
    breakdowns: &BTreeMap<(i64, Day, &str, &str, &str), i64>,
    day_ips: &BTreeSet<(i64, Day, i64)>,
    ns_of: &HashMap<i64, i64>,
) -> Result<(), sqlx::Error> {
    let rows: Vec<serde_json::Value> = keys
        .iter()
        .map(|((ns, day, kind, repo, key), n)| {
            serde_json::json!({"namespace_id": ns, "day": day, "kind": kind,
                "repository_id": repo, "key": key, "pulls": n})
        })
        .collect();
    bulk(tx, backend, &NS_KEYS, &rows).await?;
    let mut weeks: BTreeMap<(i64, Day, &str, i64, &str), i64> = BTreeMap::new();
    for ((ns, day, kind, repo, key), n) in keys {
        *weeks
            .entry((*ns, Granularity::Week.start(*day), kind, *repo, key))
            .or_default() += n;
    }
    let rows: Vec<serde_json::Value> = weeks
        .iter()
        .map(|((ns, week, kind, repo, key), n)| {
            serde_json::json!({"namespace_id": ns, "week": week, "kind": kind,
                "repository_id": repo, "key": key, "pulls": n})
        })
        .collect();
    bulk(tx, backend, &NS_WEEK_KEYS, &rows).await?;
    let rows: Vec<serde_json::Value> = days
        .iter()
        .map(|((ns, day, action), n)| {
            serde_json::json!({"namespace_id": ns, "day": day, "action": action, "pulls": n})
        })
        .collect();
    bulk(tx, backend, &NS_DAYS, &rows).await?;
    let rows: Vec<serde_json::Value> = breakdowns
        .iter()
        .map(|((ns, day, dim, value, action), n)| {
            serde_json::json!({"namespace_id": ns, "day": day, "dimension": dim,
                "value": value, "action": action, "pulls": n})
        })
        .collect();
    bulk(tx, backend, &NS_BREAKDOWNS, &rows).await?;
    if day_ips.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = day_ips
        .iter()
        .map(|(repo, day, h)| serde_json::json!({"repository_id": repo, "day": day, "ip_hash": h}))
        .collect();
    // Only the addresses first seen now (RETURNING) add to the counts.
    let mut fresh: BTreeMap<(i64, Day, i64), i64> = BTreeMap::new();
    for r in bulk(tx, backend, &DAY_IPS, &rows).await? {
        let repo: i64 = r.try_get(0)?;
        let day: Day = r.try_get(1)?;
        let ns = ns_of.get(&repo).copied().unwrap_or_default();
        *fresh.entry((ns, day, repo)).or_default() += 1;
    }
    if fresh.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = fresh
        .iter()
        .map(|((ns, day, repo), n)| {
            serde_json::json!({"namespace_id": ns, "day": day, "repository_id": repo, "addresses": n})
        })
        .collect();
    bulk(tx, backend, &NS_ADDRESSES, &rows).await?;
    Ok(())
}

/// Writes everything queued now, in batches of one transaction each; returns
/// how many were written. On a failure the batch goes back to the queue.
pub async fn flush(state: &AppState) -> Result<usize, sqlx::Error> {
    let mut total = 0;
    loop {
        let batch = state.events.take(PER_TX);
        if batch.is_empty() {
            return Ok(total);
        }
        if let Err(e) = ingest(&state.db, &state.geo, &batch).await {
            state.events.give_back(batch);
            return Err(e);
        }
        total += batch.len();
        state
            .events
            .written
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
    }
}

/// The registered job that writes queued events every second.
pub const WRITER: Job = Job {
    name: "pull-events",
    every: |_| Duration::from_secs(1),
    run: |s| {
        Box::pin(async move { Ok(flush(&s).await?) })
            as futures::future::BoxFuture<'static, JobResult>
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(i: i64) -> PullEvent {
        PullEvent {
            at: Timestamp(i),
            namespace: NamespaceId(1),
            repository: RepoId(1),
            source_id: None,
            reference: "latest".into(),
            tag: Some("latest".into()),
            digest: "sha256:x".into(),
            action: Action::PullByTag,
            http_method: "GET",
            country: String::new(),
            host: String::new(),
            user_agent: "test".into(),
            ip: None,
            authenticated: false,
        }
    }

    #[test]
    fn the_queue_is_bounded_and_keeps_order() {
        let q = EventQueue::default();
        for i in 0..3 {
            assert!(q.push(ev(i)));
        }
        let taken = q.take(2);
        assert_eq!(taken.iter().map(|e| e.at.0).collect::<Vec<_>>(), vec![0, 1]);
        q.give_back(taken);
        assert_eq!(
            q.take(10).iter().map(|e| e.at.0).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        for i in 0..QUEUE_MAX as i64 {
            q.push(ev(i));
        }
        assert!(!q.push(ev(-1)));
        assert_eq!(q.dropped(), 1);
    }

    #[test]
    fn ip_hashes_depend_on_the_days_secret() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(ip_hash(b"a", ip), ip_hash(b"a", ip));
        assert_ne!(ip_hash(b"a", ip), ip_hash(b"b", ip));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ip_hash(b"a", ip), ip_hash(b"a", mapped));
    }
}
