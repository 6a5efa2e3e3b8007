# Starting a throw-away hub for the script checks. Source it; do not run it.
#
# start_hub LABEL BIN starts BIN on a free loopback port with demo data in a
# temporary directory (extra HUB_* variables set before the call pass
# through), waits until /healthz answers, and sets `dir`, `port`, `hub`
# (host:port) and `pid`. The server is stopped and the directory removed when
# the script exits; with SHOW_LOG_TAIL=1 the last log lines are printed first.

stop_hub() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ -n "${SHOW_LOG_TAIL:-}" ]; then tail -3 "$dir/server.log"; fi
    rm -rf "$dir"
}

start_hub() {
    local label="$1" bin="$2"
    dir="$(mktemp -d)"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    hub="127.0.0.1:$port"
    HUB_ADDR="$hub" HUB_PUBLIC_URL="http://$hub" HUB_DATA_DIR="$dir/data" HUB_DEMO=true \
        "$bin" serve >"$dir/server.log" 2>&1 &
    pid=$!
    trap stop_hub EXIT
    for _ in $(seq 1 120); do
        curl -fs "http://$hub/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$dir/server.log"; echo "$label: the server exited" >&2; exit 1; }
        sleep 0.5
    done
    echo "$label: the server did not answer /healthz" >&2
    exit 1
}
