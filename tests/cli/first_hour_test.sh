#!/bin/bash
# What a new user trips over (issue 11), each fixed at its cause:
# - a root without a registry tree (an empty dir, an unmounted share, a wrong path) is exit 7 for
#   every command, naming the root and --init, and creates nothing; push and --init create one;
#   a writing command on a read-only root fails before doing anything (needs a bind mount);
# - pull into a non-empty directory that is no OCI layout is refused and leaves it untouched;
# - a pull whose manifest needs a missing layer names the layer and leaves nothing behind;
# - a corrupt archive as pull destination is exit 1 (an error), not 2 (usage);
# - a misspelt command says so and suggests the right one;
# - inspect shows no ArtifactType for an image, and an artifact's own type.
# Usage: first_hour_test.sh REGCTL
source "$(dirname "$0")/lib.sh"
REGCTL=$1
setup_work
cd "$WORK"

# ---- root checks ----------------------------------------------------------------------------------
mkdir empty
img=$(make_layout src v1)
for cmd in "ls" "tags team/app" "inspect team/app:v1" "tag team/app:v1 v2" "rm team/app:v1" \
  "rm --repository team/app" "cp team/app:v1 other/app:v1" "du" "verify" "verify --repair" "gc" "gc --dry-run" \
  "prune --keep 1" "pull team/app:v1 oci:out"; do
  # shellcheck disable=SC2086 # word splitting of the command is wanted
  expect_rc 7 "$REGCTL" --root "$WORK/empty" $cmd
  grep -q "storage root $WORK/empty: no registry tree (docker/registry/v2)" "$WORK/.err" ||
    fail "$cmd: message does not name the root: $(cat "$WORK/.err")"
  grep -q -- "--init" "$WORK/.err" || fail "$cmd: message does not suggest --init"
  [[ -z $(ls -A empty) ]] || fail "$cmd created $(find empty)"
done
[[ ! -e out ]] || fail "pull created its destination before finding the root empty"
expect_rc 7 "$REGCTL" --root "$WORK/missing" verify
[[ ! -e missing ]] || fail "verify created a missing root"
pass "a root without a registry tree is exit 7 for every command and creates nothing"

expect_rc 0 "$REGCTL" --root "$WORK/empty" --init gc --json
[[ -d empty/docker/registry/v2 ]] || fail "--init did not create the tree"
[[ $(jq -r .blobs_removed "$WORK/.out") == 0 ]] || fail "gc --init report"
expect_rc 0 "$REGCTL" --root "$WORK/empty" verify
expect_rc 0 "$REGCTL" --root "$WORK/fresh" -q push oci:src:v1 team/app:v1
[[ -d fresh/docker/registry/v2/repositories/team/app ]] || fail "push did not create the tree"
pass "--init and push create the tree"

if mkdir ro && mount --bind fresh ro 2>/dev/null && mount -o remount,bind,ro ro 2>/dev/null; then
  trap 'umount "$WORK/ro" 2>/dev/null || true; rm -rf "$WORK"' EXIT
  for cmd in "tag team/app:v1 v2" "rm team/app:v1" "rm --repository team/app" "gc" "prune --keep 1" \
    "push oci:src:v1 team/app:v3" "verify --repair"; do
    # shellcheck disable=SC2086
    expect_rc 1 "$REGCTL" --root "$WORK/ro" $cmd
    grep -q "storage root $WORK/ro: storage not writable" "$WORK/.err" || fail "$cmd on a read-only root: $(cat "$WORK/.err")"
  done
  expect_rc 0 "$REGCTL" --root "$WORK/ro" verify
  expect_rc 0 "$REGCTL" --root "$WORK/ro" gc --dry-run
  umount ro
  pass "writing commands on a read-only root fail before doing anything; reading ones work"
else
  echo "skipped: the read-only root checks need bind mounts (root)"
fi

