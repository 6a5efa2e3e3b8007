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
//! Bulk writes go through one function, [`bulk`], with each backend's fast
//! path: on PostgreSQL (a native connection) `COPY` for rows without sender
//! ids and otherwise one statement per table and batch binding each column
//! as a typed array (`UNNEST`); on SQLite prepared multi-row inserts of bound
//! values. All in the batch's one transaction.

use super::geo::Geo;
use super::jobs::{Job, JobResult};
use super::state::AppState;
use crate::db::{Backend, Db, WriteTx};
use crate::domain::Timestamp;
use crate::domain::agent;
use crate::domain::ids::{NamespaceId, RepoId};
use crate::domain::pulls::{Action, Day, Granularity, day_of_millis};
use serde::Serialize;
use sha2::Digest as _;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
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

/// One table's bulk statement.
struct Bulk {
    table: &'static str,
    /// Column name and its PostgreSQL type (`bigint`, `text` or `boolean`).
    cols: &'static [(&'static str, &'static str)],
    /// `ON CONFLICT …` and `RETURNING …`.
    tail: &'static str,
}

/// One value of a bulk row.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    I(i64),
    S(&'a str),
    B(bool),
    Null,
}

impl<'a> Val<'a> {
    fn text(s: Option<&'a str>) -> Val<'a> {
        s.map_or(Val::Null, Val::S)
    }
    fn int(self) -> Option<i64> {
        match self {
            Val::I(i) => Some(i),
            _ => None,
        }
    }
    fn boolean(self) -> Option<bool> {
        match self {
            Val::B(b) => Some(b),
            _ => None,
        }
    }
    fn str(self) -> Option<&'a str> {
        match self {
            Val::S(s) => Some(s),
            _ => None,
        }
    }
}

/// What a bulk statement's `RETURNING` gives back, on either connection.
trait Returned:
    for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
{
}
impl<R> Returned for R where
    R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

