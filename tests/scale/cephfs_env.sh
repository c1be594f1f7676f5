# shellcheck shell=bash
# CephFS helpers for the tests that run regd instances over one CephFS, each instance on its own
# ceph-fuse mount (its own client, caches and MDS session, as separate machines would have):
# sourced, never run. Call cephfs_preflight, then scale_enter_netns (the monitor's port is fixed),
# then cephfs_start. ceph_up.sh / ceph_down.sh (beside this file) do the work.

CEPHFS_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$CEPHFS_SCRIPTS/netns.sh"

# cephfs_preflight: exits 77 without root or /dev/fuse, 1 without Ceph's packages.
cephfs_preflight() {
  [[ $(id -u) == 0 ]] || { echo "SKIP: needs root (Ceph daemons, FUSE mounts)"; exit 77; }
  [[ -c /dev/fuse ]] || { echo "SKIP: /dev/fuse is missing"; exit 77; }
  local tool
  for tool in ceph-mon ceph-mgr ceph-osd ceph-mds ceph-fuse; do
    command -v "$tool" >/dev/null && continue
    echo "FAIL: $tool is not installed (scripts/install-deps.sh installs Ceph's packages)" >&2
    exit 1
  done
}

# cephfs_start STATE: a fresh cluster with one file system, its state and logs under STATE (at
# most 60 characters); returns 1 with the log's tail when it does not come up.
cephfs_start() {
  CEPHFS_STATE=$1
  if [[ -z ${SCALE_NETNS:-} && -z ${CEPH_MON_PORT:-} ]]; then
    # The host's loopback, shared with other tests: two free ports in a row for the monitor.
    CEPH_MON_PORT=$(python3 -c '
import socket
for _ in range(100):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()')
    export CEPH_MON_PORT
  fi
  if ! timeout 150 bash "$CEPHFS_SCRIPTS/ceph_up.sh" "$CEPHFS_STATE" >>"$CEPHFS_STATE.log" 2>&1; then
    tail -n 20 "$CEPHFS_STATE.log" >&2
    echo "CephFS could not be brought up (ceph_up.sh, output above)" >&2
    return 1
  fi
  grep '^ceph_up: .* up: ' "$CEPHFS_STATE.log" | tail -n1
}

# cephfs_mount MOUNTPOINT: one more ceph-fuse client of the file system at MOUNTPOINT (created).
cephfs_mount() {
  local m=$1 _
  mkdir -p "$m"
  # Every mount is a client.admin session; each needs a pid file of its own.
  ceph-fuse -c "$CEPHFS_STATE/ceph.conf" -n client.admin --pid-file "$CEPHFS_STATE/run/fuse.$(echo "$m" | md5sum | cut -c1-12).pid" \
    "$m" >>"$CEPHFS_STATE.log" 2>&1 || return 1
  realpath "$m" >>"$CEPHFS_STATE/run/mounts"
  for _ in $(seq 1 100); do
    mountpoint -q "$m" && return 0
    sleep 0.1
  done
  return 1
}

# cephfs_stop: unmounts every mount and stops the cluster (idempotent).
cephfs_stop() {
  [[ -n ${CEPHFS_STATE:-} ]] || return 0
  timeout 60 bash "$CEPHFS_SCRIPTS/ceph_down.sh" "$CEPHFS_STATE" >>"$CEPHFS_STATE.log" 2>&1 ||
    echo "ceph_down.sh failed (see $CEPHFS_STATE.log)" >&2
}

# cephfs_kill_osd ID: SIGKILLs OSD ID. Its store is in memory (memstore): what it held is gone,
# as with a failed disk.
cephfs_kill_osd() {
  kill -KILL "$(cat "$CEPHFS_STATE/run/osd.$1.pid")"
}

# cephfs_replace_osd ID: a new, empty OSD in place of ID (same id and uuid, as a replaced disk);
# Ceph backfills it from the other copies.
cephfs_replace_osd() {
  local conf=$CEPHFS_STATE/ceph.conf uuid
  uuid=$(/usr/bin/python3 "$CEPHFS_SCRIPTS/cephctl.py" "$conf" osd-uuid "$1") || return 1
  rm -rf "$CEPHFS_STATE/osd.$1"
  mkdir -p "$CEPHFS_STATE/osd.$1"
  ceph-osd -c "$conf" -i "$1" --mkfs --osd-uuid "$uuid" >>"$CEPHFS_STATE.log" 2>&1 &&
    ceph-osd -c "$conf" -i "$1" >>"$CEPHFS_STATE.log" 2>&1
}

# cephfs_wait_clean [SECONDS]: until every placement group is active+clean again (healed).
cephfs_wait_clean() {
  CEPH_TIMEOUT=${1:-120} /usr/bin/python3 "$CEPHFS_SCRIPTS/cephctl.py" "$CEPHFS_STATE/ceph.conf" wait-clean
}
