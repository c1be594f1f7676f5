#!/usr/bin/env bash
# Authentication across instances: three read-write and two --read-only regd instances over one
# root, all with the same htpasswd, rules and --token-key files, behind nginx and behind HAProxy
# (docs/examples/nginx.conf and haproxy.cfg, only ports and paths rewritten). A token issued by
# one instance works on every other (asked directly with curl: token from A, request to B..E;
# and through each LB, which spreads the requests); the realm in the challenge is the LB's
# address with the scheme the LB reports (X-Forwarded-Proto); skopeo and podman push and pull
# through each LB with Basic credentials, completing the Bearer flow on their own; after the
# htpasswd file changes and every instance got SIGHUP, a removed user is refused everywhere.
# podman runs only as root: without it the rest runs and the script exits 77 (skip).
# Usage: lb_auth_test.sh PATH_TO_REGD [PATH_TO_REGCTL]
REGD=$1
REGCTL=${2:-}
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"
need_cmds nginx haproxy skopeo htpasswd openssl curl jq python3

isolate_credentials

ROOT=$SCALE_TMP/root
make_htpasswd "$SCALE_TMP/htpasswd" alice:alice-secret bob:bob-secret
cat >"$SCALE_TMP/rules" <<'EOF'
user:alice   lb/**   *
user:bob     lb/**   pull
EOF
make_key "$SCALE_TMP/token.pem" ec
AUTH=(--htpasswd "$SCALE_TMP/htpasswd" --auth-rules "$SCALE_TMP/rules" --token-key "$SCALE_TMP/token.pem")
RW=(rw1 rw2 rw3)
RO=(ro1 ro2)
for n in "${RW[@]}"; do start_regd "$n" "$ROOT" "${AUTH[@]}"; done
for n in "${RO[@]}"; do start_regd "$n" "$ROOT" "${AUTH[@]}" --read-only; done
addr() { echo "127.0.0.1:${PORT[$1]}"; }
SK=(timeout 120 skopeo --insecure-policy)
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'
IMG=$SCALE_TMP/img
# mark VAR: keeps the current end of every instance's log in the associative array VAR.
# served_by VAR JQ_FILTER: the instances whose access log has a matching record after
# the line numbers mark kept in VAR.
served_by() {
  local -n _from=$1
  local n
  for n in "${RW[@]}" "${RO[@]}"; do
    [[ $(requests "$n" "${_from[$n]}" | jq -c "select($2)" | wc -l) -gt 0 ]] && echo "$n"
  done
  return 0
}
mark() {
  local -n _into=$1
  local n
  for n in "${RW[@]}" "${RO[@]}"; do _into[$n]=$(($(log_lines "$n") + 1)); done
}

step "direct: the realm follows Host and X-Forwarded-Proto"
[[ $(challenge "http://$(addr rw1)/v2/") == "Bearer realm=\"http://$(addr rw1)/v2/token\",service=\"regd\"" ]] ||
  fail "challenge of rw1: $(challenge "http://$(addr rw1)/v2/")"
[[ $(challenge "http://$(addr rw2)/v2/" -H 'X-Forwarded-Proto: https' -H 'Host: registry.test') == \
  'Bearer realm="https://registry.test/v2/token",service="regd"' ]] ||
  fail "challenge behind a TLS proxy: $(challenge "http://$(addr rw2)/v2/" -H 'X-Forwarded-Proto: https' -H 'Host: registry.test')"

step "direct: seed lb/app on rw1 with skopeo (token flow against rw1)"
d1=$(make_image "$IMG" v1 2 512)
"${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:v1" \
  "docker://$(addr rw1)/lb/app:v1" || fail "push to rw1"

step "direct: a token from each instance works on every other"
for a in "${RW[@]}" "${RO[@]}"; do
  t=$(token "http://$(addr "$a")/v2/token" bob:bob-secret repository:lb/app:pull)
  for b in "${RW[@]}" "${RO[@]}"; do
    got=$(curl -s -o /dev/null -w '%{http_code} %header{docker-content-digest}' -H "$ACCEPT" \
      -H "Authorization: Bearer $t" "http://$(addr "$b")/v2/lb/app/manifests/v1")
    [[ $got == "200 $d1" ]] || fail "token from $a on $b: $got"
  done
done
echo "   5 issuers x 5 verifiers: 200 with the pushed digest"

step "direct: one upload, token from rw1, POST on rw2, PUT on rw3, read on ro1 with bob's token from ro2"
t=$(token "http://$(addr rw1)/v2/token" alice:alice-secret repository:lb/blob:pull,push)
blob=$SCALE_TMP/blob.bin
head -c 1500000 /dev/urandom >"$blob"
digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
loc=$(curl -s -o /dev/null -D - -X POST -H "Authorization: Bearer $t" "http://$(addr rw2)/v2/lb/blob/blobs/uploads/" |
  tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
[[ $loc == /v2/lb/blob/blobs/uploads/* ]] || fail "POST on rw2 with rw1's token: no upload ($loc)"
[[ $loc == *\?* ]] && sep='&' || sep='?'
[[ $(status -X PUT -H "Authorization: Bearer $t" -H 'Content-Type: application/octet-stream' --data-binary @"$blob" \
  "http://$(addr rw3)$loc${sep}digest=$digest") == 201 ]] || fail "PUT on rw3 with rw1's token"
tb=$(token "http://$(addr ro2)/v2/token" bob:bob-secret repository:lb/blob:pull)
[[ $(curl -s -H "Authorization: Bearer $tb" "http://$(addr ro1)/v2/lb/blob/blobs/$digest" | sha256sum | cut -d' ' -f1) == \
  "${digest#sha256:}" ]] || fail "blob via ro1 with ro2's token"
[[ $(status -X DELETE -H "Authorization: Bearer $tb" "http://$(addr rw1)/v2/lb/blob/blobs/$digest") =~ ^40[13]$ ]] ||
  fail "bob's pull token deleted a blob on rw1"

# lb_checks NAME HOSTPORT: the checks through one load balancer.
lb_checks() {
  local lb=$1 LB=$2 t n got i
  local -A since
  step "$lb: the challenge names the LB's token endpoint; the client cannot fake the scheme"
  [[ $(challenge "http://$LB/v2/") == "Bearer realm=\"http://$LB/v2/token\",service=\"regd\"" ]] ||
    fail "$lb challenge: $(challenge "http://$LB/v2/")"
  [[ $(challenge "http://$LB/v2/" -H 'X-Forwarded-Proto: https') == "Bearer realm=\"http://$LB/v2/token\",service=\"regd\"" ]] ||
    fail "$lb passed the client's X-Forwarded-Proto on: $(challenge "http://$LB/v2/" -H 'X-Forwarded-Proto: https')"

  step "$lb: one token through the LB, requests spread over the instances"
  t=$(token "http://$LB/v2/token" bob:bob-secret repository:lb/app:pull)
  mark since
  for i in $(seq 10); do
    got=$(curl -s -o /dev/null -w '%{http_code} %header{docker-content-digest}' -H "$ACCEPT" \
      -H "Authorization: Bearer $t" "http://$LB/v2/lb/app/manifests/v1")
    [[ $got == "200 $d1" ]] || fail "$lb request $i with one token: $got"
  done
  got=$(served_by since '.path == "/v2/lb/app/manifests/v1" and .status == 200' | tr '\n' ' ')
  [[ $(wc -w <<<"$got") -ge 2 ]] || fail "$lb sent every request with the token to: $got"
  echo "   10 GETs with one token, served by: $got"

  step "$lb: skopeo push and pull with --dest-creds/--src-creds (Bearer flow through the LB)"
  local tag=${lb}1 d pulled=$SCALE_TMP/pulled-$lb
  d=$(make_image "$IMG" "$tag" 3 512)
  mark since
  "${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:$tag" \
    "docker://$LB/lb/app:$tag" || fail "skopeo push through $lb"
  "${SK[@]}" copy -q --src-tls-verify=false --src-creds bob:bob-secret "docker://$LB/lb/app:$tag" \
    "oci:$pulled:$tag" || fail "skopeo pull through $lb"
  [[ $(jq -r '.manifests[0].digest' "$pulled/index.json") == "$d" ]] || fail "pulled digest through $lb"
  for f in "$pulled"/blobs/sha256/*; do cmp -s "$f" "$IMG/blobs/sha256/${f##*/}" || fail "blob ${f##*/} via $lb"; done
  local issuers servers
  issuers=$(served_by since '(.path | startswith("/v2/token")) and .status == 200' | tr '\n' ' ')
  servers=$(served_by since '(.path | startswith("/v2/lb/")) and .status < 300' | tr '\n' ' ')
  echo "   tokens issued by: $issuers; authenticated requests served by: $servers"
  [[ -n $issuers ]] || fail "skopeo through $lb asked no token"
  [[ $(wc -w <<<"$servers") -ge 2 ]] || fail "$lb sent skopeo's requests to one instance: $servers"
  expect_fail 'denied|unauthorized|forbidden' "$SCALE_TMP/$lb-push-bob.log" \
    "${SK[@]}" copy -q --dest-tls-verify=false --dest-creds bob:bob-secret "oci:$IMG:$tag" "docker://$LB/lb/bob:$tag"
  repo_exists "$ROOT" lb/bob && fail "bob's refused push through $lb made lb/bob"

  if [[ -n $PODMAN_OK ]]; then
    step "$lb: podman login, push and pull"
    local -n pm="PM_$lb"
    local pauth=$SCALE_TMP/podman-$lb.json
    echo alice-secret | timeout 60 "${pm[@]}" login --tls-verify=false --authfile "$pauth" -u alice \
      --password-stdin "$LB" || fail "podman login through $lb"
    timeout 120 "${pm[@]}" pull -q --tls-verify=false --authfile "$pauth" "$LB/lb/app:$tag" >/dev/null ||
      fail "podman pull through $lb"
    [[ $("${pm[@]}" image inspect --format '{{.Digest}}' "$LB/lb/app:$tag") == "$d" ]] || fail "podman digest via $lb"
    "${pm[@]}" tag "$LB/lb/app:$tag" "$LB/lb/podman:$tag"
    timeout 120 "${pm[@]}" push -q --tls-verify=false --authfile "$pauth" "$LB/lb/podman:$tag" ||
      fail "podman push through $lb"
    [[ $(curl -fsS -u bob:bob-secret "http://$LB/v2/lb/podman/tags/list" | jq -r '.tags | index($t) != null' --arg t "$tag") == true ]] ||
      fail "podman's push through $lb is not listed"
    "${pm[@]}" rmi -a -f >/dev/null 2>&1 || true
  fi
}

