#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Builds the cargo-fuzz targets in fuzz/ (nightly, release with overflow
# checks and debug assertions) and runs each for SECONDS (default 300), one
# after the other at nice 19, on its grown corpus fuzz/corpus/<target>/ plus
# the committed seeds fuzz/seeds/<target>/, with its dictionary. Fails naming
# the target on a crash, a failed property or a timeout (the input is kept in
# fuzz/artifacts/<target>/). Prints per target the executions, coverage
# (cov), features (ft) and corpus size as libFuzzer reports them; logs are in
# $HUB_FUZZ_TARGET_DIR/logs/. No TARGET: every target. Installs cargo-fuzz
# (and the nightly toolchain) if missing.
# Environment: HUB_FUZZ_TARGET_DIR (default ~/.cache/sos-hub/fuzz-target),
# HUB_TOOLS_DIR.
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
source "$(dirname "$0")/lib.sh"
seconds="${1:-300}"
shift || true
case "$seconds" in
    '' | *[!0-9]*) echo "SECONDS must be a whole number, not “$seconds”" >&2; exit 2 ;;
esac

FUZZ_DIR="$ROOT/fuzz"
FUZZ_TARGET_DIR="${HUB_FUZZ_TARGET_DIR:-$HOME/.cache/sos-hub/fuzz-target}"
LOG_DIR="$FUZZ_TARGET_DIR/logs"
# The same flags for build and run, so `cargo fuzz run` never rebuilds.
# No sanitizer: the workspace forbids unsafe code, so ASan would only slow
# the build and every run; Rust's own bounds, overflow and debug-assertion
# checks turn bugs into panics, which libFuzzer reports as crashes.
FUZZ_FLAGS=(--fuzz-dir "$FUZZ_DIR" --sanitizer none --debug-assertions)

ensure_cargo_fuzz

# The dictionary files each target uses (fuzz/dicts/).
dicts_of() {
    case "$1" in
        names | reference) echo names ;;
        manifest) echo json manifest ;;
        events_*) echo json events ;;
        user_agent) echo user_agent ;;
        logo_*) echo logo ;;
    esac
}

all_targets=()
while IFS= read -r t; do all_targets+=("$t"); done < <(
    CARGO_TARGET_DIR="$FUZZ_TARGET_DIR" cargo +nightly fuzz list --fuzz-dir "$FUZZ_DIR")
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    printf '%s\n' "${all_targets[@]}" | grep -qx "$t" || {
        echo "no fuzz target “$t”; there are: ${all_targets[*]}" >&2
        exit 2
    }
done

started=$(date +%s)
step "building the fuzz targets (nightly, into $FUZZ_TARGET_DIR)"
CARGO_TARGET_DIR="$FUZZ_TARGET_DIR" nice -n 19 cargo +nightly fuzz build "${FUZZ_FLAGS[@]}"
built=$(date +%s)

mkdir -p "$LOG_DIR" "$FUZZ_TARGET_DIR/dicts"
summary=()
for t in "${targets[@]}"; do
    step "fuzzing $t for ${seconds} s"
    corpus="$FUZZ_DIR/corpus/$t"
    seeds="$FUZZ_DIR/seeds/$t"
    mkdir -p "$corpus" "$seeds" "$FUZZ_DIR/artifacts/$t"
    dict="$FUZZ_TARGET_DIR/dicts/$t.dict"
    : > "$dict"
    for d in $(dicts_of "$t"); do cat "$FUZZ_DIR/dicts/$d.dict" >> "$dict"; done
    extra=()
    [ -s "$dict" ] && extra+=("-dict=$dict")
    log="$LOG_DIR/$t.log"
    # -timeout: one input running 60 s is a hang (a failure), generous for a
    # shared machine; the corpus grows in fuzz/corpus (git-ignored), new
    # findings come from the seeds as well.
    if ! CARGO_TARGET_DIR="$FUZZ_TARGET_DIR" nice -n 19 cargo +nightly fuzz run "${FUZZ_FLAGS[@]}" \
        "$t" "$corpus" "$seeds" -- \
        -max_total_time="$seconds" -timeout=60 -print_final_stats=1 "${extra[@]}" \
        >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo >&2
        echo "FUZZ TARGET $t FAILED (crash, failed property or timeout); log: $log" >&2
        echo "the input is in $FUZZ_DIR/artifacts/$t/; reproduce with:" >&2
        echo "  cargo +nightly fuzz run ${FUZZ_FLAGS[*]} $t <that file>" >&2
        exit 1
    fi
    # libFuzzer's last status line: "#N DONE cov: C ft: F corp: K/SIZE ...".
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1)"
    execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n1)"
    rate="$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n1)"
    cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")"
    ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")"
    corp="$(sed -nE 's/.* corp: ([0-9]+\/[0-9a-zA-Z]+).*/\1/p' <<<"$done_line")"
    line="$(printf '%-20s %12s execs %8s/s   cov %5s   ft %6s   corpus %s' \
        "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")"
    echo "$line"
    summary+=("$line")
done

step "fuzzing summary (${seconds} s per target; build $((built - started)) s, total $(($(date +%s) - started)) s)"
printf '%s\n' "${summary[@]}"
