//! The analytics benchmark: a realistic synthetic pull stream (power law
//! across 50 repositories × 12 tags, weekday seasonality and growth, a mix of
//! countries, clouds and real client user agents) on a fresh database, then:
//!
//! * ingestion throughput through `core::events::ingest` (the function the API
//!   and the registry use), in batches of 10,000 (the API's default maximum);
//! * the dashboard's queries (time series by tag and by digest, breakdowns,
//!   unique addresses) for a 90-day span of the whole namespace, p50 / p95;
//! * the raw export of the most recent `--export` rows, in a fresh process
//!   reading the same database: rows/s and that process's peak resident
//!   memory (the CSV is formatted and dropped);
//! * where ingestion's time goes, per table.
//!
//! With `--ids` every event carries a random sender id, as the events the API
//! receives do (the registry's own have none); with `--streams N`, N batches
//! are ingested at once, as concurrent requests to the API would be; with
//! `--days N` the stream covers the last N days instead of a year (denser:
//! at hub scale a day holds hundreds of millions of pulls, so the rollups'
//! rows are updated far more often than created).
//!
//! ```text
//! cargo run --release -p app --features testing --example analytics_bench -- \
//!     --backend sqlite --events 10000000 --export 1000000
//! ```

use app::analytics::store::{self, Scope};
use app::analytics::synthetic::{self, Target};
use app::core::geo::Geo;
use app::db::Backend;
use app::domain::Timestamp;
use app::domain::clock::DAY_MS;
use app::domain::pulls::{GroupBy, Span, day_of_millis};
use app::testing::TestDb;
use std::time::Instant;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

