#!/usr/bin/env bash
# Run by deb_test.sh inside `unshare --mount`: installs the package DEB in throw-away overlays,
# starts regd from it, purges it. Everything written to /usr, /etc and /var lands in a tmpfs
# that goes with the namespace; /run is an empty tmpfs, so the maintainer scripts see no running
# systemd (and cannot reach the host's).
# Usage: deb_install.sh DEB WORK_DIR
set -euo pipefail
deb=$1
work=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
pid=""
cleanup() {
  if [[ -n $pid ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

mkdir -p "$work"
mount -t tmpfs -o mode=0700 regd-deb-layers "$work"
for dir in usr etc var; do
  mkdir -p "$work/$dir.upper" "$work/$dir.work"
  mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$work/$dir.upper,workdir=$work/$dir.work" "/$dir"
done
mount -t tmpfs tmpfs /run
cp "$deb" "$work/"
deb=$work/$(basename "$deb")

# Install: the user, the root, the units enabled, nothing started (no systemd here).
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >"$work/dpkg-install.log" 2>&1 ||
  { cat "$work/dpkg-install.log" >&2; fail "dpkg -i"; }
[[ $(dpkg-query -W -f='${Status}' regd) == "install ok installed" ]] || fail "dpkg: regd is $(dpkg-query -W -f='${Status}' regd)"
getent passwd regd | grep -q ':/var/lib/regd:' || fail "postinst made no user regd with home /var/lib/regd: $(getent passwd regd)"
[[ $(stat -c %U:%a /var/lib/regd) == regd:750 ]] || fail "/var/lib/regd: $(stat -c %U:%a /var/lib/regd)"
[[ -L /etc/systemd/system/multi-user.target.wants/regd.service ]] || fail "postinst did not enable regd.service"
[[ -L /etc/systemd/system/timers.target.wants/regd-gc.timer ]] || fail "postinst did not enable regd-gc.timer"
for proc in /proc/[0-9]*; do
  [[ $(readlink "$proc/exe" 2>/dev/null) != /usr/sbin/regd ]] || fail "postinst started regd without systemd: ${proc#/proc/}"
done
pass "dpkg -i: user regd, /var/lib/regd, units enabled, nothing started"

# Start it as the unit would (its User=, its ExecStart=; setpriv execs, so $! is regd), on a free
# loopback port instead of 5000.
setpriv --reuid=regd --regid=regd --init-groups -- /usr/sbin/regd --config /etc/regd/regd.toml --listen 127.0.0.1:0 --log-format json \
  2>"$work/regd.log" &
pid=$!
port=""
for _ in $(seq 200); do
  port=$(grep -o '"msg":"listening".*' "$work/regd.log" | grep -oE '"port":[0-9]+' | cut -d: -f2 || true)
  [[ -n $port ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
[[ -n $port ]] || { cat "$work/regd.log" >&2; fail "the installed regd did not start"; }
base=http://127.0.0.1:$port
[[ $(curl -s -o /dev/null -w '%{http_code}' "$base/v2/") == 200 ]] || fail "GET /v2/ is not 200"
printf 'hello from the package' >"$work/blob"
digest=sha256:$(sha256sum "$work/blob" | cut -d' ' -f1)
[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
  --data-binary @"$work/blob" "$base/v2/pkg/test/blobs/uploads/?digest=$digest") == 201 ]] ||
  fail "a monolithic upload into /var/lib/regd was not 201"
[[ $(curl -s "$base/v2/pkg/test/blobs/$digest") == "hello from the package" ]] || fail "the uploaded blob does not read back"
pass "regd from the package as user regd: /v2/ 200, an upload into /var/lib/regd"

# regd-gc.service's command, as its user: an empty REGD_GC_OPTIONS, the root from its Environment=.
unit=/usr/lib/systemd/system/regd-gc.service
root=$(sed -n 's/^Environment=REGCTL_ROOT=//p' "$unit")
[[ $root == /var/lib/regd ]] || fail "regd-gc.service collects $root, regd serves /var/lib/regd"
runuser -u regd -- env REGCTL_ROOT="$root" /usr/bin/regctl gc >"$work/gc.log" 2>&1 || { cat "$work/gc.log" >&2; fail "regctl gc as regd"; }
pass "regctl gc as regd-gc.service runs it: exit 0"

kill -TERM "$pid"
wait "$pid" || fail "regd did not exit 0 on SIGTERM"
pid=""

DEBIAN_FRONTEND=noninteractive dpkg --purge regd >"$work/dpkg-purge.log" 2>&1 ||
  { cat "$work/dpkg-purge.log" >&2; fail "dpkg --purge"; }
for gone in /usr/sbin/regd /usr/bin/regctl /etc/regd /usr/lib/systemd/system/regd.service \
  /etc/systemd/system/multi-user.target.wants/regd.service /etc/systemd/system/timers.target.wants/regd-gc.timer; do
  [[ ! -e $gone && ! -L $gone ]] || fail "dpkg --purge left $gone"
done
[[ -d /var/lib/regd ]] || fail "dpkg --purge removed the data in /var/lib/regd"
pass "dpkg --purge: files, configuration and unit links gone, /var/lib/regd kept"
