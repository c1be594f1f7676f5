#!/bin/bash
# regctl prune: keeps the newest N matching tags and tags pushed within a duration, removes
# untagged manifests older than a duration (children of kept indexes and referrers of kept images
# stay), never removes immutable tags or tags outside --match, --dry-run changes nothing, --json
# reports it all, and it takes the GC lease.
# Usage: prune_test.sh REGCTL
source "$(dirname "$0")/lib.sh"
REGCTL=$1
setup_work
cd "$WORK"

repo=$REGCTL_ROOT/docker/registry/v2/repositories/team/app/_manifests
for i in 1 2 3 4; do make_layout src "v$i" >/dev/null; done
multi=$(make_layout src multi multi)
for ref in v1 v2 v3 v4 multi; do "$REGCTL" -q push "oci:src:$ref" "team/app:$ref" >/dev/null; done
"$REGCTL" -q tag team/app:v1 stable >/dev/null
# Push times: v1 5 days ago ... v4 2 days ago, multi and stable 10 days ago; every revision 10 days.
find "$repo/revisions" -name link -exec touch -d '10 days ago' {} +
for i in 1 2 3 4; do touch -d "$((6 - i)) days ago" "$repo/tags/v$i/current/link"; done
touch -d '10 days ago' "$repo/tags/multi/current/link" "$repo/tags/stable/current/link"
tags() { "$REGCTL" tags team/app | tr '\n' ' '; }

expect_rc 2 "$REGCTL" prune
grep -q "prune needs a rule" "$WORK/.err" || fail "no rule: $(cat "$WORK/.err")"
expect_rc 2 "$REGCTL" prune --keep 0
expect_rc 2 "$REGCTL" prune --keep-within 3
expect_rc 2 "$REGCTL" prune --untagged-older-than 5m
grep -q -- "--untagged-older-than 5m must be longer than the link refresh interval 10m" "$WORK/.err" ||
  fail "untagged window: $(cat "$WORK/.err")"
expect_rc 2 "$REGCTL" prune --keep 1 --match 'v/*'
pass "prune needs a rule, valid numbers, durations with units and tag patterns"

expect_rc 0 "$REGCTL" prune --keep 2 --match 'v*' --untagged-older-than 1d --dry-run --json
jq -e '.dry_run and (.removed_tags | map(.tag) | sort) == ["v1","v2"]' "$WORK/.out" >/dev/null ||
  fail "dry run tags: $(cat "$WORK/.out")"
# v2's manifest would be untagged (v1's stays: stable points at it).
[[ $(jq -r '.removed_manifests | length' "$WORK/.out") == 1 ]] || fail "dry run manifests: $(cat "$WORK/.out")"
[[ $(tags) == "multi stable v1 v2 v3 v4 " ]] || fail "dry run changed tags: $(tags)"
[[ ! -e $REGCTL_ROOT/docker/registry/v2/_gc ]] || fail "dry run took the lease"
pass "--dry-run reports and changes nothing"

expect_rc 0 "$REGCTL" --immutable-tags v1 prune --keep 1 --keep-within 3d12h --match 'v*'
grep -q '^removed tag team/app:v2 ' "$WORK/.out" || fail "text report: $(cat "$WORK/.out")"
grep -q '^kept immutable tag team/app:v1$' "$WORK/.out" || fail "immutable not reported: $(cat "$WORK/.out")"
grep -q '^removed: 1 tag, 0 untagged manifests; kept 5 tags in 1 repository' "$WORK/.out" || fail "summary: $(cat "$WORK/.out")"
[[ $(tags) == "multi stable v1 v3 v4 " ]] || fail "keep rules: $(tags)"
pass "--keep and --keep-within each keep a tag; immutable and non-matching tags stay"

# Untagged manifests: v2's goes; the index's children stay with their tagged index.
expect_rc 0 "$REGCTL" prune --untagged-older-than 1d --json
[[ $(jq -r '.removed_manifests | length' "$WORK/.out") == 1 ]] || fail "untagged: $(cat "$WORK/.out")"
"$REGCTL" -q pull team/app:multi oci:check:multi >/dev/null || fail "the index lost a child"
[[ $("$REGCTL" inspect --json team/app:multi | jq -r .digest) == "$multi" ]] || fail "index digest"
"$REGCTL" verify >/dev/null || fail "verify after prune"
pass "--untagged-older-than removes only manifests no tag reaches"

# A lease held by another host: exit 5, nothing removed.
mkdir -p "$REGCTL_ROOT/docker/registry/v2/_gc"
echo '{"holder":"elsewhere","token":"t","expires":"2200-01-01T00:00:00Z"}' >"$REGCTL_ROOT/docker/registry/v2/_gc/lease"
expect_rc 5 "$REGCTL" prune --keep 1
grep -q elsewhere "$WORK/.err" || fail "lease holder not named: $(cat "$WORK/.err")"
[[ $(tags) == "multi stable v1 v3 v4 " ]] || fail "prune without the lease changed tags: $(tags)"
rm "$REGCTL_ROOT/docker/registry/v2/_gc/lease"
pass "prune takes the GC lease (exit 5 when held)"