PODMAN_OK=1
if ! podman_setup nginx || ! podman_setup haproxy; then
  PODMAN_OK=""
  echo "   (podman part skipped: $PODMAN_WHY)"
fi

step "nginx from docs/examples/nginx.conf"
NGINX_PORT=$(free_port)
SPLIT_PORT=$(free_port)
mkdir -p "$SCALE_TMP/nginx"
render_example nginx.conf "$SCALE_TMP/nginx/nginx.conf" \
  "s/10\.0\.0\.11:5000/127.0.0.1:${PORT[rw1]}/g" \
  "s/10\.0\.0\.12:5000/127.0.0.1:${PORT[rw2]}/g" \
  "s/10\.0\.0\.13:5000/127.0.0.1:${PORT[rw3]}/g" \
  "s/10\.0\.0\.21:5000/127.0.0.1:${PORT[ro1]}/g" \
  "s/10\.0\.0\.22:5000/127.0.0.1:${PORT[ro2]}/g" \
  "s/listen 80;/listen 127.0.0.1:$NGINX_PORT;/" \
  "s/listen 8080;/listen 127.0.0.1:$SPLIT_PORT;/" \
  "s|/run/nginx-regd.pid|$SCALE_TMP/nginx/nginx.pid|" \
  "s|/var/log/nginx/|$SCALE_TMP/nginx/|g" \
  "s|/var/lib/nginx/|$SCALE_TMP/nginx/|g"
