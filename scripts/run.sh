#!/usr/bin/env bash
# Installs the build dependencies, builds regd (Release) and starts it with the embedded
# defaults: storage under ./data, listening on 127.0.0.1:5000. Extra arguments go to regd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DREGD_BUILD_TESTS=OFF >/dev/null
ninja -C build-release regd regctl
exec build-release/daemon/regd "$@"
