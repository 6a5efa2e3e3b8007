#!/usr/bin/env bash
# Usage: scripts/build.sh [release|debug]   (default: release)
#
# Builds the server binary and the site for deployment. The release site is
# optimized with wasm-opt -Oz. Output: $CARGO_TARGET_DIR/<profile>/server and,
# beside it, site/ (the server finds it there; or set HUB_SITE_ROOT).
# See docs/OPERATIONS.md.
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
source "$(dirname "$0")/lib.sh"
ensure_wasm_target
ensure_wasm_bindgen
build_site "${1:-release}"