start_nginx "$SCALE_TMP/nginx/nginx.conf"
wait_status "http://127.0.0.1:$NGINX_PORT/v2/" 401
lb_checks nginx "127.0.0.1:$NGINX_PORT"

step "HAProxy from docs/examples/haproxy.cfg"
HAPROXY_PORT=$(free_port)
STATS_PORT=$(free_port)
render_example haproxy.cfg "$SCALE_TMP/haproxy.cfg" \
  "s/10\.0\.0\.11:5000/127.0.0.1:${PORT[rw1]}/g" \
  "s/10\.0\.0\.12:5000/127.0.0.1:${PORT[rw2]}/g" \
  "s/10\.0\.0\.13:5000/127.0.0.1:${PORT[rw3]}/g" \
  "s/10\.0\.0\.21:5000/127.0.0.1:${PORT[ro1]}/g" \
  "s/10\.0\.0\.22:5000/127.0.0.1:${PORT[ro2]}/g" \
  "s/bind :80\$/bind 127.0.0.1:$HAPROXY_PORT/" \
  "s/bind 127\.0\.0\.1:8404/bind 127.0.0.1:$STATS_PORT/"
start_haproxy "$SCALE_TMP/haproxy.cfg"
for _ in $(seq 100); do
  up=0
  for s in regd1 regd2 regd3; do [[ $(haproxy_state "$STATS_PORT" regd_rw "$s") == UP ]] && up=$((up + 1)); done
  for s in replica1 replica2; do [[ $(haproxy_state "$STATS_PORT" regd_ro "$s") == UP ]] && up=$((up + 1)); done
  [[ $up == 5 ]] && break
  sleep 0.1
