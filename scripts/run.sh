#!/usr/bin/env bash
# Installs the build dependencies, builds regd (Release) and starts it with the embedded
# defaults: storage under ./data, listening on 127.0.0.1:5000. Extra arguments go to regd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DREGD_BUILD_TESTS=OFF >/dev/null
ninja -C build-release regd regctl
cat >&2 <<EOF
run.sh: built $PWD/build-release/daemon/regd and $PWD/build-release/cli/regctl.
run.sh: to use them from another shell: export PATH="$PWD/build-release/daemon:$PWD/build-release/cli:\$PATH"
run.sh: man pages without installing: man ./man/regd.8, man ./man/regctl.1 (README.md: First push and pull)
run.sh: starting regd: storage ./data and 127.0.0.1:5000 unless arguments say otherwise; Ctrl-C stops it.
EOF
exec build-release/daemon/regd "$@"
