# The strict-profile workload of gluster_test.sh: sourced, never run. Instances a, b, c (at
# $A $B $C) each serve their own FUSE mount of one volume. Every read right after a write goes to
# another instance, so it crosses client mounts: close-to-open consistency must make it exact.

# expect_manifest HOSTPORT REPO REF DIGEST: the manifest is served now, whole and with DIGEST.
expect_manifest() {
  local got
  got=$(manifest "$1" "$2" "$3")
  [[ $got == "200 $4 $4" ]] || fail "manifest $2:$3 via $1: got '$got', want digest $4"
}

strict_push_pull() {
  step "push via one instance, pull at once via the others"
  local img=$SCALE_TMP/img tag dig
  declare -gA DIG
  while read -r tag dig; do DIG[$tag]=$dig; done < <(make_images "$img" 2 512 1 1024 v1 v2)
  push "$img" v1 "$A" gl/app || fail "push v1 via a"
  check_pull "$B" gl/app v1 "$img" "${DIG[v1]}"
  expect_manifest "$C" gl/app v1 "${DIG[v1]}"
  push "$img" v2 "$B" gl/app || fail "push v2 via b"
  expect_manifest "$C" gl/app v2 "${DIG[v2]}"
  expect_manifest "$A" gl/app v2 "${DIG[v2]}"
}

strict_chunked() {
  step "chunked upload: POST, PATCHes and PUT on different instances (and mounts)"
  local blob=$SCALE_TMP/chunked.bin uuid digest got n
  head -c 1500000 /dev/urandom >"$blob"
  digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
  uuid=$(upload_chunked gl/chunked "$blob" 3 "$A" "$B" "$C")
  got=$(instances_with "$uuid" a b c | tr '\n' ' ')
  [[ $got == "a b c " ]] || fail "chunked upload $uuid seen on: $got"
  for n in "${ADDRS[@]}"; do
    [[ $(blob_sha "$n" gl/chunked "$digest") == "200 $digest" ]] || fail "chunked blob via $n"
  done
}

strict_tag_moves() {
  step "tag moves, each read back at once via the two other instances"
  local i want writer other code
  for i in $(seq 3); do
    if ((i % 2)); then want=${DIG[v1]}; else want=${DIG[v2]}; fi
    writer=${ADDRS[$((i % 3))]}
    code=$(put_manifest "$writer" gl/app latest "$SCALE_TMP/img" "$want")
    [[ $code == 201 ]] || fail "tag move $i via $writer: $code"
    for other in "${ADDRS[@]}"; do
      [[ $other == "$writer" ]] && continue
      expect_manifest "$other" gl/app latest "$want"
    done
  done

  step "tag reads via b and c racing 10 tag moves via a (renames over the tag link)"
  local r pids=()
  for r in "$B" "$C"; do
    (for i in $(seq 20); do manifest "$r" gl/app latest; done >"$SCALE_TMP/race-${r##*:}") &
    pids+=("$!")
  done
  for i in $(seq 10); do
    if ((i % 2)); then want=${DIG[v1]}; else want=${DIG[v2]}; fi
    code=$(put_manifest "$A" gl/app latest "$SCALE_TMP/img" "$want")
    [[ $code == 201 ]] || fail "racing tag move $i: $code"
  done
  wait "${pids[@]}"
  local bad
  bad=$(cat "$SCALE_TMP"/race-* | awk -v a="${DIG[v1]}" -v b="${DIG[v2]}" \
    '!($1 == 200 && $2 == $3 && ($2 == a || $2 == b))' | sort | uniq -c)
  [[ -z $bad ]] || fail "tag reads racing tag moves: $bad"
  echo "   $(cat "$SCALE_TMP"/race-* | wc -l) racing reads: all 200, bytes matching their digest"
}

strict_deletes() {
  step "deletes, seen at once by the other instances"
  local code
  # tmp: v1's manifest with an annotation, so another digest over the same blobs
  local tmp=$SCALE_TMP/img/tmp.json
  jq -c '.annotations = {"test": "tmp"}' "$SCALE_TMP/img/blobs/sha256/${DIG[v1]#sha256:}" >"$tmp"
  DIG[tmp]="sha256:$(sha256sum "$tmp" | cut -d' ' -f1)"
  mv "$tmp" "$SCALE_TMP/img/blobs/sha256/${DIG[tmp]#sha256:}"
  code=$(put_manifest "$C" gl/app tmp "$SCALE_TMP/img" "${DIG[tmp]}")
  [[ $code == 201 ]] || fail "PUT manifest tmp via c: $code"
  expect_manifest "$A" gl/app tmp "${DIG[tmp]}"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://$A/v2/gl/app/manifests/v2")
  [[ $code == 202 ]] || fail "DELETE tag v2 via a: $code"
  [[ $(manifest "$B" gl/app v2 | cut -d' ' -f1) == 404 ]] || fail "deleted tag v2 still served by b"
  expect_manifest "$C" gl/app "${DIG[v2]}" "${DIG[v2]}"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://$B/v2/gl/app/manifests/${DIG[tmp]}")
  [[ $code == 202 ]] || fail "DELETE manifest tmp via b: $code"
  [[ $(manifest "$A" gl/app "${DIG[tmp]}" | cut -d' ' -f1) == 404 ]] || fail "deleted manifest served by a"
  [[ $(manifest "$C" gl/app tmp | cut -d' ' -f1) == 404 ]] || fail "tag of a deleted manifest served by c"
}

strict_listings() {
  step "catalog and tag lists agree on every instance"
  local n first
  first=$(curl -fsS "http://$A/v2/_catalog" | jq -c .repositories)
  [[ $(jq 'index("gl/app")' <<<"$first") != null ]] || fail "catalog via a: $first"
  for n in "${ADDRS[@]}"; do
    [[ $(curl -fsS "http://$n/v2/_catalog" | jq -c .repositories) == "$first" ]] ||
      fail "catalog via $n: $(curl -sS "http://$n/v2/_catalog"), via a: $first"
    [[ $(curl -fsS "http://$n/v2/gl/app/tags/list" | jq -c .tags) == '["latest","v1"]' ]] ||
      fail "tags via $n: $(curl -sS "http://$n/v2/gl/app/tags/list")"
  done
}

strict_concurrent() {
  step "three concurrent pushers of images sharing two layers, each through its own instance"
  local img=$SCALE_TMP/shared tag dig i pids=() rc=0
  declare -A d
  while read -r tag dig; do d[$tag]=$dig; done < <(make_images "$img" 1 512 2 1024 p0 p1 p2)
  for i in 0 1 2; do
    push "$img" "p$i" "${ADDRS[$i]}" gl/shared &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  [[ $rc == 0 ]] || fail "a concurrent push failed"
  for i in 0 1 2; do
    check_pull "${ADDRS[$(((i + 1) % 3))]}" gl/shared "p$i" "$img" "${d[p$i]}"
  done
}

strict_workload() {
  strict_push_pull
  strict_chunked
  strict_tag_moves
  strict_deletes
  strict_listings
  strict_concurrent
  step "strict: no 5xx on any instance, regctl verify clean"
  no_5xx
  verify_root strict
}
