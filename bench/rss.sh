#!/usr/bin/env bash
# bench/rss.sh — peak resident memory (VmHWM) of regd and of registry:2 (Debian's
# docker-registry) in the same run: after start, with IDLE keep-alive connections open (each
# served one request, then left idle), and after a BLOB_MIB blob was pushed and pulled.
# Usage: bench/rss.sh [REGD]      Env: IDLE=2000  BLOB_MIB=1024  KEEP=1
# Everything listens on 127.0.0.1 only; every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
REGD=${1:-${REGD:-build-rel/daemon/regd}}
IDLE=${IDLE:-2000}
BLOB_MIB=${BLOB_MIB:-1024}
[[ -x $REGD ]] || { echo "rss: no regd at $REGD" >&2; exit 1; }
. bench/lib.sh
bench_init rss
hwm() { awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
rss() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# IDLE connections, each with one GET /v2/ answered and then kept open until stdin closes.
idle_clients() {  # PORT: prints "open" once all are connected and answered; holds them
  python3 - "$1" "$IDLE" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
    conns.append(s)
ok = 0
for s in conns:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    ok += data.startswith(b"HTTP/1.1 200")
print("open", ok, flush=True)
sys.stdin.read()
PY
}

push_pull() {  # BASE: pushes $work/blob as one PUT, pulls it back to /dev/null
  local loc sep='?'
  loc=$(curl -sS -o /dev/null -D - -X POST "$1/v2/rss/blobs/uploads/" | tr -d '\r' |
    awk 'tolower($1)=="location:" {print $2}')
  [[ $loc == *\?* ]] && sep='&'
  [[ $loc == http* ]] || loc=$1$loc
  local put get
  put=$(curl -sS -o /dev/null -w '%{http_code}' -T "$work/blob" "$loc${sep}digest=$digest")
  get=$(curl -sS -o /dev/null -w '%{http_code}' "$1/v2/rss/blobs/$digest")
  echo "push $put pull $get"
}

measure() {  # NAME PID BASE
  local name=$1 pid=$2 base=$3 port=${3##*:}
  local start; start=$(hwm "$pid")
  coproc IDLER { idle_clients "$port"; }
  local line; read -r line <&"${IDLER[0]}"
  local with_idle; with_idle=$(hwm "$pid"); local rss_idle; rss_idle=$(rss "$pid")
  exec {IDLER[1]}>&-
  wait "$IDLER_PID" 2>/dev/null || true
  local pp; pp=$(push_pull "$base")
  printf '%-12s start %7s MiB | %s idle conns (%s): VmHWM %7s MiB (VmRSS %s) | %s MiB blob (%s): VmHWM %7s MiB\n' \
    "$name" "$start" "$IDLE" "$line" "$with_idle" "$rss_idle" "$BLOB_MIB" "$pp" "$(hwm "$pid")"
}

head -c "$((BLOB_MIB * 1024 * 1024))" /dev/urandom >"$work/blob"
digest=sha256:$(sha256sum "$work/blob" | cut -d' ' -f1)

port=$(free_port)
start_regd "$port" --access-log false
measure regd "$regd_pid" "http://127.0.0.1:$port"

if command -v docker-registry >/dev/null; then
  dport=$(free_port)
  start_distribution "$work/dist" "$dport"
  dist_pid=${pids[-1]}
  wait_up "http://127.0.0.1:$dport"
  measure registry:2 "$dist_pid" "http://127.0.0.1:$dport"
fi
