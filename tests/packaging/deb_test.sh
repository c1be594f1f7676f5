#!/usr/bin/env bash
# The Debian package (scripts/build-deb.sh: a Release build of its own, no sanitizers) holds what
# `cmake --install --prefix /usr` installs, with dependencies from dpkg-shlibdeps, the
# configuration as a conffile and the maintainer scripts; its units pass `systemd-analyze
# verify`. Then it is installed with dpkg, regd started from it as the user its postinst created
# and used (an upload, regctl gc as regd-gc.service runs it), and purged: all inside a private
# mount namespace whose /usr, /etc and /var are tmpfs-backed overlays and whose /run hides any
# running systemd (deb_install.sh), so the host is left as it was; checked at the end.
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR. Needs root (skips with 77 otherwise). The package is
# built in BUILD_DIR/deb, or in $REGD_DEB_BUILD when set (e.g. build-deb: one already built).
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
[[ $(id -u) == 0 ]] || { echo "skip: needs root (dpkg -i in a mount namespace)"; exit 77; }
for tool in dpkg-deb dpkg-shlibdeps cpack unshare systemd-analyze curl; do
  command -v "$tool" >/dev/null || { echo "skip: $tool is not installed (scripts/install-deps.sh)"; exit 77; }
done
unshare --mount true 2>/dev/null || { echo "skip: cannot make a mount namespace here"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

work=$(mktemp -d /tmp/regd-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The host before: the test must leave it so.
host_state() {
  dpkg-query -W -f='${Status}\n' regd 2>/dev/null || echo "regd: not installed"
  getent passwd regd || echo "no user regd"
  ls -d /usr/sbin/regd /usr/bin/regctl /etc/regd /usr/lib/systemd/system/regd.service \
    /etc/systemd/system/multi-user.target.wants/regd.service 2>/dev/null || true
}
host_state >"$work/host-before"

started=$SECONDS
deb=$("$src/scripts/build-deb.sh" "${REGD_DEB_BUILD:-$build/deb}") || fail "scripts/build-deb.sh"
pass "built $(basename "$deb") in $((SECONDS - started)) s"

# Control fields.
dpkg-deb -I "$deb" >"$work/info"
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == regd ]] || fail "Package: $(field Package)"
[[ $(field Version) == "$(sed -n 's/^project(regd VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ]] ||
  fail "Version: $(field Version)"
[[ $(field Architecture) == "$(dpkg --print-architecture)" ]] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
for lib in libc6 libstdc++6 libssl3 libsystemd0 libjwt; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib (dpkg-shlibdeps): $depends"
done
[[ $depends == *"systemd | adduser"* ]] || fail "Depends lacks 'systemd | adduser': $depends"
[[ $depends != *asan* && $depends != *ubsan* ]] || fail "a sanitizer runtime in Depends: $depends"
for script in postinst prerm postrm conffiles; do
  grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\*? *$script" "$work/info" || fail "no $script in the package: $(cat "$work/info")"
done
[[ $(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles) == /etc/regd/regd.toml ]] || fail "conffiles is not /etc/regd/regd.toml"
pass "control: regd $(field Version) $(field Architecture), Depends: $depends"

# Contents: every file `cmake --install --prefix /usr` installs, nothing of the build or tests.
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' | grep -v '/$' | sort >"$work/contents"
want=(/usr/sbin/regd /usr/bin/regctl /etc/regd/regd.toml
  /usr/lib/systemd/system/regd.service /usr/lib/systemd/system/regd-gc.service /usr/lib/systemd/system/regd-gc.timer
  /usr/lib/sysusers.d/regd.conf /usr/share/man/man8/regd.8 /usr/share/man/man1/regctl.1
  /usr/share/bash-completion/completions/regctl /usr/share/zsh/vendor-completions/_regctl
  /usr/share/fish/vendor_completions.d/regctl.fish)
printf '%s\n' "${want[@]}" | sort >"$work/want"
diff -u "$work/want" "$work/contents" || fail "package contents differ from the list above"
pass "contents: ${#want[@]} files, as listed"

dpkg-deb -x "$deb" "$work/tree"
readelf -d "$work/tree/usr/sbin/regd" | grep -q 'asan\|ubsan' && fail "the packaged regd is a sanitizer build"
grep -q "^ExecStart=/usr/sbin/regd --config /etc/regd/regd.toml$" "$work/tree/usr/lib/systemd/system/regd.service" ||
  fail "regd.service: $(grep ExecStart= "$work/tree/usr/lib/systemd/system/regd.service")"
grep -q "^ExecStart=/usr/bin/regctl gc " "$work/tree/usr/lib/systemd/system/regd-gc.service" ||
  fail "regd-gc.service: $(grep ExecStart= "$work/tree/usr/lib/systemd/system/regd-gc.service")"
# systemd-analyze verify on the packaged units, over the host's own (the targets they name) and
# its /bin/kill (ExecReload=).
mkdir -p "$work/tree/usr/lib/systemd/system" "$work/tree/bin"
cp -an /usr/lib/systemd/system/. "$work/tree/usr/lib/systemd/system/"
cp /bin/kill "$work/tree/bin/"  # ExecReload=
(cd "$work/tree" && MANPATH=$work/tree/usr/share/man systemd-analyze verify --root="$work/tree" /usr/lib/systemd/system/regd.service \
  /usr/lib/systemd/system/regd-gc.service /usr/lib/systemd/system/regd-gc.timer) >"$work/verify.log" 2>&1 ||
  { cat "$work/verify.log" >&2; fail "systemd-analyze verify on the packaged units"; }
[[ ! -s $work/verify.log ]] || { cat "$work/verify.log" >&2; fail "systemd-analyze verify has warnings"; }
pass "packaged units: ExecStart= paths, systemd-analyze verify silent"

started=$SECONDS
unshare --mount --propagation private bash "$src/tests/packaging/deb_install.sh" "$deb" "$work/ns" ||
  fail "install, start and purge in the mount namespace (above)"
pass "dpkg -i, regd started from the package, dpkg --purge: $((SECONDS - started)) s"

host_state >"$work/host-after"
diff -u "$work/host-before" "$work/host-after" || fail "the host changed"
pass "the host is as it was"
