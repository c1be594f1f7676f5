#!/usr/bin/env bash
# Tears down what gluster_up.sh STATE started: unmounts its mounts, stops its client, brick and
# glusterd processes (only those named by its pid files, and only while they still are gluster
# processes), then removes STATE. Safe to run twice or after a failed gluster_up.sh.
# Usage: gluster_down.sh STATE
set -uo pipefail

[[ $# == 1 ]] || { echo "usage: gluster_down.sh STATE" >&2; exit 2; }
state=$(realpath -m "$1")
[[ -d $state ]] || exit 0
say() { echo "gluster_down: $*"; }

if [[ -f $state/run/mounts ]]; then
  while read -r mp; do
    grep -q " $mp fuse.glusterfs " /proc/mounts || continue
    umount "$mp" 2>/dev/null || { say "$mp busy, detaching it"; umount -l "$mp"; }
  done <"$state/run/mounts"
fi

# running PID: the process exists and is not a zombie (exited, not yet reaped by its parent).
running() { [[ -r /proc/$1/stat && $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

# stop PIDFILE...: SIGTERM each gluster process named, SIGKILL after 5 s.
stop() {
  local f pid pids=() socks=() i
  for f in "$@"; do
    [[ -s $f ]] || continue
    pid=$(cat "$f")
    grep -qs gluster "/proc/$pid/comm" || continue
    # a brick's unix socket (its -S argument, under /run/gluster) outlives it: note it
    socks+=($(tr '\0' '\n' <"/proc/$pid/cmdline" | awk 'prev == "-S" { print } { prev = $0 }'))
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for i in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do running "$pid" && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    running "$pid" && kill -KILL "$pid" 2>/dev/null && say "killed $pid"
  done
  for f in "${socks[@]}"; do
    [[ $f == /run/gluster/*.socket || $f == /var/run/gluster/*.socket ]] && rm -f "$f"
  done
  return 0
}
# Clients and bricks first (glusterd writes the bricks' pid files under its run directory).
shopt -s nullglob
stop "$state"/run/client*.pid "$state"/run/vols/*/*.pid
stop "$state/run/glusterd.pid"
if grep -q " $state/" /proc/mounts; then
  say "mounts remain under $state, not removing it"
  exit 1
fi
rm -rf "$state"
