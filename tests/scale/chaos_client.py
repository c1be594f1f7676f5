#!/usr/bin/env python3
"""A registry client for chaos_test.sh, speaking the plain OCI distribution API (standard library
only), retrying as a real client does while instances behind the load balancer get killed.

  chaos_client.py push  --lb HOST:PORT --client N --seconds S --max-pushes M --out FILE
  chaos_client.py pull  --lb HOST:PORT --client N --seconds S --out FILE
  chaos_client.py check --lb HOST:PORT RECORDS...
  chaos_client.py gone  --root ROOT | --keys FILE RECORDS...

push: pushes images to chaos/c<N> until S seconds or M pushes have passed: per image one or two
  layers of its own (monolithic POST+PUT, single POST ?digest=, or chunked POST, PATCHes with
  Content-Range, PUT), the shared base layer by HEAD and a cross-repository mount from
  chaos/base, a config, the manifest PUT by tag; about one push in four is deleted again (by
  digest). Every request is retried on connection errors and 5xx. FILE (JSON) records what was
  acknowledged: each manifest PUT answered 201 (repo, tag, digest, manifest text, the seed and
  size of every layer) and each delete answered 202, plus counters (retries, 5xx seen).
pull: pulls for S seconds what the pushers pushed: the base image and the images of random tags
  of chaos/c*, every blob checked against its digest (a tag deleted meanwhile may answer 404).
  FILE records the pulls, the bytes and the longest request (retries included), and any problem.
check: every acknowledged push that was not deleted pulls byte-identical through HOST:PORT.
gone:  no layer or config unique to an acknowledged delete is left in ROOT's blob store, or
  (--keys, for an s3:// root) among the object keys FILE lists, one a line, relative to the root.
Exit status 0 when all holds, 1 otherwise (each problem printed).
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import sys
import time

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
BASE_REPO = "chaos/base"
BASE_SEED = "chaos-base-layer"
BASE_SIZE = 256 * 1024
REQUEST_TIMEOUT = 30  # seconds per request
ATTEMPTS = 25  # per request: about 30 s of back-off in all


class GiveUp(Exception):
    """A request failed on every attempt."""


class Abandoned(Exception):
    """The client walked away after a failed attempt (as a cancelled CI job does), leaving
    whatever the interrupted request had written: the crash leftovers GC must cope with."""


def blob_bytes(seed, size):
    return random.Random(seed).randbytes(size)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Client:
    def __init__(self, lb):
        self.host, port = lb.rsplit(":", 1)
        self.port = int(port)
        self.stats = {"requests": 0, "retries": 0, "connection_errors": 0, "proxy_5xx": 0, "regd_5xx": 0}
        self.regd_5xx = []  # (method, path, status, body) answered by a regd instance

    def once(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def req(self, method, path, body=None, headers=None, abandon=None):
        """One request, retried on connection errors and 5xx; returns (status, headers, body).
        abandon: called after a failed attempt; when it returns True, raises Abandoned."""
        delay = 0.05
        for attempt in range(ATTEMPTS):
            self.stats["requests"] += 1
            if attempt and abandon and abandon():
                raise Abandoned("%s %s" % (method, path))
            if attempt:
                self.stats["retries"] += 1
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
            try:
                status, hdrs, data = self.once(method, path, body, headers)
            except (OSError, http.client.HTTPException):
                self.stats["connection_errors"] += 1
                continue
            if status < 500:
                return status, hdrs, data
            # regd answers errors in JSON; HAProxy's own 502/503/504 pages are HTML.
            if hdrs.get("content-type", "").startswith("application/json"):
                self.stats["regd_5xx"] += 1
                self.regd_5xx.append([method, path, status, data[:300].decode(errors="replace")])
            else:
                self.stats["proxy_5xx"] += 1
        raise GiveUp("%s %s failed %d times" % (method, path, ATTEMPTS))


def with_query(location, key, value):
    return location + ("&" if "?" in location else "?") + key + "=" + value


def range_end(hdrs):
    """The session size from a Range header "0-<last>". "0-0" is what an empty session answers;
    it would also be a session of one byte, which our chunks (hundreds of bytes) never leave."""
    value = hdrs.get("range", "")
    if not value.startswith("0-"):
        return None
    last = int(value[2:])
    return last + 1 if last > 0 else 0


class Pusher:
    def __init__(self, client, number, rng):
        self.c = client
        self.n = number
        self.rng = rng
        self.repo = "chaos/c%d" % number
        self.stats = {"blob_uploads": 0, "chunked": 0, "mounts": 0, "head_skips": 0, "upload_restarts": 0,
                      "pushes_failed": 0, "pushes_abandoned": 0, "deletes_failed": 0, "manifest_blob_unknown": 0}

    def walk_away(self):
        """After a failed manifest PUT or chunk: one client in three gives up on the push."""
        return self.rng.random() < 1 / 3

    def start_session(self, repo):
        status, hdrs, _ = self.c.req("POST", "/v2/%s/blobs/uploads/" % repo)
        if status != 202 or "location" not in hdrs:
            raise GiveUp("POST upload in %s: %d" % (repo, status))
        return hdrs["location"]

    def session_offset(self, location):
        status, hdrs, _ = self.c.req("GET", location)
        if status != 204:
            return None
        return range_end(hdrs)

    def chunked(self, location, data, digest):
        """POST done; PATCHes of 2-4 chunks with Content-Range, resuming from the session's size
        after a failure, then PUT ?digest= (with or without the last chunk)."""
        self.stats["chunked"] += 1
        parts = self.rng.randint(2, 4)
        size = max(1, len(data) // parts)
        offset = 0
        last_in_put = self.rng.random() < 0.5
        for _ in range(4 * parts + 8):  # bounded: chunks plus resumptions
            end = min(len(data), offset + size)
            if last_in_put and end == len(data):
                break
            if offset >= len(data):
                break
            status, hdrs, _ = self.c.req("PATCH", location, data[offset:end], {
                "Content-Type": "application/octet-stream", "Content-Range": "%d-%d" % (offset, end - 1)},
                abandon=self.walk_away)
            if status == 202:
                location, offset = hdrs.get("location", location), end
            elif status == 416:
                # Our range no longer matches (a retry of a chunk that did land, or a chunk a dead
                # instance was writing, whose lock may take a moment to go): resume from what the
                # session holds.
                time.sleep(0.1)
                got = self.session_offset(location)
                if got is None or got > len(data):
                    return False
                offset = got
            else:
                return False
        else:
            return False
        body, hdrs = None, {}
        if offset < len(data):
            body = data[offset:]
            hdrs = {"Content-Type": "application/octet-stream",
                    "Content-Range": "%d-%d" % (offset, len(data) - 1)}
        status, _, _ = self.c.req("PUT", with_query(location, "digest", digest), body, hdrs)
        return status == 201 or (status in (404, 416) and self.blob_present(self.repo, digest))

    def blob_present(self, repo, digest):
        status, _, _ = self.c.req("HEAD", "/v2/%s/blobs/%s" % (repo, digest))
        return status == 200

    def upload(self, repo, data):
        """Uploads one blob by a random method; a failed attempt starts over (bounded)."""
        digest = sha256(data)
        for attempt in range(6):
            if attempt:
                self.stats["upload_restarts"] += 1
            mode = self.rng.choice(["single", "monolithic", "chunked", "chunked"])
            if mode == "single":
                status, _, _ = self.c.req("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, digest), data,
                                          {"Content-Type": "application/octet-stream"})
                ok = status == 201
            else:
                location = self.start_session(repo)
                if mode == "monolithic":
                    status, _, _ = self.c.req("PUT", with_query(location, "digest", digest), data,
                                              {"Content-Type": "application/octet-stream"})
                    # 404 after a retry: the first attempt finished the session.
                    ok = status == 201 or (status == 404 and self.blob_present(repo, digest))
                else:
                    ok = self.chunked(location, data, digest)
            if ok:
                self.stats["blob_uploads"] += 1
                return {"digest": digest, "size": len(data)}
        raise GiveUp("upload of %s to %s" % (digest, repo))

    def ensure_base(self):
        """The shared base layer in our repo: HEAD, else mount from chaos/base, else upload. Half
        the time it mounts straight away, as clients do that know where a layer came from."""
        data = blob_bytes(BASE_SEED, BASE_SIZE)
        digest = sha256(data)
        if self.rng.random() < 0.5 and self.blob_present(self.repo, digest):
            self.stats["head_skips"] += 1
            return
        status, hdrs, _ = self.c.req("POST", "/v2/%s/blobs/uploads/?mount=%s&from=%s" % (self.repo, digest, BASE_REPO))
        if status == 201:
            self.stats["mounts"] += 1
            return
        if status == 202 and "location" in hdrs:  # not mountable: the spec's fallback session
            self.c.req("DELETE", hdrs["location"])
        self.upload(self.repo, data)

    def ensure_blob(self, data):
        """HEAD (which refreshes the link a push relies on), upload only when missing."""
        if self.blob_present(self.repo, sha256(data)):
            self.stats["head_skips"] += 1
            return {"digest": sha256(data), "size": len(data)}
        return self.upload(self.repo, data)

    def push(self, k):
        """One image; returns its record once the manifest PUT was answered 201, else None. A
        MANIFEST_BLOB_UNKNOWN (a blob of a push slower than GC's grace window was collected:
        docs/gc.md) makes it push the missing blobs again, as a user re-running the push would."""
        tag = "c%d-%d" % (self.n, k)
        layers = []
        for i in range(self.rng.randint(1, 2)):
            seed = "layer-%d-%d-%d-%d" % (self.n, k, i, self.rng.getrandbits(32))
            size = self.rng.choice([1024, 70 * 1024, 300 * 1024, 700 * 1024]) + self.rng.randint(0, 999)
            layers.append({"digest": sha256(blob_bytes(seed, size)), "size": size, "seed": seed})
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"tag": tag}},
                             "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}},
                            separators=(",", ":")).encode()
        base = blob_bytes(BASE_SEED, BASE_SIZE)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": LAYER, "digest": sha256(base), "size": len(base)}] +
                      [{"mediaType": LAYER, "digest": l["digest"], "size": l["size"]} for l in layers],
        }, separators=(",", ":")).encode()
        for _ in range(3):
            self.ensure_base()
            for l in layers:
                self.ensure_blob(blob_bytes(l["seed"], l["size"]))
            self.ensure_blob(config)
            status, hdrs, body = self.c.req("PUT", "/v2/%s/manifests/%s" % (self.repo, tag), manifest,
                                            {"Content-Type": MANIFEST}, abandon=self.walk_away)
            if status == 201:
                break
            print("client %d: PUT manifest %s: %d %s" % (self.n, tag, status, body[:200]), file=sys.stderr)
            if b"MANIFEST_BLOB_UNKNOWN" not in body:
                return None
            self.stats["manifest_blob_unknown"] += 1
        else:
            return None
        if hdrs.get("docker-content-digest") != sha256(manifest):
            print("client %d: %s acknowledged with digest %s, want %s" % (
                self.n, tag, hdrs.get("docker-content-digest"), sha256(manifest)), file=sys.stderr)
        return {"repo": self.repo, "tag": tag, "digest": sha256(manifest), "manifest": manifest.decode(),
                "config": config.decode(), "layers": layers, "acked_at": time.time()}

    def delete(self, record):
        """DELETE by digest; "acked" on 202 (or 404 after a failed attempt: it landed), else
        "uncertain" (the delete may or may not have happened)."""
        path = "/v2/%s/manifests/%s" % (record["repo"], record["digest"])
        errors_before = self.c.stats["retries"]
        try:
            status, _, _ = self.c.req("DELETE", path)
        except GiveUp:
            return "uncertain"
        if status == 202 or (status == 404 and self.c.stats["retries"] > errors_before):
            return "acked"
        return "uncertain"


def push_base(client):
    """The base image in chaos/base (tagged, never deleted): what every mount comes from."""
    p = Pusher(client, 0, random.Random(0))
    p.repo = BASE_REPO
    data = blob_bytes(BASE_SEED, BASE_SIZE)
    if not p.blob_present(BASE_REPO, sha256(data)):
        p.upload(BASE_REPO, data)
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    p.upload(BASE_REPO, config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST,
                           "config": {"mediaType": CONFIG, "digest": sha256(config), "size": len(config)},
                           "layers": [{"mediaType": LAYER, "digest": sha256(data), "size": len(data)}]},
                          separators=(",", ":")).encode()
    status, _, body = client.req("PUT", "/v2/%s/manifests/base" % BASE_REPO, manifest, {"Content-Type": MANIFEST})
    if status != 201:
        raise GiveUp("base manifest: %d %s" % (status, body[:200]))
    return {"repo": BASE_REPO, "tag": "base", "digest": sha256(manifest), "manifest": manifest.decode(),
            "config": config.decode(), "layers": [{"digest": sha256(data), "size": len(data), "seed": BASE_SEED}],
            "acked_at": time.time(), "shared": True}


def cmd_push(a):
    client = Client(a.lb)
    rng = random.Random("%s-%d" % (a.seed, a.client))
    pusher = Pusher(client, a.client, rng)
    pushes, deletes = [], []
    if a.client == 0:
        pushes.append(push_base(client))
    deadline = time.time() + a.seconds
    k = 0
    while time.time() < deadline and k < a.max_pushes:
        k += 1
        try:
            record = pusher.push(k)
        except Abandoned as e:
            pusher.stats["pushes_abandoned"] += 1
            print("client %d: push %d abandoned after a failed %s" % (a.client, k, e), file=sys.stderr)
            continue
        except GiveUp as e:
            print("client %d: push %d given up: %s" % (a.client, k, e), file=sys.stderr)
            record = None
        if record is None:
            pusher.stats["pushes_failed"] += 1
            continue
        pushes.append(record)
        if rng.random() < 0.25:
            state = pusher.delete(record)
            if state != "acked":
                pusher.stats["deletes_failed"] += 1
            deletes.append({"repo": record["repo"], "tag": record["tag"], "digest": record["digest"], "state": state})
    out = {"client": a.client, "pushes": pushes, "deletes": deletes, "stats": dict(client.stats, **pusher.stats),
           "regd_5xx": client.regd_5xx}
    with open(a.out + ".tmp", "w") as f:
        json.dump(out, f)
    os.replace(a.out + ".tmp", a.out)
    return 0


def pull_image(client, repo, ref):
    """Pulls repo:ref, checking every digest; returns (bytes, problems), or None when absent."""
    status, hdrs, body = client.req("GET", "/v2/%s/manifests/%s" % (repo, ref), None, {"Accept": MANIFEST})
    if status == 404:
        return None
    if status != 200:
        return 0, ["%s:%s: manifest answered %d" % (repo, ref, status)]
    problems = []
    if hdrs.get("docker-content-digest") != sha256(body):
        problems.append("%s:%s: manifest body does not match its digest" % (repo, ref))
    manifest = json.loads(body)
    size = len(body)
    for desc in [manifest["config"]] + manifest["layers"]:
        status, _, data = client.req("GET", "/v2/%s/blobs/%s" % (repo, desc["digest"]))
        if status == 404:
            continue  # deleted meanwhile and collected
        if status != 200 or sha256(data) != desc["digest"]:
            problems.append("%s:%s: blob %s: %d, content digest %s" % (repo, ref, desc["digest"], status, sha256(data)))
        size += len(data)
    return size, problems


def cmd_pull(a):
    client = Client(a.lb)
    rng = random.Random("pull-%d" % a.client)
    pulls = absent = size = 0
    problems, longest = [], 0.0
    deadline = time.time() + a.seconds
    while time.time() < deadline:
        repo, ref = BASE_REPO, "base"
        if rng.random() < 0.7:
            pushed = "chaos/c%d" % rng.randrange(8)
            status, _, body = client.req("GET", "/v2/%s/tags/list" % pushed)
            tags = (json.loads(body).get("tags") or []) if status == 200 else []
            if tags:
                repo, ref = pushed, rng.choice(tags)
        t0 = time.time()
        try:
            result = pull_image(client, repo, ref)
        except GiveUp as e:
            result = (0, ["%s:%s: %s" % (repo, ref, e)])
        longest = max(longest, time.time() - t0)
        if result is None:
            absent += 1
            continue
        pulls += 1
        size += result[0]
        problems += result[1]
        time.sleep(0.05)
    for line in problems:
        print("BAD PULL: " + line, file=sys.stderr)
    out = {"client": a.client, "pulls": pulls, "absent": absent, "bytes": size, "longest_s": round(longest, 2),
           "problems": problems, "stats": client.stats}
    with open(a.out, "w") as f:
        json.dump(out, f)
    return 1 if problems else 0


def load_records(paths):
    pushes, deleted = [], {}
    for path in paths:
        with open(path) as f:
            rec = json.load(f)
        pushes += rec["pushes"]
        for d in rec["deletes"]:
            deleted[(d["repo"], d["digest"])] = d["state"]
    return pushes, deleted


def cmd_check(a):
    client = Client(a.lb)
    pushes, deleted = load_records(a.records)
    problems, checked = [], 0
    for p in pushes:
        if (p["repo"], p["digest"]) in deleted:
            continue
        status, hdrs, body = client.req("GET", "/v2/%s/manifests/%s" % (p["repo"], p["tag"]), None,
                                        {"Accept": MANIFEST})
        if status != 200 or body != p["manifest"].encode() or hdrs.get("docker-content-digest") != p["digest"]:
            problems.append("%s:%s: manifest %d, digest %s, want %s" % (
                p["repo"], p["tag"], status, hdrs.get("docker-content-digest"), p["digest"]))
            continue
        blobs = [(sha256(p["config"].encode()), p["config"].encode())]
        blobs += [(sha256(blob_bytes(BASE_SEED, BASE_SIZE)), blob_bytes(BASE_SEED, BASE_SIZE))] if not p.get(
            "shared") else []
        blobs += [(l["digest"], blob_bytes(l["seed"], l["size"])) for l in p["layers"]]
        for digest, want in blobs:
            status, _, got = client.req("GET", "/v2/%s/blobs/%s" % (p["repo"], digest))
            if status != 200 or got != want:
                problems.append("%s:%s: blob %s: %d, %d bytes (want %d)" % (
                    p["repo"], p["tag"], digest, status, len(got), len(want)))
        checked += 1
    for line in problems:
        print("LOST: " + line)
    print("checked %d acknowledged pushes (not deleted) byte for byte: %d problems" % (checked, len(problems)))
    return 1 if problems else 0


def blob_data_path(root, digest):
    hexd = digest.split(":", 1)[1]
    return os.path.join(root, "docker/registry/v2/blobs/sha256", hexd[:2], hexd, "data")


def cmd_gone(a):
    pushes, deleted = load_records(a.records)
    if a.keys:
        with open(a.keys) as f:
            keys = set(line.rstrip("\n") for line in f)
        stored = lambda digest: blob_data_path("", digest) in keys
    else:
        stored = lambda digest: os.path.exists(blob_data_path(a.root, digest))
    problems, checked = [], 0
    for p in pushes:
        if deleted.get((p["repo"], p["digest"])) != "acked":
            continue
        unique = [sha256(p["config"].encode())] + [l["digest"] for l in p["layers"]]
        for digest in unique:
            if stored(digest):
                problems.append("%s:%s (deleted): blob %s still stored" % (p["repo"], p["tag"], digest))
        checked += 1
    # The same lookup must find what is kept (the base layer every image shares), or the checks
    # above passed only because they looked in the wrong place.
    if any(deleted.get((p["repo"], p["digest"])) != "acked" for p in pushes) and not stored(
            sha256(blob_bytes(BASE_SEED, BASE_SIZE))):
        problems.append("the base layer, still referenced, is not found either: wrong root or layout?")
    for line in problems:
        print("LEFT: " + line)
    print("checked %d acknowledged deletes: %d unique blobs left after GC" % (checked, len(problems)))
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("push")
    p.add_argument("--lb", required=True)
    p.add_argument("--client", type=int, required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--max-pushes", type=int, default=200)
    p.add_argument("--seed", default="chaos")
    p.add_argument("--out", required=True)
    q = sub.add_parser("pull")
    q.add_argument("--lb", required=True)
    q.add_argument("--client", type=int, required=True)
    q.add_argument("--seconds", type=float, default=60)
    q.add_argument("--out", required=True)
    c = sub.add_parser("check")
    c.add_argument("--lb", required=True)
    c.add_argument("records", nargs="+")
    g = sub.add_parser("gone")
    where = g.add_mutually_exclusive_group(required=True)
    where.add_argument("--root")
    where.add_argument("--keys")
    g.add_argument("records", nargs="+")
    a = ap.parse_args()
    return {"push": cmd_push, "pull": cmd_pull, "check": cmd_check, "gone": cmd_gone}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