done
[[ $up == 5 ]] || fail "HAProxy: only $up of 5 instances UP (the /readyz checks must pass with auth on)"
lb_checks haproxy "127.0.0.1:$HAPROXY_PORT"

step "a user removed from the htpasswd file: refused by every instance once each has reloaded"
LB=127.0.0.1:$NGINX_PORT
t_bob=$(token "http://$LB/v2/token" bob:bob-secret repository:lb/app:pull)
for i in $(seq 10); do # every instance now has bob's Basic credentials in its cache
  [[ $(status -u bob:bob-secret "http://$LB/v2/lb/app/tags/list") == 200 ]] || fail "bob's Basic before the reload"
done
make_htpasswd "$SCALE_TMP/htpasswd.new" alice:alice-secret
mv "$SCALE_TMP/htpasswd.new" "$SCALE_TMP/htpasswd"
declare -A reloaded_from
for n in "${RW[@]}" "${RO[@]}"; do
  reloaded_from[$n]=$(($(log_lines "$n") + 1))
  kill -HUP "${PID[$n]}"
done
for n in "${RW[@]}" "${RO[@]}"; do
  for _ in $(seq 100); do
    tail -n +"${reloaded_from[$n]}" "$SCALE_TMP/$n.log" | grep -q '"msg":"reloaded","reloaded":"htpasswd' && break
    sleep 0.1
  done
  tail -n +"${reloaded_from[$n]}" "$SCALE_TMP/$n.log" | grep -q '"msg":"reloaded","reloaded":"htpasswd' || fail "$n did not reload"
  [[ $(status -u bob:bob-secret "http://$(addr "$n")/v2/lb/app/tags/list") == 401 ]] ||
    fail "$n still takes bob's password after the reload"
done
for i in $(seq 10); do
  [[ $(status -u bob:bob-secret "http://$LB/v2/lb/app/tags/list") == 401 ]] || fail "bob's Basic through nginx after the reload"
  [[ $(status -u alice:alice-secret "http://$LB/v2/lb/app/tags/list") == 200 ]] || fail "alice's Basic after the reload"
done
# A token already issued stays valid until it expires (docs/security.md): it is not a password.
[[ $(status -H "Authorization: Bearer $t_bob" "http://$LB/v2/lb/app/tags/list") == 200 ]] ||
  fail "bob's token issued before the reload"
echo "   bob refused on all 5 instances; his earlier token still works until it expires"

step "no 5xx anywhere; regctl verify finds no problem"
for n in "${RW[@]}" "${RO[@]}"; do
  bad=$(requests "$n" | jq -c 'select(.status >= 500)' | head -n3)
  [[ -z $bad ]] || fail "$n answered 5xx: $bad"
done
if [[ -n $REGCTL ]]; then
  timeout 120 "$REGCTL" --root "$ROOT" -q verify >"$SCALE_TMP/verify.out" 2>&1 || {
    cat "$SCALE_TMP/verify.out" >&2
    fail "regctl verify"
  }
fi
[[ -n $PODMAN_OK ]] || skip "everything but podman passed; $PODMAN_WHY"
echo PASS
