#!/usr/bin/env bash
# bench/push_interference.sh — does a manifest GET wait behind other clients' pushes? Measures
# manifest GET latency (wrk -t2 -c32 --latency, by tag) on an idle regd, then again while
# PUSHERS clients each push 64 MiB blobs in a loop (upload, fsync, commit, rename) to the same
# instance, and prints both p99s and their ratio (issue 13's target: within 2x). Then the control:
# the same pushes to a second regd process over the same root on the same machine, the GETs still
# on the first. What the first instance's p99 gains in the control is the machine's share (CPU,
# disk, page cache); what it gains beyond that when the pushes are its own is regd's (requests
# queued behind other requests' work inside the process).
#
# Usage: bench/push_interference.sh [REGD]    (about 1.5 minutes)
# Env:   DURATION=10 (seconds per wrk run)  PUSHERS=8  BLOB_MIB=64  MAX_PUSHES=40 (per pusher,
#        an upper bound; the pushers stop when the loaded wrk run ends)  CONNS=32
#        KEEP=1 (keep the temp dir)  REGD_FLAGS="..." (extra regd flags)
# Everything listens on 127.0.0.1 only; every loop is bounded by count.
set -euo pipefail
cd "$(dirname "$0")/.."
REGD=${1:-${REGD:-build-rel/daemon/regd}}
DURATION=${DURATION:-10}
PUSHERS=${PUSHERS:-8}
BLOB_MIB=${BLOB_MIB:-64}
MAX_PUSHES=${MAX_PUSHES:-40}
CONNS=${CONNS:-32}
[[ -x $REGD ]] || { echo "push_interference: no regd at $REGD (cmake -B build-rel -DCMAKE_BUILD_TYPE=Release)" >&2; exit 1; }
for tool in wrk curl sha256sum python3; do
  command -v "$tool" >/dev/null || { echo "push_interference: $tool missing" >&2; exit 1; }
done

. bench/lib.sh
bench_init interference
port=$(free_port)
base=http://127.0.0.1:$port
# shellcheck disable=SC2086
start_regd "$port" --log-format json --access-log false ${REGD_FLAGS:-}
other_port=$(free_port)
# shellcheck disable=SC2086
start_regd "$other_port" --log-format json --access-log false ${REGD_FLAGS:-}

push_blob() {  # REPO FILE DIGEST [BASE]: POST then one PUT with the whole body; prints the status
  local loc sep='?' to=${4:-$base}
  loc=$(curl -sS -o /dev/null -D - -X POST "$to/v2/$1/blobs/uploads/" | tr -d '\r' |
    awk 'tolower($1)=="location:" {print $2}')
  [[ $loc == *\?* ]] && sep='&'
  curl -sS -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    -T "$2" "$to$loc${sep}digest=$3"
}

# The image every GET asks for.
printf '{"architecture":"amd64","os":"linux"}' >"$work/config"
head -c 4096 /dev/urandom >"$work/layer"
cdig=sha256:$(sha256sum "$work/config" | cut -d' ' -f1)
ldig=sha256:$(sha256sum "$work/layer" | cut -d' ' -f1)
[[ $(push_blob app "$work/config" "$cdig") == 201 ]]
[[ $(push_blob app "$work/layer" "$ldig") == 201 ]]
cat >"$work/manifest" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"$cdig","size":$(stat -c %s "$work/config")},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"$ldig","size":4096}]}
JSON
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary "@$work/manifest" "$base/v2/app/manifests/v1")
[[ $code == 201 ]] || { echo "push_interference: manifest PUT answered $code" >&2; exit 1; }

p99() {  # wrk output -> p99 in ms
  awk '$1=="99%" { v=$2; if (v ~ /us$/) { sub(/us$/,"",v); v/=1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) }
                   else if (v ~ /s$/) { sub(/s$/,"",v); v*=1000 } printf "%.2f", v }' "$1"
}
rps() { awk '/^Requests\/sec/ {printf "%.0f", $2}' "$1"; }
get() {  # OUTPUT: one wrk run against the manifest by tag
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$base/v2/app/manifests/v1" >"$1"
}

get "$work/idle.txt"

# Each pusher: its own random blob, pushed to a new repository each round (so each round
# uploads, fsyncs and commits 64 MiB), until the loaded wrk run is over or MAX_PUSHES.
for i in $(seq 1 "$PUSHERS"); do
  head -c "$((BLOB_MIB * 1024 * 1024))" /dev/urandom >"$work/blob$i"
  sha256sum "$work/blob$i" | cut -d' ' -f1 >"$work/blob$i.sha"
done
# loaded NAME BASE: a wrk run while the pushers push to BASE; their status codes go to
# $work/NAME.push*.codes.
loaded() {
  local name=$1 to=$2 i
  local pushers=()
  touch "$work/pushing"
  for i in $(seq 1 "$PUSHERS"); do
    (
      dig=sha256:$(cat "$work/blob$i.sha")
      for n in $(seq 1 "$MAX_PUSHES"); do
        [[ -e $work/pushing ]] || break
        echo "$(push_blob "$name$i-$n" "$work/blob$i" "$dig" "$to")" >>"$work/$name.push$i.codes"
      done
    ) &
    pushers+=($!)
  done
  sleep 1  # the uploads are under way
  get "$work/$name.txt"
  rm -f "$work/pushing"
  wait "${pushers[@]}" 2>/dev/null || true
}
codes() {  # NAME: "completed failed" pushes of that run
  local ok bad
  ok=$(cat "$work/$1".push*.codes 2>/dev/null | grep -c '^201$' || true)
  bad=$(cat "$work/$1".push*.codes 2>/dev/null | grep -vc '^201$' || true)
  echo "$ok $bad"
}
loaded same "$base"
loaded other "http://127.0.0.1:$other_port"

idle=$(p99 "$work/idle.txt")
same=$(p99 "$work/same.txt")
other=$(p99 "$work/other.txt")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a/b}'; }
read -r same_ok same_bad < <(codes same)
read -r other_ok other_bad < <(codes other)
printf 'regd %s\n' "$("$REGD" --version 2>/dev/null | head -1)"
printf '%-50s %10s %10s %12s\n' "manifest GET by tag, one instance" "req/s" "p99 ms" "p99 / idle"
printf '%-50s %10s %10s %12s\n' "idle" "$(rps "$work/idle.txt")" "$idle" "1.00x"
printf '%-50s %10s %10s %12s\n' "while $PUSHERS x ${BLOB_MIB} MiB pushes to it" "$(rps "$work/same.txt")" "$same" "$(ratio "$same" "$idle")"
printf '%-50s %10s %10s %12s\n' "while the same pushes go to another regd process" "$(rps "$work/other.txt")" "$other" "$(ratio "$other" "$idle")"
printf 'pushes completed/failed: %s/%s to it, %s/%s to the other process\n' "$same_ok" "$same_bad" "$other_ok" "$other_bad"
printf "regd's own share (p99 with its own pushes / with the other process's): %s\n" "$(ratio "$same" "$other")"
