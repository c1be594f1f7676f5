#!/usr/bin/env bash
# Follows README.md from a fresh copy of the source tree, literally: every ```sh block between
# "<!-- readme-test: begin -->" and "<!-- readme-test: end -->" runs as written, in order, in the
# copy's top directory, with HOME in the temp dir. Then checks the outcome: the image the README
# makes was pushed through regd, is listed, and pulls back (through regd and offline) with the
# same manifest digest; the man pages rendered.
#
# Two deviations, both forced: `./scripts/run.sh` runs in the background (the README runs it in
# its own terminal) with `--listen 127.0.0.1:0` appended, and the README's 127.0.0.1:5000 is
# replaced by the port it got, so tests can run in parallel; and the compiler is not run again:
# `cmake` and `ninja` on run.sh's PATH are stand-ins that put the binaries CTest built where the
# real build would (build-release/ + their path under CTest's build dir). Everything else,
# scripts/install-deps.sh included, is the real thing.
# Usage: readme_test.sh SOURCE_DIR BUILD_DIR REGD REGCTL
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
REGD=$(realpath "$3")
REGCTL=$(realpath "$4")
for tool in skopeo umoci jq curl man; do
  command -v "$tool" >/dev/null || { echo "skip: $tool is not installed (scripts/install-deps.sh)"; exit 77; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/regd-readme.XXXXXX")
run_pid=""
cleanup() {
  if [[ -n $run_pid ]]; then
    kill -TERM "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [[ -f $work/run.log ]] && { echo "--- run.sh output:" >&2; tail -n 20 "$work/run.log" >&2; }
  exit 1
}

# A fresh copy of the sources: what a clone holds, no build trees, no ./data.
repo=$work/regd
mkdir "$repo"
tar -C "$src" --exclude=./.git --exclude='./build*' --exclude=./data -cf - . | tar -C "$repo" -xf -
mkdir -p "$work/home" "$work/stand-ins"
export HOME=$work/home MANPAGER=cat PAGER=cat

# The stand-ins for the compiler run.
cat >"$work/stand-ins/cmake" <<EOF
#!/bin/sh
echo "cmake \$*" >>"$work/build-commands"
EOF
cat >"$work/stand-ins/ninja" <<EOF
#!/bin/bash
set -eu
echo "ninja \$*" >>"$work/build-commands"
[[ \$1 == -C ]] || exit 1
for target in "\${@:3}"; do
  case \$target in
    regd) bin=$REGD ;;
    regctl) bin=$REGCTL ;;
    *) echo "ninja stand-in: unknown target \$target" >&2; exit 1 ;;
  esac
  rel=\$(realpath --relative-to="$build" "\$bin")
  mkdir -p "\$(dirname "\$2/\$rel")"
  ln -sf "\$bin" "\$2/\$rel"
done
EOF
chmod +x "$work/stand-ins/cmake" "$work/stand-ins/ninja"

# The README's first two commands are the two scripts, in this order.
first_two=$(awk '/^```sh$/ {code = 1; next} code && /^```$/ {code = 0; n++; if (n == 2) exit; next} code {print}' "$src/README.md")
[[ $first_two == $'./scripts/run.sh\n./scripts/test.sh' ]] ||
  fail "README.md's first two commands are not ./scripts/run.sh and ./scripts/test.sh: $first_two"

# The README's walkthrough as one script.
blocks=$(awk '
  /^<!-- readme-test: begin -->$/ {on = 1; next}
  /^<!-- readme-test: end -->$/ {on = 0; next}
  on && /^```sh$/ {code = 1; next}
  on && code && /^```$/ {code = 0; next}
  on && code {print}' "$src/README.md")
[[ -n $blocks ]] || fail "no readme-test blocks in README.md"
grep -qx './scripts/run.sh' <<<"$blocks" || fail "the README's walkthrough does not start regd with ./scripts/run.sh"

start_run_sh() {
  PATH="$work/stand-ins:$PATH" ./scripts/run.sh --listen 127.0.0.1:0 >"$work/run.log" 2>&1 &
  run_pid=$!
  local i
  for i in $(seq 600); do
    port=$(grep -o '"msg":"listening".*' "$work/run.log" | grep -oE '"port":[0-9]+' | head -n1 | cut -d: -f2 || true)
    [[ -n $port ]] && curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$run_pid" 2>/dev/null || fail "run.sh exited"
    sleep 0.1
  done
  fail "regd from run.sh did not come up"
}

cd "$repo"
port=""
step=0
pending=""
while IFS= read -r line; do
  # A line ending in a backslash continues on the next one.
  if [[ $line == *\\ ]]; then
    pending+="${line%\\} "
    continue
  fi
  line=$pending$line
  pending=""
  step=$((step + 1))
  if [[ $line == ./scripts/run.sh ]]; then
    start_run_sh
    echo "readme: ./scripts/run.sh (regd on 127.0.0.1:$port)"
    continue
  fi
  [[ -n $port ]] || fail "'$line' comes before ./scripts/run.sh started regd"
  [[ -z $line || $line == \#* ]] && continue
  line=${line//127.0.0.1:5000/127.0.0.1:$port}
  echo "readme: $line"
  # Each line in this shell, as a reader types it: exports carry over.
  eval "$line" >"$work/out.$step" 2>&1 || { cat "$work/out.$step" >&2; fail "README command failed: $line"; }
  cat "$work/out.$step"
done <<<"$blocks"

# run.sh did set up and build what the README then uses.
grep -q '^ninja -C build-release regd regctl$' "$work/build-commands" || fail "run.sh did not build regd and regctl in build-release"
grep -q 'build-release/daemon' "$work/run.log" || fail "run.sh does not say where the binaries are"
[[ $(command -v regctl) == "$repo/build-release/cli/regctl" ]] || fail "the README's PATH does not find build-release's regctl"
[[ $(command -v regd) == "$repo/build-release/daemon/regd" ]] || fail "the README's PATH does not find build-release's regd"

# The outcome: one image, pushed, listed and pulled back with its digest unchanged.
digest_of() { jq -r --arg r "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r) | .digest' "$1/index.json"; }
pushed=$(digest_of image latest)
[[ $pushed == sha256:* ]] || fail "the README made no image in ./image"
served=$(curl -fsSI -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://127.0.0.1:$port/v2/team/app/manifests/1.0" | tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" {print $2}')
[[ $served == "$pushed" ]] || fail "regd serves team/app:1.0 as '$served', the README pushed $pushed"
[[ $(digest_of pulled 1.0) == "$pushed" ]] || fail "skopeo pulled $(digest_of pulled 1.0), pushed $pushed"
[[ $(digest_of pulled-offline 1.0) == "$pushed" ]] || fail "regctl pulled $(digest_of pulled-offline 1.0), pushed $pushed"
[[ -n $(find data/docker/registry/v2/repositories/team/app -name link -print -quit) ]] ||
  fail "nothing stored under ./data, run.sh's default root"
grep -rqx 'team/app' "$work"/out.* || fail "no README command listed team/app"
grep -rq 'REGD(8)' "$work"/out.* || fail "man ./man/regd.8 did not render the page"
grep -rq 'REGCTL(1)' "$work"/out.* || fail "man ./man/regctl.1 did not render the page"
echo "ok: README walkthrough pushed and pulled $pushed"
