#!/usr/bin/env bash
# Three regd instances on a real distributed filesystem: one loopback GlusterFS volume, FUSE-
# mounted once per instance (each mount its own client and caches), brought up by
# gluster_up.sh / gluster_down.sh beside this script.
#  strict profile (close-to-open, like NFS): a conformance-style workload across instances (push
#    via one, pull via another, chunked upload crossing all three, tag moves, deletes, catalog
#    and tag lists), tag reads racing tag moves (the ESTALE case), and concurrent pushers of
#    images sharing layers: everything must pass, with no 5xx.
#  cached profile (Gluster's stock client caching, NOT coherent across mounts): regd must never
#    serve bytes that do not match their digest, never lose an acknowledged push, and converge
#    within the cache time (bounded poll of 10 s).
# Runs in its own network namespace when it can (glusterd's port 24007 is fixed). Skips (77)
# without root, /dev/fuse or the GlusterFS packages.
# Usage: gluster_test.sh PATH_TO_REGD [PATH_TO_REGCTL]
set -euo pipefail
REGD=$1
REGCTL=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/gluster_env.sh"
{ command -v glusterd && command -v glusterfs; } >/dev/null ||
  { echo "SKIP: GlusterFS not installed (scripts/install-deps.sh installs glusterfs-server glusterfs-client)"; exit 77; }
gluster_preflight
scale_enter_netns "$0" "$@"
gluster_pick_host

source "$here/lib.sh"
need_cmds skopeo curl jq python3
MOUNTS=("$SCALE_TMP/m1" "$SCALE_TMP/m2" "$SCALE_TMP/m3")
NAMES=(a b c)

stop_instances() {
  local n
  for n in "${NAMES[@]}"; do
    [[ -n ${PID[$n]:-} ]] || continue
    kill -KILL "${PID[$n]}" 2>/dev/null || true
    wait "${PID[$n]}" 2>/dev/null || true
  done
}
dfs_down() {
  stop_instances
  gluster_unmount
}
SCALE_CLEANUP+=(dfs_down)

# dfs_up PROFILE: a fresh volume and three mounts.
dfs_up() {
  gluster_mount "$1" "${MOUNTS[@]}"
}

# start_instances: a on m1, b on m2, c on m3, each its own regd.
start_instances() {
  local i
  for i in 0 1 2; do
    start_regd "${NAMES[$i]}" "${MOUNTS[$i]}/registry"
  done
  A=127.0.0.1:${PORT[a]} B=127.0.0.1:${PORT[b]} C=127.0.0.1:${PORT[c]}
  ADDRS=("$A" "$B" "$C")
}

# manifest HOSTPORT REPO REF: prints "<status> <Docker-Content-Digest> <sha256 of body>".
manifest() {
  local body hdr code
  body=$(mktemp "$SCALE_TMP/m.XXXXXX")
  hdr=$(mktemp "$SCALE_TMP/h.XXXXXX")
  code=$(curl -s -o "$body" -D "$hdr" -w '%{http_code}' --max-time 30 \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$1/v2/$2/manifests/$3" || true)
  echo "$code $(awk 'tolower($1) == "docker-content-digest:" { print $2 }' "$hdr" | tr -d '\r') sha256:$(sha256sum "$body" | cut -d' ' -f1)"
  rm -f "$body" "$hdr"
}

# put_manifest HOSTPORT REPO REF LAYOUT DIGEST: PUTs the manifest stored in LAYOUT; prints status.
put_manifest() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X PUT \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary @"$4/blobs/sha256/${5#sha256:}" "http://$1/v2/$2/manifests/$3"
}

no_5xx() {
  local n bad
  for n in "${NAMES[@]}"; do
    bad=$(requests "$n" | jq -c 'select(.status >= 500)' | head -n3)
    [[ -z $bad ]] || fail "$n answered 5xx: $bad"
  done
}

verify_root() {
  [[ -n $REGCTL ]] || return 0
  timeout 120 "$REGCTL" --root "${MOUNTS[0]}/registry" -q verify >"$SCALE_TMP/verify.out" 2>&1 || {
    cat "$SCALE_TMP/verify.out" >&2
    fail "regctl verify on the volume ($1)"
  }
}

source "$here/gluster_strict.sh"
source "$here/gluster_cached.sh"

step "strict profile: GlusterFS volume, three FUSE mounts"
dfs_up strict
start_instances
strict_workload
stop_instances

step "cached profile: Gluster's stock client caching"
dfs_down
dfs_up cached
start_instances
cached_workload
dfs_down
echo PASS
