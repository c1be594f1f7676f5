#!/usr/bin/env bash
# bench/syscalls.sh — system calls regd makes per request (strace -f -c attached to the running
# server, N requests on one keep-alive connection, totals divided by N): manifest GET and HEAD
# by tag and by digest, a 1 MiB blob GET, a manifest PUT by tag (a tag move). With TRACE=1 also
# prints the file and descriptor calls of one request of each kind (strace -e trace=%file,%desc).
# Usage: bench/syscalls.sh [REGD]      Env: N=200  KEEP=1
set -euo pipefail
cd "$(dirname "$0")/.."
REGD=${1:-${REGD:-build-rel/daemon/regd}}
N=${N:-200}
[[ -x $REGD ]] || { echo "syscalls: no regd at $REGD" >&2; exit 1; }
command -v strace >/dev/null || { echo "syscalls: strace missing" >&2; exit 1; }
. bench/lib.sh
bench_init syscalls
port=$(free_port)
start_regd "$port" --threads 1 --access-log false

# client.py PORT N METHOD PATH [BODY_FILE CONTENT_TYPE]: N requests on one connection.
cat >"$work/client.py" <<'PY'
import http.client, sys
port, n, method, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
body = open(sys.argv[5], "rb").read() if len(sys.argv) > 5 else None
headers = {"Content-Type": sys.argv[6]} if len(sys.argv) > 6 else {}
c = http.client.HTTPConnection("127.0.0.1", port)
codes = {}
for _ in range(n):
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    r.read()
    codes[r.status] = codes.get(r.status, 0) + 1
print(codes)
PY
seed_image "$port"
mtype=application/vnd.oci.image.manifest.v1+json

count() {  # NAME METHOD PATH [BODY TYPE]
  local name=$1
  shift
  python3 "$work/client.py" "$port" 5 "$@" >/dev/null  # warm: caches, page cache
  strace -f -c -o "$work/trace.txt" -p "$regd_pid" 2>/dev/null &
  local tracer=$!
  sleep 0.5
  python3 "$work/client.py" "$port" "$N" "$@" >"$work/codes.txt"
  sleep 0.2
  kill -INT "$tracer"
  wait "$tracer" 2>/dev/null || true
  printf '%-30s %s\n' "$name" "$(awk -v n="$N" '
    $NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" { c = $4 / n; if (c >= 0.05) { out = out sprintf("%s %.2g, ", $NF, c); t += c } }
    END { printf "total %.1f: %s", t, out }' "$work/trace.txt") $(cat "$work/codes.txt")"
  if [[ -n ${TRACE:-} ]]; then
    strace -f -e trace=%file,%desc,%network -o "$work/one.txt" -p "$regd_pid" 2>/dev/null &
    tracer=$!
    sleep 0.5
    python3 "$work/client.py" "$port" 1 "$@" >/dev/null
    sleep 0.2
    kill -INT "$tracer"
    wait "$tracer" 2>/dev/null || true
    grep -vE 'epoll_wait|futex|resumed>$|restart_syscall|\+\+\+|---' "$work/one.txt" | sed 's/^/    /' | cut -c1-160
  fi
}
echo "system calls per request (strace -f -c, $N requests, one keep-alive connection, --threads 1)"
count "manifest GET by tag" GET /v2/app/manifests/v1
count "manifest GET by digest" GET "/v2/app/manifests/sha256:$mhex"
count "manifest HEAD by tag" HEAD /v2/app/manifests/v1
count "manifest HEAD by digest" HEAD "/v2/app/manifests/sha256:$mhex"
count "blob GET 1 MiB" GET "/v2/app/blobs/$ldig"
count "manifest PUT by tag (same)" PUT /v2/app/manifests/v1 "$work/manifest" "$mtype"
