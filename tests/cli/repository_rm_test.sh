#!/bin/bash
# regctl rm --repository deletes a whole repository (tags, manifests, blob links; not nested
# repositories, not blob data, which gc reclaims), refuses while an immutable tag exists, and an
# emptied repository leaves regctl ls while one that only lost its tags lists none.
# Usage: repository_rm_test.sh REGCTL
source "$(dirname "$0")/lib.sh"
REGCTL=$1
setup_work
cd "$WORK"

img=$(make_layout src v1)
make_layout src v2 >/dev/null
only=$(make_layout src v3)
for ref in v1 v2 v3; do "$REGCTL" -q push "oci:src:$ref" "team/app:$ref" >/dev/null; done
"$REGCTL" -q tag team/app:v1 latest >/dev/null
"$REGCTL" -q push oci:src:v1 team/app/nested:v1 >/dev/null
"$REGCTL" -q push oci:src:v2 other/app:v2 >/dev/null

expect_rc 2 "$REGCTL" rm --repository team/app team/app:v1
expect_rc 2 "$REGCTL" rm --repository 'Bad/Name'
expect_rc 2 "$REGCTL" rm
expect_rc 1 "$REGCTL" --immutable-tags 'v1,release-*' rm --repository team/app
grep -q "tag v1 in repository team/app is immutable" "$WORK/.err" || fail "immutable: $(cat "$WORK/.err")"
[[ $("$REGCTL" tags team/app | tr '\n' ' ') == "latest v1 v2 v3 " ]] || fail "an immutable tag did not keep the repository"
expect_rc 2 "$REGCTL" --immutable-tags 'v/1' ls
pass "rm --repository: usage and immutable tags"

expect_rc 0 "$REGCTL" rm --repository team/app
[[ $(cat "$WORK/.out") == "deleted repository team/app (4 tags, 3 manifests)" ]] || fail "rm said: $(cat "$WORK/.out")"
[[ $("$REGCTL" ls | tr '\n' ' ') == "other/app team/app/nested " ]] || fail "ls after rm: $("$REGCTL" ls)"
expect_rc 4 "$REGCTL" tags team/app
expect_rc 4 "$REGCTL" inspect team/app:v1
expect_rc 4 "$REGCTL" rm --repository team/app
[[ $("$REGCTL" tags team/app/nested) == v1 ]] || fail "the nested repository was touched"
blob="$REGCTL_ROOT/docker/registry/v2/blobs/sha256/${img:7:2}/${img#sha256:}/data"
[[ -f $blob ]] || fail "rm --repository removed blob data"
"$REGCTL" verify >/dev/null || fail "verify after rm --repository"
pass "rm --repository removes the repository, keeps nested ones and blob data"

# Once older than the grace window, gc reclaims what only the deleted repository used.
find "$REGCTL_ROOT" -exec touch -h -d '3 hours ago' {} +
"$REGCTL" -q gc >/dev/null
only_blob="$REGCTL_ROOT/docker/registry/v2/blobs/sha256/${only:7:2}/${only#sha256:}/data"
[[ ! -e $only_blob ]] || fail "gc kept the manifest only the deleted repository had"
"$REGCTL" -q pull team/app/nested:v1 oci:check:v1 >/dev/null || fail "nested image lost its blobs"
"$REGCTL" -q pull other/app:v2 oci:check:v2 >/dev/null || fail "other image lost its blobs"
pass "gc reclaims the deleted repository's blobs, shared ones stay"

# Emptied one manifest at a time: gone from ls; only tags gone: listed, no tags.
"$REGCTL" -q push oci:src:v1 single/app:v1 >/dev/null
"$REGCTL" -q push oci:src:v2 untagged/app:v2 >/dev/null
"$REGCTL" -q rm "single/app@$img" >/dev/null
"$REGCTL" -q rm untagged/app:v2 >/dev/null
"$REGCTL" ls >ls.txt
! grep -qx single/app ls.txt || fail "an emptied repository is still listed"
grep -qx untagged/app ls.txt || fail "a repository with manifests but no tags is not listed"
expect_rc 4 "$REGCTL" tags single/app
expect_rc 0 "$REGCTL" tags --json untagged/app
[[ $(jq -c . "$WORK/.out") == '{"name":"untagged/app","tags":[]}' ]] || fail "tags of an untagged repository: $(cat "$WORK/.out")"
# verify still checks what the catalog no longer lists: single/app keeps its blob links.
"$REGCTL" verify --json >verify.json || fail "verify after emptying"
jq -e '.repositories | index("single/app")' verify.json >/dev/null || fail "verify skipped the emptied repository"
pass "emptied repositories leave ls (not verify); untagged ones list no tags"
