# shellcheck shell=bash
# GlusterFS helpers for the scale-out scripts that run regd on a loopback GlusterFS volume
# (gluster_test.sh, chaos_test.sh): sourced, never run. Source it before lib.sh and call
# scale_enter_netns (netns.sh) first: it re-executes the script in its own network namespace.
# gluster_up.sh / gluster_down.sh (beside this file) do the work.

GLUSTER_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$GLUSTER_SCRIPTS/netns.sh"

# gluster_preflight: exits 77 without root or /dev/fuse, 1 without the GlusterFS packages.
gluster_preflight() {
  [[ $(id -u) == 0 ]] || { echo "SKIP: needs root (glusterd, FUSE mounts)"; exit 77; }
  [[ -c /dev/fuse ]] || { echo "SKIP: /dev/fuse is missing"; exit 77; }
  if ! { command -v glusterd && command -v glusterfs && command -v gluster; } >/dev/null; then
    echo "FAIL: GlusterFS is not installed (scripts/install-deps.sh installs glusterfs-server glusterfs-client)" >&2
    exit 1
  fi
}

# gluster_pick_host: exports GLUSTER_HOST, a name other than localhost resolving to 127.0.0.1 (the
# gluster CLI refuses localhost as a brick host): this machine's name if it resolves there, else
# regd-gluster-test, added to /etc/hosts if missing (and said so).
gluster_pick_host() {
  resolves() { [[ $(getent ahosts "$1" | awk '{ print $1; exit }') == 127.0.0.1 ]]; }
  GLUSTER_HOST=$(hostname)
  if ! resolves "$GLUSTER_HOST"; then
    GLUSTER_HOST=regd-gluster-test
    if ! resolves "$GLUSTER_HOST"; then
      echo "NOTE: adding '127.0.0.1 $GLUSTER_HOST' to /etc/hosts (the gluster CLI refuses localhost)"
      echo "127.0.0.1 $GLUSTER_HOST" >>/etc/hosts
    fi
  fi
  export GLUSTER_HOST
}

# The functions below need lib.sh ($SCALE_TMP, fail).

# gluster_mount PROFILE MOUNTPOINT...: a fresh volume in $SCALE_TMP/gluster, mounted at each
# MOUNTPOINT; fails the test (with the log's tail) when GlusterFS cannot be brought up.
gluster_mount() {
  local profile=$1
  shift
  if ! timeout 120 bash "$GLUSTER_SCRIPTS/gluster_up.sh" "$SCALE_TMP/gluster" "$profile" "$@" \
    >>"$SCALE_TMP/gluster.log" 2>&1; then
    tail -n 20 "$SCALE_TMP/gluster.log" >&2
    fail "GlusterFS could not be brought up (gluster_up.sh, output above)"
  fi
  tail -n1 "$SCALE_TMP/gluster.log"
}

# gluster_unmount: unmounts and stops everything gluster_mount started (idempotent).
gluster_unmount() {
  timeout 60 bash "$GLUSTER_SCRIPTS/gluster_down.sh" "$SCALE_TMP/gluster" >>"$SCALE_TMP/gluster.log" 2>&1 ||
    echo "gluster_down.sh failed (see $SCALE_TMP/gluster.log)" >&2
}
