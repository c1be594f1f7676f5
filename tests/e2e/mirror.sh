#!/usr/bin/env bash
# regd as a pull-through cache (--upstream, docs/mirror.md) of real registries on loopback:
# Debian's docker-registry (registry:2) with TLS (a CA made here) and htpasswd, regd with Basic
# and regd with its own tokens. skopeo pulls through the cache (digests and bytes equal to the
# source); a tag is revalidated with a HEAD after the TTL and follows the upstream when it moves;
# a stopped upstream leaves the cached tag served with a Warning, and an uncached one a 503; the
# upstream killed mid-blob cuts the client and commits nothing, the next pull succeeds; podman
# pulls through regd set as a mirror in registries.conf; pushes to a proxied prefix are refused,
# other namespaces take pushes; GC keeps the tagged cached images; `regctl verify` is clean.
# Usage: mirror.sh PATH_TO_REGD PATH_TO_REGCTL
REGD=$1
REGCTL=$2
source "$(dirname "$0")/../scale/lib.sh"
source "$(dirname "$0")/../scale/auth_lib.sh"
need_cmds skopeo htpasswd openssl curl jq python3 docker-registry

isolate_credentials
T=$SCALE_TMP
SK=(timeout 120 skopeo --insecure-policy)
TTL=2

step "a CA and a certificate for 127.0.0.1, htpasswd users"
test_ca "$T" "mirror test CA"
make_htpasswd "$T/htpasswd" alice:alice-secret

step "upstreams: docker-registry (TLS, htpasswd), regd (Basic), regd (tokens), regd (open) behind a drop proxy"
start_registry2 "$T" "$T/htpasswd" mirror-test
D=127.0.0.1:$DPORT
printf 'user:alice   team/**   *\n' >"$T/rules"
start_regd basic "$T/basic-root" --htpasswd "$T/htpasswd" --auth-rules "$T/rules"
B=127.0.0.1:${PORT[basic]}
make_key "$T/token.pem" ec
start_regd token "$T/token-root" --htpasswd "$T/htpasswd" --auth-rules "$T/rules" --token-key "$T/token.pem"
K=127.0.0.1:${PORT[token]}
start_regd plain "$T/plain-root"
P=127.0.0.1:${PORT[plain]}
echo pass >"$T/mode"
python3 "$(dirname "$0")/drop_proxy.py" "${PORT[plain]}" "$T/proxy.port" "$T/mode" >"$T/proxy.log" 2>&1 &
SCALE_PIDS+=("$!")
for _ in $(seq 100); do [[ -s $T/proxy.port ]] && break; sleep 0.05; done
X=127.0.0.1:$(cat "$T/proxy.port")

step "images pushed to the upstreams with skopeo"
IMG=$T/img
d_dist=$(make_image "$IMG" dist 2 256)
d_a=$(make_image "$IMG" a 2 256)
d_b=$(make_image "$IMG" b 2 256)
d_tok=$(make_image "$IMG" tok 2 256)
d_big=$(make_image "$IMG" big 1 8192)
"${SK[@]}" copy -q --dest-cert-dir "$T/certs" --dest-creds alice:alice-secret "oci:$IMG:dist" \
  "docker://$D/team/app:v1" || fail "push to docker-registry"
"${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:a" "docker://$B/team/app:v1" ||
  fail "push to regd (Basic)"
"${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:tok" \
  "docker://$K/team/app:v1" || fail "push to regd (tokens)"
"${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:tok" \
  "docker://$K/team/pm:v1" || fail "push to regd (tokens)"
"${SK[@]}" copy -q --dest-tls-verify=false "oci:$IMG:big" "docker://$P/big/app:v1" || fail "push to regd (open)"

step "the cache: four upstreams, credentials from an auth file, the test CA"
jq -cn --arg d "$D" --arg b "$B" --arg k "$K" '{auths: {($d): {auth: ("alice:alice-secret" | @base64)},
  ($b): {auth: ("alice:alice-secret" | @base64)}, ($k): {auth: ("alice:alice-secret" | @base64)}}}' \
  >"$T/upstream-auth.json"
