#!/bin/bash
# regctl verify finds a flipped byte, a truncated blob and a deleted blob (exit 3; crash leftovers
# are covered by leftovers_test.sh),
# --quarantine moves corrupt blobs aside, and a re-push heals the storage (exit 0).
# Usage: verify_test.sh REGCTL
source "$(dirname "$0")/lib.sh"
REGCTL=$1
setup_work
cd "$WORK"

img=$(make_layout src v1)
"$REGCTL" -q push oci:src:v1 team/app:v1 >/dev/null
"$REGCTL" -q push oci:src:v1 other/app:v1 >/dev/null
expect_rc 0 "$REGCTL" verify
pass "clean storage verifies"

blobs=$REGCTL_ROOT/docker/registry/v2/blobs/sha256
data() { echo "$blobs/${1:7:2}/${1#sha256:}/data"; }
read -r l1 l2 < <(jq -r '[.layers[].digest] | join(" ")' "src/blobs/sha256/${img#sha256:}")
cfg=$(jq -r .config.digest "src/blobs/sha256/${img#sha256:}")
printf '\xff' | dd of="$(data "$l1")" bs=1 seek=1000 conv=notrunc status=none
truncate -s 100 "$(data "$l2")"
rm "$(data "$cfg")"

expect_rc 3 "$REGCTL" verify --json --jobs 2
report=$WORK/.out
[[ $(jq -r .ok "$report") == false ]] || fail "ok should be false"
[[ $(jq -r --arg d "$l1" '[.problems[] | select(.kind=="corrupt_blob" and .digest==$d)] | length' "$report") == 1 ]] ||
  fail "flipped byte not found"
[[ $(jq -r --arg d "$l2" '[.problems[] | select(.kind=="corrupt_blob" and .digest==$d)] | length' "$report") == 1 ]] ||
  fail "truncated blob not found"
# The lost config is corruption in both repositories (their manifests need it); its layer links,
# useless now, are leftovers GC removes.
[[ $(jq -r --arg d "$cfg" '[.problems[] | select(.kind=="missing_reference" and (.detail | contains($d)))] | length' \
  "$report") == 2 ]] || fail "deleted blob not found in both repositories"
[[ $(jq -r --arg d "${cfg#sha256:}" '[.leftovers[] | select(.kind=="layer_link" and (.path | endswith($d)))] | length' \
  "$report") == 2 ]] || fail "the deleted blob's links are not listed as leftovers"
pass "verify finds flipped, truncated and deleted blobs"

# a single repository, human output
expect_rc 3 "$REGCTL" verify team/app
grep -q "^corrupt_blob: $l1" "$WORK/.out" || fail "human report"
# a broken link and a malformed upload session are found too
tagdir=$REGCTL_ROOT/docker/registry/v2/repositories/other/app/_manifests/tags/v1/current
printf 'garbage' >"$tagdir/link"
mkdir -p "$REGCTL_ROOT/docker/registry/v2/repositories/other/app/_uploads/not-a-uuid"
expect_rc 3 "$REGCTL" verify --json other/app
[[ $(jq '[.problems[] | select(.kind=="malformed_link")] | length' "$WORK/.out") == 1 ]] || fail "malformed link"
[[ $(jq '[.problems[] | select(.kind=="bad_upload")] | length' "$WORK/.out") == 1 ]] || fail "bad upload"
rm -rf "$REGCTL_ROOT/docker/registry/v2/repositories/other/app/_uploads/not-a-uuid"
"$REGCTL" tag "other/app@$img" v1 >/dev/null
pass "links and uploads"

expect_rc 3 "$REGCTL" verify --quarantine --json
[[ $(jq '[.problems[] | select(.quarantined_to != null)] | length' "$WORK/.out") == 2 ]] || fail "quarantine"
[[ ! -e $(data "$l1") && ! -e $(data "$l2") ]] || fail "corrupt data still in the blob store"
[[ $(find "$REGCTL_ROOT/docker/registry/v2/_quarantine" -name 'data-*' | wc -l) == 2 ]] || fail "quarantine area"
pass "quarantine"

"$REGCTL" -q push oci:src:v1 team/app:v1 >/dev/null
expect_rc 0 "$REGCTL" verify
cmp -s "$(data "$l1")" "src/blobs/sha256/${l1#sha256:}" || fail "healed blob differs"
pass "a re-push heals"
expect_rc 4 "$REGCTL" verify no/such
