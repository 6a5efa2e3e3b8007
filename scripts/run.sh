#!/usr/bin/env bash
# Usage: scripts/run.sh [server flags...]
#
# Installs what the build needs (wasm32 target, wasm-bindgen CLI at Cargo.lock's
# version), builds the server and the wasm site (debug), and starts the hub at
# http://127.0.0.1:3000 on SQLite under ./data, seeding demo data on first start.
# Extra arguments go to the server (see `--help` below for every flag), e.g.
#   scripts/run.sh --database-url postgres://postgres@127.0.0.1/hub
# Environment: CARGO_TARGET_DIR (default ./target), HUB_TOOLS_DIR
# (default ~/.cache/sos-hub/tools), and every HUB_* variable of the server.
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
source "$(dirname "$0")/lib.sh"
ensure_wasm_target
ensure_wasm_bindgen
build_site debug
step "starting the hub on ${HUB_ADDR:-127.0.0.1:3000}"
export HUB_DEMO="${HUB_DEMO:-true}"
exec "$CARGO_TARGET_DIR/debug/server" serve "$@"
