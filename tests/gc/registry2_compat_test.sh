#!/bin/bash
# GC and registry:2 (Debian's docker-registry 2.8.2) on one storage tree: storage written by
# registry:2 is served by regd and collected correctly by regctl gc; after our GC registry:2 still
# serves the tree and its own `garbage-collect --dry-run` finds nothing we kept by mistake.
# GC_FS=s3: the same on a prefix of a radosgw bucket, registry:2 through its S3 driver (exit 77
# without root); run by tests/scale/s3_api_test.sh on its cluster (S3_REUSE=1).
# Usage: registry2_compat_test.sh REGCTL REGD
source "$(dirname "$0")/lib.sh"
REGCTL=$1 REGD=$2
command -v docker-registry >/dev/null || { echo "SKIP: docker-registry not installed"; exit 77; }
[[ ${GC_FS:-local} == s3 ]] && use_s3 "$@"
setup_work
if [[ ${GC_FS:-local} == s3 ]]; then
  start_s3
  root=$(s3_root_of regd)
else
  root=$WORK/root
fi
head -c 262144 /dev/urandom >"$WORK/shared.bin"
keep=$(make_image "$WORK/img" keep "$WORK/shared.bin")
drop=$(make_image "$WORK/img" drop "$WORK/shared.bin")
drop_own=$(jq -r '.layers[1].digest' "$WORK/img/blobs/sha256/${drop#sha256:}")
shared=$(jq -r '.layers[0].digest' "$WORK/img/blobs/sha256/${keep#sha256:}")

# registry:2 writes the tree: two images sharing a layer, then deletes one of them.
port=$(free_port); start_distribution "$root" "$port"
push "$WORK/img:keep" "127.0.0.1:$port/lib/app:keep" || fail "push keep to registry:2"
push "$WORK/img:drop" "127.0.0.1:$port/lib/app:drop" || fail "push drop to registry:2"
skopeo delete --tls-verify=false "docker://127.0.0.1:$port/lib/app@$drop" || fail "registry:2 delete"
kill "$DIST_PID"; wait "$DIST_PID" 2>/dev/null || true
pass "registry:2 wrote the tree"

# regd serves it.
rport=$(free_port)
"$REGD" --root "$root" --listen "127.0.0.1:$rport" >"$WORK/regd.log" 2>&1 &
PIDS+=($!); REGD_PID=$!
wait_up "http://127.0.0.1:$rport"
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$rport/lib/app:keep" "oci:$WORK/pulled:keep" ||
  fail "regd cannot serve what registry:2 wrote"
cmp -s "$WORK/pulled/blobs/sha256/${keep#sha256:}" "$WORK/img/blobs/sha256/${keep#sha256:}" || fail "manifest bytes differ"

# Before our GC, registry:2's dry run sees the garbage (so the check after it means something).
grep -q " 0 blobs and 0 manifests eligible" <<<"$(distribution_gc "$root" --dry-run)" &&
  fail "setup: registry:2 sees no garbage before our GC"

# Our GC collects the deleted image's own layer, keeps everything the kept image needs (grace 0
# needs --force: nothing writes meanwhile). On S3, LastModified has whole seconds: what registry:2
# wrote in the second GC starts counts as young even with --grace 0 (docs/s3.md), and all of the
# above can fit in one second. Let that second pass.
[[ ${GC_FS:-local} == s3 ]] && sleep 1.1
"$REGCTL" --root "$root" gc --grace 0 --force --json >"$WORK/gc.json" || fail "regctl gc failed"
! blob_stored "$root" "$drop_own" || fail "the deleted image's own layer survived GC"
! blob_stored "$root" "$drop" || fail "the deleted manifest survived GC"
blob_stored "$root" "$shared" && blob_stored "$root" "$keep" || fail "GC removed what the kept image needs"
"$REGCTL" --root "$root" verify >/dev/null || fail "verify not clean after GC"
pass "regctl gc collected registry:2's garbage"

# registry:2's own GC agrees that nothing collectable is left, and it still serves the tree.
kill "$REGD_PID"; wait "$REGD_PID" 2>/dev/null || true
out=$(distribution_gc "$root" --dry-run)
if ! grep -q " 0 blobs and 0 manifests eligible for deletion" <<<"$out"; then
  echo "$out" >&2
  fail "registry:2 garbage-collect would still delete something"
fi
port=$(free_port); start_distribution "$root" "$port"
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$port/lib/app:keep" "oci:$WORK/again:keep" ||
  fail "registry:2 cannot serve the tree after our GC"
pass "registry:2 finds nothing to delete and serves the tree"
