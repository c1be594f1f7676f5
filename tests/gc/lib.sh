# Helpers for the GC end-to-end scripts: sourced, never run. Servers listen on 127.0.0.1 only,
# on free ports; everything is bounded in count and time; the work dir goes away on exit.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

PIDS=()
AFTER_STOP=()  # commands run at exit once the processes are gone (unmounting, say)
setup_work() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/regd-gc.XXXXXX")
  trap cleanup_work EXIT
}
cleanup_work() {
  local p cmd
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for cmd in "${AFTER_STOP[@]}"; do eval "$cmd" || true; done
  if [ -n "${KEEP:-}" ] || grep -q " $WORK/" /proc/mounts; then
    echo "kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}

# GC_FS=cephfs (CTest's gc_gc_stress.cephfs): use_cephfs ARGS, called before setup_work,
# re-executes the script in its own network namespace; start_cephfs, after setup_work, brings up
# one CephFS on loopback; cephfs_root NAME prints the root for instance NAME on a ceph-fuse mount
# of its own.
use_cephfs() {
  source "$(dirname "${BASH_SOURCE[0]}")/../scale/cephfs_env.sh"
  cephfs_preflight
  scale_enter_netns "$0" "$@"
}
start_cephfs() {
  AFTER_STOP+=(cephfs_stop)
  cephfs_start "$WORK/ceph" || fail "CephFS did not come up"
}
cephfs_root() {
  local m=$WORK/fs/$1
  mountpoint -q "$m" || cephfs_mount "$m" || fail "ceph-fuse mount for $1"
  mkdir -p "$m/root"
  echo "$m/root"
}

# GC_FS=s3 (CTest's gc_gc_stress.s3): use_s3 ARGS, called before setup_work, re-executes the
# script in its own network namespace; start_s3, after setup_work, brings up one Ceph with
# radosgw on loopback and a bucket, or with S3_REUSE=1 uses the one the caller's AWS_* variables
# and S3_BUCKET name (tests/scale/s3_api_test.sh runs scripts so); s3_root_of NAME prints the
# root for instance NAME: one prefix of that bucket, named after $WORK, the same for every NAME.
use_s3() {
  source "$(dirname "${BASH_SOURCE[0]}")/../scale/s3_env.sh"
  s3_preflight
  [[ ${S3_REUSE:-} == 1 ]] || scale_enter_netns "$0" "$@"
}
start_s3() {
  if [[ ${S3_REUSE:-} == 1 ]]; then
    [[ -n ${AWS_ENDPOINT_URL:-} && -n ${S3_BUCKET:-} ]] || fail "S3_REUSE=1 without AWS_ENDPOINT_URL and S3_BUCKET"
    return 0
  fi
  AFTER_STOP+=(s3_stop)
  s3_start "$WORK/ceph" regd || fail "Ceph with radosgw did not come up"
}
s3_root_of() {
  s3_root "$(basename "$WORK")/root"
}

# blob_stored ROOT DIGEST: whether ROOT's blob store holds DIGEST's data (a file, or an object
# under an s3:// root).
blob_stored() {
  local key="docker/registry/v2/blobs/sha256/${2:7:2}/${2#sha256:}/data" rest
  if [[ $1 != s3://* ]]; then
    [[ -f $1/$key ]]
    return
  fi
  rest=${1#s3://}
  [[ $(s3ctl status "${rest%%/*}" "${rest#*/}/$key") == 200 ]]
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_up() {  # URL
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$1/v2/" && return 0; sleep 0.1; done
  fail "$1 did not come up"
}

# start_distribution ROOT PORT: Debian's docker-registry (registry:2) on ROOT (a directory or an
# s3:// root: distribution_storage), serving blobs itself (no redirects); config in $WORK.
start_distribution() {
  cat >"$WORK/dist-$2.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
$(distribution_storage "$1")
  redirect:
    disable: true
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$2
YML
  docker-registry serve "$WORK/dist-$2.yml" >"$WORK/dist-$2.log" 2>&1 &
  PIDS+=($!)
  DIST_PID=$!
  wait_up "http://127.0.0.1:$2"
}

# distribution_storage ROOT: the storage section of a registry:2 configuration for ROOT, a
# directory or an s3:// root (its S3 driver, on the endpoint and keys of the AWS_* variables:
# registry:2 keeps the same key layout under the prefix).
distribution_storage() {
  local rest=${1#s3://}
  if [[ $1 != s3://* ]]; then
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n' "$1"
    return
  fi
  cat <<YML
storage:
  s3:
    region: ${AWS_REGION:-us-east-1}
    regionendpoint: $AWS_ENDPOINT_URL
    bucket: ${rest%%/*}
    rootdirectory: /$([[ $rest == */* ]] && echo "${rest#*/}")
    accesskey: $AWS_ACCESS_KEY_ID
    secretkey: $AWS_SECRET_ACCESS_KEY
    secure: $([[ $AWS_ENDPOINT_URL == https:* ]] && echo true || echo false)
    v4auth: true
YML
}

# distribution_gc ROOT [flags]: registry:2's own garbage-collect; prints what it would delete.
distribution_gc() {
  local root=$1
  shift
  cat >"$WORK/dist-gc.yml" <<YML
version: 0.1
log:
  level: warn
$(distribution_storage "$root")
  delete:
    enabled: true
YML
  docker-registry garbage-collect "$WORK/dist-gc.yml" "$@" 2>&1
}

# make_image LAYOUT TAG SHARED_FILE: an OCI image with a shared layer (from SHARED_FILE) and one
# random 256 KiB layer of its own; prints its manifest digest.
make_image() {
  local out=$1 tag=$2 shared=$3 tmp dig size layers='[]' ids='[]' f
  mkdir -p "$out/blobs/sha256"
  [[ -f $out/oci-layout ]] || echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
  [[ -f $out/index.json ]] || echo '{"schemaVersion":2,"manifests":[]}' >"$out/index.json"
  tmp=$(mktemp -d "$out/.tmp.XXXXXX")
  head -c 262144 /dev/urandom >"$tmp/own.bin"
  for f in "$shared" "$tmp/own.bin"; do
    tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$(dirname "$f")" -cf "$tmp/l.tar" "$(basename "$f")"
    ids=$(jq -c --arg d "sha256:$(sha256sum "$tmp/l.tar" | cut -d' ' -f1)" '. + [$d]' <<<"$ids")
    gzip -1 -n -c "$tmp/l.tar" >"$tmp/l.tgz"
    dig=$(sha256sum "$tmp/l.tgz" | cut -d' ' -f1); size=$(stat -c %s "$tmp/l.tgz")
    mv "$tmp/l.tgz" "$out/blobs/sha256/$dig"
    layers=$(jq -c --arg d "sha256:$dig" --argjson s "$size" \
      '. + [{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$d,size:$s}]' <<<"$layers")
  done
  jq -cn --argjson ids "$ids" --arg t "$tag" '{architecture:"amd64",os:"linux",config:{Labels:{tag:$t}},
    rootfs:{type:"layers",diff_ids:$ids}}' >"$tmp/config"
  dig=$(sha256sum "$tmp/config" | cut -d' ' -f1); size=$(stat -c %s "$tmp/config"); mv "$tmp/config" "$out/blobs/sha256/$dig"
  jq -cn --arg cd "sha256:$dig" --argjson cs "$size" --argjson layers "$layers" '{schemaVersion:2,
    mediaType:"application/vnd.oci.image.manifest.v1+json",
    config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$cd,size:$cs},layers:$layers}' >"$tmp/m"
  dig=$(sha256sum "$tmp/m" | cut -d' ' -f1); size=$(stat -c %s "$tmp/m"); mv "$tmp/m" "$out/blobs/sha256/$dig"
  jq -c --arg t "$tag" --arg d "sha256:$dig" --argjson s "$size" '.manifests += [{mediaType:
    "application/vnd.oci.image.manifest.v1+json",digest:$d,size:$s,annotations:{"org.opencontainers.image.ref.name":$t}}]' \
    "$out/index.json" >"$tmp/index" && mv "$tmp/index" "$out/index.json"
  rm -rf "$tmp"
  echo "sha256:$dig"
}

push() {  # LAYOUT:TAG HOST/REPO:TAG
  skopeo copy -q --retry-times 0 --dest-tls-verify=false "oci:$1" "docker://$2" >/dev/null 2>>"$WORK/skopeo.err"
}
