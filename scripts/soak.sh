#!/usr/bin/env bash
# Usage: scripts/soak.sh SERVER_BIN [SECONDS] [sqlite|postgres]
#
# Holds under load: starts SERVER_BIN (the release server) with demo data on
# a free loopback port, on a throw-away SQLite directory or a fresh PostgreSQL
# database, pushes one small image to a sponsored repository (fluentorg/hello)
# and one to a rate-limited one (alice/limited), then runs wrk for SECONDS
# (default 600) with 2 threads and 32 connections over a mix of manifest pulls
# of both, pages, badges and ingestion batches (20 events each). It samples the
# server's resident memory every second and prints throughput, p50/p99 latency,
# the answers by status class, and the peak memory of each half of the run.
# Fails on any 5xx answer, socket error, server panic, or when the peak of the
# second half exceeds the first half's by more than 10 % plus 16 MiB (memory
# must be flat). Anonymous pulls of alice/limited are refused with 429 once the
# limit is spent, as in production: 429s are expected, 5xx are not.
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ] || [ -z "${1:-}" ]; then
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
bin="$(realpath "$1")"; secs="${2:-600}"; backend="${3:-sqlite}"
pgdb=""
admin="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if [ "$backend" = postgres ]; then
    pgdb="soak_$$_$RANDOM"
    psql "$admin" -qc "CREATE DATABASE $pgdb"
    export DATABASE_URL="${admin%/*}/$pgdb"
fi
source "$(dirname "$0")/serve-lib.sh"
cleanup() {
    cp "$dir/server.log" "${TMPDIR:-/tmp}/soak-$backend.log" 2>/dev/null || true
    stop_hub
    if [ -n "$pgdb" ]; then
        psql "$admin" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" || true
    fi
}
RUST_LOG=warn start_hub soak "$bin"
trap cleanup EXIT
base="http://$hub"
push() {
    local repo="$1" cfg='{"architecture":"amd64","os":"linux"}' layer='a small layer' cd ld m
    cd="sha256:$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)"
    ld="sha256:$(printf '%s' "$layer" | sha256sum | cut -d' ' -f1)"
    curl -fs -u alice:demo-password -X POST "$base/v2/$repo/blobs/uploads/?digest=$cd" --data-binary "$cfg" >/dev/null
    curl -fs -u alice:demo-password -X POST "$base/v2/$repo/blobs/uploads/?digest=$ld" --data-binary "$layer" >/dev/null
    m="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$cd\",\"size\":${#cfg}},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$ld\",\"size\":${#layer}}]}"
    curl -fs -u alice:demo-password -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        "$base/v2/$repo/manifests/1.0" --data-binary "$m" >/dev/null
}
push fluentorg/hello
push alice/limited
ingest="$(HUB_DATA_DIR="$dir/data" "$bin" token create --user alice --name soak --scope ingest)"
cat >"$dir/mix.lua" <<LUA
local token = "$ingest"
local gets = {
  "/v2/fluentorg/hello/manifests/1.0", "/v2/alice/limited/manifests/1.0",
  "/v2/fluentorg/hello/manifests/1.0", "/", "/r/fluentorg/fluent-bit", "/u/fluentorg",
  "/search?q=fluent", "/badge/fluentorg/fluent-bit.svg", "/badge/openlens/lens-server.json",
  "/v2/fluentorg/hello/manifests/1.0", "/api/v1/repositories/fluentorg/fluent-bit",
}
local accept = "application/vnd.oci.image.manifest.v1+json"
local i, n = 0, 0
local function batch()
  local lines = {}
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  for k = 1, 20 do
    n = n + 1
    lines[k] = string.format('{"id":"soak-%s-%d","timestamp":"%s","namespace":"fluentorg","repository":"fluent-bit","reference":"latest","tag":"latest","digest":"sha256:%s","action":"pull_by_tag","http_method":"GET","user_agent":"docker/27.3.1","authenticated":false,"ip":"198.51.100.%d"}', tid, n, now, string.rep("ab", 32), n % 250 + 1)
  end
  return table.concat(lines, "\n")
end
local counts = {}
threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args) classes = {0, 0, 0, 0, 0} end
request = function()
  i = i % (#gets + 1) + 1
  if i > #gets then
    return wrk.format("POST", "/api/v1/events",
      {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/x-ndjson"}, batch())
  end
  return wrk.format("GET", gets[i], {["Accept"] = accept .. ", text/html, */*"})
end
response = function(status, headers, body)
  local c = math.floor(status / 100)
  classes[c] = (classes[c] or 0) + 1
end
done = function(summary, latency, requests)
  local total = {0, 0, 0, 0, 0}
  for _, t in ipairs(threads) do
    local c = t:get("classes")
    for k = 1, 5 do total[k] = total[k] + (c[k] or 0) end
  end
  io.write(string.format("answers: 2xx %d, 3xx %d, 4xx %d, 5xx %d\n", total[2], total[3], total[4], total[5]))
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, %.0f requests/s\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
end
LUA
: >"$dir/rss"
( while kill -0 "$pid" 2>/dev/null; do
    awk '/VmRSS/ {print $2}' "/proc/$pid/status" >>"$dir/rss" 2>/dev/null || true
    sleep 1
  done ) &
sampler=$!
out="$(wrk -t2 -c32 -d"${secs}s" --timeout 10s --latency -s "$dir/mix.lua" "$base")"
kill "$sampler" 2>/dev/null || true
echo "$out" | grep -E "requests in|Socket|answers|p50|Non-2xx"
fail=0
if grep -q "panicked" "$dir/server.log"; then
    echo "soak: the server panicked:" >&2; grep -A5 "panicked" "$dir/server.log" | head -20 >&2; fail=1
fi
if grep -q "Socket errors" <<<"$out"; then echo "soak: socket errors (above)" >&2; fail=1; fi
fives="$(sed -n 's/.*5xx \([0-9]*\).*/\1/p' <<<"$out")"
if [ "${fives:-1}" != 0 ]; then echo "soak: ${fives:-?} answers were 5xx" >&2; fail=1; fi
python3 - "$dir/rss" <<'PY' || fail=1
import sys
kib = [int(x) for x in open(sys.argv[1]) if x.strip()]
if len(kib) < 4:
    sys.exit(0)
half = len(kib) // 2
first, second = max(kib[:half]), max(kib[half:])
print(f"memory: peak {max(kib) / 1024:.1f} MiB; first half {first / 1024:.1f} MiB, second half {second / 1024:.1f} MiB")
if second > first * 1.10 + 16 * 1024:
    print("soak: memory grew in the second half", file=sys.stderr)
    sys.exit(1)
PY
exit "$fail"
