#!/usr/bin/env bash
# Brings up a throw-away single-node Ceph cluster for the scale-out tests, on 127.0.0.1 only: one
# monitor, one manager, CEPH_OSDS memstore OSDs, one MDS serving the file system "cephfs", radosgw
# when CEPH_RGW_PORT is set, and one ceph-fuse client mount (its own process, cache and session)
# per mount point given. Everything it starts leaves a pid file under STATE/run, which
# ceph_down.sh reads to stop exactly those processes.
#
# Usage: ceph_up.sh STATE [MOUNTPOINT...]
#   STATE  an empty (or missing) directory owned by the caller, at most 60 characters long (the
#          daemons' admin sockets live under it and a socket path is limited to 107 bytes)
# Env:   CEPH_MON_PORT  the monitor's msgr v1 port (v2 is the next one); default 6789: run one
#                       cluster per network namespace, as the tests do (`unshare -n`)
#        CEPH_OSDS      OSDs (default 1); pools keep min(CEPH_OSDS, 3) copies
#        CEPH_STORE_MIB memory per OSD (default 4096; memstore does not enforce it)
#        CEPH_RGW_PORT  start radosgw there and create an S3 user (keys in STATE/env)
#        CEPH_TIMEOUT   seconds per wait (default 60)
# Prints STATE/env's lines at the end (CEPH_CONF=..., and S3_* with radosgw).
# Needs root for the FUSE mounts and Debian's ceph-mon ceph-mgr ceph-osd ceph-mds ceph-fuse
# ceph-common uuid-runtime (and radosgw): scripts/install-deps.sh installs them.
#
# One setting matters beyond defaults: `mds tick interval = 0.2`. With the default (5 s), a file
# create in a directory whose names another client keeps looking up waits for the next tick
# (regd's instances do exactly that: one polls a tag while another writes it).
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: ceph_up.sh STATE [MOUNTPOINT...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
state=$(cd "$1" && pwd)
shift
mounts=("$@")
[[ ${#state} -le 60 ]] || { echo "ceph_up: STATE must be at most 60 characters: $state" >&2; exit 2; }
mon_port=${CEPH_MON_PORT:-6789}
osds=${CEPH_OSDS:-1}
copies=$((osds < 3 ? osds : 3))
store_bytes=$((${CEPH_STORE_MIB:-4096} * 1048576))
export CEPH_TIMEOUT=${CEPH_TIMEOUT:-60}
conf=$state/ceph.conf
t0=$(date +%s%N)
say() { echo "ceph_up: [$((($(date +%s%N) - t0) / 1000000)) ms] $*"; }
# Debian's python3-rados is for /usr/bin/python3 (a python3 earlier in PATH may not have it).
ctl() { timeout $((CEPH_TIMEOUT + 30)) /usr/bin/python3 "$here/cephctl.py" "$conf" "$@"; }
# started NAME CMD...: runs a daemon that forks itself away and writes STATE/run/NAME.pid.
started() {
  local name=$1
  shift
  "$@" >"$state/log/$name.out" 2>&1 || { tail -n 20 "$state/log/$name.out" >&2; echo "ceph_up: $name did not start" >&2; exit 1; }
}

for tool in ceph-mon ceph-mgr ceph-osd ceph-mds ceph-fuse ceph-authtool monmaptool uuidgen; do
  command -v "$tool" >/dev/null || { echo "ceph_up: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done
/usr/bin/python3 -c 'import rados' 2>/dev/null || { echo "ceph_up: python3-rados missing (ceph-common)" >&2; exit 1; }
[[ -z ${CEPH_RGW_PORT:-} ]] || command -v radosgw >/dev/null || { echo "ceph_up: radosgw missing" >&2; exit 1; }
[[ ! -e $state/run ]] || { echo "ceph_up: $state was used before: run ceph_down.sh first" >&2; exit 1; }
mkdir -p "$state"/{keys,run,log,crash}

fsid=$(uuidgen)
cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$((mon_port + 1)),v1:127.0.0.1:$mon_port]
mon initial members = a
public addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $state/keys/\$name.keyring
run dir = $state/run
admin socket = $state/run/\$name.asok
pid file = $state/run/\$name.pid
log file = $state/log/\$name.log
log to stderr = false
err to stderr = true
mon cluster log file = $state/log/cluster.log
crash dir = $state/crash
osd pool default size = $copies
osd pool default min size = $(((copies + 1) / 2))
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
osd objectstore = memstore

[mon]
mon data = $state/mon.\$id
paxos propose interval = 0.1

[mgr]
mgr data = $state/mgr.\$id
mgr stats period = 1
# Only the modules that are always on: importing all of them costs seconds of CPU.
mgr module path = $state/mgr-modules
mgr initial modules = iostat

[osd]
osd data = $state/osd.\$id
memstore device bytes = $store_bytes
osd memory target = 536870912
osd op num shards = 2
osd op num threads per shard = 1

[mds]
mds data = $state/mds.\$id
mds cache memory limit = 268435456
mds tick interval = 0.2

[client]
log file = $state/log/\$name.\$pid.log
admin socket = $state/run/\$name.\$pid.asok

[client.rgw.a]
rgw data = $state/rgw.a
rgw frontends = beast endpoint=127.0.0.1:${CEPH_RGW_PORT:-0} tcp_nodelay=1
admin socket = $state/run/\$name.asok
log file = $state/log/\$name.log
EOF
mkdir -p "$state/mgr-modules"
for m in mgr_module.py mgr_util.py balancer crash devicehealth orchestrator pg_autoscaler progress \
  rbd_support status telemetry volumes iostat; do
  [[ -e /usr/share/ceph/mgr/$m ]] && ln -s "/usr/share/ceph/mgr/$m" "$state/mgr-modules/$m"
done

# The monitor, with the admin key.
ceph-authtool --create-keyring "$state/keys/mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$state/keys/client.admin.keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$state/keys/mon.a.keyring" --import-keyring "$state/keys/client.admin.keyring" >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$((mon_port + 1)),v1:127.0.0.1:$mon_port]" "$state/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$state/monmap" --keyring "$state/keys/mon.a.keyring"
started mon.a ceph-mon -c "$conf" -i a
ctl quorum
say "monitor in quorum"

ctl keys "$state/keys" mgr.x mds.a
mkdir -p "$state/mgr.x" "$state/mds.a"
started mgr.x ceph-mgr -c "$conf" -i x
for i in $(seq 0 $((osds - 1))); do
  uuid=$(uuidgen)
  secret=$(ceph-authtool --gen-print-key)
  id=$(ctl osd-new "$uuid" "$secret")
  [[ $id == "$i" ]] || { echo "ceph_up: expected OSD id $i, got '$id'" >&2; exit 1; }
  ceph-authtool --create-keyring "$state/keys/osd.$i.keyring" --name "osd.$i" --add-key "$secret" >/dev/null
  mkdir -p "$state/osd.$i"
  ceph-osd -c "$conf" -i "$i" --mkfs --osd-uuid "$uuid" >"$state/log/osd.$i.mkfs.out" 2>&1 ||
    { tail -n 20 "$state/log/osd.$i.mkfs.out" >&2; exit 1; }
  started "osd.$i" ceph-osd -c "$conf" -i "$i"
done
ctl fs cephfs
started mds.a ceph-mds -c "$conf" -i a
if [[ -n ${CEPH_RGW_PORT:-} ]]; then
  ctl rgw-pools
  ctl keys "$state/keys" client.rgw.a
fi
ctl wait-osds "$osds"
say "$osds OSD(s) up"
if [[ -n ${CEPH_RGW_PORT:-} ]]; then
  mkdir -p "$state/rgw.a"
  started rgw.a radosgw -c "$conf" -n client.rgw.a
fi
ctl wait-mds
say "MDS active"

echo "CEPH_CONF=$conf" >"$state/env"
n=0
for m in "${mounts[@]}"; do
  n=$((n + 1))
  mkdir -p "$m"
  ctl fs-client "$state/keys" "client.fuse$n"
  ceph-fuse -c "$conf" -n "client.fuse$n" "$m" >"$state/log/ceph-fuse.$n.out" 2>&1 ||
    { cat "$state/log/ceph-fuse.$n.out" >&2; echo "ceph_up: ceph-fuse $m failed" >&2; exit 1; }
  realpath "$m" >>"$state/run/mounts"
done
for m in "${mounts[@]}"; do
  for _ in $(seq 1 $((CEPH_TIMEOUT * 10))); do mountpoint -q "$m" && break; sleep 0.1; done
  mountpoint -q "$m" || { echo "ceph_up: $m is not mounted" >&2; exit 1; }
done
[[ ${#mounts[@]} -eq 0 ]] || say "${#mounts[@]} ceph-fuse mount(s)"

if [[ -n ${CEPH_RGW_PORT:-} ]]; then
  key=$(python3 -c 'import secrets, string; print("".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20)))')
  secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(30))')
  for _ in $(seq 1 $((CEPH_TIMEOUT * 5))); do
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$CEPH_RGW_PORT/" && break
    sleep 0.2
  done
  timeout "$CEPH_TIMEOUT" radosgw-admin -c "$conf" user create --uid=regd --display-name=regd \
    --access-key="$key" --secret-key="$secret" >"$state/log/radosgw-admin.out" 2>&1 ||
    { tail -n 20 "$state/log/radosgw-admin.out" >&2; exit 1; }
  cat >>"$state/env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$CEPH_RGW_PORT
S3_REGION=us-east-1
AWS_ACCESS_KEY_ID=$key
AWS_SECRET_ACCESS_KEY=$secret
EOF
  say "radosgw on 127.0.0.1:$CEPH_RGW_PORT"
fi
ctl wait-clean
say "up: $(ctl health)"
cat "$state/env"