/// Inserts rows given as one flat list of values, `b.cols.len()` per row
/// in the order of `b.cols`, with the table's conflict clause; returns what
/// its `RETURNING` returns. The one bulk write of both backends.
async fn bulk<R: Returned>(
    tx: &mut WriteTx,
    b: &Bulk,
    values: &[Val<'_>],
) -> Result<Vec<R>, sqlx::Error> {
    let n = b.cols.len();
    debug_assert_eq!(values.len() % n, 0, "{}: a partial row", b.table);
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let names = b.cols.iter().map(|c| c.0).collect::<Vec<_>>().join(", ");
    match tx {
        // PostgreSQL, rows with nothing to reconcile (no conflict clause,
        // nothing returned: the registry's own raw events): one COPY.
        WriteTx::Pg(tx) if b.tail.is_empty() => {
            #[cfg(feature = "testing")]
            let started = std::time::Instant::now();
            let mut text = String::with_capacity(values.len() * 12);
            for row in values.chunks(n) {
                for (j, v) in row.iter().enumerate() {
                    if j > 0 {
                        text.push('\t');
                    }
                    copy_text(*v, &mut text);
                }
                text.push('\n');
            }
            #[cfg(feature = "testing")]
            let encoded = started.elapsed();
            let sql = format!("COPY {} ({names}) FROM STDIN", b.table);
            let mut copy = tx.copy_in_raw(&sql).await?;
            if let Err(e) = copy.send(text.as_bytes()).await {
                // Ends the COPY so that the connection can roll back.
                let _ = copy.abort(e.to_string()).await;
                return Err(e);
            }
            copy.finish().await?;
            #[cfg(feature = "testing")]
            timings::add(
                b.table,
                values.len() / n,
                encoded,
                started.elapsed() - encoded,
            );
            Ok(Vec::new())
        }
        // PostgreSQL, the others: one statement per table and batch, each
        // column bound as one typed array (binary on the wire) and turned
        // back into rows by UNNEST — no text to parse on either side.
        WriteTx::Pg(tx) => {
            #[cfg(feature = "testing")]
            let started = std::time::Instant::now();
            let arrays = b
                .cols
                .iter()
                .enumerate()
                .map(|(j, (_, ty))| format!("${}::{ty}[]", j + 1))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO {} ({names}) SELECT * FROM UNNEST({arrays}) {}",
                b.table, b.tail
            );
            let mut q = sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(sql));
            for (j, (_, ty)) in b.cols.iter().enumerate() {
                let column = values[j..].iter().step_by(n);
                q = match *ty {
                    "bigint" => q.bind(column.map(|v| v.int()).collect::<Vec<_>>()),
                    "boolean" => q.bind(column.map(|v| v.boolean()).collect::<Vec<_>>()),
                    _ => q.bind(column.map(|v| v.str()).collect::<Vec<_>>()),
                };
            }
            #[cfg(feature = "testing")]
            let encoded = started.elapsed();
            let out = q.fetch_all(&mut **tx).await;
            #[cfg(feature = "testing")]
            timings::add(
                b.table,
                values.len() / n,
                encoded,
                started.elapsed() - encoded,
            );
            out
        }
        // SQLite: prepared multi-row inserts of up to SQLITE_ROWS rows with
        // bound values (several times faster than expanding JSON in SQL).
        // Pipelined: SQLite runs each statement on its connection's own
        // thread, and the next chunk's statement is built and bound here
        // meanwhile.
        WriteTx::Any(tx) => {
            let mut out = Vec::new();
            let full = SQLITE_ROWS.min(32_766 / n);
            // Positional `?`: numbered `$N` parameters are looked up by name
            // in SQLite, quadratic in a 7,000-parameter insert (measured: 8k
            // instead of 190k rows/s).
            let one = format!("({})", vec!["?"; n].join(", "));
            let full_sql = format!(
                "INSERT INTO {} ({names}) VALUES {} {}",
                b.table,
                vec![one.as_str(); full].join(", "),
                b.tail
            );
            // A chunk's statement, built and bound.
            let sql_for = |rows: usize| {
                if rows == full {
                    full_sql.clone()
                } else {
                    format!(
                        "INSERT INTO {} ({names}) VALUES {} {}",
                        b.table,
                        vec![one.as_str(); rows].join(", "),
                        b.tail
                    )
                }
            };
            let statement = |chunk| {
                #[cfg(feature = "testing")]
                let started = std::time::Instant::now();
                let rows = <[Val<'_>]>::len(chunk) / n;
                // Only full chunks repeat: cache only their statement.
                let q = sqlite_insert::<R>(sql_for(rows), rows == full, chunk);
                #[cfg(feature = "testing")]
                timings::add(b.table, rows, started.elapsed(), Duration::ZERO);
                q
            };
            let mut chunks = values.chunks(full * n);
            let mut next = chunks.next().map(statement);
            while let Some(q) = next.take() {
                #[cfg(feature = "testing")]
                let started = std::time::Instant::now();
                let mut running = std::pin::pin!(q.fetch_all(&mut **tx));
                // The first poll hands the statement to SQLite's thread.
                let first = futures::poll!(running.as_mut());
                #[cfg(feature = "testing")]
                let sent = started.elapsed();
                next = chunks.next().map(statement);
                #[cfg(feature = "testing")]
                let built = started.elapsed();
                let rows = match first {
                    std::task::Poll::Ready(r) => r?,
                    std::task::Poll::Pending => running.await?,
                };
                #[cfg(feature = "testing")]
                timings::add(
                    b.table,
                    0,
                    Duration::ZERO,
                    started.elapsed() - (built - sent),
                );
                out.extend(rows);
            }
            Ok(out)
        }
    }
}

/// One SQLite insert statement with a chunk's values bound.
fn sqlite_insert<'q, R: Returned>(
    sql: String,
    persistent: bool,
    chunk: &[Val<'q>],
) -> sqlx::query::QueryAs<'q, sqlx::Any, R, sqlx::any::AnyArguments> {
    let mut q = sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(sql)).persistent(persistent);
    for v in chunk {
        q = match *v {
            Val::I(i) => q.bind(i),
            Val::S(s) => q.bind(s),
            Val::B(b) => q.bind(b),
            Val::Null => q.bind(None::<&str>),
        };
    }
    q
}

