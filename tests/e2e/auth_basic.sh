#!/usr/bin/env bash
# HTTP Basic against an htpasswd file (bcrypt, made with `htpasswd -B`) and an access-rules file,
# with real clients: `skopeo login` and `podman login`, skopeo copy with --dest-creds/--src-creds
# and with the login's auth file, podman push/pull (vfs storage). A wrong password fails with the
# tools' auth error; a push the rules do not allow fails and stores nothing; anonymous callers
# pull only what the rules open to them.
# The podman part needs root: without it the skopeo part runs and the script exits 77 (skip).
# Usage: auth_basic.sh PATH_TO_REGD
REGD=$1
source "$(dirname "$0")/../scale/lib.sh"
source "$(dirname "$0")/../scale/auth_lib.sh"
need_cmds skopeo htpasswd curl jq python3

isolate_credentials

ROOT=$SCALE_TMP/root
make_htpasswd "$SCALE_TMP/htpasswd" alice:alice-secret bob:bob-secret
cat >"$SCALE_TMP/rules" <<'EOF'
# alice owns team/**; bob may only pull from it
user:alice   team/**   pull,push,delete
user:bob     team/**   pull
user:alice   public/** pull,push
anonymous    public/** pull
EOF
start_regd basic "$ROOT" --htpasswd "$SCALE_TMP/htpasswd" --auth-rules "$SCALE_TMP/rules"
R=127.0.0.1:${PORT[basic]}
SK=(timeout 120 skopeo --insecure-policy)
IMG=$SCALE_TMP/img

step "the challenge: Basic, on /v2/ and on a manifest"
[[ $(status "http://$R/v2/") == 401 ]] || fail "anonymous /v2/ is not 401"
[[ $(challenge "http://$R/v2/") == Basic\ realm=* ]] || fail "challenge: $(challenge "http://$R/v2/")"
[[ $(status "http://$R/v2/team/app/manifests/v1") == 401 ]] || fail "anonymous manifest GET is not 401"
[[ $(status -u alice:alice-secret "http://$R/v2/") == 200 ]] || fail "alice's /v2/ is not 200"
[[ $(status -u alice:wrong "http://$R/v2/") == 401 ]] || fail "a wrong password is not 401"

step "skopeo copy --dest-creds / --src-creds"
d1=$(make_image "$IMG" v1 2 512)
"${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:v1" "docker://$R/team/app:v1" ||
  fail "push with --dest-creds"
[[ $(curl -fsS -u bob:bob-secret "http://$R/v2/team/app/tags/list" | jq -c .tags) == '["v1"]' ]] || fail "tags after push"
pulled=$SCALE_TMP/pulled
"${SK[@]}" copy -q --src-tls-verify=false --src-creds bob:bob-secret "docker://$R/team/app:v1" "oci:$pulled:v1" ||
  fail "pull with --src-creds"
[[ $(jq -r '.manifests[0].digest' "$pulled/index.json") == "$d1" ]] || fail "pulled digest"
for f in "$pulled"/blobs/sha256/*; do cmp -s "$f" "$IMG/blobs/sha256/${f##*/}" || fail "pulled blob ${f##*/}"; done

step "skopeo login, then copy with its auth file"
AUTH=$SCALE_TMP/skopeo-auth.json
echo alice-secret | timeout 60 skopeo login --tls-verify=false --authfile "$AUTH" -u alice --password-stdin "$R" ||
  fail "skopeo login"
[[ $(jq -r --arg r "$R" '.auths[$r].auth' "$AUTH" | base64 -d) == alice:alice-secret ]] || fail "auth file content"
d2=$(make_image "$IMG" v2 2 256)
"${SK[@]}" copy -q --dest-tls-verify=false --authfile "$AUTH" "oci:$IMG:v2" "docker://$R/team/app:v2" ||
  fail "push with the login's auth file"
"${SK[@]}" copy -q --src-tls-verify=false --authfile "$AUTH" "docker://$R/team/app:v2" "oci:$pulled:v2" ||
  fail "pull with the login's auth file"
[[ $(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v2") | .digest' \
  "$pulled/index.json") == "$d2" ]] || fail "pulled v2 digest"
[[ $("${SK[@]}" list-tags --tls-verify=false --authfile "$AUTH" "docker://$R/team/app" | jq -c .Tags) == '["v1","v2"]' ]] ||
  fail "list-tags with the auth file"
timeout 60 skopeo logout --authfile "$AUTH" "$R" || fail "skopeo logout"
[[ $(jq -r --arg r "$R" '.auths[$r] // "gone"' "$AUTH") == gone ]] || fail "logout left the credentials"

step "wrong password: skopeo login and copy fail with the auth error"
expect_fail 'invalid username/password' "$SCALE_TMP/login-bad.log" \
  bash -c "echo wrong | skopeo login --tls-verify=false --authfile '$SCALE_TMP/bad.json' -u alice --password-stdin '$R'"
[[ ! -s $SCALE_TMP/bad.json ]] || ! jq -e --arg r "$R" '.auths[$r]' "$SCALE_TMP/bad.json" >/dev/null ||
  fail "a failed login stored credentials"
expect_fail 'unauthorized|authentication required' "$SCALE_TMP/pull-bad.log" \
  "${SK[@]}" copy -q --src-tls-verify=false --src-creds alice:wrong "docker://$R/team/app:v1" "oci:$SCALE_TMP/x:v1"
expect_fail 'unauthorized|authentication required' "$SCALE_TMP/pull-anon.log" \
  "${SK[@]}" copy -q --src-tls-verify=false "docker://$R/team/app:v1" "oci:$SCALE_TMP/x:v1"

step "unauthorized push (bob may only pull): denied, nothing stored"
blobs_before=$(blob_count "$ROOT")
make_image "$IMG" bob 2 300 >/dev/null
expect_fail 'denied|unauthorized|forbidden' "$SCALE_TMP/push-bob.log" \
  "${SK[@]}" copy -q --dest-tls-verify=false --dest-creds bob:bob-secret "oci:$IMG:bob" "docker://$R/team/bob:v1"
expect_fail 'denied|unauthorized|forbidden' "$SCALE_TMP/push-bob2.log" \
  "${SK[@]}" copy -q --dest-tls-verify=false --dest-creds bob:bob-secret "oci:$IMG:bob" "docker://$R/team/app:bob"
expect_fail 'unauthorized|authentication required' "$SCALE_TMP/push-bad.log" \
  "${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:wrong "oci:$IMG:bob" "docker://$R/team/bad:v1"
repo_exists "$ROOT" team/bob && fail "a denied push made team/bob"
repo_exists "$ROOT" team/bad && fail "a push with a wrong password made team/bad"
[[ $(blob_count "$ROOT") == "$blobs_before" ]] || fail "a denied push stored blobs"
[[ $(curl -fsS -u bob:bob-secret "http://$R/v2/team/app/tags/list" | jq -c .tags) == '["v1","v2"]' ]] ||
  fail "a denied push changed team/app's tags"
[[ $(find "$ROOT/docker/registry/v2/repositories" -path '*/_uploads/*' -name startedat | wc -l) == 0 ]] ||
  fail "a denied push left an upload session"

step "anonymous: pull of public/** without credentials, nothing else"
dp=$(make_image "$IMG" pub 1 128)
"${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:pub" "docker://$R/public/app:1" ||
  fail "alice's push to public/app"
"${SK[@]}" copy -q --src-tls-verify=false "docker://$R/public/app:1" "oci:$SCALE_TMP/anon:1" || fail "anonymous pull"
[[ $(jq -r '.manifests[0].digest' "$SCALE_TMP/anon/index.json") == "$dp" ]] || fail "anonymous pull digest"
[[ $(challenge "http://$R/v2/public/app/blobs/uploads/" -X POST) == Basic\ realm=* ]] ||
  fail "an anonymous upload is not challenged"
expect_fail 'unauthorized|authentication required' "$SCALE_TMP/anon-push.log" \
  "${SK[@]}" copy -q --dest-tls-verify=false "oci:$IMG:pub" "docker://$R/public/app:anon"
[[ $(curl -fsS "http://$R/v2/public/app/tags/list" | jq -c .tags) == '["1"]' ]] || fail "anonymous tags/list"

step "podman login, push and pull with Basic"
if ! podman_setup a || ! podman_setup b; then
  echo "SKIP: the skopeo part passed; $PODMAN_WHY"
  exit 77
fi
PAUTH=$SCALE_TMP/podman-auth.json
expect_fail 'invalid username/password' "$SCALE_TMP/plogin-bad.log" \
  bash -c "echo wrong | ${PM_a[*]} login --tls-verify=false --authfile '$PAUTH' -u alice --password-stdin '$R'"
echo alice-secret | timeout 60 "${PM_a[@]}" login --tls-verify=false --authfile "$PAUTH" -u alice --password-stdin "$R" ||
  fail "podman login"
[[ $("${PM_a[@]}" login --get-login --authfile "$PAUTH" "$R") == alice ]] || fail "podman login --get-login"
timeout 120 "${PM_a[@]}" pull -q --tls-verify=false --authfile "$PAUTH" "$R/team/app:v1" >/dev/null || fail "podman pull"
[[ $("${PM_a[@]}" image inspect --format '{{.Digest}}' "$R/team/app:v1") == "$d1" ]] || fail "podman pulled digest"
"${PM_a[@]}" tag "$R/team/app:v1" "$R/team/podman:p1"
timeout 120 "${PM_a[@]}" push -q --tls-verify=false --authfile "$PAUTH" "$R/team/podman:p1" || fail "podman push"
[[ $(curl -fsS -u bob:bob-secret "http://$R/v2/team/podman/tags/list" | jq -c .tags) == '["p1"]' ]] ||
  fail "podman's push is not listed"
pushed=$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' -u bob:bob-secret \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
  "http://$R/v2/team/podman/manifests/p1")
timeout 120 "${PM_b[@]}" pull -q --tls-verify=false --creds bob:bob-secret "$R/team/podman:p1" >/dev/null ||
  fail "podman pull --creds into fresh storage"
[[ $("${PM_b[@]}" image inspect --format '{{.Digest}}' "$R/team/podman:p1") == "$pushed" ]] || fail "re-pulled digest"

step "podman: unauthorized push and wrong password fail, nothing stored"
blobs_before=$(blob_count "$ROOT")
"${PM_b[@]}" tag "$R/team/podman:p1" "$R/team/bobs:p1"
expect_fail 'denied|unauthorized|forbidden' "$SCALE_TMP/ppush-bob.log" \
  "${PM_b[@]}" push --tls-verify=false --creds bob:bob-secret "$R/team/bobs:p1"
expect_fail 'unauthorized|authentication required' "$SCALE_TMP/ppush-bad.log" \
  "${PM_b[@]}" push --tls-verify=false --creds alice:wrong "$R/team/bobs:p1"
repo_exists "$ROOT" team/bobs && fail "a denied podman push made team/bobs"
[[ $(blob_count "$ROOT") == "$blobs_before" ]] || fail "a denied podman push stored blobs"
timeout 60 "${PM_a[@]}" logout --authfile "$PAUTH" "$R" || fail "podman logout"
"${PM_a[@]}" rmi -a -f >/dev/null 2>&1 || true
"${PM_b[@]}" rmi -a -f >/dev/null 2>&1 || true
echo PASS
