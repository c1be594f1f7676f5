#!/usr/bin/env bash
# `cmake --install` into a staging tree (DESTDIR), for the prefixes /usr and /usr/local, gives a
# systemd service whose pieces line up: ExecStart= runs the installed regd, --config names the
# installed configuration, that configuration's storage root (and docs/examples/regd.toml's) is
# one of the unit's ReadWritePaths, the unit's User=/Group= is what the installed sysusers.d file
# creates (systemd-sysusers --root), a missing configuration exits with a status the unit's
# RestartPreventExitStatus= lists (no restart loop), the installed configuration starts regd,
# a reinstall keeps an edited configuration, every file lands where its consumer looks
# (systemd, systemd-sysusers, man, bash-completion, zsh, fish), and `systemd-analyze verify`
# finds nothing to say about the units. regd-gc.service runs the installed regctl gc on the
# installed configuration's root, as the same user, within its ReadWritePaths; regd-gc.timer
# starts it daily.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
for tool in systemd-analyze systemd-sysusers curl; do
  command -v "$tool" >/dev/null || { echo "skip: $tool is not installed (scripts/install-deps.sh)"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/regd-install.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# unit_value UNIT KEY: the values of KEY= in UNIT, one a line.
unit_value() { sed -n "s/^$2=//p" "$1"; }
# toml_root FILE: the root = "..." of a regd configuration.
toml_root() { sed -n 's/^root *= *"\(.*\)"$/\1/p' "$1"; }
# under PATH DIRS...: PATH is one of DIRS or inside one.
under() {
  local p=$1 d
  shift
  for d in "$@"; do
    [[ $p == "$d" || $p == "$d"/* ]] && return 0
  done
  return 1
}

check_prefix() {
  local prefix=$1 dest=$work/dest$1
  DESTDIR=$dest cmake --install "$build" --prefix "$prefix" >"$work/install.log" ||
    { cat "$work/install.log" >&2; fail "cmake --install --prefix $prefix"; }

  local unit=$dest$prefix/lib/systemd/system/regd.service
  [[ -f $unit ]] || fail "$prefix: no unit at ${unit#"$dest"}"
  systemd-analyze unit-paths 2>/dev/null | grep -qx "$prefix/lib/systemd/system" ||
    fail "$prefix: systemd does not look for units in $prefix/lib/systemd/system"
  grep -qE '@[A-Z_]+@' "$unit" && fail "$prefix: unconfigured placeholder in the unit: $(grep -E '@[A-Z_]+@' "$unit")"

  # ExecStart= runs the installed regd with the installed configuration.
  local exec_start bin config
  exec_start=$(unit_value "$unit" ExecStart)
  bin=${exec_start%% *}
  [[ $bin == "$prefix/sbin/regd" && -x $dest$bin ]] || fail "$prefix: ExecStart runs $bin, not the installed $prefix/sbin/regd"
  "$dest$bin" --version | grep -q '^regd ' || fail "$prefix: $bin is not regd"
  [[ $exec_start =~ --config\ ([^ ]+) ]] || fail "$prefix: ExecStart has no --config: $exec_start"
  config=${BASH_REMATCH[1]}
  local want_config=$prefix/etc/regd/regd.toml
  [[ $prefix == /usr ]] && want_config=/etc/regd/regd.toml
  [[ $config == "$want_config" && -f $dest$config ]] || fail "$prefix: --config $config, installed: $(cd "$dest" && find . -name regd.toml)"

  # systemctl reload sends SIGHUP (regd reloads on it); Type=notify, so the watchdog's pings and
  # READY=1/RELOADING=1/STOPPING=1 are heard (tests/e2e/sd_notify_test.py checks regd's side).
  [[ $(unit_value "$unit" Type) == notify ]] || fail "$prefix: regd.service is not Type=notify"
  [[ $(unit_value "$unit" ExecReload) == "/bin/kill -HUP \$MAINPID" ]] || fail "$prefix: ExecReload= does not send SIGHUP"
  [[ $(unit_value "$unit" WatchdogSec) =~ ^[0-9]+$ ]] || fail "$prefix: no WatchdogSec="

  # The storage roots are writable under the unit's sandbox, the default one is its StateDirectory.
  local rw=() p root state
  for p in $(unit_value "$unit" ReadWritePaths); do rw+=("${p#-}"); done
  ((${#rw[@]} > 0)) || fail "$prefix: no ReadWritePaths"
  root=$(toml_root "$dest$config")
  state=/var/lib/$(unit_value "$unit" StateDirectory)
  [[ $root == "$state" ]] || fail "$prefix: installed config's root $root is not the StateDirectory $state"
  under "$root" "${rw[@]}" || fail "$prefix: installed config's root $root is outside ReadWritePaths ${rw[*]}"
  under "$(toml_root "$src/docs/examples/regd.toml")" "${rw[@]}" ||
    fail "$prefix: docs/examples/regd.toml's root $(toml_root "$src/docs/examples/regd.toml") is outside ReadWritePaths ${rw[*]}"
  [[ -z $(unit_value "$unit" Environment | grep REGD_ROOT) ]] || fail "$prefix: REGD_ROOT in the unit competes with the config's root"
  check_gc_units "$dest" "$prefix" "$unit" "$root"

  # The unit's user and group are created by the installed sysusers.d file (found by
  # systemd-sysusers itself: it is given no file, so the directory is one it reads).
  local sysusers=$dest$prefix/lib/sysusers.d/regd.conf user group
  [[ -f $sysusers ]] || fail "$prefix: no sysusers.d/regd.conf"
  user=$(unit_value "$unit" User)
  group=$(unit_value "$unit" Group)
  mkdir -p "$dest/etc"  # where systemd-sysusers writes passwd and group
  systemd-sysusers --root="$dest" >"$work/sysusers.log" 2>&1 || { cat "$work/sysusers.log" >&2; fail "$prefix: systemd-sysusers"; }
  grep -q "^$user:[^:]*:[0-9]*:[0-9]*:[^:]*:$state:" "$dest/etc/passwd" ||
    fail "$prefix: systemd-sysusers made no user $user with home $state: $(cat "$dest/etc/passwd" 2>/dev/null)"
  grep -q "^$group:" "$dest/etc/group" || fail "$prefix: systemd-sysusers made no group $group"

  # A configuration error exits with a status that stops Restart=.
  local prevent rc=0
  prevent=$(unit_value "$unit" RestartPreventExitStatus)
  [[ -n $prevent ]] || fail "$prefix: no RestartPreventExitStatus=: a missing config restarts regd in a loop"
  "$dest$bin" --config "$work/no-such.toml" >"$work/missing.log" 2>&1 || rc=$?
  [[ " $prevent " == *" $rc "* ]] ||
    fail "$prefix: regd with a missing config exits $rc, RestartPreventExitStatus=$prevent: $(cat "$work/missing.log")"
  rc=0
  "$dest$bin" --config "$dest$config" --no-such-option >"$work/bad.log" 2>&1 || rc=$?
  [[ " $prevent " == *" $rc "* ]] || fail "$prefix: regd with a bad option exits $rc, RestartPreventExitStatus=$prevent"

  # The installed configuration starts regd (root and listen address overridden: not ours).
  local log=$work/regd.log i port=""
  "$dest$bin" --config "$dest$config" --root "$work/data" --listen 127.0.0.1:0 2>"$log" &
  pids+=($!)
  for i in $(seq 100); do
    port=$(grep -o '"msg":"listening".*' "$log" | grep -oE '"port":[0-9]+' | cut -d: -f2 || true)
    [[ -n $port ]] && curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    port=""
    sleep 0.05
  done
  [[ -n $port ]] || { cat "$log" >&2; fail "$prefix: regd does not start with the installed configuration"; }
  # regd-gc.service's command line as systemd runs it ($REGD_GC_OPTIONS empty: no argument), on
  # the root after one upload made its registry tree (regctl gc never creates one).
  printf 'gc me not' >"$work/blob"
  local digest
  digest=sha256:$(sha256sum "$work/blob" | cut -d' ' -f1)
  [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
    --data-binary @"$work/blob" "http://127.0.0.1:$port/v2/t/blobs/uploads/?digest=$digest") == 201 ]] ||
    fail "$prefix: an upload to the installed regd was not 201"
  local gc_unit=$dest$prefix/lib/systemd/system/regd-gc.service gc_cmd
  gc_cmd=$(unit_value "$gc_unit" ExecStart)
  gc_cmd=${gc_cmd/ \$REGD_GC_OPTIONS/}
  # shellcheck disable=SC2086 # the unit's words
  REGCTL_ROOT=$work/data $dest$gc_cmd >"$work/gc.log" 2>&1 || { cat "$work/gc.log" >&2; fail "$prefix: $gc_cmd"; }
  kill -TERM "${pids[-1]}"
  wait "${pids[-1]}" || fail "$prefix: regd did not exit 0 on SIGTERM"

  # A reinstall keeps the administrator's configuration.
  echo '# edited' >>"$dest$config"
  DESTDIR=$dest cmake --install "$build" --prefix "$prefix" >"$work/install.log"
  grep -qx '# edited' "$dest$config" || fail "$prefix: a reinstall overwrote $config"

  # Man pages and completions where man and the shells look.
  [[ -f $dest$prefix/share/man/man8/regd.8 && -f $dest$prefix/share/man/man1/regctl.1 ]] || fail "$prefix: man pages"
  MANPATH= manpath 2>/dev/null | tr ':' '\n' | grep -qx "$prefix/share/man" || fail "$prefix: man does not read $prefix/share/man"
  local bash_dir=$prefix/share/bash-completion/completions
  [[ -f $dest$bash_dir/regctl ]] || fail "$prefix: no bash completion in $bash_dir"
  [[ $prefix == /usr ]] && [[ $(pkg-config --variable=completionsdir bash-completion) != "$bash_dir" ]] &&
    fail "bash-completion reads $(pkg-config --variable=completionsdir bash-completion), not $bash_dir"
  local zsh_file
  zsh_file=$(cd "$dest" && find ".$prefix/share/zsh" -name _regctl | sed 's/^\.//')
  [[ -n $zsh_file ]] || fail "$prefix: no zsh completion"
  if command -v zsh >/dev/null; then
    zsh -fc 'print -l $fpath' | grep -qx "$(dirname "$zsh_file")" || fail "$prefix: zsh's fpath lacks $(dirname "$zsh_file")"
  fi
  local fish_dir=$prefix/share/fish/vendor_completions.d
  [[ -f $dest$fish_dir/regctl.fish ]] || fail "$prefix: no fish completion in $fish_dir"
  if command -v fish >/dev/null; then
    # XDG_DATA_DIRS as the XDG base directory specification defaults it.
    # A private HOME: other tests run fish at the same time, and fish keeps state there.
    mkdir -p "$work/fish-home"
    HOME=$work/fish-home XDG_CONFIG_HOME=$work/fish-home/config XDG_DATA_HOME=$work/fish-home/data \
      XDG_DATA_DIRS=/usr/local/share:/usr/share fish -c 'string join \n $__fish_vendor_completionsdirs' \
      >"$work/fish-dirs" 2>&1 || true
    grep -qx "$fish_dir" "$work/fish-dirs" || fail "$prefix: fish does not read $fish_dir ($(tr '\n' ' ' <"$work/fish-dirs"))"
  fi

  verify_unit "$dest" "$prefix"
  pass "$prefix: unit, binaries, configuration, user, man pages and completions line up"
}

# check_gc_units DEST PREFIX REGD_UNIT ROOT: regd-gc.service runs the installed regctl gc on ROOT
# (the installed configuration's) as regd.service's user, may write there, and regd-gc.timer
# starts it daily, catching up after downtime.
check_gc_units() {
  local dest=$1 prefix=$2 regd_unit=$3 root=$4
  local unit=$dest$prefix/lib/systemd/system/regd-gc.service timer=$dest$prefix/lib/systemd/system/regd-gc.timer
  [[ -f $unit && -f $timer ]] || fail "$prefix: no regd-gc.service or regd-gc.timer"
  grep -qE '@[A-Z_]+@' "$unit" && fail "$prefix: unconfigured placeholder in regd-gc.service"
  [[ $(unit_value "$unit" Type) == oneshot ]] || fail "$prefix: regd-gc.service is not Type=oneshot"
  [[ $(unit_value "$unit" ExecStart) == "$prefix/bin/regctl gc \$REGD_GC_OPTIONS" && -x $dest$prefix/bin/regctl ]] ||
    fail "$prefix: regd-gc.service runs $(unit_value "$unit" ExecStart), not the installed $prefix/bin/regctl gc"
  local gc_root
  gc_root=$(unit_value "$unit" Environment | sed -n 's/^REGCTL_ROOT=//p')
  [[ $gc_root == "$root" ]] || fail "$prefix: regd-gc.service collects $gc_root, the configuration serves $root"
  local rw=() p
  for p in $(unit_value "$unit" ReadWritePaths); do rw+=("${p#-}"); done
  under "$root" "${rw[@]}" || fail "$prefix: regd-gc.service cannot write $root (ReadWritePaths ${rw[*]})"
  [[ $(unit_value "$unit" User) == "$(unit_value "$regd_unit" User)" &&
    $(unit_value "$unit" Group) == "$(unit_value "$regd_unit" Group)" ]] ||
    fail "$prefix: regd-gc.service runs as another user than regd.service: what it writes must stay regd's"
  [[ " $(unit_value "$unit" SuccessExitStatus) " == *" 5 "* ]] || fail "$prefix: a GC lease held elsewhere (exit 5) fails regd-gc.service"
  [[ $(unit_value "$timer" OnCalendar) == daily && $(unit_value "$timer" Persistent) == true &&
    -n $(unit_value "$timer" RandomizedDelaySec) ]] || fail "$prefix: regd-gc.timer: not daily, persistent and randomized"
  [[ $(unit_value "$timer" WantedBy) == timers.target ]] || fail "$prefix: regd-gc.timer is not wanted by timers.target"
}

# systemd-analyze verify on the staged units, in a copy of the staging tree that also holds the
# host's own units and /bin/kill (the targets regd.service orders itself against). Any message fails.
verify_unit() {
  local dest=$1 prefix=$2 root=$work/verify-root
  rm -rf "$root"
  cp -a "$dest" "$root"
  mkdir -p "$root/usr/lib/systemd/system"
  cp -an /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/"
  # ExecReload='s /bin/kill (procps), as on the hosts the unit is for.
  mkdir -p "$root/bin"
  cp /bin/kill "$root/bin/"
  (cd "$root" && MANPATH=$root$prefix/share/man systemd-analyze verify --root="$root" \
    "$prefix/lib/systemd/system/regd.service" "$prefix/lib/systemd/system/regd-gc.service" \
    "$prefix/lib/systemd/system/regd-gc.timer") >"$work/verify.log" 2>&1 ||
    { cat "$work/verify.log" >&2; fail "$prefix: systemd-analyze verify"; }
  [[ ! -s $work/verify.log ]] || { cat "$work/verify.log" >&2; fail "$prefix: systemd-analyze verify has warnings"; }
}

check_prefix /usr
check_prefix /usr/local
