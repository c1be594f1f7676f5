# shellcheck shell=bash
# regctl on s3:// roots, for s3_api_test.sh: sourced after lib.sh (SCALE_FS=s3, the cluster and
# bucket up), never run. Needs REGD and REGCTL. What tests/cli/gc_test.sh checks by looking at
# blob files, this checks in the bucket's listing (s3_keys).
source "$SCALE_SRC/../cli/lib.sh" # make_layout, make_artifact, same_blobs, expect_rc, pass

# blob_keys ROOT: the keys under ROOT's blob store, relative to ROOT.
blob_keys() {
  s3_keys "$1" | grep '^docker/registry/v2/blobs/' || true
}
# blob_prefix DIGEST: the blob store's directory of DIGEST (registry:2's layout).
blob_prefix() {
  echo "docker/registry/v2/blobs/sha256/${1:7:2}/${1#sha256:}/"
}

# check_missing_bucket: regctl (gc, verify, ls) exits 7 on a bucket that does not exist and does
# not create it; regd refuses to start there; --init and push create the bucket.
check_missing_bucket() {
  local missing=regd-missing-$RANDOM cmd rc=0
  step "regctl and regd on a bucket that does not exist"
  for cmd in "gc --grace 0 --force" "verify" "ls"; do
    # shellcheck disable=SC2086 # cmd is several words on purpose
    expect_rc 7 "$REGCTL" --root "s3://$missing/p" $cmd
    grep -q '^regctl: error: ' "$WORK/.err" || fail "regctl $cmd on a missing bucket: no error line: $(cat "$WORK/.err")"
  done
  timeout 30 "$REGD" --root "s3://$missing/p" --listen 127.0.0.1:0 >/dev/null 2>"$WORK/regd-missing.err" || rc=$?
  [[ $rc != 0 && $rc != 124 ]] || fail "regd on a missing bucket: exit $rc (want a start-up error)"
  grep -q "$missing" "$WORK/regd-missing.err" || fail "regd's start-up error does not name the bucket: $(cat "$WORK/regd-missing.err")"
  [[ $(s3ctl status "$missing") == 404 ]] || fail "regctl or regd created bucket $missing"
  pass "regctl gc/verify/ls exit 7, regd exits $rc, nothing created"

  expect_rc 0 "$REGCTL" --root "s3://$missing-init/p" --init ls
  [[ $(s3ctl status "$missing-init") == 200 ]] || fail "regctl --init did not create the bucket"
  expect_rc 0 "$REGCTL" --root "s3://$missing-init/p" gc --grace 0 --force
  local img
  img=$(make_layout first v1)
  expect_rc 0 "$REGCTL" -q --root "s3://$missing-push/p" push oci:first:v1 team/app:v1
  [[ $(s3ctl status "$missing-push") == 200 ]] || fail "regctl push did not create the bucket"
  [[ $("$REGCTL" --root "s3://$missing-push/p" inspect --json team/app:v1 | jq -r .digest) == "$img" ]] ||
    fail "the image pushed into a new bucket"
  pass "regctl --init and regctl push create the bucket"
}

