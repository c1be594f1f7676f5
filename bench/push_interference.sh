#!/usr/bin/env bash
# bench/push_interference.sh — does a manifest GET wait behind other clients' pushes? Measures
# manifest GET latency (wrk -t2 -c32 --latency, by tag) on an idle regd, then again while
# PUSHERS clients each push 64 MiB blobs in a loop (upload, fsync, commit, rename) to the same
# instance, and prints both p99s and their ratio (issue 13's target: within 2x).
#
# Usage: bench/push_interference.sh [REGD]    (about 1 minute)
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

push_blob() {  # REPO FILE DIGEST: POST then one PUT with the whole body; prints the status
  local loc sep='?'
  loc=$(curl -sS -o /dev/null -D - -X POST "$base/v2/$1/blobs/uploads/" | tr -d '\r' |
    awk 'tolower($1)=="location:" {print $2}')
  [[ $loc == *\?* ]] && sep='&'
  curl -sS -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    -T "$2" "$base$loc${sep}digest=$3"
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
touch "$work/pushing"
for i in $(seq 1 "$PUSHERS"); do
  (
    dig=sha256:$(cat "$work/blob$i.sha")
    for n in $(seq 1 "$MAX_PUSHES"); do
      [[ -e $work/pushing ]] || break
      echo "$(push_blob "load$i-$n" "$work/blob$i" "$dig")" >>"$work/push$i.codes"
    done
  ) &
  pids+=($!)
done
sleep 1  # the uploads are under way
get "$work/loaded.txt"
rm -f "$work/pushing"
wait "${pids[@]:1}" 2>/dev/null || true
pushes=$(cat "$work"/push*.codes 2>/dev/null | grep -c '^201$' || true)
failed=$(cat "$work"/push*.codes 2>/dev/null | grep -vc '^201$' || true)

idle=$(p99 "$work/idle.txt")
loaded=$(p99 "$work/loaded.txt")
printf 'regd %s\n' "$("$REGD" --version 2>/dev/null | head -1)"
printf '%-34s %10s %10s\n' "manifest GET by tag" "req/s" "p99 ms"
printf '%-34s %10s %10s\n' "idle" "$(rps "$work/idle.txt")" "$idle"
printf '%-34s %10s %10s\n' "while $PUSHERS x ${BLOB_MIB} MiB pushes" "$(rps "$work/loaded.txt")" "$loaded"
printf 'p99 loaded / idle: %s   (pushes completed: %s, failed: %s)\n' \
  "$(awk -v a="$loaded" -v b="$idle" 'BEGIN {printf "%.2fx", a/b}')" "$pushes" "$failed"
