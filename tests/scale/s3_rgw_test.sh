#!/usr/bin/env bash
# scale.s3_rgw: SigV4 signing (core/src/s3) against Ceph's S3 gateway. Brings up a single-node
# Ceph with radosgw and an S3 user on loopback (tests/scale/ceph_up.sh), runs the s3_rgw_tests
# binary against it, and stops the cluster. Exit 77 (skipped) without root or /dev/fuse.
# Usage: s3_rgw_test.sh S3_RGW_TESTS
set -euo pipefail
tests_bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/cephfs_env.sh"
cephfs_preflight
command -v radosgw >/dev/null || { echo "FAIL: radosgw is not installed (scripts/install-deps.sh)" >&2; exit 1; }
work=$(mktemp -d /tmp/regd-s3rgw.XXXXXX)
trap 'cephfs_stop; rm -rf "$work"' EXIT
CEPH_RGW_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CEPH_RGW_PORT
cephfs_start "$work/ceph"
set -a
# shellcheck disable=SC1091
source "$work/ceph/env"
set +a
# The binary skips without the gateway's variables: here a skip is a failure.
"$tests_bin" --gtest_brief=1 | tee "$work/out"
if grep -q SKIPPED "$work/out"; then
  echo "FAIL: tests skipped although radosgw is up" >&2
  exit 1
fi