# check_push_pull: push an OCI layout (image, index, artifact), ls, tags, tag, pull back
# byte-identical, verify clean.
check_push_pull() {
  local ref want got
  step "regctl push, ls, tags, tag, pull, verify on $REGCTL_ROOT"
  IMG=$(make_layout src v1)
  make_layout src multi multi >/dev/null
  OLD=$(make_layout src old)
  ART=$(make_artifact src sig "$IMG" "$(stat -c %s "src/blobs/sha256/${IMG#sha256:}")")
  for ref in v1 multi old sig; do
    expect_rc 0 "$REGCTL" -q push "oci:src:$ref" "team/app:$ref"
  done
  "$REGCTL" -q push oci:src:v1 other/app:v1 >/dev/null || fail "push to a second repository"
  [[ $("$REGCTL" ls | tr '\n' ' ') == "other/app team/app " ]] || fail "ls: $("$REGCTL" ls | tr '\n' ' ')"
  expect_rc 0 "$REGCTL" tag team/app:v1 stable
  [[ $("$REGCTL" tags team/app | tr '\n' ' ') == "multi old sig stable v1 " ]] ||
    fail "tags: $("$REGCTL" tags team/app | tr '\n' ' ')"
  [[ $("$REGCTL" inspect --json team/app:stable | jq -r .digest) == "$IMG" ]] || fail "tag stable is not v1's manifest"
  [[ $("$REGCTL" inspect --json team/app:v1 | jq -r '.referrers[0].digest') == "$ART" ]] || fail "referrer of v1"
  for ref in v1 multi old sig stable; do
    [[ $("$REGCTL" -q pull "team/app:$ref" "oci:dst:$ref") == sha256:* ]] || fail "pull $ref"
  done
  same_blobs src dst
  for ref in v1 multi old sig; do
    want=$(jq -r --arg r "$ref" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$r) | .digest' src/index.json)
    got=$(jq -r --arg r "$ref" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$r) | .digest' dst/index.json)
    [[ $want == "$got" ]] || fail "pulled $ref: $got, want $want"
  done
  expect_rc 0 "$REGCTL" verify --json
  [[ $(jq '.problems | length' "$WORK/.out") == 0 ]] || fail "verify: $(jq -c '.problems[:3]' "$WORK/.out")"
  pass "push, ls, tags, tag, pull byte-identical, verify clean"
}

# gc_removes ROOT WANT_PREFIXES FLAGS...: runs regctl gc FLAGS (as JSON) and checks in the bucket
# that exactly the blobs under WANT_PREFIXES (space separated blob_prefix values, maybe none)
# went and no other key of the blob store did. Keys elsewhere that still name a removed blob (a
# repository's link to it: on POSIX GC removes those in the same run) are added to LINKS_LEFT,
# for the caller to fail on once the other checks ran.
LINKS_LEFT=()
gc_removes() {
  local root=$1 want=$2 gone p hex left
  shift 2
  # Times in the bucket have whole seconds, the storage clock's included: what was written in the
  # second GC starts counts as young even with --grace 0 (docs/s3.md). Let that second pass.
  sleep 1.1
  blob_keys "$root" >"$WORK/before"
  expect_rc 0 "$REGCTL" --root "$root" gc --json "$@"
  cp "$WORK/.out" "$WORK/gc.json"
  blob_keys "$root" >"$WORK/after"
  [[ -z $(comm -13 "$WORK/before" "$WORK/after") ]] || fail "gc added blob keys: $(comm -13 "$WORK/before" "$WORK/after")"
  gone=$(comm -23 "$WORK/before" "$WORK/after")
  for p in $want; do
    grep -q "^$p" <<<"$gone" || fail "gc $* left $p: $(jq -c . "$WORK/gc.json")"
    gone=$(grep -v "^$p" <<<"$gone" || true)
  done
  [[ -z $gone ]] || fail "gc $* removed more than wanted: $(head -n 5 <<<"$gone" | tr '\n' ' ')"
  [[ -s $WORK/after ]] || fail "the blob store is empty after gc"
  for p in $want; do
    hex=$(basename "$p")
    left=$(s3_keys "$root" | grep "$hex" || true)
    [[ -z $left ]] || LINKS_LEFT+=("after gc $*: $left")
  done
}

# check_gc: gc with nothing to collect removes nothing; a dangling blob (uploaded through regd,
# in no manifest) and an orphan blob object (put straight into the bucket) are removed and
# nothing else; --delete-untagged removes an untagged image's own blobs; verify stays clean and
# every tag still pulls.
check_gc() {
  local digest code ref old_blobs l
  step "regctl gc on $REGCTL_ROOT: nothing, then exactly the unreferenced blobs"
  gc_removes "$REGCTL_ROOT" "" --grace 0 --force
  [[ $(jq '.blobs_removed + .manifests_removed' "$WORK/gc.json") == 0 ]] || fail "gc without garbage: $(jq -c . "$WORK/gc.json")"
  pass "gc without garbage removes nothing"

  head -c 5000 /dev/urandom >"$WORK/dangling.bin"
  digest="sha256:$(sha256sum "$WORK/dangling.bin" | cut -d' ' -f1)"
  start_regd_args dangling --root "$REGCTL_ROOT" --listen 127.0.0.1:0 --threads 2
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
    --data-binary @"$WORK/dangling.bin" "http://127.0.0.1:${PORT[dangling]}/v2/team/app/blobs/uploads/?digest=$digest")
  [[ $code == 201 ]] || fail "upload of the dangling blob: $code"
  kill -TERM "${PID[dangling]}"
  wait "${PID[dangling]}" || fail "regd over $REGCTL_ROOT exited $? on SIGTERM"
  [[ -n $(blob_keys "$REGCTL_ROOT" | grep "^$(blob_prefix "$digest")") ]] || fail "the dangling blob is not in the bucket"
  gc_removes "$REGCTL_ROOT" "$(blob_prefix "$digest")" --grace 0 --force
  [[ $(jq .blobs_removed "$WORK/gc.json") == 1 ]] || fail "gc report: $(jq -c . "$WORK/gc.json")"
  pass "gc removes exactly the dangling blob"

  head -c 3000 /dev/urandom >"$WORK/orphan.bin"
  digest="sha256:$(sha256sum "$WORK/orphan.bin" | cut -d' ' -f1)"
  s3ctl put "$S3_BUCKET" "${REGCTL_ROOT#s3://"$S3_BUCKET"/}/$(blob_prefix "$digest")data" "$WORK/orphan.bin"
  gc_removes "$REGCTL_ROOT" "$(blob_prefix "$digest")" --grace 0 --force
  pass "gc removes exactly an orphan blob object"

  expect_rc 0 "$REGCTL" rm team/app:old
  old_blobs=$(blob_prefix "$OLD")
  for l in $(jq -r '.config.digest, .layers[].digest' "src/blobs/sha256/${OLD#sha256:}"); do
    old_blobs+=" $(blob_prefix "$l")"
  done
  gc_removes "$REGCTL_ROOT" "$old_blobs" --grace 0 --force --delete-untagged
  [[ $(jq .manifests_removed "$WORK/gc.json") == 1 ]] || fail "gc --delete-untagged report: $(jq -c . "$WORK/gc.json")"
  pass "gc --delete-untagged removes exactly the untagged image's blobs"

  expect_rc 0 "$REGCTL" verify --json
  [[ $(jq '.problems | length' "$WORK/.out") == 0 ]] || fail "verify after gc: $(jq -c '.problems[:3]' "$WORK/.out")"
  rm -rf back
  for ref in v1 multi sig stable; do
    "$REGCTL" -q pull "team/app:$ref" "oci:back:$ref" >/dev/null || fail "pull $ref after gc"
  done
  same_blobs back src
  pass "verify clean and every tag pulls byte-identical after gc"
  ((${#LINKS_LEFT[@]} == 0)) || fail "keys naming removed blobs left (links GC should have removed with them):
$(printf '  %s\n' "${LINKS_LEFT[@]}")
  verify: $("$REGCTL" verify --json | jq -c '.leftovers')"
}

# location_of HEADERS_FILE: the Location header of a response.
location_of() {
  awk 'tolower($1) == "location:" { print $2 }' "$1" | tr -d '\r'
}

# check_half_removed_upload: an upload session whose removal a kill cut short. The S3 backend
# keeps a session's data as pieces (_uploads/<uuid>/.pieces-data/<offset>) and removes a prefix
# in key order, so a regd killed while removing a session (after its commit, or a cancel) leaves
# the later pieces without the first. As a POSIX session a kill left half-removed, it is an old
# session to GC: gc --upload-ttl exits 0 and removes it, and verify is clean afterwards.
check_half_removed_upload() {
  local root a hdr loc code keys first
  root=$(s3_root half-removed)
  step "an upload session left half-removed by a kill (its first piece gone) on $root"
  "$REGCTL" --root "$root" --init ls >/dev/null || fail "regctl --init on $root"
  start_regd_args half --root "$root" --listen 127.0.0.1:0 --threads 2
  a=127.0.0.1:${PORT[half]}
  hdr=$WORK/half.hdr
  head -c 65 /dev/urandom >"$WORK/half1.bin"
  head -c 100 /dev/urandom >"$WORK/half2.bin"
  code=$(curl -s -o /dev/null -D "$hdr" -w '%{http_code}' -X POST "http://$a/v2/team/app/blobs/uploads/")
  [[ $code == 202 ]] || fail "POST: $code"
  loc=$(location_of "$hdr")
  code=$(curl -s -o /dev/null -D "$hdr" -w '%{http_code}' -X PATCH -H 'Content-Range: 0-64' \
    -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/half1.bin" "http://$a$loc")
  [[ $code == 202 ]] || fail "PATCH 0-64: $code"
  loc=$(location_of "$hdr")
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'Content-Range: 65-164' \
    -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/half2.bin" "http://$a$loc")
  [[ $code == 202 ]] || fail "PATCH 65-164: $code"
  kill -KILL "${PID[half]}"
  wait "${PID[half]}" 2>/dev/null || true
  keys=$(s3_keys "$root" | grep '/_uploads/' || true)
  first=$(grep '/\.pieces-data/0*$' <<<"$keys" || true)
  [[ -n $first && $(grep -c '/\.pieces-data/' <<<"$keys") == 2 ]] ||
    fail "setup: want two pieces of the session, the first at offset 0: $(tr '\n' ' ' <<<"$keys")"
  s3ctl rm "$S3_BUCKET" "${root#s3://"$S3_BUCKET"/}/$first"
  sleep 2.1 # older than --upload-ttl 1s, in whole seconds
  expect_rc 0 "$REGCTL" --root "$root" gc --grace 0 --force --upload-ttl 1s --json
  [[ $(jq .uploads_removed "$WORK/.out") == 1 ]] || fail "gc did not remove the session: $(jq -c . "$WORK/.out")"
  keys=$(s3_keys "$root" | grep '/_uploads/.' || true)
  [[ -z $keys ]] || fail "keys of the session left: $(tr '\n' ' ' <<<"$keys")"
  expect_rc 0 "$REGCTL" --root "$root" verify
  pass "gc removes a half-removed upload session; verify clean"
}

# Each group runs on its own (isolated: s3_api_test.sh): one failing does not hide the others.
s3_regctl_checks() {
  WORK=$SCALE_TMP/regctl
  mkdir -p "$WORK"
  cd "$WORK" || exit 1
  REGCTL_ROOT=$(s3_root regctl)
  export REGCTL_ROOT
  isolated check_missing_bucket
  isolated check_push_pull check_gc
  isolated check_half_removed_upload
  isolated_outcome
}
