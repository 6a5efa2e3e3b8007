//! Logo benchmarks: the shared header check on a 5 MiB PNG, full server
//! validation + re-encode of 1000×1000 PNG and JPEG, and refusing the
//! 30000×30000 decompression bomb (time and peak extra memory).
//!
//! `cargo bench -p app --features testing --bench logo`

use app::logo::fixtures;
use app::logo::process::process;
use app::logo::validate;
use criterion::{Criterion, criterion_group, criterion_main};
use peak_alloc::PeakAlloc;
use std::hint::black_box;

#[global_allocator]
static PEAK: PeakAlloc = PeakAlloc;

fn benches(c: &mut Criterion) {
    let big = {
        let mut b = fixtures::png(1000, 1000);
        b.resize(app::logo::MAX_BYTES as usize, 0);
        b
    };
    c.bench_function("header check, 5 MiB PNG", |b| {
        b.iter(|| validate(black_box(big.len() as u64), black_box(&big)))
    });
    let png = fixtures::png(1000, 1000);
    let jpeg = fixtures::jpeg(1000, 1000);
    let mut g = c.benchmark_group("validate + decode + re-encode");
    g.sample_size(10);
    g.bench_function("PNG 1000x1000", |b| {
        b.iter(|| process(black_box(&png)).map(|p| p.full.len()))
    });
    g.bench_function("JPEG 1000x1000", |b| {
        b.iter(|| process(black_box(&jpeg)).map(|p| p.full.len()))
    });
    g.finish();
    let bomb = fixtures::bomb();
    c.bench_function("refuse 30000x30000 bomb", |b| {
        b.iter(|| process(black_box(&bomb)).is_err())
    });

    // Peak extra memory while refusing the bomb.
    PEAK.reset_peak_usage();
    let before = PEAK.current_usage();
    let refused = process(&bomb).is_err();
    let extra = PEAK.peak_usage().saturating_sub(before);
    println!(
        "bomb refused: {refused}; peak extra memory: {extra} bytes ({:.3} MiB)",
        extra as f64 / 1_048_576.0
    );
    PEAK.reset_peak_usage();
    let before = PEAK.current_usage();
    let _ = process(&png);
    let extra = PEAK.peak_usage().saturating_sub(before);
    println!(
        "1000x1000 PNG processed; peak extra memory: {extra} bytes ({:.1} MiB)",
        extra as f64 / 1_048_576.0
    );
}

criterion_group!(logo, benches);
criterion_main!(logo);
