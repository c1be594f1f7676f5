# The checks both load-balancer scripts run: sourced after lib.sh, never run. Expects regd
# instances rw1 rw2 rw3 (read-write) and ro1 ro2 (--read-only) over one root, and
#   ALL   the LB address whose writes go round robin over rw1..rw3 (and reads somewhere),
#   SPLIT the LB address with the read/write split (GET/HEAD to ro1/ro2, the rest to rw1..rw3).
RW=(rw1 rw2 rw3)
RO=(ro1 ro2)
addr() { echo "127.0.0.1:${PORT[$1]}"; }

check_push_pull() {
  step "skopeo push of two multi-layer images through the LB, pull back byte-identical"
  local img=$SCALE_TMP/img d1 d2
  d1=$(make_image "$img" v1 3 1024)
  d2=$(make_image "$img" v2 2 2048)
  push "$img" v1 "$ALL" lb/app || fail "push v1 through $ALL"
  push "$img" v2 "$ALL" lb/app || fail "push v2 through $ALL"
  check_pull "$ALL" lb/app v1 "$img" "$d1"
  check_pull "$ALL" lb/app v2 "$img" "$d2"
  check_pull "$SPLIT" lb/app v1 "$img" "$d1"
  local n
  for n in "${RW[@]}" "${RO[@]}"; do
    [[ $(curl -fsS "http://$(addr "$n")/v2/lb/app/tags/list" | jq -c .tags) == '["v1","v2"]' ]] ||
      fail "tags of lb/app via $n"
  done
  # skopeo's uploads (PATCH and PUT carry the session id) spread over the instances.
  local uploads crossed
  uploads=$(for n in "${RW[@]}"; do
    requests "$n" | jq -r --arg n "$n" 'select(.path | test("^/v2/lb/app/blobs/uploads/.")) |
      (.path | sub("^/v2/lb/app/blobs/uploads/"; "") | sub("[?].*"; "")) + " " + $n'
  done | sort -u)
  crossed=$(awk '{ n[$1]++ } END { c = 0; for (u in n) if (n[u] > 1) c++; print c }' <<<"$uploads")
  echo "   skopeo: $(awk '{print $1}' <<<"$uploads" | sort -u | wc -l) upload sessions, $crossed of them served by several instances"
  [[ $crossed -ge 1 ]] || fail "no skopeo upload session crossed instances"
}

check_chunked_across() {
  step "chunked upload: POST, PATCHes and PUT each on another instance"
  local blob=$SCALE_TMP/chunked.bin uuid got n digest
  head -c 3000000 /dev/urandom >"$blob"
  digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
  uuid=$(upload_chunked lb/chunked "$blob" 4 "$(addr rw1)" "$(addr rw2)" "$(addr rw3)")
  got=$(instances_with "$uuid" "${RW[@]}" | sort | tr '\n' ' ')
  [[ $got == "rw1 rw2 rw3 " ]] || fail "direct chunked upload $uuid seen on: $got"
  for n in "${RW[@]}" "${RO[@]}"; do
    [[ $(blob_sha "$(addr "$n")" lb/chunked "$digest") == "200 $digest" ]] || fail "chunked blob via $n"
  done

  step "chunked upload through the LB crosses instances (no sticky sessions)"
  head -c 2000000 /dev/urandom >"$blob"
  digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
  uuid=$(upload_chunked lb/chunked "$blob" 4 "$ALL")
  got=$(instances_with "$uuid" "${RW[@]}" "${RO[@]}" | tr '\n' ' ')
  [[ $(wc -w <<<"$got") -ge 2 ]] || fail "upload $uuid through the LB stayed on: $got"
  echo "   upload $uuid served by: $got"
  [[ $(blob_sha "$ALL" lb/chunked "$digest") == "200 $digest" ]] || fail "chunked blob via LB"

  head -c 2000000 /dev/urandom >"$blob"
  digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
  uuid=$(upload_chunked lb/chunked "$blob" 4 "$SPLIT")
  got=$(instances_with "$uuid" "${RW[@]}" | tr '\n' ' ')
  [[ $(wc -w <<<"$got") -ge 2 ]] || fail "upload $uuid through the split LB stayed on: $got"
  [[ -z $(instances_with "$uuid" "${RO[@]}") ]] || fail "upload $uuid reached a read-only instance"
  [[ $(blob_sha "$SPLIT" lb/chunked "$digest") == "200 $digest" ]] || fail "chunked blob via split LB"
}

