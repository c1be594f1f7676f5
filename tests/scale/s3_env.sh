# shellcheck shell=bash
# S3 helpers for the tests that run regd and regctl over an s3:// root (docs/adr/0002): one
# single-node Ceph with radosgw on loopback (ceph_up.sh with CEPH_RGW_PORT, no ceph-fuse mount)
# and one bucket, shared by every instance and regctl of the script. Sourced, never run. Call
# s3_preflight, then scale_enter_netns (the Ceph monitor's port is fixed), then s3_start.

S3_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$S3_SCRIPTS/cephfs_env.sh"

# s3_preflight: exits 77 without root, 1 without Ceph's or radosgw's packages (no FUSE needed).
s3_preflight() {
  [[ $(id -u) == 0 ]] || { echo "SKIP: needs root (Ceph daemons)"; exit 77; }
  local tool
  for tool in ceph-mon ceph-mgr ceph-osd ceph-mds radosgw radosgw-admin; do
    command -v "$tool" >/dev/null && continue
    echo "FAIL: $tool is not installed (scripts/install-deps.sh installs Ceph's packages)" >&2
    exit 1
  done
}

# s3_start STATE [BUCKET]: a fresh cluster with radosgw (state and logs under STATE, at most 60
# characters) and the bucket BUCKET (default regd) in it. Exports AWS_ENDPOINT_URL, AWS_REGION,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (what regd and regctl read) and S3_BUCKET; clears the
# variables that would take precedence over them or point elsewhere. Returns 1 when it fails.
s3_start() {
  local state=$1 _
  S3_BUCKET=${2:-regd}
  CEPH_RGW_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export CEPH_RGW_PORT
  cephfs_start "$state" || return 1
  # shellcheck disable=SC1091
  source "$state/env"
  # The endpoint is plain http on loopback: a CA bundle has no use, and registry:2's AWS SDK
  # panics on any AWS_CA_BUNDLE (its HTTP transport cannot take one).
  unset AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE AWS_CA_BUNDLE
  export AWS_ENDPOINT_URL=$S3_ENDPOINT AWS_REGION=$S3_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_BUCKET
  # radosgw answers before its user is usable everywhere: a few attempts.
  for _ in $(seq 10); do
    s3ctl mb "$S3_BUCKET" 2>"$state.mb.err" && return 0
    sleep 0.5
  done
  cat "$state.mb.err" >&2
  echo "could not create bucket $S3_BUCKET on $AWS_ENDPOINT_URL" >&2
  return 1
}

# s3_stop: stops the cluster (idempotent).
s3_stop() {
  cephfs_stop
}

# s3ctl ARGS...: tests/scale/s3ctl.py (mb, ls, put, get, rm, status) against the cluster.
s3ctl() {
  python3 "$S3_SCRIPTS/s3ctl.py" "$@"
}

# s3_root PREFIX: the s3:// root for PREFIX in the bucket.
s3_root() {
  echo "s3://$S3_BUCKET/$1"
}

# s3_keys ROOT: every object key under the s3:// root ROOT, relative to it, in key order: the
# bucket's view of what a POSIX test would `find` under a root directory.
s3_keys() {
  local rest=${1#s3://} bucket prefix
  bucket=${rest%%/*}
  prefix=""
  [[ $rest == */* ]] && prefix=${rest#*/}/
  s3ctl ls "$bucket" "$prefix" | cut -c$((${#prefix} + 1))-
}
