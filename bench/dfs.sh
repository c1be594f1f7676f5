#!/usr/bin/env bash
# bench/dfs.sh — regd against registry:2 (Debian's docker-registry) on one loopback distributed
# file system, each server on its own client mount, in the same run: skopeo push and pull of a
# small image one at a time, pushes a second with 4 clients at once, manifest GETs by tag (wrk),
# and the file system calls of one tag PUT (strace), each as regd / registry:2.
#   gluster  a GlusterFS volume with the strict profile of tests/scale (close-to-open
#            consistency, client caches off), a FUSE mount per server (tests/scale/gluster_up.sh)
#   cephfs   a CephFS (memstore OSD, one MDS), a ceph-fuse mount per server
#            (tests/scale/ceph_up.sh)
# Both are brought up and torn down here, in a private network namespace.
#
# Usage: bench/dfs.sh gluster|cephfs [REGD]     (about 3 minutes; needs root and /dev/fuse)
# Env:   RUNS=3  DURATION=5 (seconds per wrk run)  CONNS=32  SMALL_MIB=1 (per layer, 3 layers)
#        CLIENTS=4 and PUSHES=8 (per client) for the concurrent pushes  TAG_PUTS=20  KEEP=1
# Everything listens on 127.0.0.1 only; every loop is bounded by count or time.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
FS=${1:-}
[[ $FS == @(gluster|cephfs) ]] || { echo "usage: bench/dfs.sh gluster|cephfs [REGD]" >&2; exit 2; }
REGD=${2:-${REGD:-build-release/daemon/regd}}
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
SMALL_MIB=${SMALL_MIB:-1}
CLIENTS=${CLIENTS:-4}
PUSHES=${PUSHES:-8}
TAG_PUTS=${TAG_PUTS:-20}
[[ -x $REGD ]] || { echo "dfs: no regd at $REGD (bench/run builds one in build-release/)" >&2; exit 1; }
for tool in skopeo wrk curl strace docker-registry python3; do
  command -v "$tool" >/dev/null || { echo "dfs: $tool missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
if [[ $FS == gluster ]]; then
  source tests/scale/gluster_env.sh
  gluster_preflight
  scale_enter_netns "$self" "$@"
  gluster_pick_host
  label="GlusterFS (strict profile, loopback, one FUSE mount per server)"
else
  source tests/scale/cephfs_env.sh
  cephfs_preflight
  scale_enter_netns "$self" "$@"
  label="CephFS (loopback: one memstore OSD, one MDS; one ceph-fuse mount per server)"
fi

. bench/lib.sh
bench_init "$FS"
dfs_down() {
  if [[ $FS == gluster ]]; then
    timeout 60 bash tests/scale/gluster_down.sh "$work/gluster" >>"$work/dfs.log" 2>&1 || true
  else
    cephfs_stop
  fi
}
trap 'bench_cleanup_all' EXIT
bench_cleanup_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  dfs_down
  [ -n "${KEEP:-}" ] || grep -q " $work/" /proc/mounts || rm -rf "$work"
}
echo "dfs: bringing up $label" >&2
if [[ $FS == gluster ]]; then
  timeout 120 bash tests/scale/gluster_up.sh "$work/gluster" strict "$work/m-regd" "$work/m-dist" >>"$work/dfs.log" 2>&1 ||
    { tail -n 20 "$work/dfs.log" >&2; echo "dfs: the volume did not come up" >&2; exit 1; }
else
  cephfs_start "$work/ceph" >&2 || exit 1
  cephfs_mount "$work/m-regd" && cephfs_mount "$work/m-dist" || { echo "dfs: ceph-fuse mount failed" >&2; exit 1; }
fi
mkdir -p "$work/m-regd/regd" "$work/m-dist/dist"
ln -s "$work/m-regd/regd" "$work/store"  # start_regd's root

