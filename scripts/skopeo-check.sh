#!/usr/bin/env bash
# Usage: scripts/skopeo-check.sh SERVER_BIN
#
# A real OCI client against the registry: starts SERVER_BIN (demo data, a
# throw-away SQLite directory, a free loopback port), builds a small OCI image
# layout, then with Debian's skopeo pushes it with credentials, inspects and
# copies it back anonymously from a public repository, and does the same for a
# private repository, where an anonymous inspect must fail. Run by scripts/test.sh.
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ] || [ -z "${1:-}" ]; then
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
bin="$1"
source "$(dirname "$0")/serve-lib.sh"
start_hub skopeo-check "$bin"

# A one-layer image as an OCI layout.
python3 - "$dir/layout" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
root = sys.argv[1]
os.makedirs(f"{root}/blobs/sha256", exist_ok=True)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return {"digest": f"sha256:{d}", "size": len(data)}
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as tar:
    body = b"hello from the sponsored open source hub\n"
    info = tarfile.TarInfo("hello.txt"); info.size = len(body); info.mtime = 0
    tar.addfile(info, io.BytesIO(body))
raw = buf.getvalue()
layer = put(gzip.compress(raw, mtime=0))
diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
config = put(json.dumps({"architecture": "amd64", "os": "linux",
    "rootfs": {"type": "layers", "diff_ids": [diff_id]}, "config": {}}).encode())
manifest = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}]}).encode())
json.dump({"imageLayoutVersion": "1.0.0"}, open(f"{root}/oci-layout", "w"))
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    **manifest, "annotations": {"org.opencontainers.image.ref.name": "1.0"}}]}, open(f"{root}/index.json", "w"))
PY

sk() { skopeo --insecure-policy "$@"; }
creds=(--creds alice:demo-password)
step() { printf 'skopeo-check: %s\n' "$*"; }

step "push to a new public repository (created by the push)"
sk copy --dest-tls-verify=false --dest-creds alice:demo-password "oci:$dir/layout:1.0" "docker://$hub/alice/skopeo:1.0"
step "inspect and copy back anonymously"
sk inspect --tls-verify=false "docker://$hub/alice/skopeo:1.0" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["Architecture"]=="amd64", d; print("  digest", d["Digest"])'
sk copy --src-tls-verify=false "docker://$hub/alice/skopeo:1.0" "oci:$dir/back:1.0"
test -s "$dir/back/index.json"
step "list tags"
sk list-tags --tls-verify=false "docker://$hub/alice/skopeo" | grep -q '"1.0"'

step "a private repository: push with credentials; anonymous inspect refused"
token="$(curl -fs -c "$dir/jar" -X POST "http://$hub/api/sign_in" -d name=alice -d password=demo-password >/dev/null \
    && curl -fs -b "$dir/jar" -H "Origin: http://$hub" -X POST "http://$hub/api/create_token" -d name=ci -d scope=admin -d expires_in_days=1 \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"
curl -fs -X POST "http://$hub/api/v1/repositories" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"namespace":"alice","name":"hidden","is_private":true}' >/dev/null
sk copy --dest-tls-verify=false --dest-creds "alice:$token" "oci:$dir/layout:1.0" "docker://$hub/alice/hidden:1.0"
if sk inspect --tls-verify=false "docker://$hub/alice/hidden:1.0" >/dev/null 2>&1; then
    echo "skopeo-check: an anonymous inspect of a private repository succeeded" >&2
    exit 1
fi
sk inspect --tls-verify=false "${creds[@]}" "docker://$hub/alice/hidden:1.0" >/dev/null
sk copy --src-tls-verify=false --src-creds alice:demo-password "docker://$hub/alice/hidden:1.0" "oci:$dir/back2:1.0"
test -s "$dir/back2/index.json"
step "ok"
