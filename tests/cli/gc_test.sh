#!/bin/bash
# regctl gc: removes exactly the garbage (untagged with --delete-untagged, unreferenced blobs,
# stale uploads), keeps what tags reach (index children, referrers), honours the grace window,
# --dry-run changes nothing, a held lease exits 5, and verify stays clean afterwards.
# Usage: gc_test.sh REGCTL
source "$(dirname "$0")/lib.sh"
REGCTL=$1
setup_work
cd "$WORK"

img=$(make_layout src v1)
idx=$(make_layout src multi multi)
old=$(make_layout src old)
img_size=$(stat -c %s "src/blobs/sha256/${img#sha256:}")
art=$(make_artifact src sig "$img" "$img_size")
for ref in v1 multi old sig; do "$REGCTL" -q push "oci:src:$ref" "team/app:$ref" >/dev/null; done
"$REGCTL" -q rm team/app:old
blob_file() { echo "$REGCTL_ROOT/docker/registry/v2/blobs/sha256/${1:7:2}/${1#sha256:}/data"; }
old_layers=$(jq -r '.layers[].digest' "src/blobs/sha256/${old#sha256:}")
[[ -f $(blob_file "$old") ]] || fail "setup: old manifest not stored"

# Inside the default grace window nothing goes.
"$REGCTL" gc --json >young.json
[[ $(jq -r '.blobs_removed' young.json) == 0 ]] || fail "gc removed young blobs"
pass "grace window keeps young data"

# Untagged manifests stay without --delete-untagged.
"$REGCTL" gc --grace 0 --json >kept.json
[[ $(jq -r '.blobs_removed' kept.json) == 0 ]] || fail "gc removed an untagged manifest's blobs"
[[ -f $(blob_file "$old") ]] || fail "untagged manifest removed without --delete-untagged"
pass "untagged manifests kept by default"

# Dry run: reports, removes nothing, takes no lease.
"$REGCTL" gc --grace 0 --delete-untagged --dry-run --json >dry.json
[[ $(jq -r '.manifests_removed' dry.json) == 1 ]] || fail "dry run did not report the untagged manifest"
jq -e --arg d "$old" '.removed_blobs | map(.digest) | index($d)' dry.json >/dev/null || fail "dry run misses $old"
[[ -f $(blob_file "$old") ]] || fail "dry run removed data"
pass "dry run"

# A lease held by another host: exit 5, nothing removed.
mkdir -p "$REGCTL_ROOT/docker/registry/v2/_gc"
echo '{"holder":"elsewhere","token":"t","expires":"2200-01-01T00:00:00Z"}' >"$REGCTL_ROOT/docker/registry/v2/_gc/lease"
expect_rc 5 "$REGCTL" gc --grace 0 --delete-untagged
grep -q "elsewhere" "$WORK/.err" || fail "busy error does not name the holder"
[[ -f $(blob_file "$old") ]] || fail "gc removed data without the lease"
rm "$REGCTL_ROOT/docker/registry/v2/_gc/lease"
pass "lease held: exit 5"

# The real thing.
"$REGCTL" gc --grace 0 --delete-untagged --json >gc.json
[[ $(jq -r '.manifests_removed' gc.json) == 1 ]] || fail "untagged manifest not removed"
[[ ! -e $(blob_file "$old") ]] || fail "untagged manifest data still there"
for l in $old_layers; do [[ ! -e $(blob_file "$l") ]] || fail "layer $l of the untagged image still there"; done
for d in "$img" "$idx" "$art"; do [[ -f $(blob_file "$d") ]] || fail "kept manifest $d removed"; done
for child in $(jq -r '.manifests[].digest' "src/blobs/sha256/${idx#sha256:}"); do
  [[ -f $(blob_file "$child") ]] || fail "index child $child removed"
done
[[ ! -e $REGCTL_ROOT/docker/registry/v2/_gc/lease ]] || fail "lease left behind"
"$REGCTL" verify >/dev/null || fail "verify not clean after gc"
for ref in v1 multi sig; do "$REGCTL" -q pull "team/app:$ref" "oci:back:$ref" >/dev/null || fail "pull $ref after gc"; done
same_blobs back src
pass "gc removes garbage, keeps what tags reach, verify clean"

# A second run finds nothing.
"$REGCTL" gc --grace 0 --delete-untagged --json >again.json
[[ $(jq -r '.blobs_removed + .manifests_removed' again.json) == 0 ]] || fail "second gc removed more"
pass "idempotent"
