#!/usr/bin/env bash
# Usage: scripts/load-smoke.sh SERVER_BIN [SECONDS]
#
# A short load test that fails on any panic: starts SERVER_BIN on a free
# loopback port with demo data in a throw-away SQLite directory, drives it with
# wrk (16 connections, SECONDS seconds, default 5) over a mix of pages, badges
# and API reads, then clients that hang up mid-page (scripts/disconnect-storm.py,
# as many seconds), then fails if the server log holds "panicked", or wrk saw a
# socket error or a non-2xx/3xx answer. Run by scripts/test.sh.
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ] || [ -z "${1:-}" ]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
bin="$1"; secs="${2:-5}"
source "$(dirname "$0")/serve-lib.sh"
RUST_BACKTRACE=1 start_hub load-smoke "$bin"
log="$dir/server.log"
cat >"$dir/mix.lua" <<'LUA'
local paths = {
  "/", "/search?q=fluent", "/search?q=&image_filter=open_source", "/u/fluentorg",
  "/r/fluentorg/fluent-bit", "/u/fluentorg/program", "/u/openlens/program", "/program",
  "/badge/fluentorg/fluent-bit.svg", "/badge/openlens/lens-server.json",
  "/api/v1/namespaces/fluentorg", "/api/v1/repositories/fluentorg/fluent-bit",
}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
LUA
out="$(wrk -t2 -c16 -d"${secs}s" --latency -s "$dir/mix.lua" "http://127.0.0.1:$port")"
echo "$out"
fail=0
python3 "$(dirname "$0")/disconnect-storm.py" "$hub" "$secs" || fail=1
if grep -q "panicked" "$log"; then
    echo "load-smoke: the server panicked:" >&2
    grep -A5 "panicked" "$log" | head -40 >&2
    fail=1
fi
if grep -qE "Socket errors|Non-2xx or 3xx" <<<"$out"; then
    echo "load-smoke: wrk saw errors (above)" >&2
    fail=1
fi
exit "$fail"
