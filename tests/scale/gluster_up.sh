#!/usr/bin/env bash
# Brings up a throw-away GlusterFS volume for the scale-out tests: one glusterd bound to
# 127.0.0.1, one brick in a plain directory, and one FUSE client mount (its own glusterfs process,
# its own caches) per mount point given. Everything it starts leaves a pid file under STATE, which
# gluster_down.sh reads to stop exactly those processes.
#
# Usage: gluster_up.sh STATE PROFILE MOUNTPOINT...
#   STATE    an empty (or missing) directory owned by the caller: glusterd's working directory,
#            the brick, pid files, logs
#   PROFILE  strict  close-to-open consistency as on NFS (docs/scaling.md): volume options
#                    stat-prefetch, quick-read, open-behind and write-behind off; FUSE attribute,
#                    entry and negative timeouts 0; page cache dropped on open
#            cached  Gluster's stock client caching (1 s metadata caches, page cache kept across
#                    opens): not coherent across mounts
# Env:     GLUSTER_HOST  a host name other than "localhost" resolving to 127.0.0.1 (the gluster
#                        CLI refuses localhost and IP addresses as brick hosts); default: hostname
# Needs root, /dev/fuse and the Debian packages glusterfs-server and glusterfs-client. glusterd
# listens on the fixed port 24007 (bricks fetch their volfile there): run one volume per network
# namespace (gluster_test.sh and chaos_test.sh use `unshare -n`).
set -euo pipefail

[[ $# -ge 3 ]] || { echo "usage: gluster_up.sh STATE strict|cached MOUNTPOINT..." >&2; exit 2; }
state=$(realpath -m "$1")
profile=$2
shift 2
mounts=("$@")
host=${GLUSTER_HOST:-$(hostname)}
vol=regd

say() { echo "gluster_up: $*"; }
die() {
  echo "gluster_up: $*" >&2
  exit 1
}

[[ $(id -u) == 0 ]] || die "needs root"
[[ -c /dev/fuse ]] || die "no /dev/fuse"
command -v glusterd >/dev/null && command -v glusterfs >/dev/null && command -v gluster >/dev/null ||
  die "GlusterFS is not installed (scripts/install-deps.sh)"
[[ $profile == strict || $profile == cached ]] || die "profile must be strict or cached, not '$profile'"
[[ $(getent ahosts "$host" | awk '{ print $1; exit }') == 127.0.0.1 ]] ||
  die "host name '$host' does not resolve to 127.0.0.1 (set GLUSTER_HOST)"

started=$(date +%s.%N)
mkdir -p "$state"/{work,run,log,brick}
sock=$state/run/glusterd.sock
cli=(gluster --mode=script --glusterd-sock="$sock" --log-file="$state/log/cli.log")

# until SECONDS CMD...: retries CMD every 0.1 s for at most SECONDS.
until_ok() {
  local tries=$(($1 * 10))
  shift
  while ((tries-- > 0)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# The management daemon, from a volfile of our own: loopback only, state under $state.
cat >"$state/glusterd.vol" <<EOF
volume management
    type mgmt/glusterd
    option working-directory $state/work
    option run-directory $state/run
    option glusterd-sockfile $sock
    option transport-type socket
    option transport.address-family inet
    option transport.socket.bind-address 127.0.0.1
    option transport.socket.listen-port 24007
    option ping-timeout 0
    option event-threads 1
end-volume
EOF
glusterd -f "$state/glusterd.vol" -p "$state/run/glusterd.pid" -l "$state/log/glusterd.log" ||
  die "glusterd did not start ($state/log/glusterd.log)"
until_ok 15 "${cli[@]}" volume list || die "glusterd does not answer ($state/log/glusterd.log)"

# A single brick; "force" because the brick lives on the root filesystem.
"${cli[@]}" volume create "$vol" "$host:$state/brick/$vol" force >/dev/null || die "volume create failed"
if [[ $profile == strict ]]; then caching=off; else caching=on; fi
for opt in stat-prefetch quick-read open-behind write-behind; do
  "${cli[@]}" volume set "$vol" "performance.$opt" "$caching" >/dev/null || die "volume set $opt failed"
done
"${cli[@]}" volume start "$vol" >/dev/null || die "volume start failed"
brick_online() { "${cli[@]}" volume status "$vol" --xml 2>/dev/null | grep -q '<status>1</status>'; }
until_ok 20 brick_online || die "the brick did not come online ($state/log, /var/log/glusterfs/bricks)"

if [[ $profile == strict ]]; then
  fuse=(--attribute-timeout=0 --entry-timeout=0 --negative-timeout=0 --fopen-keep-cache=off)
else
  fuse=()
fi
: >"$state/run/mounts"
n=0
for mp in "${mounts[@]}"; do
  mp=$(realpath -m "$mp")
  n=$((n + 1))
  mkdir -p "$mp"
  if mountpoint -q "$mp"; then die "$mp is a mount point already"; fi
  glusterfs --process-name fuse --volfile-server="$host" --volfile-server-port=24007 --volfile-id="/$vol" \
    --log-file="$state/log/client$n.log" -p "$state/run/client$n.pid" "${fuse[@]}" "$mp" ||
    die "glusterfs client for $mp did not start"
  echo "$mp" >>"$state/run/mounts"
  # The root of a FUSE mount has inode 1 once the client is connected.
  mounted() { [[ $(stat -c %i "$1" 2>/dev/null) == 1 ]]; }
  until_ok 15 mounted "$mp" || die "mount of $mp failed ($state/log/client$n.log)"
done
say "volume $vol ($profile) on $host:$state/brick/$vol, ${#mounts[@]} mounts, up in" \
  "$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $started }") s"