CROOT=$T/cache-root
start_regd cache "$CROOT" --upstream "dist=https://$D" --upstream "basic=http://$B" --upstream "tok=http://$K" \
  --upstream "flaky=http://$X" --upstream-authfile "$T/upstream-auth.json" --upstream-ca "$T/ca.pem" \
  --upstream-ttl "${TTL}s" --upstream-timeout 5s
C=127.0.0.1:${PORT[cache]}
V2=$CROOT/docker/registry/v2

# pull_check REPO TAG DIGEST: skopeo pulls REPO:TAG through the cache into a fresh layout; the
# manifest digest is DIGEST and every blob is byte-identical to the source layout's.
pull_check() {
  local dir
  dir=$(mktemp -d "$T/pull.XXXXXX")
  "${SK[@]}" copy -q --src-tls-verify=false "docker://$C/$1:$2" "oci:$dir:$2" || fail "pull of $1:$2 through the cache"
  [[ $(jq -r '.manifests[0].digest' "$dir/index.json") == "$3" ]] || fail "$1:$2 has another digest"
  same_blobs "$dir" "$IMG"
}
same_blobs() { local f; for f in "$1"/blobs/sha256/*; do cmp -s "$f" "$2/blobs/sha256/${f##*/}" || fail "blob ${f##*/}"; done; }
digest_of() { curl -s -o /dev/null -D - "$@" | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }'; }

step "pull through the cache from docker-registry (TLS + htpasswd), regd (Basic) and regd (tokens)"
pull_check dist/team/app v1 "$d_dist"
pull_check basic/team/app v1 "$d_a"
pull_check tok/team/app v1 "$d_tok"
for layer in $(jq -r '.layers[].digest' "$IMG/blobs/sha256/${d_a#sha256:}"); do
  [[ -f $V2/blobs/sha256/${layer:7:2}/${layer#sha256:}/data ]] || fail "layer $layer not stored"
  [[ -f $V2/repositories/basic/team/app/_layers/sha256/${layer#sha256:}/link ]] || fail "layer $layer not linked"
done
[[ $(cat "$V2/repositories/basic/team/app/_manifests/tags/v1/current/link") == "$d_a" ]] || fail "tag not stored"
[[ $(curl -s "http://$C/v2/_catalog" | jq -c '.repositories') == '["basic/team/app","dist/team/app","tok/team/app"]' ]] ||
  fail "catalog: $(curl -s "http://$C/v2/_catalog")"
"$REGCTL" --root "$CROOT" verify -q >/dev/null || fail "verify after the pulls"

step "a second pull is served from the cache: no blob is fetched again"
# Counted over the whole log, a second after each pull: access lines are buffered (200 ms).
blob_gets() { sleep 1; requests basic | jq -r 'select(.method == "GET" and (.path | contains("/blobs/")))' | wc -l; }
before=$(blob_gets)
[[ $before -ge 3 ]] || fail "the first pull fetched $before blobs upstream"
pull_check basic/team/app v1 "$d_a"
[[ $(blob_gets) == "$before" ]] || fail "blobs fetched again from the upstream"

step "after the TTL an unchanged tag is revalidated with a HEAD, not a GET"
sleep $((TTL + 1))
sleep 1
line=$(wc -l <"$T/basic.log") # past every buffered access line of the pulls
[[ $(digest_of "http://$C/v2/basic/team/app/manifests/v1") == "$d_a" ]] || fail "revalidated digest"
sleep 1
reqs=$(requests basic "$((line + 1))" | jq -r 'select(.path == "/v2/team/app/manifests/v1") | "\(.method) \(.status)"')
grep -qx "HEAD 200" <<<"$reqs" || fail "no HEAD revalidation: $reqs"
! grep -q "^GET" <<<"$reqs" || fail "an unchanged tag was fetched with GET: $reqs"

step "the tag moves upstream: after the TTL the cache serves the new digest"
"${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:b" "docker://$B/team/app:v1" ||
  fail "moving the tag upstream"
sleep $((TTL + 1))
[[ $(digest_of "http://$C/v2/basic/team/app/manifests/v1") == "$d_b" ]] || fail "the moved tag was not followed"
pull_check basic/team/app v1 "$d_b"
[[ $(cat "$V2/repositories/basic/team/app/_manifests/tags/v1/current/link") == "$d_b" ]] || fail "stored tag"

step "pushes to a proxied prefix are refused; other namespaces take pushes"
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "http://$C/v2/basic/team/app/blobs/uploads/")
[[ $code == 405 ]] && jq -e '.errors[0].code == "UNSUPPORTED"' "$T/body" >/dev/null || fail "push to a proxy: $code"
"${SK[@]}" copy -q --dest-tls-verify=false "oci:$IMG:tok" "docker://$C/local/app:v1" || fail "push to a local namespace"

step "a cache with its own auth: the refused never reach the upstream, the allowed pull"
printf 'user:alice   tok/team/**   pull\nanonymous    tok/public/**   pull\n' >"$T/cache-rules"
start_regd acache "$T/acache-root" --upstream "tok=http://$K" --upstream-authfile "$T/upstream-auth.json" \
  --htpasswd "$T/htpasswd" --auth-rules "$T/cache-rules"
A=127.0.0.1:${PORT[acache]}
line=$(log_lines token)
code=$(curl -s -o "$T/body" -D "$T/h.txt" -w '%{http_code}' "http://$A/v2/tok/team/app/manifests/v1")
[[ $code == 401 ]] && jq -e '.errors[0].code == "UNAUTHORIZED"' "$T/body" >/dev/null || fail "anonymous: $code"
grep -qi '^WWW-Authenticate: Basic' "$T/h.txt" || fail "no challenge: $(cat "$T/h.txt")"
code=$(curl -s -o "$T/body" -w '%{http_code}' -u alice:wrong "http://$A/v2/tok/team/app/blobs/$d_tok")
[[ $code == 401 ]] || fail "a wrong password: $code"
code=$(curl -s -o "$T/body" -w '%{http_code}' -u alice:alice-secret "http://$A/v2/tok/other/app/manifests/v1")
[[ $code == 403 ]] && jq -e '.errors[0].code == "DENIED"' "$T/body" >/dev/null || fail "outside the rules: $code"
[[ $(requests token "$((line + 1))" | jq -r 'select(.path | startswith("/v2/team/") or startswith("/v2/other/"))' |
  wc -l) == 0 ]] || fail "a refused request reached the upstream"
[[ ! -e $T/acache-root/docker/registry/v2/repositories ]] || fail "a refused request stored something"
[[ $(digest_of -u alice:alice-secret "http://$A/v2/tok/team/app/manifests/v1") == "$d_tok" ]] || fail "alice's pull"
[[ $(curl -s -o /dev/null -w '%{http_code}' -u alice:alice-secret -X POST "http://$A/v2/tok/team/app/blobs/uploads/") \
  == 403 ]] || fail "alice may only pull"
kill -TERM "${PID[acache]}"
wait "${PID[acache]}" 2>/dev/null || true

step "podman pulls upstream.test/... through regd set as its mirror in registries.conf"
if podman_setup pm; then
  cat >"$T/registries.conf" <<CONF
unqualified-search-registries = []
[[registry]]
prefix = "upstream.test"
location = "upstream.test"
[[registry.mirror]]
location = "$C/tok"
insecure = true
CONF
  line=$(log_lines cache)
  CONTAINERS_REGISTRIES_CONF=$T/registries.conf timeout 120 "${PM_pm[@]}" pull -q upstream.test/team/pm:v1 \
    >"$T/podman.out" 2>&1 || fail "podman pull through the mirror: $(cat "$T/podman.out")"
  [[ $("${PM_pm[@]}" image inspect --format '{{.Digest}}' upstream.test/team/pm:v1) == "$d_tok" ]] ||
    fail "podman's image digest"
  [[ $(requests cache "$line" | jq -r 'select(.path == "/v2/tok/team/pm/manifests/v1" and .status == 200)' |
    wc -l) -ge 1 ]] || fail "podman did not go through the mirror"
else
  echo "podman part skipped: $PODMAN_WHY"
fi

step "the upstream killed mid-blob: the client is cut, nothing is committed; the next pull succeeds"
layer=$(jq -r '.layers[0].digest' "$IMG/blobs/sha256/${d_big#sha256:}")
echo "stall 3000000" >"$T/mode"
rm -f "$T/mode.stalled"
curl -s -o "$T/cut.bin" --max-time 60 "http://$C/v2/flaky/big/app/blobs/$layer" &
curl_pid=$!
for _ in $(seq 600); do [[ -e $T/mode.stalled ]] && break; sleep 0.1; done
[[ -e $T/mode.stalled ]] || fail "the transfer never reached 3 MB"
kill -KILL "${PID[plain]}"
wait "${PID[plain]}" 2>/dev/null || true
if wait "$curl_pid"; then fail "the client got a whole blob from a killed upstream"; fi
[[ $(stat -c %s "$T/cut.bin") -lt $(stat -c %s "$IMG/blobs/sha256/${layer#sha256:}") ]] || fail "not cut short"
[[ ! -e $V2/blobs/sha256/${layer:7:2}/${layer#sha256:}/data ]] || fail "a cut blob was committed"
[[ ! -e $V2/repositories/flaky/big/app/_layers/sha256/${layer#sha256:}/link ]] || fail "a cut blob was linked"
[[ -z $(find "$V2/blobs" -name '.tmp-*') ]] || fail "temp files left: $(find "$V2/blobs" -name '.tmp-*')"
echo pass >"$T/mode"
start_regd_args plain2 --root "$T/plain-root" --listen "127.0.0.1:${PORT[plain]}" --threads 2
pull_check flaky/big/app v1 "$d_big"
[[ -f $V2/blobs/sha256/${layer:7:2}/${layer#sha256:}/data ]] || fail "the blob was not stored on the retry"

step "the upstream stopped: the cached tag is served stale with a Warning, an uncached one is a 503"
kill -TERM "${PID[basic]}"
wait "${PID[basic]}" 2>/dev/null || true
sleep $((TTL + 1))
curl -s -o "$T/m.json" -D "$T/h.txt" "http://$C/v2/basic/team/app/manifests/v1" || fail "stale GET"
tr -d '\r' <"$T/h.txt" | grep -qi '^Warning: 110 - "Response is Stale"$' || fail "no Warning: $(cat "$T/h.txt")"
[[ "sha256:$(sha256sum "$T/m.json" | cut -d' ' -f1)" == "$d_b" ]] || fail "stale manifest body"
pull_check basic/team/app v1 "$d_b"
code=$(curl -s -o "$T/body" -w '%{http_code}' "http://$C/v2/basic/team/other/manifests/v1")
[[ $code == 503 ]] && jq -e '.errors[0].code == "UNAVAILABLE"' "$T/body" >/dev/null || fail "uncached, down: $code"
! grep -q "$T" "$T/body" || fail "the error body names a server path"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$C/v2/tok/team/nothing/manifests/v1")
[[ $code == 404 ]] || fail "a tag the upstream does not have: $code"

step "metrics count hits, misses, revalidations, stale answers"
[[ $(digest_of "http://$C/v2/basic/team/app/manifests/$d_b") == "$d_b" ]] || fail "manifest by digest from the cache"
metrics=$(curl -s "http://$C/metrics")
for outcome in hit miss revalidated updated stale error; do
  grep -q "^regd_upstream_requests_total{outcome=\"$outcome\"} [1-9]" <<<"$metrics" ||
    fail "no $outcome counted: $(grep regd_upstream <<<"$metrics")"
done

step "GC with --delete-untagged keeps the tagged cached images, drops the one the tag left"
old_layers=$(jq -r '.layers[].digest' "$IMG/blobs/sha256/${d_a#sha256:}")
timeout 120 "$REGCTL" --root "$CROOT" gc --grace 0s --force --delete-untagged --json >"$T/gc.json" ||
  fail "regctl gc"
jq -e '.blobs_removed >= 3' "$T/gc.json" >/dev/null || fail "gc report: $(cat "$T/gc.json")"
for l in $old_layers; do
  [[ ! -e $V2/blobs/sha256/${l:7:2}/${l#sha256:}/data ]] || fail "the untagged image's layer $l survived"
done
pull_check basic/team/app v1 "$d_b"
pull_check dist/team/app v1 "$d_dist"
"$REGCTL" --root "$CROOT" verify -q >/dev/null || fail "verify at the end"
echo "PASS"
