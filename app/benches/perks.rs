//! The perks read model every perk (and, next, every pull) asks: a cached
//! read against a miss that queries the database (SQLite, one membership).
//!
//! `cargo bench -p app --features testing --bench perks`

use app::core::perks;
use app::core::state::{AppState, Settings};
use app::db::Backend;
use app::domain::Timestamp;
use app::domain::clock::ManualClock;
use app::domain::ids::NamespaceId;
use app::testing::TestDb;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;

const T0: Timestamp = Timestamp(1_767_225_600_000);

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (state, ns, _db) = rt.block_on(async {
        let t = TestDb::new(Backend::Sqlite).await;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO namespaces (name, kind, created_at) VALUES ('benchorg', 'org', $1) RETURNING id",
        )
        .bind(T0.0)
        .fetch_one(&t.db.pool)
        .await
        .expect("namespace");
        sqlx::query(
            "INSERT INTO memberships (namespace_id, starts_at, expires_at, updated_at) VALUES ($1, $2, $3, $2)",
        )
        .bind(id)
        .bind(T0.0)
        .bind(T0.plus_years(1).0)
        .execute(&t.db.pool)
        .await
        .expect("membership");
        let state = AppState::new(
            t.db.clone(),
            Arc::new(ManualClock::new(T0.plus_days(10))),
            Settings::default(),
            leptos::config::LeptosOptions::builder()
                .output_name("hub")
                .build(),
            Arc::new(object_store::memory::InMemory::new()),
        );
        (state, NamespaceId(id), t)
    });
    // One open transaction for the whole run, so only the read itself is timed.
    let mut tx = rt.block_on(state.db.begin()).expect("tx");
    let mut g = c.benchmark_group("perks");
    g.bench_function("cached", |b| {
        b.iter(|| {
            let p = rt
                .block_on(perks::of(&state, &mut tx, black_box(ns)))
                .expect("perks");
            assert!(p.active());
        })
    });
    g.bench_function("uncached (a query per read)", |b| {
        b.iter(|| {
            state.perks.invalidate(ns);
            let p = rt
                .block_on(perks::of(&state, &mut tx, black_box(ns)))
                .expect("perks");
            assert!(p.active());
        })
    });
    g.finish();
    rt.block_on(async move {
        tx.rollback().await.expect("rollback");
        state.db.close().await;
    });
}

criterion_group!(perks_benches, benches);
criterion_main!(perks_benches);
