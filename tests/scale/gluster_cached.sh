# The cached-profile workload of gluster_test.sh: sourced, never run. Gluster's stock client
# caches are not coherent across mounts, so a read right after a write through another mount
# may miss (404) or see the old tag for about a second. What must hold anyway: bytes served
# always match their digest, nothing acknowledged is lost, and every instance converges.
k_converge_s=10

# fetch_all HOSTPORT KIND REPO DIGEST...: GETs every blob (KIND=blobs) or manifest
# (KIND=manifests) by digest with one curl; prints "<digest> <status> <sha256 of body>" lines.
fetch_all() {
  local addr=$1 kind=$2 repo=$3 dir args=() i=0 d
  shift 3
  dir=$(mktemp -d "$SCALE_TMP/fetch.XXXXXX")
  for d in "$@"; do
    args+=(-o "$dir/$i" "http://$addr/v2/$repo/$kind/$d")
    i=$((i + 1))
  done
  curl -s --max-time 60 -H 'Accept: application/vnd.oci.image.manifest.v1+json' -w '%{http_code}\n' \
    "${args[@]}" >"$dir/codes" || true
  i=0
  for d in "$@"; do
    touch "$dir/$i"
    echo "$d $(sed -n "$((i + 1))p" "$dir/codes") sha256:$(sha256sum "$dir/$i" | cut -d' ' -f1)"
    i=$((i + 1))
  done
  rm -rf "$dir"
}

# converge REPO KIND DIGEST...: polls every instance until each serves every digest (at most
# k_converge_s). Fails at once on bytes that do not match their digest. Prints the time taken
# and how many answers were misses (404) before that.
converge() {
  local repo=$1 kind=$2 t0 misses=0 round line n all
  shift 2
  t0=$(date +%s.%N)
  for round in $(seq 200); do
    all=1
    for n in "${ADDRS[@]}"; do
      while read -r d code sha; do
        if [[ $code == 200 ]]; then
          [[ $sha == "$d" ]] || fail "$n served $kind $d with bytes hashing to $sha"
        else
          all=0
          misses=$((misses + 1))
          [[ $code == 404 ]] || echo "   note: $n answered $code for $kind $d"
        fi
      done < <(fetch_all "$n" "$kind" "$repo" "$@")
    done
    [[ $all == 1 ]] && break
    awk "BEGIN { exit !($(date +%s.%N) - $t0 > $k_converge_s) }" && fail "$kind of $repo not served everywhere within ${k_converge_s}s"
    sleep 0.1
  done
  echo "   $kind of $repo on all instances after $(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $t0 }") s ($misses misses before)"
}

# blobs_of LAYOUT DIGEST: the config and layer digests of a manifest in LAYOUT.
blobs_of() {
  jq -r '.config.digest, .layers[].digest' "$1/blobs/sha256/${2#sha256:}"
}

cached_pushes() {
  step "cached: concurrent pushes through the three instances, then every blob read everywhere"
  local img=$SCALE_TMP/cimg tag dig i pids=() rc
  declare -gA CD
  while read -r tag dig; do CD[$tag]=$dig; done < <(make_images "$img" 2 512 1 1024 c0 c1 c2)
  for i in 0 1 2; do
    (
      for attempt in 1 2 3; do
        push "$img" "c$i" "${ADDRS[$i]}" gl/cached 2>>"$SCALE_TMP/cached-push.err" && { echo "c$i" >>"$SCALE_TMP/acked"; break; }
        echo "   push c$i via ${ADDRS[$i]} attempt $attempt failed"
        sleep 0.5
      done
    ) &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i"; done
  ACKED=($(sort "$SCALE_TMP/acked"))
  [[ ${#ACKED[@]} -ge 1 ]] || fail "no push was acknowledged in cached mode"
  echo "   ${#ACKED[@]} of 3 pushes acknowledged: ${ACKED[*]}"
  local blobs=() manifests=()
  for t in "${ACKED[@]}"; do
    manifests+=("${CD[$t]}")
    blobs+=($(blobs_of "$img" "${CD[$t]}"))
  done
  mapfile -t blobs < <(printf '%s\n' "${blobs[@]}" | sort -u)
  converge gl/cached blobs "${blobs[@]}"
  converge gl/cached manifests "${manifests[@]}"
}

cached_tag_moves() {
  step "cached: tag moves converge on every instance; every answer's bytes match its digest"
  local i want writer code t0 n got ok
  for i in 1 2; do
    want=${CD[${ACKED[$((i % ${#ACKED[@]}))]}]}
    writer=${ADDRS[$((i % 3))]}
    code=$(put_manifest "$writer" gl/cached latest "$SCALE_TMP/cimg" "$want")
    [[ $code == 201 ]] || fail "tag move via $writer: $code"
    t0=$(date +%s.%N)
    for n in "${ADDRS[@]}"; do
      ok=0
      for _ in $(seq 200); do
        got=$(manifest "$n" gl/cached latest)
        read -r code hd bd <<<"$got"
        [[ $code != 200 || $hd == "$bd" ]] || fail "$n served latest as $hd with bytes hashing to $bd"
        [[ $code == 200 && $hd == "$want" ]] && { ok=1; break; }
        awk "BEGIN { exit !($(date +%s.%N) - $t0 > $k_converge_s) }" && break
        sleep 0.05
      done
      [[ $ok == 1 ]] || fail "$n did not serve the moved tag within ${k_converge_s}s (last: $got)"
    done
    echo "   move $i: every instance serves the new tag after $(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $t0 }") s"
  done

  step "cached: tag reads via b and c racing 10 tag moves via a"
  local r pids=() d1=${CD[${ACKED[0]}]} d2=${CD[${ACKED[-1]}]}
  for r in "$B" "$C"; do
    (for i in $(seq 20); do manifest "$r" gl/cached latest; done >"$SCALE_TMP/crace-${r##*:}") &
    pids+=("$!")
  done
  for i in $(seq 10); do
    if ((i % 2)); then want=$d1; else want=$d2; fi
    code=$(put_manifest "$A" gl/cached latest "$SCALE_TMP/cimg" "$want")
    [[ $code == 201 ]] || fail "racing tag move $i: $code"
  done
  wait "${pids[@]}"
  local mismatched others
  mismatched=$(cat "$SCALE_TMP"/crace-* | awk '$1 == 200 && $2 != $3' | head -n3)
  [[ -z $mismatched ]] || fail "bytes not matching their digest: $mismatched"
  others=$(cat "$SCALE_TMP"/crace-* | awk '{print $1}' | sort | uniq -c | tr '\n' ' ')
  echo "   $(cat "$SCALE_TMP"/crace-* | wc -l) racing reads, statuses: $others"
}

cached_workload() {
  cached_pushes
  cached_tag_moves
  step "cached: an acknowledged image pulls back complete (skopeo) via another instance"
  check_pull "$B" gl/cached "${ACKED[0]}" "$SCALE_TMP/cimg" "${CD[${ACKED[0]}]}"
  verify_root cached
}