port=$(free_port)
start_regd "$port" --log-format json --access-log false --threads 2
pid_regd=$regd_pid
dport=$(free_port)
start_distribution "$work/m-dist/dist" "$dport"
pid_dist=${pids[-1]}
wait_up "http://127.0.0.1:$dport"
declare -A url=([regd]=http://127.0.0.1:$port [registry2]=http://127.0.0.1:$dport)
declare -A pid=([regd]=$pid_regd [registry2]=$pid_dist)

echo "dfs: test images" >&2
for run in $(seq 1 "$RUNS"); do make_image "$work/img-$run" 3 "$SMALL_MIB"; done
for c in $(seq 1 "$CLIENTS"); do make_image "$work/conc-$c" 3 "$SMALL_MIB"; done

# Calls on the file system's metadata (what a FUSE client sends to the bricks as lookups,
# creates, renames, syncs); reads and writes are left out, as a Go server reads its sockets with
# read(2) too.
metadata_calls='^(openat|open|newfstatat|fstat|stat|lstat|statx|access|faccessat2?|mkdir|mkdirat|rename|renameat2?|unlink|unlinkat|rmdir|fsync|fdatasync|getdents64|utimensat|futimens|linkat|symlinkat|readlinkat|fcntl|flock|ftruncate)$'
clients=()
secs() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN{printf "%.3f", (b-a)/1e9}'; }
declare -A res
for s in registry2 regd; do
  host=${url[$s]#http://}
  echo "dfs: $s: skopeo push and pull, one at a time" >&2
  for run in $(seq 1 "$RUNS"); do
    t0=$(date +%s%N)
    skopeo copy -q --dest-tls-verify=false "oci:$work/img-$run:latest" "docker://$host/push/img$run:latest"
    echo "$(secs "$t0")" >>"$work/$s.push"
    t0=$(date +%s%N)
    skopeo copy -q --src-tls-verify=false "docker://$host/push/img$run:latest" "oci:$work/$s-pull$run:latest"
    echo "$(secs "$t0")" >>"$work/$s.pull"
  done
  res[$s.push]=$(median <"$work/$s.push")
  res[$s.pull]=$(median <"$work/$s.pull")

  echo "dfs: $s: $CLIENTS clients, $PUSHES pushes each" >&2
  t0=$(date +%s%N)
  for c in $(seq 1 "$CLIENTS"); do
    (
      for n in $(seq 1 "$PUSHES"); do
        # A new repository each time: skopeo's blob cache would otherwise skip the layers.
        skopeo copy -q --dest-tls-verify=false "oci:$work/conc-$c:latest" "docker://$host/conc$c/n$n:latest" &&
          echo ok >>"$work/$s.conc.$c"
      done
    ) &
    clients+=($!)
  done
  wait "${clients[@]}"
  clients=()
  t=$(secs "$t0")
  done_pushes=$(cat "$work/$s".conc.* 2>/dev/null | wc -l)
  res[$s.rate]=$(awk -v n="$done_pushes" -v t="$t" 'BEGIN{printf "%.2f", n / t}')
  res[$s.rate_n]="$done_pushes/$((CLIENTS * PUSHES))"

  echo "dfs: $s: manifest GETs by tag" >&2
  for _ in $(seq 1 "$RUNS"); do
    wrk -t2 -c"$CONNS" -d"${DURATION}s" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
      "${url[$s]}/v2/push/img1/manifests/latest" | awk '/^Requests\/sec/ {print $2}' >>"$work/$s.get"
  done
  res[$s.get]=$(median <"$work/$s.get")

  # File system calls of a tag PUT: the manifest pushed above under TAG_PUTS new tags, strace
  # attached to the server; every call that names or touches a file (not the socket's).
  echo "dfs: $s: $TAG_PUTS tag PUTs under strace" >&2
  curl -sSf -H 'Accept: application/vnd.oci.image.manifest.v1+json' -o "$work/$s.manifest" \
    "${url[$s]}/v2/push/img1/manifests/latest"
  strace -f -c -o "$work/$s.strace" -p "${pid[$s]}" 2>/dev/null &
  st=$!
  sleep 1
  for n in $(seq 1 "$TAG_PUTS"); do
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$work/$s.manifest" \
      -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "${url[$s]}/v2/push/img1/manifests/t$n")
    [[ $code == 201 ]] || { echo "dfs: $s: tag PUT answered $code" >&2; exit 1; }
  done
  sleep 0.5
  kill -INT "$st"
  wait "$st" 2>/dev/null || true
  # strace -c columns: % time, seconds, usecs/call, calls, [errors], syscall.
  res[$s.fsops]=$(awk -v n="$TAG_PUTS" -v re="$metadata_calls" '$NF ~ re && $4 ~ /^[0-9]+$/ {s += $4}
    END {printf "%.1f", s / n}' "$work/$s.strace")
  awk '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ {printf "%s %s\n", $NF, $4}' "$work/$s.strace" |
    sort -k2 -nr | head -14 | awk -v n="$TAG_PUTS" '{printf "%s %.1f, ", $1, $2 / n}' >"$work/$s.top"
done

ratio() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN{ if (a == 0 || b == 0) print "n/a"; else printf "%.2f", (d == "hi" ? a / b : b / a) }'; }
echo
echo "$label, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "regd: $("$REGD" --version 2>/dev/null | head -1); registry:2: $(docker-registry --version 2>/dev/null | awk '{print $NF}')"
echo
echo "| row | regd | registry:2 | regd vs registry:2 (higher is better) |"
echo "|---|---:|---:|---:|"
echo "| skopeo push 3×$SMALL_MIB MiB, one at a time (s, median of $RUNS) | ${res[regd.push]} | ${res[registry2.push]} | $(ratio "${res[regd.push]}" "${res[registry2.push]}" lo) |"
echo "| skopeo pull 3×$SMALL_MIB MiB (s) | ${res[regd.pull]} | ${res[registry2.pull]} | $(ratio "${res[regd.pull]}" "${res[registry2.pull]}" lo) |"
echo "| pushes a second, $CLIENTS clients at once (completed: regd ${res[regd.rate_n]}, registry:2 ${res[registry2.rate_n]}) | ${res[regd.rate]} | ${res[registry2.rate]} | $(ratio "${res[regd.rate]}" "${res[registry2.rate]}" hi) |"
echo "| GET manifest by tag, wrk -c$CONNS (req/s, median of $RUNS) | ${res[regd.get]} | ${res[registry2.get]} | $(ratio "${res[regd.get]}" "${res[registry2.get]}" hi) |"
echo "| file system metadata calls per tag PUT (existing manifest, new tag; strace) | ${res[regd.fsops]} | ${res[registry2.fsops]} | $(ratio "${res[regd.fsops]}" "${res[registry2.fsops]}" lo) |"
echo
echo "Most frequent calls per tag PUT, regd: $(cat "$work/regd.top")"
echo "Most frequent calls per tag PUT, registry:2: $(cat "$work/registry2.top")"
