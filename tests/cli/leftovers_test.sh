#!/bin/bash
# regctl verify tells crash leftovers (made here by hand, as a killed writer leaves them) apart
# from corruption: leftovers alone exit 0 and are listed with kind, repository, path, age, bytes
# and removable; a real corruption still exits 3. verify --repair removes exactly the leftovers
# older than the grace window under the GC lease (exit 5 when another GC holds it), and refuses a
# grace window not longer than the link refresh unless --force.
# Usage: leftovers_test.sh REGCTL
source "$(dirname "$0")/lib.sh"
REGCTL=$1
setup_work
cd "$WORK"

img=$(make_layout src v1)
"$REGCTL" -q push oci:src:v1 team/app:v1 >/dev/null
"$REGCTL" -q push oci:src:v1 other/app:v1 >/dev/null
v2=$REGCTL_ROOT/docker/registry/v2
repo=$v2/repositories/team/app
hex_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
layer_ghost=$(hex_of "a layer whose upload was killed while finishing")
rev_ghost=$(hex_of "a manifest whose PUT was killed")
young_ghost=$(hex_of "a layer being finished right now")
killed_post=0c0c0c0c-1111-4222-8333-444444444444
killed_cleanup=0d0d0d0d-1111-4222-8333-444444444444
l1=$(jq -r '.layers[0].digest' "src/blobs/sha256/${img#sha256:}")
blob_dir=$v2/blobs/sha256/${l1:7:2}/${l1#sha256:}

# A layer link without data (killed finishing PUT); a revision link without data (killed manifest
# PUT); a session holding only a temp file (killed POST); a temp file of a blob write.
mkdir -p "$repo/_layers/sha256/$layer_ghost" "$repo/_manifests/revisions/sha256/$rev_ghost"
printf 'sha256:%s' "$layer_ghost" >"$repo/_layers/sha256/$layer_ghost/link"
printf 'sha256:%s' "$rev_ghost" >"$repo/_manifests/revisions/sha256/$rev_ghost/link"
mkdir -p "$repo/_uploads/$killed_post"
printf '2026-01-01T00:00:00Z' >"$repo/_uploads/$killed_post/.tmp-startedat-1"
printf 'partial blob' >"$blob_dir/.tmp-data-1"
aged=("$repo/_layers/sha256/$layer_ghost" "$repo/_manifests/revisions/sha256/$rev_ghost"
  "$repo/_uploads/$killed_post" "$blob_dir/.tmp-data-1")
find "${aged[@]}" -exec touch -h -d '2 hours ago' {} +
# Not leftovers: startedat and an empty hashstates/sha256 without data (a killed clean-up, or a
# session registry:2 has not written data to yet) is a valid, empty upload session.
mkdir -p "$repo/_uploads/$killed_cleanup/hashstates/sha256"
printf '%s' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$repo/_uploads/$killed_cleanup/startedat"
# A young leftover: inside the grace window, not removable yet.
mkdir -p "$repo/_layers/sha256/$young_ghost"
printf 'sha256:%s' "$young_ghost" >"$repo/_layers/sha256/$young_ghost/link"

expect_rc 0 "$REGCTL" verify --json
report=$WORK/report.json
cp "$WORK/.out" "$report"
[[ $(jq -r .ok "$report") == true ]] || fail "leftovers reported as corruption: $(jq -c .problems "$report")"
[[ $(jq '.problems | length' "$report") == 0 ]] || fail "problems: $(jq -c .problems "$report")"
# leftover KIND PATH-SUBSTRING: prints the matching leftover objects, one per line
leftover() { jq -c --arg k "$1" --arg p "$2" '.leftovers[] | select(.kind == $k and (.path | contains($p)))' "$report"; }
for pair in "layer_link $layer_ghost" "revision_link $rev_ghost" "upload_session $killed_post" "temp_file .tmp-data-1"; do
  read -r kind part <<<"$pair"
  found=$(leftover "$kind" "$part")
  [[ $(wc -l <<<"$found") == 1 && -n $found ]] || fail "$kind leftover $part: got '$found' in $(jq -c .leftovers "$report")"
  jq -e '.removable == true and .age_seconds >= 7000 and (.mtime | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))
    and (.bytes | type == "number")' <<<"$found" >/dev/null || fail "$kind leftover fields: $found"
done
jq -e '.repository == "team/app"' <<<"$(leftover layer_link "$layer_ghost")" >/dev/null || fail "layer_link repository"
jq -e 'has("repository") | not' <<<"$(leftover temp_file .tmp-data-1)" >/dev/null || fail "blob-store temp repository"
jq -e '.removable == false and .age_seconds < 600' <<<"$(leftover layer_link "$young_ghost")" >/dev/null ||
  fail "young leftover: $(leftover layer_link "$young_ghost")"
[[ $(jq --arg u "$killed_cleanup" '[.leftovers[] | select(.path | contains($u))] | length' "$report") == 0 ]] ||
  fail "an empty upload session with startedat reported as a leftover"
pass "leftovers alone: exit 0, each listed with its fields; an empty session is fine"

expect_rc 0 "$REGCTL" verify
grep -q '^leftovers GC will remove' "$WORK/.out" || fail "text report has no leftover section: $(cat "$WORK/.out")"
grep -q "^  layer_link: team/app: .*$layer_ghost.* old" "$WORK/.out" || fail "text leftover line"
grep -q "younger than the grace window" "$WORK/.out" || fail "young leftover not marked"
grep -q ': 0 problems, 5 leftovers$' "$WORK/.out" || fail "summary: $(tail -1 "$WORK/.out")"
grep -q ' 2 uploads in 2 repositories' "$WORK/.out" || fail "summary counts: $(tail -1 "$WORK/.out")"
expect_rc 0 "$REGCTL" verify --json other/app
[[ $(jq '.leftovers | length' "$WORK/.out") == 0 ]] || fail "leftovers of other repositories in a scoped verify"
pass "text report and scope"

# With real corruption too: exit 3, the corruption is the one problem, leftovers stay apart.
tag_link=$v2/repositories/other/app/_manifests/tags/v1/current/link
printf 'sha256:%s' "$rev_ghost" >"$tag_link"
expect_rc 3 "$REGCTL" verify --json
[[ $(jq '.problems | length' "$WORK/.out") == 1 ]] || fail "problems: $(jq -c .problems "$WORK/.out")"
[[ $(jq -r '.problems[0].kind + " " + .problems[0].repository' "$WORK/.out") == "dangling_link other/app" ]] ||
  fail "dangling tag not found: $(jq -c .problems "$WORK/.out")"
[[ $(jq '.leftovers | length' "$WORK/.out") == 5 ]] || fail "leftovers lost next to corruption"
expect_rc 3 "$REGCTL" verify
grep -q ': 1 problem, 5 leftovers$' "$WORK/.out" || fail "summary: $(tail -1 "$WORK/.out")"
# A layer a manifest needs whose data is lost is corruption (its useless link may go with GC).
printf 'sha256:%s' "${img#sha256:}" >"$tag_link"
mv "$blob_dir/data" "$WORK/l1.data"
expect_rc 3 "$REGCTL" verify --json team/app
jq -e --arg d "$l1" '[.problems[] | select(.kind == "missing_reference" and (.detail | contains($d)))] | length == 1' \
  "$WORK/.out" >/dev/null || fail "a needed layer whose data is missing: $(jq -c .problems "$WORK/.out")"
mv "$WORK/l1.data" "$blob_dir/data"
pass "corruption still exits 3"

# The grace rule, and the scope of --repair.
expect_rc 2 "$REGCTL" verify --repair --grace 5m
grep -q "must be longer than the link refresh interval 10m" "$WORK/.err" || fail "grace rule message: $(cat "$WORK/.err")"
grep -q -- "--force" "$WORK/.err" || fail "grace rule message does not name --force"
expect_rc 2 "$REGCTL" verify --repair --grace 10 --force
grep -q "needs a unit: s, m, h or d" "$WORK/.err" || fail "unit message: $(cat "$WORK/.err")"
expect_rc 2 "$REGCTL" verify --repair team/app
expect_rc 2 "$REGCTL" verify --repair --grace 20m --link-refresh 30m
[[ -f $repo/_layers/sha256/$layer_ghost/link ]] || fail "a refused repair removed something"
pass "--repair refuses a short grace, a bare number and repositories"

# Another GC holds the lease: exit 5, nothing removed; a plain verify needs no lease.
mkdir -p "$v2/_gc"
echo '{"holder":"elsewhere","token":"t","expires":"2200-01-01T00:00:00Z"}' >"$v2/_gc/lease"
expect_rc 5 "$REGCTL" verify --repair
grep -q "elsewhere" "$WORK/.err" || fail "busy error does not name the holder: $(cat "$WORK/.err")"
[[ -f $repo/_layers/sha256/$layer_ghost/link ]] || fail "repair removed data without the lease"
expect_rc 0 "$REGCTL" verify
rm "$v2/_gc/lease"
pass "lease held: exit 5"

# --repair (default grace 1h) removes the old leftovers, and only them.
expect_rc 0 "$REGCTL" verify --repair --json
[[ $(jq '.repair.removed' "$WORK/.out") == 4 ]] || fail "repair removed: $(jq -c .repair "$WORK/.out")"
[[ $(jq '[.repair.leftovers[].kind] | sort | join(" ")' -r "$WORK/.out") == \
  "layer_link revision_link temp_file upload_session" ]] || fail "repair list: $(jq -c .repair "$WORK/.out")"
for gone in "$repo/_layers/sha256/$layer_ghost" "$repo/_manifests/revisions/sha256/$rev_ghost" \
  "$repo/_uploads/$killed_post" "$blob_dir/.tmp-data-1"; do
  [[ ! -e $gone ]] || fail "repair left $gone"
done
[[ -f $repo/_layers/sha256/$young_ghost/link ]] || fail "repair removed a young leftover"
[[ -f $repo/_uploads/$killed_cleanup/startedat && -f $blob_dir/data ]] || fail "repair removed what is not a leftover"
[[ $(jq '.leftovers | length' "$WORK/.out") == 1 && $(jq '.problems | length' "$WORK/.out") == 0 ]] ||
  fail "after repair: $(jq -c '{leftovers, problems}' "$WORK/.out")"
pass "--repair removes the old leftovers only"

# --grace 1s --force (a stopped registry) takes the young one too; storage is then clean.
sleep 2
expect_rc 0 "$REGCTL" verify --repair --grace 1s --force
grep -q '^repair: removed 1 leftover$' "$WORK/.out" || fail "repair text: $(cat "$WORK/.out")"
[[ ! -e $repo/_layers/sha256/$young_ghost ]] || fail "forced repair left the young leftover"
expect_rc 0 "$REGCTL" verify --json
[[ $(jq '(.leftovers | length) + (.problems | length)' "$WORK/.out") == 0 ]] || fail "not clean: $(cat "$WORK/.out")"
"$REGCTL" -q pull team/app:v1 oci:back:v1 >/dev/null || fail "pull after repair"
same_blobs back src
pass "forced repair, then clean"