/// A value in `COPY`'s text format: `\N` for NULL, and backslash, tab,
/// newline and carriage return escaped.
fn copy_text(v: Val<'_>, out: &mut String) {
    use std::fmt::Write as _;
    match v {
        Val::I(i) => {
            let _ = write!(out, "{i}");
        }
        Val::B(b) => out.push(if b { 't' } else { 'f' }),
        Val::Null => out.push_str("\\N"),
        Val::S(s)
            if !s
                .bytes()
                .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) =>
        {
            out.push_str(s);
        }
        Val::S(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

/// [`bulk`] for a statement without `RETURNING`.
async fn put(tx: &mut WriteTx, b: &Bulk, values: &[Val<'_>]) -> Result<(), sqlx::Error> {
    bulk::<()>(tx, b, values).await.map(drop)
}

/// Runs `$body` with `$c` bound to the transaction's connection, whichever
/// driver it is on (the statement is the same text on both).
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            WriteTx::Any(t) => {
                let $c = &mut **t;
                $body
            }
            WriteTx::Pg(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
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
    tail: "ON CONFLICT (namespace_id, at, source_id) DO NOTHING RETURNING namespace_id, at, source_id",
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
async fn salts(
    tx: &mut WriteTx,
    days: &HashSet<Day>,
) -> Result<HashMap<Day, Vec<u8>>, sqlx::Error> {
    let mut out = HashMap::new();
    for &day in days {
        let fresh = hex::encode(rand::random::<[u8; 32]>());
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO pull_salts (day, secret) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
        )
        .bind(day)
        .bind(&fresh)
        .execute(c)
        .await
        .map(drop))?;
        let secret: String = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT secret FROM pull_salts WHERE day = $1"
        )
        .bind(day)
        .fetch_one(c)
        .await)?;
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
    // An event is its namespace, timestamp and sender id (see migration
    // 0012): repeated inside the batch, it counts once.
    let mut seen: HashSet<(i64, i64, &str)> = HashSet::new();
    let mut dup_in_batch = 0;
    let events: Vec<&PullEvent> = events
        .iter()
        .filter(|e| match &e.source_id {
            Some(id) => {
                let fresh = seen.insert((e.namespace.0, e.at.0, id.as_str()));
                dup_in_batch += usize::from(!fresh);
                fresh
            }
            None => true,
        })
        .collect();
    let mut clock = std::time::Instant::now();
    let mut tx = db.begin_bulk().await?;
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
    let mut raw: Vec<Val> = Vec::with_capacity(derived.len() * RAW.cols.len());
    for d in &derived {
        raw.extend([
            Val::I(d.e.at.0),
            Val::I(d.e.namespace.0),
            Val::I(d.e.repository.0),
            Val::text(d.e.source_id.as_deref()),
            Val::S(&d.e.reference),
            Val::text(d.e.tag.as_deref()),
            Val::S(&d.e.digest),
            Val::S(d.e.action.as_str()),
            Val::S(d.e.http_method),
            Val::S(&d.country),
            Val::S(&d.host),
            Val::S(d.tool),
            Val::S(&d.tool_version),
            Val::B(d.e.authenticated),
        ]);
    }
    step("(derive)", derived.len(), &mut clock);
    // Events without a sender id (the registry's own) are all stored: no
    // need to read back which were. The rollups are counted meanwhile (the
    // database works on its own thread or server), for every event: a
    // retried batch's events already stored are the exception, recounted.
    let with_ids = derived.iter().any(|d| d.e.source_id.is_some());
    let store_raw = async {
        if with_ids {
            Ok(bulk::<(i64, i64, Option<String>)>(&mut tx, &RAW, &raw)
                .await?
                .into_iter()
                .filter_map(|(ns, at, id)| Some((ns, at, id?)))
                .collect())
        } else {
            put(&mut tx, &RAW_PLAIN, &raw).await?;
            Ok::<HashSet<(i64, i64, String)>, sqlx::Error>(HashSet::new())
        }
    };
    let (stored_sources, counted) = futures::join!(store_raw, Counting::count(&derived));
    let stored_sources = stored_sources?;
    let stored: Vec<&Derived> = derived
        .iter()
        .filter(|d| {
            d.e.source_id
                .as_ref()
                .is_none_or(|id| stored_sources.contains(&(d.e.namespace.0, d.e.at.0, id.clone())))
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
    let rollups = if stored.len() == derived.len() {
        counted
    } else {
        Counting::count(stored).await
    };
    write_rollups(&mut tx, db.backend, &rollups).await?;
    clock = std::time::Instant::now();
    tx.commit().await?;
    step("(commit)", 1, &mut clock);
    Ok(ingested)
}

fn json<T: Serialize>(rows: &T) -> String {
    serde_json::to_string(rows).unwrap_or_else(|_| "[]".into())
}

/// Counts per key while a batch is aggregated.
type Agg<K> = rustc_hash::FxHashMap<K, i64>;
type FxHashSet<K> = rustc_hash::FxHashSet<K>;

/// A map's entries in key order.
fn sorted<K: Ord>(m: &Agg<K>) -> Vec<(&K, &i64)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_unstable_by(|a, b| a.0.cmp(b.0));
    v
}

/// A set's keys in order.
fn sorted_set<K: Ord>(m: &FxHashSet<K>) -> Vec<&K> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_unstable();
    v
}

type Key<'a> = (i64, i64, Day, &'a str, &'a str, &'static str);

