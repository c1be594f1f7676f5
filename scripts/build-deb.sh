#!/usr/bin/env bash
# Builds the Debian package of this tree (regd_<version>_<arch>.deb: regd, regctl, the systemd
# units, man pages, completions, the default configuration; docs/install.md) in a Release build
# of its own, without sanitizers or tests, and prints the package's path. Needs dpkg-dev
# (dpkg-shlibdeps computes the dependencies). Incremental: a second run rebuilds what changed.
# Usage: scripts/build-deb.sh [BUILD_DIR]   (default: build-deb beside scripts/)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-deb}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# -O2, as Debian builds its packages (Release's -O3 compiles slower for nothing regd measures);
# a unity build, as in scripts/test.sh (1.7 min on 2 cores instead of 4.4).
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
  -DCMAKE_INSTALL_PREFIX=/usr -DREGD_BUILD_TESTS=OFF -DREGD_SANITIZE= -DCMAKE_UNITY_BUILD=ON \
  -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
rm -f "$build"/regd_*.deb
(cd "$build" && cpack -G DEB >cpack.log 2>&1) || { cat "$build/cpack.log" >&2; exit 1; }
ls "$build"/regd_*.deb