check_same_blob_twice() {
  step "the same blob pushed through two instances at once: both succeed"
  local blob=$SCALE_TMP/same.bin digest a b
  head -c 4000000 /dev/urandom >"$blob"
  digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
  put_monolithic "$(addr rw1)" lb/same "$blob" 3M >"$SCALE_TMP/same1" &
  a=$!
  put_monolithic "$(addr rw2)" lb/same "$blob" 3M >"$SCALE_TMP/same2" &
  b=$!
  wait "$a" "$b"
  [[ $(cat "$SCALE_TMP/same1") == 201 && $(cat "$SCALE_TMP/same2") == 201 ]] ||
    fail "concurrent pushes of one blob: $(cat "$SCALE_TMP/same1") $(cat "$SCALE_TMP/same2")"
  [[ $(blob_sha "$(addr rw3)" lb/same "$digest") == "200 $digest" ]] || fail "same blob via rw3"

  head -c 4000000 /dev/urandom >"$blob"
  digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
  put_monolithic "$ALL" lb/same2 "$blob" 3M >"$SCALE_TMP/same1" &
  a=$!
  put_monolithic "$ALL" lb/same2 "$blob" 3M >"$SCALE_TMP/same2" &
  b=$!
  wait "$a" "$b"
  [[ $(cat "$SCALE_TMP/same1") == 201 && $(cat "$SCALE_TMP/same2") == 201 ]] ||
    fail "concurrent pushes of one blob through the LB: $(cat "$SCALE_TMP/same1") $(cat "$SCALE_TMP/same2")"
  [[ $(blob_sha "$ALL" lb/same2 "$digest") == "200 $digest" ]] || fail "same blob via LB"
}

# count NAME FROM_LINE JQ_FILTER: how many access-log records since FROM_LINE match.
count() {
  requests "$1" "$2" | jq -c "select($3)" | wc -l
}

check_read_write_split() {
  step "read-only instances refuse writes with 405 UNSUPPORTED"
  local body=$SCALE_TMP/ro.json code n
  code=$(curl -s -o "$body" -w '%{http_code}' -X POST "http://$(addr ro1)/v2/lb/app/blobs/uploads/")
  [[ $code == 405 && $(jq -r '.errors[0].code' "$body") == UNSUPPORTED ]] || fail "POST to ro1: $code"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary '{}' "http://$(addr ro2)/v2/lb/app/manifests/x")
  [[ $code == 405 ]] || fail "PUT manifest to ro2: $code"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://$(addr ro1)/v2/lb/app/manifests/v1")
  [[ $code == 405 ]] || fail "DELETE to ro1: $code"

  step "through the split LB writes reach only read-write instances, reads only read-only ones"
  declare -A from
  for n in "${RW[@]}" "${RO[@]}"; do from[$n]=$(($(log_lines "$n") + 1)); done
  local img=$SCALE_TMP/split d
  d=$(make_image "$img" s1 3 1024)
  push "$img" s1 "$SPLIT" lb/split || fail "push through the split LB"
  check_pull "$SPLIT" lb/split s1 "$img" "$d"
  local writes='(.method | IN("POST","PUT","PATCH","DELETE"))'
  local reads='(.method | IN("GET","HEAD")) and (.path | startswith("/v2/"))'
  local w_rw=0 r_ro=0
  for n in "${RO[@]}"; do
    [[ $(count "$n" "${from[$n]}" "$writes") == 0 ]] || fail "a write reached read-only $n"
    r_ro=$((r_ro + $(count "$n" "${from[$n]}" "$reads")))
  done
  for n in "${RW[@]}"; do
    [[ $(count "$n" "${from[$n]}" "$reads") == 0 ]] || fail "a read reached read-write $n"
    w_rw=$((w_rw + $(count "$n" "${from[$n]}" "$writes")))
  done
  [[ $w_rw -gt 0 && $r_ro -gt 0 ]] || fail "split: $w_rw writes on rw, $r_ro reads on ro"
  echo "   $w_rw writes on read-write instances, $r_ro reads on read-only ones"
}

check_final_state() {
  step "no 5xx anywhere; regctl verify finds no problem"
  local n bad
  for n in "${RW[@]}" "${RO[@]}"; do
    bad=$(requests "$n" | jq -c 'select(.status >= 500)' | head -n3)
    [[ -z $bad ]] || fail "$n answered 5xx: $bad"
  done
  if [[ -n ${REGCTL:-} ]]; then
    timeout 120 "$REGCTL" --root "$(root_of regctl "$ROOT")" -q verify >"$SCALE_TMP/verify.out" 2>&1 || {
      cat "$SCALE_TMP/verify.out" >&2
      fail "regctl verify"
    }
  fi
}
