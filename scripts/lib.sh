# Shared steps for run.sh, test.sh and build.sh. Source it; do not run it.
# Every step checks first and skips what is already in place.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# Tools built from crates.io (wasm-bindgen CLI) live outside the clone so a
# fresh clone reuses them; override with HUB_TOOLS_DIR.
TOOLS_DIR="${HUB_TOOLS_DIR:-$HOME/.cache/sos-hub/tools}"
export PATH="$TOOLS_DIR/bin:$PATH"
# No RUSTFLAGS: the one flag every build needs (`--cfg erase_components`)
# lives in .cargo/config.toml, so the build and the tests use the same flags
# (any difference compiles the whole leptos stack twice). A RUSTFLAGS
# variable would replace that setting and break hydration: unset it here.
unset RUSTFLAGS

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_wasm_target() {
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        step "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
}

# wasm-bindgen's CLI must match the wasm-bindgen crate in Cargo.lock exactly.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_bindgen() {
    local want have
    want="$(wasm_bindgen_version)"
    have="$("$TOOLS_DIR/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}' || true)"
    if [ "$have" != "$want" ]; then
        step "installing wasm-bindgen-cli $want into $TOOLS_DIR (once; a few minutes)"
        # Not --locked: its lockfile pins a yanked crate.
        cargo install wasm-bindgen-cli --version "$want" --root "$TOOLS_DIR" --force
    fi
}

ensure_nextest() {
    if ! cargo nextest --version >/dev/null 2>&1; then
        step "installing cargo-nextest (once; a few minutes)"
        cargo install cargo-nextest --locked
    fi
}

ensure_deny() {
    if ! cargo deny --version >/dev/null 2>&1; then
        step "installing cargo-deny into $TOOLS_DIR (once; several minutes)"
        cargo install cargo-deny --locked --root "$TOOLS_DIR"
    fi
}

# The nightly toolchain: cargo-fuzz and the release wasm build use it.
ensure_nightly() {
    if ! rustup toolchain list | grep -q '^nightly'; then
        step "installing the nightly toolchain ($1 needs it)"
        rustup toolchain install nightly --profile minimal
    fi
}

# cargo-fuzz (scripts/fuzz.sh) runs on the nightly toolchain.
ensure_cargo_fuzz() {
    ensure_nightly "cargo fuzz"
    if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
        step "installing cargo-fuzz into $TOOLS_DIR (once; a few minutes)"
        cargo install cargo-fuzz --locked --root "$TOOLS_DIR"
    fi
}

ensure_npm() {
    if [ ! -x "$ROOT/end2end/node_modules/.bin/playwright" ] \
        || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
        step "installing end2end npm packages (Playwright, binaryen)"
        (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    fi
}

ensure_chromium() {
    if [ ! -x /usr/bin/chromium ]; then
        step "installing Debian's chromium for the browser tests"
        sudo_if_needed apt-get update -q
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    fi
}

ensure_wrk() {
    if ! command -v wrk >/dev/null 2>&1; then
        step "installing Debian's wrk for the load smoke test"
        sudo_if_needed apt-get update -q
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
    fi
}

ensure_skopeo() {
    if ! command -v skopeo >/dev/null 2>&1; then
        step "installing Debian's skopeo (a real OCI client for the registry test)"
        sudo_if_needed apt-get update -q
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q skopeo
    fi
}

postgres_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }

ensure_redis() {
    if redis_up; then return; fi
    step "starting Redis"
    if ! command -v redis-server >/dev/null 2>&1; then
        sudo_if_needed apt-get update -q
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server
    fi
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 30); do redis_up && return; sleep 0.5; done
    echo "Redis did not come up on 127.0.0.1:6379" >&2
    exit 1
}

ensure_postgres() {
    if postgres_up; then return; fi
    step "starting PostgreSQL"
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        sudo_if_needed apt-get update -q
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    fi
    local v
    v="$(ls /etc/postgresql | sort -V | tail -n1)"
    sudo_if_needed pg_ctlcluster --skip-systemctl-redirect "$v" main start
    for _ in $(seq 1 30); do postgres_up && return; sleep 0.5; done
    echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2
    exit 1
}

# The release wasm is built with nightly Rust, its standard library rebuilt
# for size: panics abort at once (no unwinding or panic message code: in the
# browser a panic is a trap either way), no file/line text in panic
# locations, and `{:?}` formats nothing (nothing the browser shows uses
# Debug). The main module: 352,754 -> 318,195 B brotli (docs/BENCHMARKS.md).
# The flags replace .cargo/config.toml's, so `--cfg erase_components` is
# repeated here. HUB_WASM_STABLE=1 builds it with stable Rust instead; a
# failing nightly build falls back to stable with a warning.
NIGHTLY_WASM_RUSTFLAGS="--cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"

build_release_wasm_nightly() {
    ensure_nightly "the release wasm build" || return 1
    if ! rustup component list --toolchain nightly --installed | grep -qx 'rust-src'; then
        rustup component add rust-src --toolchain nightly || return 1
    fi
    if ! rustup target list --toolchain nightly --installed | grep -qx wasm32-unknown-unknown; then
        rustup target add wasm32-unknown-unknown --toolchain nightly || return 1
    fi
    RUSTFLAGS="$NIGHTLY_WASM_RUSTFLAGS" cargo +nightly rustc -p frontend --lib \
        --target wasm32-unknown-unknown --profile wasm-release \
        -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size \
        -- -C link-args=--emit-relocs
}

