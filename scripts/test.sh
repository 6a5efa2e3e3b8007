#!/usr/bin/env bash
# Usage: scripts/test.sh
#
# Installs what the tests need (wasm32 target, wasm-bindgen CLI, cargo-nextest,
# cargo-deny, Debian's chromium, wrk and skopeo, the npm packages in end2end/, a
# PostgreSQL server on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 if none
# listens) and runs every check:
# cargo fmt, the layer check, cargo deny (sources, licenses, duplicate
# versions), clippy (-D warnings) for the ssr and the hydrate build, the Rust
# tests on SQLite and PostgreSQL (cargo nextest: one process per test, each
# killed and named after 2 minutes; they include the fuzz targets replayed on
# their seeds and mutated inputs, server/tests/fuzz_replay.rs), a 5-second load smoke test that fails on
# any server panic (scripts/load-smoke.sh), the OCI distribution-spec
# conformance suite against the release server's registry
# (scripts/oci-conformance.sh), skopeo pushing and pulling through it
# (scripts/skopeo-check.sh), the crash test (scripts/crash-test.py: kill -9
# during writes, nothing acknowledged lost, nothing half-written) and a short
# soak under mixed load (scripts/soak.sh) on both backends, then the
# Playwright tests in headless Chromium against the freshly built server.
# Environment: TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres),
# CARGO_TARGET_DIR (default ./target), HUB_TOOLS_DIR.
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
source "$(dirname "$0")/lib.sh"
started=$(date +%s)
ensure_wasm_target
ensure_wasm_bindgen
ensure_nextest
ensure_deny
ensure_chromium
ensure_wrk
ensure_skopeo
ensure_npm
ensure_postgres
ensure_redis
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

step "cargo fmt --check"
cargo fmt --all -- --check

step "layer check (no import cycles, no cross-feature api/store imports)"
python3 scripts/check_layers.py --self-test
python3 scripts/check_layers.py

step "supply chain (cargo deny: sources, licenses, duplicate versions)"
# cargo deny reads every platform's crates offline: fetch them first (a no-op once cached).
cargo fetch --locked --quiet
cargo deny --offline check bans licenses sources

step "clippy (ssr)"
cargo clippy -p app -p server -p splitter --features app/ssr --all-targets -- -D warnings
step "clippy (hydrate, wasm32)"
cargo clippy -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

step "Rust tests (SQLite and PostgreSQL)"
cargo nextest run -p app -p server --features app/ssr --profile ci

build_site debug

step "load smoke test (wrk, 16 connections; fails on any panic or error answer)"
scripts/load-smoke.sh "$CARGO_TARGET_DIR/debug/server" 5

step "building the release server (the registry checks run against it)"
cargo build -p server --release

step "OCI distribution-spec conformance (all four workflows, release server)"
scripts/oci-conformance.sh "$CARGO_TARGET_DIR/release/server"

step "a real client: skopeo pushes, inspects and copies back (public and private)"
scripts/skopeo-check.sh "$CARGO_TARGET_DIR/release/server"

step "crash test: kill -9 under ingestion, pushes and logo uploads (3 cycles per backend)"
python3 scripts/crash-test.py "$CARGO_TARGET_DIR/release/server" --backend sqlite --cycles 3
python3 scripts/crash-test.py "$CARGO_TARGET_DIR/release/server" --backend postgres --cycles 3

step "soak: mixed load on the release server (20 s per backend; flat memory, no 5xx)"
scripts/soak.sh "$CARGO_TARGET_DIR/release/server" 20 sqlite
scripts/soak.sh "$CARGO_TARGET_DIR/release/server" 20 postgres

step "browser tests (Playwright, Debian chromium)"
export HUB_SERVER_BIN="$CARGO_TARGET_DIR/debug/server"
(cd end2end && npx playwright test)

step "all tests passed in $(( $(date +%s) - started )) s"
