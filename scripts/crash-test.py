#!/usr/bin/env python3
"""Crash test: nothing acknowledged is lost, nothing unacknowledged is half there.

Usage: scripts/crash-test.py SERVER_BIN [--backend sqlite|postgres] [--cycles N]
                             [--clients N] [--max-up SECONDS] [--seed N]

Starts SERVER_BIN (the release server) with demo data in a throw-away data
directory (SQLite) or a fresh PostgreSQL database, then repeats N cycles: start
the server, drive it from several concurrent clients -- ingestion batches
(POST /api/v1/events, 50 events each, every event with a unique reference),
registry pushes (blobs then a manifest under a fresh tag) and repository logo
uploads -- and `kill -9` it at a random moment. After the last cycle it starts
the server once more and checks, through the product's own HTTP API:

* every event whose batch got a 200 is in the raw export exactly once, and
  every other batch is there whole or not at all;
* the rollups (the JSON pulls API) equal the raw export's counts;
* every acknowledged push's tag resolves to its manifest, every tag listed
  resolves to a manifest, and every manifest's blobs are fetchable;
* the repository's logo is fetchable, and is the last acknowledged one when
  no upload was attempted after it.

Exits non-zero with the failed promise named. The test command runs a short
setting (3 cycles per backend); docs/RELIABILITY.md records a long one.
"""

import argparse
import csv
import datetime
import hashlib
import io
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
NS, REPO, PUSH_REPO = "fluentorg", "fluent-bit", "crashtest"
DIGEST = "sha256:" + "ab" * 32


