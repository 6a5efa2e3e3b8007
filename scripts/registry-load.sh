#!/usr/bin/env bash
# Usage: scripts/registry-load.sh SERVER_BIN [SECONDS]
#
# Load on the registry's pull path: starts SERVER_BIN (demo data, throw-away
# SQLite, a free loopback port, an anonymous pull limit high enough never to
# refuse), pushes one small image to a sponsored repository (fluentorg/hello)
# and to a limited one (alice/limited), then runs wrk (2 threads, 32
# connections, SECONDS each, default 10) on manifest GETs of each and prints
# throughput, latency and how many pull events were written. Not part of the
# test command; see docs/BENCHMARKS.md.
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ] || [ -z "${1:-}" ]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
bin="$1"; secs="${2:-10}"
source "$(dirname "$0")/serve-lib.sh"
export SHOW_LOG_TAIL=1
HUB_PULL_LIMIT_ANONYMOUS=1000000000 RUST_LOG=info,sqlx=warn start_hub registry-load "$bin"
hub="http://$hub"
push() {
    local repo="$1" cfg='{"architecture":"amd64","os":"linux"}' layer='a small layer' cd ld m md
    cd="sha256:$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)"
    ld="sha256:$(printf '%s' "$layer" | sha256sum | cut -d' ' -f1)"
    curl -fs -u alice:demo-password -X POST "$hub/v2/$repo/blobs/uploads/?digest=$cd" --data-binary "$cfg" >/dev/null
    curl -fs -u alice:demo-password -X POST "$hub/v2/$repo/blobs/uploads/?digest=$ld" --data-binary "$layer" >/dev/null
    m="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$cd\",\"size\":${#cfg}},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$ld\",\"size\":${#layer}}]}"
    curl -fs -u alice:demo-password -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        "$hub/v2/$repo/manifests/1.0" --data-binary "$m" >/dev/null
}
push fluentorg/hello
push alice/limited
curl -fsI "$hub/v2/fluentorg/hello/manifests/1.0" | grep -i ratelimit-policy
curl -fsI "$hub/v2/alice/limited/manifests/1.0" | grep -i ratelimit-limit
for repo in fluentorg/hello alice/limited; do
    echo "== manifest GETs of $repo"
    wrk -t2 -c32 -d"${secs}s" --latency "$hub/v2/$repo/manifests/1.0" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket|requests in"
done
# A graceful stop writes what is still queued and logs what was dropped.
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
echo "== pull events written: $(python3 -c "import sqlite3; print(sqlite3.connect('$dir/data/hub.db').execute('select count(*) from pull_events').fetchone()[0])")"
grep -o 'written=[0-9]* dropped=[0-9]*' "$dir/server.log" || true
