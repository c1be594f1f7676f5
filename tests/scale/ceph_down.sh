#!/usr/bin/env bash
# Stops what ceph_up.sh started under STATE: unmounts its ceph-fuse mounts (lazily when busy),
# then SIGTERMs the daemons named by STATE/run/*.pid, SIGKILLs those still running after 5 s.
# Idempotent. Usage: ceph_down.sh STATE
set -uo pipefail
[[ $# -eq 1 ]] || { echo "usage: ceph_down.sh STATE" >&2; exit 2; }
state=$1
[[ -d $state/run ]] || exit 0
if [[ -f $state/run/mounts ]]; then
  while read -r m; do
    mountpoint -q "$m" || continue
    fusermount3 -u "$m" 2>/dev/null || fusermount -u "$m" 2>/dev/null || umount "$m" 2>/dev/null ||
      umount -l "$m" || echo "ceph_down: could not unmount $m" >&2
  done <"$state/run/mounts"
fi
pids=()
for f in "$state"/run/*.pid; do
  [[ -f $f ]] || continue
  pid=$(cat "$f")
  # Only a Ceph process: a pid file left behind may name a pid reused since.
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == @(ceph-*|radosgw) ]] || continue
  kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
done
for _ in $(seq 1 50); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [[ $alive == 0 ]] && break
  sleep 0.1
done
for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
exit 0