def fail(msg):
    print(f"crash-test: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def png(rgb, side=128):
    """A solid-colour PNG (the logo validator wants 120 to 1000 px a side)."""
    row = b"\x00" + bytes(rgb) * side
    raw = zlib.compress(row * side)

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


class Hub:
    def __init__(self, binary, backend, work):
        self.binary, self.backend, self.work = binary, backend, work
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update(
            HUB_ADDR=f"127.0.0.1:{self.port}",
            HUB_PUBLIC_URL=self.base,
            HUB_DATA_DIR=os.path.join(work, "data"),
            HUB_DEMO="true",
            RUST_LOG="warn",
        )
        self.db = None
        if backend == "postgres":
            self.db = f"crash_{os.getpid()}_{random.randrange(1 << 30)}"
            subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {self.db}"], check=True)
            self.env["DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.db
        self.proc = None
        self.log = open(os.path.join(work, "server.log"), "ab")

    def start(self, wait=60):
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.time() + wait
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail(f"the server exited on start (log: {self.log.name})")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        fail(f"the server did not answer /healthz within {wait} s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def cli(self, *args):
        out = subprocess.run([self.binary, *args], env=self.env, check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.db:
            subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)"])


def request(base, method, path, token, body=None, ctype=None, timeout=10):
    url = path if path.startswith("http") else base + path
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


class Ledger:
    """What the clients sent and what the server acknowledged."""

    def __init__(self):
        self.lock = threading.Lock()
        self.next = 0
        self.batches = {}  # batch id -> (references, acked)
        self.pushes = {}  # tag -> (manifest digest, acked)
        self.logos = []  # (attempt number, acked logo_url or None)
        self.errors = []  # answers that are neither an acknowledgement nor a crash

    def take(self):
        with self.lock:
            self.next += 1
            return self.next


def ingest_client(hub, token, ledger, stop):
    while not stop.is_set():
        b = ledger.take()
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        refs = [f"cr-{b}-{i}" for i in range(50)]
        lines = [
            json.dumps({
                "id": f"crash-{b}-{i}", "timestamp": now, "namespace": NS, "repository": REPO,
                "reference": ref, "tag": ref, "digest": DIGEST, "action": "pull_by_tag",
                "http_method": "GET", "user_agent": "docker/27.3.1", "authenticated": False,
                "ip": f"192.0.2.{i + 1}",
            })
            for i, ref in enumerate(refs)
        ]
        with ledger.lock:
            ledger.batches[b] = (refs, False)
        try:
            status, body, _ = request(hub.base, "POST", "/api/v1/events", token,
                                      "\n".join(lines).encode(), "application/x-ndjson")
        except OSError:
            continue
        if status == 200:
            with ledger.lock:
                ledger.batches[b] = (refs, True)
        else:
            with ledger.lock:
                ledger.errors.append(f"an ingestion batch got {status}: {body[:200]!r}")


def push_client(hub, token, ledger, stop):
    while not stop.is_set():
        n = ledger.take()
        tag = f"p{n}"
        layer = os.urandom(2048 + n % 512)
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": []}, "n": n}).encode()
        blobs = []
        try:
            for data in (config, layer):
                d = "sha256:" + hashlib.sha256(data).hexdigest()
                status, body, _ = request(hub.base, "POST",
                                          f"/v2/{NS}/{PUSH_REPO}/blobs/uploads/?digest={d}", token,
                                          data, "application/octet-stream")
                if status != 201:
                    with ledger.lock:
                        ledger.errors.append(f"a blob upload got {status}: {body[:200]!r}")
                    raise OSError(f"blob upload {status}")
                blobs.append((d, len(data)))
            manifest = json.dumps({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": blobs[0][0], "size": blobs[0][1]},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": blobs[1][0], "size": blobs[1][1]}],
            }).encode()
            md = "sha256:" + hashlib.sha256(manifest).hexdigest()
            with ledger.lock:
                ledger.pushes[tag] = (md, False)
            status, body, _ = request(hub.base, "PUT", f"/v2/{NS}/{PUSH_REPO}/manifests/{tag}", token,
                                      manifest, "application/vnd.oci.image.manifest.v1+json")
        except OSError:
            continue
        if status == 201:
            with ledger.lock:
                ledger.pushes[tag] = (md, True)
        else:
            with ledger.lock:
                ledger.errors.append(f"a manifest push got {status}: {body[:200]!r}")


def logo_client(hub, token, ledger, stop):
    while not stop.is_set():
        n = ledger.take()
        image = png(((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
        with ledger.lock:
            ledger.logos.append((n, None))
            i = len(ledger.logos) - 1
        try:
            status, body, _ = request(hub.base, "PUT", f"/api/v1/repositories/{NS}/{REPO}/logo", token,
                                      image, "image/png")
        except OSError:
            continue
        if status == 200:
            with ledger.lock:
                ledger.logos[i] = (n, json.loads(body)["logo_url"])
        elif status == 429:
            # Logo uploads are rate limited per account: a refusal, not a failure.
            with ledger.lock:
                ledger.logos.pop(i) if i == len(ledger.logos) - 1 else None
            time.sleep(1)
        else:
            with ledger.lock:
                ledger.errors.append(f"a logo upload got {status}: {body[:200]!r}")
        time.sleep(0.05)


def verify(hub, tokens, ledger):
    read = tokens["admin"]
    today = datetime.datetime.now(datetime.timezone.utc).date()
    span = f"from={today - datetime.timedelta(days=1)}&to={today}"
    # Events: the raw export, one row per stored event.
    status, body, _ = request(hub.base, "GET", f"/api/v1/namespaces/{NS}/pulls/export?view=raw&{span}",
                              read, timeout=120)
    if status != 200:
        fail(f"raw export answered {status}: {body[:200]!r}")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    seen = {}
    repo_rows = 0
    for r in rows:
        if r["repository"] == REPO:
            repo_rows += 1
        if r["reference"].startswith("cr-"):
            seen[r["reference"]] = seen.get(r["reference"], 0) + 1
    dupes = [k for k, v in seen.items() if v != 1]
    if dupes:
        fail(f"events stored more than once: {dupes[:5]}")
    acked = lost = partial = stored_unacked = 0
    for b, (refs, ok) in ledger.batches.items():
        present = sum(1 for ref in refs if ref in seen)
        if ok:
            acked += 1
            if present != len(refs):
                lost += 1
        elif present not in (0, len(refs)):
            partial += 1
        elif present:
            stored_unacked += 1
    if lost:
        fail(f"{lost} acknowledged batches lost events")
    if partial:
        fail(f"{partial} unacknowledged batches are partly stored")
    # Rollups: the JSON API's totals for the same span equal the raw rows.
    status, body, _ = request(hub.base, "GET",
                              f"/api/v1/namespaces/{NS}/repositories/{REPO}/pulls?{span}&group_by=action",
                              read)
    totals = json.loads(body)["totals"]
    rolled = totals["pulls_by_tag"] + totals["pulls_by_digest"] + totals["version_checks"]
    if rolled != repo_rows:
        fail(f"rollups say {rolled} pulls, the raw export has {repo_rows}")
    # Registry: acknowledged tags resolve to their manifests; every listed
    # tag resolves; every manifest's blobs are there.
    manifest_type = "application/vnd.oci.image.manifest.v1+json"
    listed, path = [], f"/v2/{NS}/{PUSH_REPO}/tags/list?n=1000"
    while path:  # the list is paged (Link: <…>; rel="next")
        status, body, headers = request(hub.base, "GET", path, read)
        if status != 200:
            break
        listed += json.loads(body).get("tags") or []
        link = headers.get("Link") or headers.get("link") or ""
        path = link[link.index("<") + 1:link.index(">")] if "<" in link else None
    pushed = 0
    for tag, (md, ok) in ledger.pushes.items():
        if ok:
            pushed += 1
            if tag not in listed:
                fail(f"acknowledged push {tag} is not listed")
    for tag in listed:
        req = urllib.request.Request(f"{hub.base}/v2/{NS}/{PUSH_REPO}/manifests/{tag}")
        req.add_header("Authorization", f"Bearer {read}")
        req.add_header("Accept", manifest_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                body, digest = r.read(), r.headers["Docker-Content-Digest"]
        except urllib.error.HTTPError as e:
            fail(f"tag {tag} points at a missing manifest ({e.code})")
        want = ledger.pushes.get(tag)
        if want and want[1] and want[0] != digest:
            fail(f"tag {tag} points at {digest}, the acknowledged push was {want[0]}")
        m = json.loads(body)
        for blob in [m["config"], *m["layers"]]:
            status, _, _ = request(hub.base, "HEAD", f"/v2/{NS}/{PUSH_REPO}/blobs/{blob['digest']}", read)
            if status != 200:
                fail(f"manifest of {tag} points at a missing blob {blob['digest']} ({status})")
    # Logos: what the repository shows is fetchable, and is the last
    # acknowledged upload unless a later one was attempted.
    status, body, _ = request(hub.base, "GET", f"/api/v1/repositories/{NS}/{REPO}", read)
    logo_url = json.loads(body)["logo_url"]
    status, _, _ = request(hub.base, "GET", logo_url, read)
    if status != 200:
        fail(f"the repository's logo {logo_url} answers {status}")
    acked_logos = [i for i, (_, url) in enumerate(ledger.logos) if url]
    if acked_logos:
        last = acked_logos[-1]
        if last == len(ledger.logos) - 1 and ledger.logos[last][1] != logo_url:
            fail(f"the last acknowledged logo {ledger.logos[last][1]} is not shown ({logo_url})")
    return {
        "batches": len(ledger.batches), "acked_batches": acked, "stored_unacked_batches": stored_unacked,
        "events_checked": len(seen), "pushes": len(ledger.pushes), "acked_pushes": pushed,
        "tags_checked": len(listed), "logo_uploads": len(ledger.logos), "acked_logos": len(acked_logos),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--clients", type=int, default=4, help="ingestion clients (plus one pusher and one logo uploader)")
    ap.add_argument("--max-up", type=float, default=3.0, help="longest a cycle runs before the kill, seconds")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    started = time.time()
    work = tempfile.mkdtemp(prefix="hub-crash-")
    hub = Hub(os.path.abspath(args.binary), args.backend, work)
    try:
        hub.start(wait=600)  # the first start seeds the demo data (a year of pulls)
        tokens = {
            "ingest": hub.cli("token", "create", "--user", "alice", "--name", "crash-ingest", "--scope", "ingest"),
            "admin": hub.cli("token", "create", "--user", "alice", "--name", "crash-admin", "--scope", "admin"),
        }
        ledger = Ledger()
        for cycle in range(args.cycles):
            if cycle:
                hub.start()
            stop = threading.Event()
            threads = [threading.Thread(target=ingest_client, args=(hub, tokens["ingest"], ledger, stop))
                       for _ in range(args.clients)]
            threads.append(threading.Thread(target=push_client, args=(hub, tokens["admin"], ledger, stop)))
            threads.append(threading.Thread(target=logo_client, args=(hub, tokens["admin"], ledger, stop)))
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.3, args.max_up))
            hub.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            if ledger.errors:
                fail("; ".join(ledger.errors[:5]))
            print(f"crash-test: cycle {cycle + 1}/{args.cycles}: killed; "
                  f"{sum(1 for b in ledger.batches.values() if b[1])} batches acknowledged so far", flush=True)
        hub.start()
        figures = verify(hub, tokens, ledger)
        figures.update(backend=args.backend, cycles=args.cycles, seed=seed,
                       seconds=round(time.time() - started, 1))
        print("crash-test: passed " + json.dumps(figures))
    finally:
        hub.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