# ---- pull destinations --------------------------------------------------------------------------
export REGCTL_ROOT=$WORK/fresh
mkdir -p notes && echo "my notes" >notes/todo.txt
expect_rc 1 "$REGCTL" pull team/app:v1 oci:notes
grep -q "notes is not empty and not an OCI image layout" "$WORK/.err" || fail "non-layout dir: $(cat "$WORK/.err")"
[[ $(ls -A notes) == todo.txt ]] || fail "pull wrote into a directory that is no layout"
pass "pull refuses a non-empty directory that is no layout"

echo "not a tar at all" >corrupt.tar
expect_rc 1 "$REGCTL" pull team/app:v1 oci-archive:corrupt.tar
[[ $(cat corrupt.tar) == "not a tar at all" ]] || fail "corrupt archive was changed"
pass "a corrupt archive as destination is exit 1"

# A layer missing from the repository: the message names it, nothing is left behind.
layer=$(jq -r '.layers[1].digest' "src/blobs/sha256/${img#sha256:}")
"$REGCTL" -q pull team/app:v1 oci:existing:old >/dev/null
find existing -type f | sort | xargs sha256sum >existing.before
rm "$REGCTL_ROOT/docker/registry/v2/repositories/team/app/_layers/sha256/${layer#sha256:}/link"
expect_rc 4 "$REGCTL" pull team/app:v1 oci:newdir:v1
grep -q "layer $layer of manifest $img is not in repository team/app" "$WORK/.err" ||
  fail "missing layer message: $(cat "$WORK/.err")"
[[ ! -e newdir ]] || fail "a failed pull left $(find newdir)"
mkdir emptydir
expect_rc 4 "$REGCTL" pull team/app:v1 oci:emptydir
[[ -z $(ls -A emptydir) ]] || fail "a failed pull left files in an empty directory"
expect_rc 4 "$REGCTL" pull team/app:v1 oci-archive:new.tar
[[ ! -e new.tar ]] || fail "a failed pull left an archive"
# The layout lacks the config and both layers: the pull adds the config and the first layer before
# it finds the second missing, and must take them out again.
for blob in $(jq -r '.config.digest, .layers[].digest' "src/blobs/sha256/${img#sha256:}"); do
  rm "existing/blobs/sha256/${blob#sha256:}"
done
find existing -type f | sort | xargs sha256sum >existing.expected
expect_rc 4 "$REGCTL" pull team/app:v1 oci:existing:again
find existing -type f | sort | xargs sha256sum >existing.after
cmp -s existing.expected existing.after || fail "a failed pull changed the existing layout: $(diff existing.expected existing.after)"
pass "a pull missing a layer names it and leaves nothing behind"

# ---- unknown commands -----------------------------------------------------------------------------
expect_rc 2 "$REGCTL" lss
grep -q "^regctl: error: unknown command 'lss'; did you mean 'ls'?" "$WORK/.err" || fail "lss: $(cat "$WORK/.err")"
expect_rc 2 "$REGCTL" --root "$WORK/fresh" -q prnue
grep -q "unknown command 'prnue'; did you mean 'prune'?" "$WORK/.err" || fail "prnue: $(cat "$WORK/.err")"
expect_rc 2 "$REGCTL" frobnicate
grep -q "unknown command 'frobnicate'$" "$WORK/.err" || fail "frobnicate: $(cat "$WORK/.err")"
pass "unknown commands are named, with a suggestion when one is close"

# ---- inspect: an image has no artifact type -------------------------------------------------------
"$REGCTL" -q push oci:src:v1 team/img:v1 >/dev/null
"$REGCTL" inspect team/img:v1 >inspect.txt
! grep -q 'ArtifactType' inspect.txt || fail "an image shows an ArtifactType: $(cat inspect.txt)"
img_size=$(stat -c %s "src/blobs/sha256/${img#sha256:}")
make_artifact src sig "$img" "$img_size" >/dev/null
"$REGCTL" -q push oci:src:sig team/img:sig >/dev/null
"$REGCTL" inspect team/img:sig >inspect.txt
grep -q '^ArtifactType: *application/vnd.example.sig$' inspect.txt || fail "artifact type: $(cat inspect.txt)"
pass "inspect: ArtifactType only for artifacts"