# build_site debug|release: builds the server and the wasm bundle and puts the
# site next to the server binary ($CARGO_TARGET_DIR/<profile>/site).
build_site() {
    local profile="$1" dir wasm_profile cargo_flags=() wasm_flags=()
    if [ "$profile" = release ]; then
        dir="$CARGO_TARGET_DIR/release"; wasm_profile=wasm-release
        cargo_flags=(--release); wasm_flags=(--profile wasm-release)
    else
        dir="$CARGO_TARGET_DIR/debug"; wasm_profile=debug
    fi
    step "building the server ($profile)"
    cargo build -p server "${cargo_flags[@]}"
    step "building the wasm bundle ($profile)"
    # wasm-split needs the final link's relocations to cut the module at its
    # lazy routes; passed to that link only, so no dependency is rebuilt.
    if [ "$profile" = release ] && [ "${HUB_WASM_STABLE:-}" != 1 ]; then
        if ! build_release_wasm_nightly; then
            printf '\033[33mwarning: the nightly wasm build failed; building with stable Rust (a larger bundle, see docs/BENCHMARKS.md)\033[0m\n' >&2
            cargo rustc -p frontend --lib --target wasm32-unknown-unknown "${wasm_flags[@]}" \
                -- -C link-args=--emit-relocs
        fi
    else
        cargo rustc -p frontend --lib --target wasm32-unknown-unknown "${wasm_flags[@]}" \
            -- -C link-args=--emit-relocs
    fi
    cargo build -p splitter --release
    local tmp="$dir/site.new"
    rm -rf "$tmp"; mkdir -p "$tmp/pkg"
    # Each page's code goes to its own file, loaded on the first visit to
    # that page (see `pages` in app/src/lib.rs); the main module is what
    # every page needs.
    "$CARGO_TARGET_DIR/release/splitter" \
        "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$wasm_profile/frontend.wasm" "$tmp/pkg"
    # The page files use the main module's function table: keep its export.
    wasm-bindgen --target web --no-typescript --keep-lld-exports --out-dir "$tmp/pkg" --out-name hub \
        "$tmp/pkg/hub_split.wasm"
    rm "$tmp/pkg/hub_split.wasm"
    if [ "$profile" = release ]; then
        ensure_npm
        step "optimizing the wasm (wasm-opt -Oz)"
        local wasm
        for wasm in "$tmp"/pkg/*.wasm; do
            # (wasm-split writes a name subsection wasm-opt does not know and drops.)
            "$ROOT/end2end/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
                -o "$wasm.opt" "$wasm" 2> >(grep -v "unknown name subsection" >&2)
            mv "$wasm.opt" "$wasm"
        done
    fi
    cat "$ROOT"/style/*.css > "$tmp/pkg/hub.css"
    cp -r "$ROOT/public/." "$tmp/"
    # Name the bundle's files after their content (hub.<hash>.js/.wasm/.css,
    # split_<page>.<hash>.wasm, chunk_<n>.<hash>.wasm) and list the main
    # ones' hashes in site/hash.txt, where the server finds them: a new build
    # is a new address, so browsers may cache these for a year. The loader
    # (`__wasm_split.___.js`) and the manifest keep their names (Leptos looks
    # them up by those) and are revalidated; the loader is rewritten to the
    # hashed names.
    local kind file hash stem link="$tmp/pkg/__wasm_split.______________________.js"
    local manifest="$tmp/pkg/__wasm_split_manifest.json"
    for file in "$tmp"/pkg/split_*.wasm "$tmp"/pkg/chunk_*.wasm; do
        [ -e "$file" ] || continue
        stem="$(basename "$file" .wasm)"
        hash="$(sha256sum "$file" | cut -c1-16)"
        mv "$file" "$tmp/pkg/$stem.$hash.wasm"
        sed -i "s#\"\./$stem\.wasm\"#\"./$stem.$hash.wasm\"#" "$link"
        sed -i "s#\"$stem\"#\"$stem.$hash\"#" "$manifest"
    done
    : > "$tmp/hash.txt"
    for kind in js wasm css; do
        case "$kind" in
            js) file=hub.js ;; wasm) file=hub_bg.wasm ;; css) file=hub.css ;;
        esac
        hash="$(sha256sum "$tmp/pkg/$file" | cut -c1-16)"
        mv "$tmp/pkg/$file" "$tmp/pkg/hub.$hash.$kind"
        echo "$kind: $hash" >> "$tmp/hash.txt"
        [ "$kind" = js ] && sed -i "s#from \"\./hub\.js\"#from \"./hub.$hash.js\"#" "$link"
    done
    # Pre-compressed copies (brotli, gzip) the server sends to clients that
    # accept them; brotli at its best setting for release builds.
    local quality=5
    [ "$profile" = release ] && quality=11
    node "$ROOT/scripts/precompress.js" "$tmp/pkg" "$quality"
    # Swap in only a complete site, so a failed build never leaves a half one.
    rm -rf "$dir/site"; mv "$tmp" "$dir/site"
    step "site ready in $dir/site"
}
