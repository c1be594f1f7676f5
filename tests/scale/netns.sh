# shellcheck shell=bash
# scale_enter_netns SCRIPT ARGS...: re-executes SCRIPT in a private network namespace (lo up),
# where the fixed ports of glusterd (24007) and of a Ceph monitor collide with nothing, so that
# such tests can run side by side; returns if that is not possible (sourced, never run).
scale_enter_netns() {
  if [[ -z ${SCALE_NETNS:-} ]] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
    exec env SCALE_NETNS=1 unshare -n bash -c 'ip link set lo up 2>/dev/null || true; exec bash "$0" "$@"' "$@"
  fi
  if [[ -n ${SCALE_NETNS:-} ]]; then
    echo "running in a private network namespace"
  else
    echo "no private network namespace (unshare -n failed): using the host's loopback ports"
  fi
}
