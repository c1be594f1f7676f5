#!/bin/bash
# regctl gc: removes exactly the garbage (untagged with --delete-untagged, unreferenced blobs,
# stale uploads, crash leftovers), keeps what tags reach (index children, referrers), honours the
# grace window (which must exceed the link refresh unless --force, with a unit), --dry-run changes
# nothing, a held lease exits 5, a repository that cannot be fully marked keeps its blobs and exits
# 6 while GC goes on elsewhere, and verify stays clean afterwards.
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

# The grace window must exceed the link refresh (default regd's 10m) unless --force, and a
# number needs a unit.
expect_rc 2 "$REGCTL" gc --grace 0
grep -q -- "--grace 0s must be longer than the link refresh interval 10m" "$WORK/.err" || fail "grace 0: $(cat "$WORK/.err")"
grep -q -- "--force" "$WORK/.err" || fail "grace message does not name --force"
expect_rc 2 "$REGCTL" gc --grace 10m
expect_rc 2 "$REGCTL" gc --grace 10
grep -q "needs a unit: s, m, h or d" "$WORK/.err" || fail "bare number: $(cat "$WORK/.err")"
expect_rc 2 "$REGCTL" gc --grace 10 --force
expect_rc 2 "$REGCTL" gc --upload-ttl 7
expect_rc 2 "$REGCTL" gc --grace 200000d
grep -q "is too long (at most 36500d)" "$WORK/.err" || fail "overlong duration: $(cat "$WORK/.err")"
expect_rc 2 "$REGCTL" gc --grace 20m --link-refresh 30m
expect_rc 0 "$REGCTL" gc --grace 2m --link-refresh 1m --dry-run
expect_rc 0 "$REGCTL" gc --grace 11m --dry-run
[[ -f $(blob_file "$old") ]] || fail "setup: refused runs removed data"
pass "grace must exceed the link refresh, durations need units"

# Untagged manifests stay without --delete-untagged.
"$REGCTL" gc --grace 0 --force --json >kept.json
[[ $(jq -r '.blobs_removed' kept.json) == 0 ]] || fail "gc removed an untagged manifest's blobs"
[[ -f $(blob_file "$old") ]] || fail "untagged manifest removed without --delete-untagged"
pass "untagged manifests kept by default"

# Dry run: reports, removes nothing, takes no lease.
"$REGCTL" gc --grace 0 --force --delete-untagged --dry-run --json >dry.json
[[ $(jq -r '.manifests_removed' dry.json) == 1 ]] || fail "dry run did not report the untagged manifest"
jq -e --arg d "$old" '.removed_blobs | map(.digest) | index($d)' dry.json >/dev/null || fail "dry run misses $old"
[[ -f $(blob_file "$old") ]] || fail "dry run removed data"
# Text: 2 layers, a config and the manifest itself; counted nouns.
expect_rc 0 "$REGCTL" gc --grace 0 --force --delete-untagged --dry-run
grep -q '^would remove: 4 blobs ([0-9.]* [KMG]*i*B), 1 manifest, 0 uploads (0 B), 0 crash leftovers$' "$WORK/.out" ||
  fail "dry run text: $(cat "$WORK/.out")"
grep -q '; 1 repository, ' "$WORK/.out" || fail "singular repository: $(cat "$WORK/.out")"
pass "dry run"

# A lease held by another host: exit 5, nothing removed.
mkdir -p "$REGCTL_ROOT/docker/registry/v2/_gc"
echo '{"holder":"elsewhere","token":"t","expires":"2200-01-01T00:00:00Z"}' >"$REGCTL_ROOT/docker/registry/v2/_gc/lease"
expect_rc 5 "$REGCTL" gc --grace 0 --force --delete-untagged
grep -q "elsewhere" "$WORK/.err" || fail "busy error does not name the holder"
[[ -f $(blob_file "$old") ]] || fail "gc removed data without the lease"
rm "$REGCTL_ROOT/docker/registry/v2/_gc/lease"
pass "lease held: exit 5"

