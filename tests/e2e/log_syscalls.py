#!/usr/bin/env python3
"""Counts the write(2) calls regd makes to its log (fd 2) while serving manifest GETs.

Runs regd under `strace -f -e trace=write`, pushes one small image, sends N manifest GETs by tag on
one keep-alive connection, stops regd with SIGTERM and then counts:
  - access lines in regd's stderr (one per request: none may be lost on SIGTERM);
  - write(2) calls on fd 2 (the log), and all write(2) calls (Asio's wake-ups write an eventfd).
With --check it fails unless every request has its access line and the log writes are fewer than
requests / 10 (the access log is buffered: docs/regd.md, "Logs"). Exit 77 when strace is missing
or may not trace here. bench/README.md ("Access log") quotes its figures.

Usage: log_syscalls.py PATH_TO_REGD [--requests N] [--check]
"""
import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def regd_pid(strace_pid):
    """The traced regd: strace's child running regd (strace forks short-lived probes first)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == strace_pid and comm.startswith("regd"):
            return int(entry)
    return None


def wait_ready(port, deadline):
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def push(conn, path, body, content_type, expect):
    conn.request("PUT" if "/manifests/" in path else "POST", path, body=body,
                 headers={"Content-Type": content_type})
    r = conn.getresponse()
    r.read()
    if r.status != expect:
        sys.exit(f"FAIL: {path}: {r.status}")


def push_image(conn):
    config = b'{"architecture":"amd64","os":"linux"}'
    layer = os.urandom(1024)
    descriptors = []
    for data, media in ((config, "application/vnd.oci.image.config.v1+json"),
                        (layer, "application/vnd.oci.image.layer.v1.tar")):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        push(conn, f"/v2/bench/app/blobs/uploads/?digest={digest}", data, "application/octet-stream", 201)
        descriptors.append({"mediaType": media, "digest": digest, "size": len(data)})
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": descriptors[0], "layers": [descriptors[1]]}).encode()
    push(conn, "/v2/bench/app/manifests/v1", manifest, "application/vnd.oci.image.manifest.v1+json", 201)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("regd")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if not shutil.which("strace"):
        print("SKIP: strace is not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="regd-logsys.")
    try:
        return measure(args, tmp)
    finally:
        if os.environ.get("KEEP_TMP") is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept " + tmp)


def measure(args, tmp):
    port = free_port()
    trace = os.path.join(tmp, "strace.out")
    log = os.path.join(tmp, "regd.log")
    with open(log, "wb") as err:
        strace = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=write", "-o", trace, args.regd,
                                   "--root", os.path.join(tmp, "root"), "--listen", f"127.0.0.1:{port}",
                                   "--threads", "2", "--log-format", "json"], stderr=err)
    ready = wait_ready(port, time.time() + 60)
    pid = regd_pid(strace.pid) if ready else None
    if pid is None:
        strace.kill()
        strace.wait()
        with open(log, errors="replace") as f:
            text = f.read()
        if "ptrace" in text or "Operation not permitted" in text:
            print("SKIP: strace may not trace here: " + text.strip()[:200])
            return 77
        sys.exit("FAIL: regd did not start under strace: " + text[-2000:])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    push_image(conn)
    started = time.time()
    for i in range(args.requests):
        conn.request("GET", "/v2/bench/app/manifests/v1", headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json", "X-Request-Id": f"get-{i}"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            sys.exit(f"FAIL: GET {i}: {r.status}")
    elapsed = time.time() - started
    conn.close()
    os.kill(pid, signal.SIGTERM)
    try:
        strace.wait(timeout=60)
    except subprocess.TimeoutExpired:
        strace.kill()
        sys.exit("FAIL: regd did not stop on SIGTERM")
    with open(log, errors="replace") as f:
        lines = f.read().splitlines()
    logged = sum(1 for line in lines if '"request_id":"get-' in line and '"msg":"request"' in line)
    with open(trace, errors="replace") as f:
        writes = [line for line in f if re.match(r"^\d+\s+write\(", line)]
    log_writes = sum(1 for line in writes if re.match(r"^\d+\s+write\(2,", line))
    print(f"{args.requests} manifest GETs in {elapsed:.1f} s (under strace): {logged} access lines, "
          f"{log_writes} write(2) calls to the log (fd 2), {len(writes)} write(2) calls in all, "
          f"{len(lines)} log lines")
    if args.check:
        if logged != args.requests:
            sys.exit(f"FAIL: {logged} access lines for {args.requests} requests")
        if log_writes * 10 >= args.requests:
            sys.exit(f"FAIL: {log_writes} log writes for {args.requests} requests (want < requests / 10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
