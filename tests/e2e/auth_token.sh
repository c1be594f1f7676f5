#!/usr/bin/env bash
# regd's own tokens (--token-key, keys made here with openssl: EC P-256 -> ES256 on one instance,
# RSA -> RS256 on another over the same root) with real clients: skopeo and podman complete the
# Bearer flow on their own (401 challenge -> token endpoint with Basic -> retry with the token),
# login, push, pull; anonymous pull of a repository the rules open to anonymous; what a token
# may not do (another key, another repository, a tampered payload, a push the rules refuse).
# The podman part needs root: without it the rest runs and the script exits 77 (skip).
# Usage: auth_token.sh PATH_TO_REGD
REGD=$1
source "$(dirname "$0")/../scale/lib.sh"
source "$(dirname "$0")/../scale/auth_lib.sh"
need_cmds skopeo htpasswd openssl curl jq python3

isolate_credentials

ROOT=$SCALE_TMP/root
make_htpasswd "$SCALE_TMP/htpasswd" alice:alice-secret bob:bob-secret
cat >"$SCALE_TMP/rules" <<'EOF'
user:alice   team/**     *
user:alice   public/**   pull,push
user:bob     team/**     pull
anonymous    public/**   pull
EOF
make_key "$SCALE_TMP/es.pem" ec
make_key "$SCALE_TMP/rs.pem" rsa
AUTH_FLAGS=(--htpasswd "$SCALE_TMP/htpasswd" --auth-rules "$SCALE_TMP/rules")
start_regd es "$ROOT" "${AUTH_FLAGS[@]}" --token-key "$SCALE_TMP/es.pem"
start_regd rs "$ROOT" "${AUTH_FLAGS[@]}" --token-key "$SCALE_TMP/rs.pem"
R=127.0.0.1:${PORT[es]}
RS=127.0.0.1:${PORT[rs]}
SK=(timeout 120 skopeo --insecure-policy)
IMG=$SCALE_TMP/img
# token_requests NAME [FROM_LINE]: how many token requests instance NAME answered with 200.
token_requests() {
  requests "$@" | jq -r 'select(.path | startswith("/v2/token")) | .status' | grep -c '^200$' || true
}

step "challenges are Bearer with regd's token endpoint as the realm"
[[ $(challenge "http://$R/v2/") == "Bearer realm=\"http://$R/v2/token\",service=\"regd\"" ]] ||
  fail "challenge on /v2/: $(challenge "http://$R/v2/")"
c=$(challenge "http://$R/v2/team/app/manifests/v1")
[[ $c == Bearer\ * && $c == *"realm=\"http://$R/v2/token\""* && $c == *'service="regd"'* &&
  $c == *'scope="repository:team/app:pull"'* ]] || fail "challenge on a manifest: $c"
c=$(challenge "http://$R/v2/team/app/blobs/uploads/" -X POST)
[[ $c == *'scope="repository:team/app:'*push* ]] || fail "challenge on an upload: $c"

step "the token endpoint: claims, the rules' intersection, wrong password, POST"
t=$(token "http://$R/v2/token" alice:alice-secret repository:team/app:pull,push)
cl=$(claims "$t")
jq -e '.iss == "regd" and .aud == "regd" and .sub == "alice" and (.exp - .iat) == 300' <<<"$cl" >/dev/null ||
  fail "alice's claims: $cl"
jq -e '[.access[] | select(.type == "repository" and .name == "team/app") | .actions[]] | sort == ["pull","push"]' \
  <<<"$cl" >/dev/null || fail "alice's access: $cl"
[[ $(cut -d. -f1 <<<"$t" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .alg) == ES256 ]] || fail "not ES256"
[[ $(status -H "Authorization: Bearer $t" "http://$R/v2/") == 200 ]] || fail "alice's token on /v2/"
cl=$(claims "$(token "http://$R/v2/token" bob:bob-secret repository:team/app:pull,push)")
jq -e '[.access[] | select(.name == "team/app") | .actions[]] == ["pull"]' <<<"$cl" >/dev/null ||
  fail "bob's token holds more than the rules give him: $cl"
[[ $(status -u bob:wrong "http://$R/v2/token?service=regd&scope=repository:team/app:pull") == 401 ]] ||
  fail "a wrong password got a token"
body=$(curl -s -X POST -d grant_type=password -d username=alice -d password=alice-secret -d service=regd \
  -d client_id=tests -d scope=repository:team/app:pull "http://$R/v2/token")
jq -e '.access_token | length > 0' <<<"$body" >/dev/null || fail "POST grant_type=password: $body"

step "skopeo: push and pull through the Bearer flow (ES256 instance)"
d1=$(make_image "$IMG" v1 2 512)
line=$(log_lines es)
"${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:v1" "docker://$R/team/app:v1" ||
  fail "skopeo push with tokens"
[[ $(token_requests es "$line") -ge 1 ]] || fail "skopeo's push asked no token"
pulled=$SCALE_TMP/pulled
"${SK[@]}" copy -q --src-tls-verify=false --src-creds bob:bob-secret "docker://$R/team/app:v1" "oci:$pulled:v1" ||
  fail "skopeo pull with tokens"
[[ $(jq -r '.manifests[0].digest' "$pulled/index.json") == "$d1" ]] || fail "pulled digest"
for f in "$pulled"/blobs/sha256/*; do cmp -s "$f" "$IMG/blobs/sha256/${f##*/}" || fail "pulled blob ${f##*/}"; done

step "skopeo login (token flow), then copy with the auth file (RS256 instance)"
AUTH=$SCALE_TMP/skopeo-auth.json
echo alice-secret | timeout 60 skopeo login --tls-verify=false --authfile "$AUTH" -u alice --password-stdin "$RS" ||
  fail "skopeo login"
expect_fail 'invalid username/password' "$SCALE_TMP/login-bad.log" \
  bash -c "echo wrong | skopeo login --tls-verify=false --authfile '$SCALE_TMP/bad.json' -u alice --password-stdin '$RS'"
d2=$(make_image "$IMG" v2 2 256)
line=$(log_lines rs)
"${SK[@]}" copy -q --dest-tls-verify=false --authfile "$AUTH" "oci:$IMG:v2" "docker://$RS/team/app:v2" ||
  fail "push with the auth file"
[[ $(token_requests rs "$line") -ge 1 ]] || fail "skopeo's push asked no token of the RS256 instance"
t=$(token "http://$RS/v2/token" alice:alice-secret repository:team/app:pull)
[[ $(cut -d. -f1 <<<"$t" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .alg) == RS256 ]] || fail "not RS256"
"${SK[@]}" copy -q --src-tls-verify=false --authfile "$AUTH" "docker://$RS/team/app:v2" "oci:$pulled:v2" ||
  fail "pull with the auth file"
[[ $(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v2") | .digest' \
  "$pulled/index.json") == "$d2" ]] || fail "pulled v2 digest"
[[ $("${SK[@]}" list-tags --tls-verify=false --authfile "$AUTH" "docker://$RS/team/app" | jq -c .Tags) == '["v1","v2"]' ]] ||
  fail "list-tags"

step "what a token may not do"
t_es=$(token "http://$R/v2/token" alice:alice-secret repository:team/app:pull)
t_rs=$(token "http://$RS/v2/token" alice:alice-secret repository:team/app:pull)
[[ $(status -H "Authorization: Bearer $t_es" "http://$R/v2/team/app/manifests/v1") == 200 ]] || fail "ES256 token on its instance"
[[ $(status -H "Authorization: Bearer $t_rs" "http://$RS/v2/team/app/manifests/v1") == 200 ]] || fail "RS256 token on its instance"
[[ $(status -H "Authorization: Bearer $t_es" "http://$RS/v2/team/app/manifests/v1") == 401 ]] ||
  fail "a token signed with another key was accepted"
code=$(status -H "Authorization: Bearer $t_es" "http://$R/v2/team/other/manifests/v1")
[[ $code == 401 || $code == 403 ]] || fail "a token for team/app opened team/other: $code"
code=$(status -H "Authorization: Bearer $t_es" -X DELETE "http://$R/v2/team/app/manifests/v1")
[[ $code == 401 || $code == 403 ]] || fail "a pull token deleted: $code"
forged_claims=$(claims "$t_es" | jq -c '.access[0].actions = ["pull","push","delete"]' | base64 -w0 | tr '/+' '_-' | tr -d =)
forged="$(cut -d. -f1 <<<"$t_es").$forged_claims.$(cut -d. -f3 <<<"$t_es")"
[[ $(status -H "Authorization: Bearer $forged" -X DELETE "http://$R/v2/team/app/manifests/v1") == 401 ]] ||
  fail "a tampered token was not refused"
[[ $(status -u alice:alice-secret "http://$R/v2/team/app/manifests/v1") == 200 ]] ||
  fail "Basic is not accepted beside tokens"

step "bob may not push: denied through the token flow, nothing stored"
blobs_before=$(blob_count "$ROOT")
make_image "$IMG" bob 2 300 >/dev/null
expect_fail 'denied|unauthorized|forbidden' "$SCALE_TMP/push-bob.log" \
  "${SK[@]}" copy -q --dest-tls-verify=false --dest-creds bob:bob-secret "oci:$IMG:bob" "docker://$R/team/bob:v1"
repo_exists "$ROOT" team/bob && fail "a denied push made team/bob"
[[ $(blob_count "$ROOT") == "$blobs_before" ]] || fail "a denied push stored blobs"

step "anonymous: pull of public/** works, team/** does not, push does not"
d3=$(make_image "$IMG" pub 1 128)
"${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:pub" "docker://$R/public/app:1" ||
  fail "alice's push to public/app"
line=$(log_lines es)
"${SK[@]}" copy -q --src-tls-verify=false "docker://$R/public/app:1" "oci:$SCALE_TMP/anon:1" || fail "anonymous pull"
[[ $(jq -r '.manifests[0].digest' "$SCALE_TMP/anon/index.json") == "$d3" ]] || fail "anonymous pull digest"
[[ $(token_requests es "$line") -ge 1 ]] || fail "the anonymous pull asked no token"
t=$(token "http://$R/v2/token" "" repository:public/app:pull,push)
jq -e '[.access[]? | select(.name == "public/app") | .actions[]] == ["pull"]' <<<"$(claims "$t")" >/dev/null ||
  fail "anonymous token: $(claims "$t")"
expect_fail 'unauthorized|authentication required|denied' "$SCALE_TMP/anon-team.log" \
  "${SK[@]}" copy -q --src-tls-verify=false "docker://$R/team/app:v1" "oci:$SCALE_TMP/anon:v1"
expect_fail 'unauthorized|authentication required|denied' "$SCALE_TMP/anon-push.log" \
  "${SK[@]}" copy -q --dest-tls-verify=false "oci:$IMG:pub" "docker://$R/public/app:anon"
[[ $(curl -fsS -u alice:alice-secret "http://$R/v2/public/app/tags/list" | jq -c .tags) == '["1"]' ]] ||
  fail "an anonymous push changed public/app"

step "podman: login, push and pull through the token flow; anonymous pull"
if ! podman_setup a || ! podman_setup b; then
  echo "SKIP: everything but podman passed; $PODMAN_WHY"
  exit 77
fi
PAUTH=$SCALE_TMP/podman-auth.json
expect_fail 'invalid username/password' "$SCALE_TMP/plogin-bad.log" \
  bash -c "echo wrong | ${PM_a[*]} login --tls-verify=false --authfile '$PAUTH' -u alice --password-stdin '$R'"
echo alice-secret | timeout 60 "${PM_a[@]}" login --tls-verify=false --authfile "$PAUTH" -u alice --password-stdin "$R" ||
  fail "podman login"
timeout 120 "${PM_a[@]}" pull -q --tls-verify=false --authfile "$PAUTH" "$R/team/app:v1" >/dev/null || fail "podman pull"
[[ $("${PM_a[@]}" image inspect --format '{{.Digest}}' "$R/team/app:v1") == "$d1" ]] || fail "podman pulled digest"
"${PM_a[@]}" tag "$R/team/app:v1" "$R/team/podman:p1"
line=$(log_lines es)
timeout 120 "${PM_a[@]}" push -q --tls-verify=false --authfile "$PAUTH" "$R/team/podman:p1" || fail "podman push"
[[ $(token_requests es "$line") -ge 1 ]] || fail "podman's push asked no token"
# podman asks one token for both repositories (team/podman:pull,push and team/app:pull) and
# mounts the layers it knows are in team/app instead of uploading them again.
[[ $(requests es "$line" | jq -c 'select(.method == "POST" and (.path | test("^/v2/team/podman/blobs/uploads/[?].*mount=")) and .status == 201)' |
  wc -l) -ge 1 ]] || fail "podman's push mounted no blob from team/app with its token"
pushed=$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' -u bob:bob-secret \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
  "http://$R/v2/team/podman/manifests/p1")
[[ $pushed == sha256:* ]] || fail "podman's push is not there"
timeout 120 "${PM_b[@]}" pull -q --tls-verify=false --creds bob:bob-secret "$RS/team/podman:p1" >/dev/null ||
  fail "podman pull --creds (RS256 instance) into fresh storage"
[[ $("${PM_b[@]}" image inspect --format '{{.Digest}}' "$RS/team/podman:p1") == "$pushed" ]] || fail "re-pulled digest"
timeout 120 "${PM_b[@]}" pull -q --tls-verify=false "$R/public/app:1" >/dev/null || fail "podman anonymous pull"
[[ $("${PM_b[@]}" image inspect --format '{{.Digest}}' "$R/public/app:1") == "$d3" ]] || fail "anonymous podman digest"
"${PM_b[@]}" tag "$RS/team/podman:p1" "$R/team/bobs:p1"
expect_fail 'denied|unauthorized|forbidden' "$SCALE_TMP/ppush-bob.log" \
  "${PM_b[@]}" push --tls-verify=false --creds bob:bob-secret "$R/team/bobs:p1"
repo_exists "$ROOT" team/bobs && fail "a denied podman push made team/bobs"
"${PM_a[@]}" rmi -a -f >/dev/null 2>&1 || true
"${PM_b[@]}" rmi -a -f >/dev/null 2>&1 || true
echo PASS
