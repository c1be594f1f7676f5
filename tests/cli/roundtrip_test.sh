#!/bin/bash
# regctl push -> pull round trips are byte-identical (images, multi-arch indexes, artifacts with
# a subject, oci-archive), and the storage commands (ls, tags, inspect, tag, cp, rm, du) work.
# Usage: roundtrip_test.sh REGCTL
source "$(dirname "$0")/lib.sh"
REGCTL=$1
setup_work
cd "$WORK"

img=$(make_layout src v1)
idx=$(make_layout src multi multi)
img_size=$(stat -c %s "src/blobs/sha256/${img#sha256:}")
art=$(make_artifact src sig "$img" "$img_size")

# push by ref name; the destination tag defaults to it
"$REGCTL" -q push oci:src:v1 team/app >out.txt
[[ $(cat out.txt) == "team/app:v1@$img" ]] || fail "push printed $(cat out.txt)"
"$REGCTL" push --json oci:src:multi team/app:multi >push.json
[[ $(jq -r '.images[0].digest' push.json) == "$idx" ]] || fail "index digest"
[[ $(jq -r '.manifests' push.json) == 3 ]] || fail "index push stores 3 manifests"
# pushing again writes no blob
"$REGCTL" push --json oci:src:v1 team/app:v1 >again.json
[[ $(jq -r '.blobs_written' again.json) == 0 ]] || fail "re-push rewrote blobs"
pass "push"

# the artifact, then the subject is found as a referrer
"$REGCTL" -q push oci:src:sig team/app:sig >/dev/null
"$REGCTL" inspect --json team/app:v1 >inspect.json
[[ $(jq -r '.referrers[0].digest' inspect.json) == "$art" ]] || fail "referrer not listed"
[[ $(jq -r '.config.architecture' inspect.json) == amd64 ]] || fail "config in inspect"
"$REGCTL" inspect --raw team/app:v1 >raw.json
cmp -s raw.json "src/blobs/sha256/${img#sha256:}" || fail "inspect --raw is not byte-exact"
pass "inspect"

# pull everything back: byte-identical blobs and manifests, index.json names them
for ref in v1 multi sig; do
  [[ $("$REGCTL" -q pull "team/app:$ref" "oci:dst:$ref") == sha256:* ]] || fail "pull $ref"
done
same_blobs src dst
for ref in v1 multi sig; do
  want=$(jq -r --arg r "$ref" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$r) | .digest' src/index.json)
  got=$(jq -r --arg r "$ref" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$r) | .digest' dst/index.json)
  [[ $want == "$got" ]] || fail "ref $ref: $got, want $want"
done
pass "pull to oci: is byte-identical"

# --referrers brings the artifact along, unnamed; a push --all of that layout restores both
"$REGCTL" -q pull --referrers team/app:v1 oci:signed >/dev/null
[[ $(jq -r --arg d "$art" '[.manifests[] | select(.digest==$d and .annotations==null)] | length' signed/index.json) == 1 ]] ||
  fail "referrer not in index.json"
"$REGCTL" -q push --all oci:signed mirror/app >/dev/null
[[ $("$REGCTL" inspect --json mirror/app:v1 | jq -r '.referrers[0].digest') == "$art" ]] || fail "referrer mirrored"
pass "pull --referrers"

# oci-archive both ways, and pulling by digest
"$REGCTL" -q pull "team/app@$idx" oci-archive:multi.tar:m >/dev/null
tar -tf multi.tar | grep -x index.json >/dev/null || fail "archive has no index.json"
"$REGCTL" -q push oci-archive:multi.tar:m other/app:m >/dev/null
[[ $("$REGCTL" inspect --json other/app:m | jq -r .digest) == "$idx" ]] || fail "oci-archive round trip"
pass "oci-archive"

# listings
[[ $("$REGCTL" ls --json | jq -c .repositories) == '["mirror/app","other/app","team/app"]' ]] || fail "ls"
[[ $("$REGCTL" tags --json team/app | jq -c .tags) == '["multi","sig","v1"]' ]] || fail "tags"
pass "ls and tags"

# tag, cp (no blob bytes copied: the store's size stays), rm
"$REGCTL" tag team/app:v1 stable >/dev/null
[[ $("$REGCTL" inspect --json team/app:stable | jq -r .digest) == "$img" ]] || fail "tag"
before=$("$REGCTL" du --json | jq .store.bytes)
"$REGCTL" cp --json team/app:multi copy/app >cp.json
[[ $(jq -r .digest cp.json) == "$idx" && $(jq -r .tag cp.json) == multi ]] || fail "cp"
[[ $("$REGCTL" du --json | jq .store.bytes) == "$before" ]] || fail "cp copied blob bytes"
[[ $("$REGCTL" du --json copy/app | jq '.repositories[0].unique_bytes') == 0 ]] || fail "du: copy shares all"
"$REGCTL" rm team/app:stable >/dev/null
expect_rc 4 "$REGCTL" inspect team/app:stable
"$REGCTL" rm "copy/app@$idx" >/dev/null
expect_rc 4 "$REGCTL" inspect copy/app:multi
pass "tag, cp, rm, du"

# --all pushes every named image of the layout under its own name
"$REGCTL" -q push --all oci:src all/app >/dev/null
[[ $("$REGCTL" tags --json all/app | jq -c .tags) == '["multi","sig","v1"]' ]] || fail "push --all"
expect_rc 2 "$REGCTL" push --all oci:src all/app:x
pass "push --all"

"$REGCTL" verify >/dev/null || fail "verify after all of it"

# exit codes
expect_rc 2 "$REGCTL" frobnicate
expect_rc 2 "$REGCTL" push
expect_rc 2 "$REGCTL" push oci:src:v1 'Bad/Name'
expect_rc 2 "$REGCTL" push nosuch:src team/app
expect_rc 2 env -u REGCTL_ROOT "$REGCTL" ls
grep -q '^regctl: error: ' "$WORK/.err" || fail "error line format"
expect_rc 4 "$REGCTL" inspect team/app:nope
expect_rc 4 "$REGCTL" tags no/such
expect_rc 4 "$REGCTL" push oci:src:nope team/app
expect_rc 4 "$REGCTL" push oci:missing-dir team/app
expect_rc 7 "$REGCTL" --root "$WORK/nothing-here" ls
expect_rc 0 "$REGCTL" --help
pass "exit codes"
