# shellcheck shell=bash
# What the API tests that s3_api_test.sh excludes (they look into or damage a root directory)
# check, checked against an s3:// root: sourced after lib.sh (SCALE_FS=s3), never run.

# check_readyz_leaves_nothing (Robustness.HealthReadinessAndMetrics): /healthz and /readyz answer
# 200, and the readiness probe leaves no key behind (on POSIX: _regd/readyz stays empty).
check_readyz_leaves_nothing() {
  local root i left
  root=$(s3_root probe)
  step "/readyz on $root leaves no key behind"
  start_regd_args probe --root "$root" --listen 127.0.0.1:0 --threads 2
  for i in 1 2 3; do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[probe]}/readyz") == 200 ]] || fail "/readyz $i"
  done
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[probe]}/healthz") == 200 ]] || fail "/healthz"
  left=$(s3_keys "$root" | grep -E '(^|/)_regd/readyz/' || true)
  [[ -z $left ]] || fail "readiness probes left keys: $(head -n 3 <<<"$left" | tr '\n' ' ')"
  echo "   keys under the root after 3 probes: $(s3_keys "$root" | tr '\n' ' ')"
}

# check_sha512_upload (SpecAdditions.AnUploadHashesWithTheRequestedAlgorithm, its HTTP part, and
# its look at the session: the hash state kept is sha512's only): a chunked upload with
# ?digest-algorithm=sha512 commits under its sha512 digest; md5 is UNSUPPORTED.
check_sha512_upload() {
  local a hdr code loc id digest keys
  step "a chunked upload hashed with sha512 (?digest-algorithm=sha512)"
  start_regd_args algo --root "$(s3_root algo)" --listen 127.0.0.1:0 --threads 2
  a=127.0.0.1:${PORT[algo]}
  head -c 3000 /dev/urandom >"$SCALE_TMP/algo.bin"
  digest="sha512:$(sha512sum "$SCALE_TMP/algo.bin" | cut -d' ' -f1)"
  hdr=$SCALE_TMP/algo.hdr
  code=$(curl -s -o /dev/null -D "$hdr" -w '%{http_code}' -X POST "http://$a/v2/algo/blobs/uploads/?digest-algorithm=sha512")
  [[ $code == 202 ]] || fail "POST ?digest-algorithm=sha512: $code"
  loc=$(awk 'tolower($1) == "location:" { print $2 }' "$hdr" | tr -d '\r')
  code=$(curl -s -o /dev/null -D "$hdr" -w '%{http_code}' -X PATCH -H 'Content-Type: application/octet-stream' \
    --data-binary @"$SCALE_TMP/algo.bin" "http://$a$loc")
  [[ $code == 202 ]] || fail "PATCH: $code"
  id=${loc##*/}
  id=${id%%\?*}
  keys=$(s3_keys "$(s3_root algo)" | grep "/_uploads/$id/" || true)
  [[ -n $keys ]] || fail "no key of upload session $id in the bucket"
  grep -q sha512 <<<"$keys" || fail "no sha512 hash state in session $id: $(tr '\n' ' ' <<<"$keys")"
  ! grep -q sha256 <<<"$keys" || fail "a sha256 hash state in a sha512 session: $(tr '\n' ' ' <<<"$keys")"
  loc=$(awk 'tolower($1) == "location:" { print $2 }' "$hdr" | tr -d '\r')
  [[ $loc == *\?* ]] && loc="$loc&digest=$digest" || loc="$loc?digest=$digest"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "http://$a$loc")
  [[ $code == 201 ]] || fail "PUT ?digest=sha512:...: $code"
  curl -fsS -o "$SCALE_TMP/algo.back" "http://$a/v2/algo/blobs/$digest" || fail "GET of the sha512 blob"
  cmp -s "$SCALE_TMP/algo.bin" "$SCALE_TMP/algo.back" || fail "the sha512 blob came back different"
  code=$(curl -s -o "$SCALE_TMP/algo.json" -w '%{http_code}' -X POST "http://$a/v2/algo/blobs/uploads/?digest-algorithm=md5")
  [[ $code == 400 && $(jq -r '.errors[0].code' "$SCALE_TMP/algo.json") == UNSUPPORTED ]] || fail "md5: $code"
  echo "   session keys: $(tr '\n' ' ' <<<"$keys")"
}

# check_storage_failure_bodies (ApiErrors.StorageFailuresNameNoServerPath): with the bucket gone
# under a running regd, uploads and reads fail with error bodies that name neither the bucket,
# its prefix (the S3 counterpart of the server path), the endpoint nor the key; regd does not
# create the bucket again.
check_storage_failure_bodies() {
  local bucket=regd-vanish prefix=hidden-prefix a code body=$SCALE_TMP/vanish.json x digest leak req data
  step "the bucket vanishes under a running regd: errors name no bucket, prefix, endpoint or key"
  s3ctl mb "$bucket"
  start_regd_args vanish --root "s3://$bucket/$prefix" --listen 127.0.0.1:0 --threads 2
  a=127.0.0.1:${PORT[vanish]}
  x=$(head -c 100 /dev/urandom | base64 -w0)
  digest="sha256:$(printf '%s' "$x" | sha256sum | cut -d' ' -f1)"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "$x" "http://$a/v2/team/app/blobs/uploads/?digest=$digest")
  [[ $code == 201 ]] || fail "upload before the bucket went: $code"
  s3ctl rb "$bucket"
  for req in "POST /v2/team/app/blobs/uploads/" "POST /v2/team/app/blobs/uploads/?digest=$digest" \
    "GET /v2/team/app/blobs/$digest" "GET /v2/team/app/tags/list"; do
    if [[ $req == POST* ]]; then data=(--data-binary "$x"); else data=(); fi
    code=$(curl -s -o "$body" -w '%{http_code}' -X "${req%% *}" "${data[@]}" "http://$a${req#* }")
    [[ $code -ge 400 ]] || fail "$req without a bucket: $code"
    for leak in "$bucket" "$prefix" "${AWS_ENDPOINT_URL#http://}" "$AWS_ACCESS_KEY_ID" "s3://"; do
      ! grep -qF "$leak" "$body" || fail "$req: the error body names '$leak': $(head -c 300 "$body")"
    done
    echo "   $req -> $code $(jq -c '.errors[0] | {code, message}' "$body" 2>/dev/null || head -c 100 "$body")"
  done
  echo "   without a bucket: /readyz $(curl -s -o /dev/null -w '%{http_code}' "http://$a/readyz")," \
    "/v2/_catalog $(curl -s -w ' %{http_code}' "http://$a/v2/_catalog" | head -c 200)"
  [[ $(s3ctl status "$bucket") == 404 ]] || fail "regd created bucket $bucket again"
}

s3_api_checks() {
  isolated check_readyz_leaves_nothing
  isolated check_sha512_upload
  isolated check_storage_failure_bodies
  isolated_outcome
}