/// Peak resident memory (VmHWM) in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// `--export-only URL BACKEND NS FROM TO REPO…`: the raw export of a span of
/// a namespace, as the export endpoint streams it; prints rows/s and the
/// process's peak memory.
async fn export_only(args: &[String]) {
    let db = app::db::Db::connect(&args[0]).await.expect("connect");
    let backend = &args[1];
    let ns: i64 = args[2].parse().expect("ns");
    let span = Span {
        from: args[3].parse().expect("from"),
        to: args[4].parse().expect("to"),
    };
    let scope = Scope::Namespace {
        id: ns,
        repositories: args[5..].iter().map(|a| a.parse().expect("repo")).collect(),
        all: true,
    };
    let before = peak_rss_mib();
    let start = Instant::now();
    let (send, mut recv) = tokio::sync::mpsc::channel(2048);
    let reader = {
        let db = db.clone();
        tokio::spawn(async move { store::raw_events(&db, &scope, span, send).await })
    };
    let mut rows = 0usize;
    let mut bytes = 0usize;
    let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(70_000));
    while let Some(row) = recv.recv().await {
        let row = row.expect("row");
        // The same record the export endpoint writes.
        let _ = app::analytics::api::write_raw_record(&mut w, "benchorg", "repo", &row);
        rows += 1;
        if rows.is_multiple_of(1000) {
            let _ = w.flush();
            bytes += w.get_ref().len();
            w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(70_000));
        }
    }
    let _ = reader.await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{backend}: raw export of {rows} rows ({:.0} MB of CSV) in {secs:.1} s: {:.0} rows/s; export process peak RSS {:.0} MiB (connected, before the export: {before:.0} MiB)",
        bytes as f64 / 1e6,
        rows as f64 / secs,
        peak_rss_mib()
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--export-only") {
        export_only(&args[i + 1..]).await;
        return;
    }
    let backend = match arg("--backend", "sqlite").as_str() {
        "postgres" => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let total: usize = arg("--events", "1000000").parse().unwrap_or(1_000_000);
    let export: usize = arg("--export", "1000000").parse().unwrap_or(1_000_000);
    let ids = args.iter().any(|a| a == "--ids");
    let streams: usize = arg("--streams", "1").parse().unwrap_or(1).max(1);
    let days: i64 = arg("--days", "365").parse().unwrap_or(365).clamp(1, 365);
    let t = TestDb::new(backend).await;
    let db = t.db.clone();
    let now = Timestamp(1_795_000_000_000);
    // A namespace with 50 repositories of 12 tags each.
    let mut tx = db.begin().await.expect("tx");
    let user = app::account::store::insert_user(&mut tx, "benchuser", "x", false, now)
        .await
        .expect("user");
    let ns = app::org::store::insert_org(&mut tx, "benchorg", user, now)
        .await
        .expect("org");
    let mut targets = Vec::new();
    for r in 0..50 {
        let repo =
            app::core::catalog::insert_repo(&mut tx, ns, &format!("repo-{r:02}"), "", false, now)
                .await
                .expect("repo");
        let tags = (0..12)
            .map(|k| {
                (
                    if k == 0 {
                        "latest".to_string()
                    } else {
                        format!("1.{k}.0")
                    },
                    format!("sha256:{:064x}", r * 100 + k / 2),
                )
            })
            .collect();
        targets.push(Target {
            namespace: ns,
            repository: repo,
            tags,
        });
    }
    tx.commit().await.expect("commit");
    let geo = std::sync::Arc::new(Geo::empty());
    // Ingestion: one synthetic day at a time over the last `--days` days (a
    // year by default), in batches of 10,000. The generator's growth and
    // weekday factors average about 0.62.
    let per_day = (total as f64 / days as f64 / 0.62) as usize + 1;
    // A generator thread delivers the stream in batches through a short
    // queue (generating is several times faster than ingesting, and a
    // pre-generated 10M-event stream would take 5 GB from the database's
    // page cache).
    let today = day_of_millis(now.0);
    let (send, recv) =
        tokio::sync::mpsc::channel::<Vec<app::core::events::PullEvent>>(2 * streams + 1);
    let wall = Instant::now();
    let generator = {
        let targets = targets.clone();
        tokio::task::spawn_blocking(move || {
            let mut pending: Vec<app::core::events::PullEvent> = Vec::new();
            let mut generated = 0usize;
            let mut seed = 0u64;
            loop {
                for d in (365 - days)..365 {
                    if generated >= total {
                        return;
                    }
                    let until = Timestamp((today - 364 + d + 1) * DAY_MS);
                    pending.extend(synthetic::events(&targets, until, 1, per_day, seed));
                    seed += 1;
                    if pending.len() < 10_000 && d < 364 {
                        continue;
                    }
                    // Senders deliver events in the order they happened.
                    let mut events = std::mem::take(&mut pending);
                    events.sort_by_key(|e| e.at.0);
                    if ids {
                        for e in &mut events {
                            e.source_id = Some(format!("{:032x}", rand::random::<u128>()));
                        }
                    }
                    generated += events.len();
                    for batch in events.chunks(10_000) {
                        if send.blocking_send(batch.to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        })
    };
    // `--streams N` senders at once, each taking the next batch in turn (as
    // concurrent requests to the API would).
    let recv = std::sync::Arc::new(tokio::sync::Mutex::new(recv));
    let workers: Vec<_> = (0..streams)
        .map(|_| {
            let (db, geo, recv) = (db.clone(), geo.clone(), recv.clone());
            tokio::spawn(async move {
                let mut out = (0usize, 0f64, Vec::new());
                loop {
                    let Some(batch) = recv.lock().await.recv().await else {
                        return out;
                    };
                    let start = Instant::now();
                    let r = app::core::events::ingest(&db, &geo, &batch)
                        .await
                        .expect("ingest");
                    let secs = start.elapsed().as_secs_f64();
                    out.0 += r.stored;
                    out.1 += secs;
                    out.2.push(batch.len() as f64 / secs);
                }
            })
        })
        .collect();
    let (mut stored, mut busy, mut rates) = (0usize, 0f64, Vec::new());
    for w in workers {
        let (s, b, r) = w.await.expect("worker");
        stored += s;
        busy += b;
        rates.extend(r);
    }
    let wall = wall.elapsed().as_secs_f64();
    generator.await.expect("generator");
    println!(
        "{backend:?}: ingested {stored} events in {wall:.1} s with {streams} stream(s): {:.0} events/s overall, median batch {:.0} events/s",
        stored as f64 / wall,
        percentile(&mut rates, 0.5)
    );
    // Where the time went: each rollup table's bulk statement.
    let mut accounted = 0f64;
    for (table, (rows, encode, run)) in app::core::events::timings::take() {
        let (e, r) = (encode.as_secs_f64(), run.as_secs_f64());
        accounted += e + r;
        println!(
            "  {table:<20} {rows:>10} rows  encode {e:6.1} s  statement {r:6.1} s  ({:.0} rows/s)",
            rows as f64 / r.max(1e-9)
        );
    }
    println!(
        "  {:<20} {:>10}       other (deriving, salts, counters, commit) {:.1} s",
        "",
        "",
        busy - accounted
    );
    // The dashboard's queries for the last 90 days of the whole namespace.
    let span = Span {
        from: today - 89,
        to: today,
    };
    let scope = Scope::Namespace {
        id: ns.0,
        repositories: targets.iter().map(|t| t.repository.0).collect(),
        all: true,
    };
    let mut times = Vec::new();
    for _ in 0..21 {
        let start = Instant::now();
        let mut tx = db.begin().await.expect("tx");
        let a = store::daily_top(&mut tx, &scope, span, GroupBy::Tag, 12)
            .await
            .expect("tag");
        let b = store::daily_top(&mut tx, &scope, span, GroupBy::Digest, 12)
            .await
            .expect("digest");
        let c = store::breakdowns(&mut tx, &scope, span)
            .await
            .expect("breakdowns");
        let u = store::uniques(&mut tx, &scope, span, None)
            .await
            .expect("uniques");
        tx.commit().await.expect("commit");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box((a.len(), b.len(), c.len(), u.len()));
    }
    let p50 = percentile(&mut times, 0.5);
    let p95 = percentile(&mut times, 0.95);
    println!(
        "{backend:?}: dashboard queries, 90 days of the namespace: p50 {p50:.1} ms, p95 {p95:.1} ms"
    );
    // Each of them alone.
    for which in ["by tag", "by digest", "breakdowns", "unique addresses"] {
        let mut times = Vec::new();
        for _ in 0..21 {
            let start = Instant::now();
            let mut tx = db.begin().await.expect("tx");
            let n = match which {
                "by tag" => store::daily_top(&mut tx, &scope, span, GroupBy::Tag, 12)
                    .await
                    .expect("q")
                    .len(),
                "by digest" => store::daily_top(&mut tx, &scope, span, GroupBy::Digest, 12)
                    .await
                    .expect("q")
                    .len(),
                "breakdowns" => store::breakdowns(&mut tx, &scope, span)
                    .await
                    .expect("q")
                    .len(),
                _ => store::uniques(&mut tx, &scope, span, None)
                    .await
                    .expect("q")
                    .len(),
            };
            tx.commit().await.expect("commit");
            std::hint::black_box(n);
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "{backend:?}:   {which}: p50 {:.1} ms, p95 {:.1} ms",
            percentile(&mut times.clone(), 0.5),
            percentile(&mut times, 0.95)
        );
    }
    for by in [GroupBy::Tag, GroupBy::Country] {
        let mut times = Vec::new();
        for _ in 0..21 {
            let start = Instant::now();
            let mut tx = db.begin().await.expect("tx");
            let rows = store::daily(
                &mut tx,
                &Scope::Repository(targets[0].repository.0),
                span,
                by,
            )
            .await
            .expect("repo");
            tx.commit().await.expect("commit");
            std::hint::black_box(rows.len());
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "{backend:?}: one repository, 90 days by {}: p50 {:.1} ms, p95 {:.1} ms",
            by.as_str(),
            percentile(&mut times.clone(), 0.5),
            percentile(&mut times, 0.95)
        );
    }
    // The raw export of the most recent `export` rows, in a fresh process of
    // this benchmark reading the same database: its peak memory is the
    // export's own, not what ingesting 10M events left in this process's
    // allocator.
    let days = ((export as f64 / stored.max(1) as f64) * 365.0).ceil() as i64;
    println!(
        "{backend:?}: this process after ingestion and queries: peak RSS {:.0} MiB",
        peak_rss_mib()
    );
    let out = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--export-only",
            &t.url,
            &format!("{backend:?}"),
            &ns.0.to_string(),
            &(today - days.clamp(1, 365) + 1).to_string(),
            &today.to_string(),
        ])
        .args(targets.iter().map(|t| t.repository.0.to_string()))
        .output()
        .expect("export process");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the export process failed");
    t.cleanup().await;
}
