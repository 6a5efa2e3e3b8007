//! One rate-limit decision: the registry's pull allowance (per key GCRA with
//! a peek) and a governor-backed limiter from the table, in process.
//!
//! `cargo bench -p app --features testing --bench limits`

use app::core::limits::{LimitedAction, Limiter, PullAllowance};
use app::domain::Timestamp;
use app::domain::clock::ManualClock;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("limits");
    let pulls = PullAllowance::default();
    let window = Duration::from_secs(6 * 3600);
    let keys: Vec<String> = (0..10_000)
        .map(|i| format!("ip:10.0.{}.{}", i / 256, i % 256))
        .collect();
    let mut i = 0usize;
    let mut now = 1_000_000i64;
    g.bench_function("pull allowance decision (10k keys)", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            now += 1;
            black_box(pulls.decide(black_box(&keys[i]), now, 100, window, true))
        })
    });
    g.bench_function("pull allowance peek (HEAD)", |b| {
        b.iter(|| black_box(pulls.decide(black_box(&keys[7]), now, 100, window, false)))
    });
    let limiter = Limiter::new(Arc::new(ManualClock::new(Timestamp(now))));
    let mut j = 0usize;
    g.bench_function("table limiter check (governor)", |b| {
        b.iter(|| {
            j = (j + 1) % keys.len();
            black_box(
                limiter
                    .check(LimitedAction::SignInPerAddress, black_box(&keys[j]))
                    .is_ok(),
            )
        })
    });
    g.finish();
}

criterion_group!(limit_benches, benches);
criterion_main!(limit_benches);