/// A batch's rollups while its events are counted: hash maps per table.
#[derive(Default)]
struct Counting<'a> {
    cube: Agg<(Key<'a>, &'a str, &'a str, &'a str)>,
    daily: Agg<Key<'a>>,
    breakdowns: Agg<(i64, i64, Day, &'a str, &'a str, &'a str)>,
    uniques: FxHashSet<(i64, i64, Day, &'a str, &'a str, i64)>,
    counts: BTreeMap<i64, i64>,
    pulled: BTreeMap<(i64, &'a str), i64>,
    // The namespace-level rollups (see migration 0009).
    ns_keys: Agg<(i64, Day, &'a str, i64, &'a str)>,
    ns_days: Agg<(i64, Day, &'a str)>,
    ns_breakdowns: Agg<(i64, Day, &'a str, &'a str, &'a str)>,
    day_ips: FxHashSet<(i64, Day, i64)>,
    ns_of: rustc_hash::FxHashMap<i64, i64>,
}

/// A batch's rollup rows, sorted by key, ready to write.
struct Rollups<'a> {
    cube: Vec<Val<'a>>,
    daily: Vec<Val<'a>>,
    breakdowns: Vec<Val<'a>>,
    uniques: Vec<Val<'a>>,
    ns_keys: Vec<Val<'a>>,
    ns_week_keys: Vec<Val<'a>>,
    ns_days: Vec<Val<'a>>,
    ns_breakdowns: Vec<Val<'a>>,
    day_ips: Vec<Val<'a>>,
    counts: BTreeMap<i64, i64>,
    pulled: BTreeMap<(i64, &'a str), i64>,
    ns_of: rustc_hash::FxHashMap<i64, i64>,
}

impl<'a> Counting<'a> {
    fn add(&mut self, d: &'a Derived<'a>) {
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
        *self
            .cube
            .entry((key, d.country.as_str(), d.host.as_str(), d.tool))
            .or_default() += 1;
        *self.daily.entry(key).or_default() += 1;
        let ns = e.namespace.0;
        self.ns_of.insert(e.repository.0, ns);
        *self
            .ns_keys
            .entry((ns, d.day, "tag", e.repository.0, tag))
            .or_default() += 1;
        *self
            .ns_keys
            .entry((ns, d.day, "digest", e.repository.0, e.digest.as_str()))
            .or_default() += 1;
        *self.ns_days.entry((ns, d.day, action)).or_default() += 1;
        for (dim, value) in [
            ("country", d.country.as_str()),
            ("host", d.host.as_str()),
            ("tool", d.tool),
        ] {
            *self
                .ns_breakdowns
                .entry((ns, d.day, dim, value, action))
                .or_default() += 1;
            *self
                .breakdowns
                .entry((ns, e.repository.0, d.day, dim, value, action))
                .or_default() += 1;
        }
        if let Some(h) = d.ip_hash {
            self.day_ips.insert((e.repository.0, d.day, h));
            self.uniques
                .insert((ns, e.repository.0, d.day, tag, e.digest.as_str(), h));
        }
        if e.action.is_pull() {
            *self.counts.entry(e.repository.0).or_default() += 1;
            if let Some(tag) = &e.tag {
                let at = self
                    .pulled
                    .entry((e.repository.0, tag.as_str()))
                    .or_default();
                *at = (*at).max(e.at.0);
            }
        }
    }

    /// Counts `events`, yielding to the runtime every 1,024 so that a bulk
    /// write awaited beside it (see [`ingest`]) keeps its connection busy.
    async fn count(events: impl IntoIterator<Item = &'a Derived<'a>>) -> Rollups<'a> {
        let mut c = Counting::default();
        for (i, d) in events.into_iter().enumerate() {
            c.add(d);
            if i % 1024 == 1023 {
                tokio::task::yield_now().await;
            }
        }
        c.rows()
    }

    /// Each table's rows in key order (one lock order for concurrent batches).
    fn rows(self) -> Rollups<'a> {
        use Val::{I, S};
        let mut cube = Vec::with_capacity(self.cube.len() * CUBE.cols.len());
        for (((ns, repo, day, tag, digest, action), country, host, tool), n) in sorted(&self.cube) {
            cube.extend([
                I(*ns),
                I(*repo),
                I(*day),
                S(tag),
                S(digest),
                S(action),
                S(country),
                S(host),
                S(tool),
                I(*n),
            ]);
        }
        let daily = sorted(&self.daily)
            .into_iter()
            .flat_map(|(&(ns, repo, day, tag, digest, action), n)| {
                [I(ns), I(repo), I(day), S(tag), S(digest), S(action), I(*n)]
            })
            .collect();
        let breakdowns = sorted(&self.breakdowns)
            .into_iter()
            .flat_map(|(&(ns, repo, day, dim, value, action), n)| {
                [I(ns), I(repo), I(day), S(dim), S(value), S(action), I(*n)]
            })
            .collect();
        let uniques = sorted_set(&self.uniques)
            .into_iter()
            .flat_map(|&(ns, repo, day, tag, digest, h)| {
                [I(ns), I(repo), I(day), S(tag), S(digest), I(h)]
            })
            .collect();
        let ns_keys = sorted(&self.ns_keys)
            .into_iter()
            .flat_map(|(&(ns, day, kind, repo, key), n)| {
                [I(ns), I(day), S(kind), I(repo), S(key), I(*n)]
            })
            .collect();
        let mut weeks: BTreeMap<(i64, Day, &str, i64, &str), i64> = BTreeMap::new();
        for (&(ns, day, kind, repo, key), n) in self.ns_keys.iter() {
            *weeks
                .entry((ns, Granularity::Week.start(day), kind, repo, key))
                .or_default() += n;
        }
        let ns_week_keys = weeks
            .into_iter()
            .flat_map(|((ns, week, kind, repo, key), n)| {
                [I(ns), I(week), S(kind), I(repo), S(key), I(n)]
            })
            .collect();
        let ns_days = sorted(&self.ns_days)
            .into_iter()
            .flat_map(|(&(ns, day, action), n)| [I(ns), I(day), S(action), I(*n)])
            .collect();
        let ns_breakdowns = sorted(&self.ns_breakdowns)
            .into_iter()
            .flat_map(|(&(ns, day, dim, value, action), n)| {
                [I(ns), I(day), S(dim), S(value), S(action), I(*n)]
            })
            .collect();
        let day_ips = sorted_set(&self.day_ips)
            .into_iter()
            .flat_map(|&(repo, day, h)| [I(repo), I(day), I(h)])
            .collect();
        Rollups {
            cube,
            daily,
            breakdowns,
            uniques,
            ns_keys,
            ns_week_keys,
            ns_days,
            ns_breakdowns,
            day_ips,
            counts: self.counts,
            pulled: self.pulled,
            ns_of: self.ns_of,
        }
    }
}

/// Adds stored events to the rollups, the pull counts and the tags' last pulls.
async fn write_rollups(
    tx: &mut WriteTx,
    backend: Backend,
    r: &Rollups<'_>,
) -> Result<(), sqlx::Error> {
    put(tx, &CUBE, &r.cube).await?;
    put(tx, &DAILY, &r.daily).await?;
    put(tx, &BREAKDOWNS, &r.breakdowns).await?;
    put(tx, &UNIQUES, &r.uniques).await?;
    put(tx, &NS_KEYS, &r.ns_keys).await?;
    put(tx, &NS_WEEK_KEYS, &r.ns_week_keys).await?;
    put(tx, &NS_DAYS, &r.ns_days).await?;
    put(tx, &NS_BREAKDOWNS, &r.ns_breakdowns).await?;
    if !r.day_ips.is_empty() {
        // Only the addresses first seen now (RETURNING) add to the counts.
        let mut fresh: BTreeMap<(i64, Day, i64), i64> = BTreeMap::new();
        for (repo, day) in bulk::<(i64, Day)>(tx, &DAY_IPS, &r.day_ips).await? {
            let ns = r.ns_of.get(&repo).copied().unwrap_or_default();
            *fresh.entry((ns, day, repo)).or_default() += 1;
        }
        let v: Vec<Val> = fresh
            .iter()
            .flat_map(|((ns, day, repo), n)| [Val::I(*ns), Val::I(*day), Val::I(*repo), Val::I(*n)])
            .collect();
        put(tx, &NS_ADDRESSES, &v).await?;
    }
    let mut clock = std::time::Instant::now();
    // The repository's lifetime pull count (GETs) and each tag's last pull:
    // one statement each per batch, whatever the number of repositories and tags.
    let (counts, pulled) = (&r.counts, &r.pulled);
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
        on_tx!(tx, |c| sqlx::query(sql)
            .bind(json(&rows))
            .execute(c)
            .await
            .map(drop))?;
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
        on_tx!(tx, |c| sqlx::query(sql)
            .bind(json(&rows))
            .execute(c)
            .await
            .map(drop))?;
    }
    step("(counters)", counts.len() + pulled.len(), &mut clock);
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

    #[cfg(feature = "testing")]
    crate::both_backends! {
        async fn bulk_writes_keep_every_value_and_count_a_retry_once(db: Db) {
            let geo = Geo::empty();
            // Without sender ids (the registry's own events; COPY on
            // PostgreSQL): awkward text, a missing tag, both booleans.
            let mut plain: Vec<PullEvent> = (0..700).map(|i| ev(1_700_000_000_000 + i)).collect();
            plain[3].reference = "a\tb\\c\nd\re\\N é".into();
            plain[3].tag = None;
            plain[3].action = Action::PullByDigest;
            plain[4].authenticated = true;
            // Two pulls in the same millisecond without ids are two pulls
            // (a NULL id never conflicts in the identity index).
            plain[6].at = plain[5].at;
            let r = ingest(&db, &geo, &plain).await.expect("ingest");
            assert_eq!((r.stored, r.duplicates), (700, 0));
            let row: (String, Option<String>, String, i64) = sqlx::query_as(
                "SELECT reference, tag, action, CAST(authenticated AS INTEGER) FROM pull_events WHERE at = $1",
            )
            .bind(1_700_000_000_003_i64)
            .fetch_one(&db.pool)
            .await
            .expect("row");
            assert_eq!(row, ("a\tb\\c\nd\re\\N é".into(), None, "pull_by_digest".into(), 0));
            let authenticated: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pull_events WHERE authenticated",
            )
            .fetch_one(&db.pool)
            .await
            .expect("count");
            assert_eq!(authenticated, 1);
            // With ids (UNNEST on PostgreSQL): a retry counts once, also
            // inside one batch; the same id at another time is another event.
            let with_ids: Vec<PullEvent> = (0..3)
                .map(|i| PullEvent {
                    source_id: Some(format!("id-{i}")),
                    ..ev(1_800_000_000_000 + i)
                })
                .collect();
            let mut retried = with_ids.clone();
            retried.push(with_ids[0].clone());
            retried.push(PullEvent { at: Timestamp(1_800_000_000_999), ..with_ids[1].clone() });
            let r = ingest(&db, &geo, &with_ids).await.expect("ingest");
            assert_eq!((r.stored, r.duplicates), (3, 0));
            let r = ingest(&db, &geo, &retried).await.expect("retry");
            assert_eq!((r.stored, r.duplicates), (1, 4));
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pull_events")
                .fetch_one(&db.pool)
                .await
                .expect("count");
            assert_eq!(total, 704);
            // The rollups hold every stored event.
            let pulls: i64 = sqlx::query_scalar("SELECT CAST(SUM(pulls) AS BIGINT) FROM pull_daily")
                .fetch_one(&db.pool)
                .await
                .expect("sum");
            assert_eq!(pulls, 704);
        }
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
