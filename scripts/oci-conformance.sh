#!/usr/bin/env bash
# Usage: scripts/oci-conformance.sh SERVER_BIN
#
# Runs the OCI distribution-spec conformance suite (../shared/tools/
# oci-conformance/conformance.test, or $OCI_CONFORMANCE_BIN) with all four
# workflows (pull, push, content discovery, content management) against
# SERVER_BIN started on a free loopback port with demo data in a throw-away
# SQLite directory, signing in as the demo user `alice` through the token flow.
# Fails unless every spec that runs passes. Run by scripts/test.sh.
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ] || [ -z "${1:-}" ]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
bin="$1"
root="$(cd "$(dirname "$0")/.." && pwd)"
suite="${OCI_CONFORMANCE_BIN:-$root/../shared/tools/oci-conformance/conformance.test}"
if [ ! -x "$suite" ]; then
    echo "oci-conformance: the suite is not at $suite (set OCI_CONFORMANCE_BIN)" >&2
    exit 1
fi
source "$root/scripts/serve-lib.sh"
start_hub oci-conformance "$bin"
export OCI_ROOT_URL="http://$hub" OCI_NAMESPACE=alice/conformance \
    OCI_CROSSMOUNT_NAMESPACE=alice/conformance-mount OCI_USERNAME=alice OCI_PASSWORD=demo-password \
    OCI_TEST_PULL=1 OCI_TEST_PUSH=1 OCI_TEST_CONTENT_DISCOVERY=1 OCI_TEST_CONTENT_MANAGEMENT=1 \
    OCI_REPORT_DIR="${OCI_REPORT_DIR:-none}"
status=0
(cd "$dir" && "$suite" -ginkgo.no-color >"$dir/suite.log" 2>&1) || status=$?
grep -E "^\s+\[(FAIL|PANICKED)|^Ran |SUCCESS|FAIL!" "$dir/suite.log" || tail -40 "$dir/suite.log"
exit "$status"
