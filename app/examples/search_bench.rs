//! The search benchmark: 100,000 public repositories in 2,000 organizations
//! (a tenth of them sponsored), then the search server function's query for
//! common, rare and prefix terms, with and without the Sponsored OSS filter,
//! first and later pages: p50 / p95 per backend.
//!
//! ```text
//! cargo run --release -p app --features testing --example search_bench -- --backend sqlite|postgres --repos 100000
//! ```

use app::core::state::{AppState, Settings};
use app::db::Backend;
use app::domain::Timestamp;
use app::domain::clock::ManualClock;
use app::testing::TestDb;
use std::sync::Arc;
use std::time::Instant;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

const WORDS: [&str; 12] = [
    "logging", "metrics", "proxy", "database", "cache", "queue", "gateway", "operator", "exporter",
    "runtime", "builder", "scanner",
];

#[tokio::main]
async fn main() {
    let backend = match arg("--backend", "sqlite").as_str() {
        "postgres" => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let repos: usize = arg("--repos", "100000").parse().unwrap_or(100_000);
    let t = TestDb::new(backend).await;
    let db = t.db.clone();
    let now = Timestamp(1_795_000_000_000);
    let started = Instant::now();
    let mut tx = db.begin().await.expect("tx");
    let owner = app::account::store::insert_user(&mut tx, "benchowner", "x", false, now)
        .await
        .expect("user");
    let orgs = (repos / 50).max(1);
    let mut ns = Vec::with_capacity(orgs);
    for o in 0..orgs {
        let id = app::org::store::insert_org(&mut tx, &format!("org{o:05}"), owner, now)
            .await
            .expect("org");
        if o % 10 == 0 {
            sqlx::query("INSERT INTO memberships (namespace_id, starts_at, expires_at, updated_at) VALUES ($1, $2, $3, $2)")
                .bind(id.0)
                .bind(now.0 - 86_400_000)
                .bind(now.0 + 300 * 86_400_000)
                .execute(&mut *tx)
                .await
                .expect("membership");
        }
        ns.push(id);
    }
    for r in 0..repos {
        let w = WORDS[r % WORDS.len()];
        let name = format!("{w}-{r}");
        let desc = format!(
            "A {w} image number {r} for {}",
            WORDS[(r / 7) % WORDS.len()]
        );
        app::core::catalog::insert_repo(&mut tx, ns[r % orgs], &name, &desc, false, now)
            .await
            .expect("repo");
    }
    tx.commit().await.expect("commit");
    // Fresh statistics, as the database's own analysis (PostgreSQL's
    // autovacuum) has them on a running hub.
    sqlx::query("ANALYZE")
        .execute(&db.pool)
        .await
        .expect("analyze");
    println!(
        "{backend:?}: {repos} repositories in {orgs} organizations, loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let state = AppState::new(
        db.clone(),
        Arc::new(ManualClock::new(now)),
        Settings::default(),
        leptos::config::LeptosOptions::builder()
            .output_name("hub")
            .build(),
        Arc::new(object_store::memory::InMemory::new()),
    );
    let cases: [(&str, &str, bool, usize); 6] = [
        ("common word", "logging", false, 1),
        ("common word, page 50", "logging", false, 50),
        ("common word, Sponsored OSS only", "logging", true, 1),
        ("rare (exact name)", "proxy-4242", false, 1),
        ("prefix", "gate", false, 1),
        ("no match", "zzzz", false, 1),
    ];
    for (label, q, filter, page) in cases {
        let mut ms = Vec::new();
        let mut total = 0;
        for i in 0..40 {
            let t0 = Instant::now();
            let p = app::search::api::search(&state, q, filter, page)
                .await
                .expect("search");
            if i >= 5 {
                ms.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
            total = p.total;
        }
        ms.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
        println!(
            "  {label:<32} {total:>6} hits  p50 {:>7.1} ms  p95 {:>7.1} ms",
            pct(0.5),
            pct(0.95)
        );
    }
    t.cleanup().await;
}