# The real thing, with a crash leftover: a layer link without data (a killed finishing PUT).
ghost=$(printf 'never stored' | sha256sum | cut -d' ' -f1)
ghost_dir=$REGCTL_ROOT/docker/registry/v2/repositories/team/app/_layers/sha256/$ghost
mkdir -p "$ghost_dir"
printf 'sha256:%s' "$ghost" >"$ghost_dir/link"
"$REGCTL" gc --grace 0 --force --delete-untagged --json >gc.json
[[ $(jq -r '.manifests_removed' gc.json) == 1 ]] || fail "untagged manifest not removed"
[[ ! -e $(blob_file "$old") ]] || fail "untagged manifest data still there"
for l in $old_layers; do [[ ! -e $(blob_file "$l") ]] || fail "layer $l of the untagged image still there"; done
for d in "$img" "$idx" "$art"; do [[ -f $(blob_file "$d") ]] || fail "kept manifest $d removed"; done
for child in $(jq -r '.manifests[].digest' "src/blobs/sha256/${idx#sha256:}"); do
  [[ -f $(blob_file "$child") ]] || fail "index child $child removed"
done
[[ ! -e $REGCTL_ROOT/docker/registry/v2/_gc/lease ]] || fail "lease left behind"
[[ $(jq -r '.leftovers_removed' gc.json) == 1 && $(jq -r '.leftovers[0].kind' gc.json) == layer_link ]] ||
  fail "leftover not reported: $(jq -c '{leftovers_removed, leftovers}' gc.json)"
[[ ! -e $ghost_dir ]] || fail "leftover layer link still there"
[[ $(jq -r '.complete' gc.json) == true && $(jq '.incomplete | length' gc.json) == 0 ]] || fail "complete run reported incomplete"
"$REGCTL" verify >/dev/null || fail "verify not clean after gc"
for ref in v1 multi sig; do "$REGCTL" -q pull "team/app:$ref" "oci:back:$ref" >/dev/null || fail "pull $ref after gc"; done
same_blobs back src
pass "gc removes garbage, keeps what tags reach, verify clean"

# A second run finds nothing.
"$REGCTL" gc --grace 0 --force --delete-untagged --json >again.json
[[ $(jq -r '.blobs_removed + .manifests_removed' again.json) == 0 ]] || fail "second gc removed more"
pass "idempotent"

# A repository whose tagged manifest does not parse cannot be fully marked: it keeps every blob it
# links, GC goes on elsewhere (an untagged image of team/app goes), exit 6, reported in JSON and
# on stderr with the advice to run verify.
broken=$(make_layout src2 b1)
"$REGCTL" -q push oci:src2:b1 broken/app:b1 >/dev/null
"$REGCTL" -q push oci:src:old team/app:old >/dev/null
"$REGCTL" -q rm team/app:old
broken_blobs=$(jq -r '.config.digest, .layers[].digest' "src2/blobs/sha256/${broken#sha256:}")
printf 'this is not a manifest' >"$(blob_file "$broken")"
expect_rc 6 "$REGCTL" gc --grace 0 --force --delete-untagged --json
cp "$WORK/.out" incomplete.json
[[ $(jq -r '.complete' incomplete.json) == false ]] || fail "complete should be false"
[[ $(jq -r '[.incomplete[].repository] | join(" ")' incomplete.json) == broken/app ]] ||
  fail "incomplete: $(jq -c .incomplete incomplete.json)"
[[ -n $(jq -r '.incomplete[0].reason' incomplete.json) ]] || fail "incomplete without a reason"
grep -q "warning: repository broken/app could not be fully marked" "$WORK/.err" || fail "warning: $(cat "$WORK/.err")"
grep -q "regctl verify broken/app" "$WORK/.err" || fail "no advice to run verify: $(cat "$WORK/.err")"
for b in $broken_blobs "$broken"; do [[ -f $(blob_file "$b") ]] || fail "blob $b of the incomplete repository removed"; done
[[ $(jq -r '.manifests_removed' incomplete.json) == 1 && ! -e $(blob_file "$old") ]] || fail "GC stopped for everyone"
expect_rc 6 "$REGCTL" gc --grace 0 --force
grep -q "warning: repository broken/app" "$WORK/.err" || fail "text run: no warning"
grep -q '^removed: 0 blobs (0 B), 0 manifests, 0 uploads (0 B), 0 crash leftovers$' "$WORK/.out" ||
  fail "text run: $(cat "$WORK/.out")"
grep -q '; 2 repositories, ' "$WORK/.out" || fail "plural repositories: $(cat "$WORK/.out")"
expect_rc 3 "$REGCTL" verify broken/app
pass "an incomplete repository keeps its blobs, exit 6, GC goes on"
