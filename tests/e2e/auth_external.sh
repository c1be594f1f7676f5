#!/usr/bin/env bash
# Tokens from an external token service (what Harbor or GitLab run): tests/e2e/token_issuer.py
# signs RS256 and ES256 tokens with `access` claims; two regd instances over one root trust its
# public keys (--token-trust: a certificate for the RSA key, a bare public key for the EC one),
# check its issuer (--token-trust-issuer) and send clients to it (--token-realm). skopeo pushes
# and pulls through that flow; the rules still bound what a token grants; wrong issuer, wrong
# audience, expired, not yet valid, untrusted key and forged tokens are 401.
# Usage: auth_external.sh PATH_TO_REGD
REGD=$1
source "$(dirname "$0")/../scale/lib.sh"
source "$(dirname "$0")/../scale/auth_lib.sh"
need_cmds skopeo openssl curl jq python3
PY=$(jwt_python) || skip "no python3 with PyJWT and cryptography (python3-jwt, python3-cryptography)"
ISSUER=$(dirname "$0")/token_issuer.py

isolate_credentials

step "the external issuer: an RSA and an EC key, both trusted by regd"
make_key "$SCALE_TMP/rs.pem" rsa
make_key "$SCALE_TMP/es.pem" ec
make_key "$SCALE_TMP/untrusted.pem" ec
{
  self_signed_cert "$SCALE_TMP/rs.pem" test-issuer
  public_key "$SCALE_TMP/es.pem"
} >"$SCALE_TMP/trust.pem"
printf '%s\n' alice:alice-secret bob:bob-secret >"$SCALE_TMP/issuer-users"
"$PY" "$ISSUER" serve --port-file "$SCALE_TMP/issuer.port" --issuer test-issuer --users "$SCALE_TMP/issuer-users" \
  --route "/rs256/token=$SCALE_TMP/rs.pem" --route "/es256/token=$SCALE_TMP/es.pem" 2>>"$SCALE_TMP/issuer.log" &
SCALE_PIDS+=("$!")
for _ in $(seq 100); do
  [[ -s $SCALE_TMP/issuer.port ]] && break
  sleep 0.1
done
[[ -s $SCALE_TMP/issuer.port ]] || fail "the issuer did not start"
IP=127.0.0.1:$(cat "$SCALE_TMP/issuer.port")
# issued PATH: how many tokens the issuer handed out on PATH so far.
issued() { grep -c "\"GET $1?[^\"]*\" 200" "$SCALE_TMP/issuer.log" || true; }

cat >"$SCALE_TMP/rules" <<'EOF'
user:alice   team/**     *
user:alice   public/**   pull,push
user:bob     team/**     pull
anonymous    public/**   pull
EOF
ROOT=$SCALE_TMP/root
TRUST=(--token-trust "$SCALE_TMP/trust.pem" --token-trust-issuer test-issuer --auth-rules "$SCALE_TMP/rules")
start_regd ext_rs "$ROOT" "${TRUST[@]}" --token-realm "http://$IP/rs256/token"
start_regd ext_es "$ROOT" "${TRUST[@]}" --token-realm "http://$IP/es256/token"
RR=127.0.0.1:${PORT[ext_rs]}
RE=127.0.0.1:${PORT[ext_es]}
SK=(timeout 120 skopeo --insecure-policy)
IMG=$SCALE_TMP/img

step "challenges send clients to the external realm"
[[ $(challenge "http://$RR/v2/") == "Bearer realm=\"http://$IP/rs256/token\",service=\"regd\"" ]] ||
  fail "challenge: $(challenge "http://$RR/v2/")"
c=$(challenge "http://$RE/v2/team/app/manifests/v1")
[[ $c == *"realm=\"http://$IP/es256/token\""* && $c == *'scope="repository:team/app:pull"'* ]] || fail "challenge: $c"
[[ $(status "http://$RR/v2/token") == 404 ]] || fail "regd serves a token endpoint without --token-key"
[[ $(status -u alice:alice-secret "http://$RR/v2/") == 401 ]] || fail "Basic accepted without --htpasswd"

step "skopeo login through the external issuer"
echo alice-secret | timeout 60 skopeo login --tls-verify=false --authfile "$SCALE_TMP/login.json" -u alice \
  --password-stdin "$RR" || fail "skopeo login via the issuer"
expect_fail 'invalid username/password' "$SCALE_TMP/login-bad.log" \
  bash -c "echo wrong | skopeo login --tls-verify=false --authfile '$SCALE_TMP/bad.json' -u alice --password-stdin '$RE'"

step "skopeo push (RS256 tokens) and pull (ES256 tokens) through the external flow"
d1=$(make_image "$IMG" v1 2 512)
n=$(issued /rs256/token)
"${SK[@]}" copy -q --dest-tls-verify=false --authfile "$SCALE_TMP/login.json" "oci:$IMG:v1" "docker://$RR/team/app:v1" ||
  fail "push with external RS256 tokens (credentials from the login)"
(($(issued /rs256/token) > n)) || fail "skopeo's push asked the issuer for no token"
n=$(issued /es256/token)
pulled=$SCALE_TMP/pulled
"${SK[@]}" copy -q --src-tls-verify=false --src-creds bob:bob-secret "docker://$RE/team/app:v1" "oci:$pulled:v1" ||
  fail "pull with external ES256 tokens"
(($(issued /es256/token) > n)) || fail "skopeo's pull asked the issuer for no token"
[[ $(jq -r '.manifests[0].digest' "$pulled/index.json") == "$d1" ]] || fail "pulled digest"
for f in "$pulled"/blobs/sha256/*; do cmp -s "$f" "$IMG/blobs/sha256/${f##*/}" || fail "pulled blob ${f##*/}"; done
expect_fail 'invalid username/password|unauthorized' "$SCALE_TMP/pull-bad.log" \
  "${SK[@]}" copy -q --src-tls-verify=false --src-creds bob:wrong "docker://$RE/team/app:v1" "oci:$SCALE_TMP/x:v1"

step "the rules bound the token: the issuer grants bob push, regd does not"
t=$(TOKEN_SERVICE=regd token "http://$IP/es256/token" bob:bob-secret repository:team/bob:pull,push)
jq -e '.access[0].actions == ["pull","push"]' <<<"$(claims "$t")" >/dev/null || fail "issuer did not grant push"
blobs_before=$(blob_count "$ROOT")
make_image "$IMG" bob 1 200 >/dev/null
expect_fail 'denied|unauthorized|forbidden' "$SCALE_TMP/push-bob.log" \
  "${SK[@]}" copy -q --dest-tls-verify=false --dest-creds bob:bob-secret "oci:$IMG:bob" "docker://$RE/team/bob:v1"
code=$(status -X POST -H "Authorization: Bearer $t" "http://$RE/v2/team/bob/blobs/uploads/")
[[ $code == 401 || $code == 403 ]] || fail "bob's POST with a push token the rules refuse: $code"
repo_exists "$ROOT" team/bob && fail "a refused push made team/bob"
[[ $(blob_count "$ROOT") == "$blobs_before" ]] || fail "a refused push stored blobs"

step "anonymous pull of public/** through the external flow"
d2=$(make_image "$IMG" pub 1 128)
"${SK[@]}" copy -q --dest-tls-verify=false --dest-creds alice:alice-secret "oci:$IMG:pub" "docker://$RR/public/app:1" ||
  fail "alice's push to public/app"
"${SK[@]}" copy -q --src-tls-verify=false "docker://$RE/public/app:1" "oci:$SCALE_TMP/anon:1" || fail "anonymous pull"
[[ $(jq -r '.manifests[0].digest' "$SCALE_TMP/anon/index.json") == "$d2" ]] || fail "anonymous pull digest"
expect_fail 'unauthorized|authentication required|denied' "$SCALE_TMP/anon-team.log" \
  "${SK[@]}" copy -q --src-tls-verify=false "docker://$RE/team/app:v1" "oci:$SCALE_TMP/anon:v1"

step "tokens that must be refused (401), next to the same token done right (200)"
mint() { "$PY" "$ISSUER" mint --issuer test-issuer --audience regd --subject alice --access repository:team/app:pull "$@"; }
M=/v2/team/app/manifests/v1
check() { # WANT DESCRIPTION MINT_ARGS...
  local want=$1 what=$2 tok code addr
  shift 2
  tok=$(mint "$@") || fail "mint for $what"
  for addr in "$RR" "$RE"; do
    code=$(status -H "Authorization: Bearer $tok" "http://$addr$M")
    [[ $code == "$want" ]] || fail "$what via $addr: $code, want $want"
  done
  echo "   $what: $want"
}
check 200 "RS256, right issuer and audience" --key "$SCALE_TMP/rs.pem"
check 200 "ES256, right issuer and audience" --key "$SCALE_TMP/es.pem"
check 401 "wrong issuer" --key "$SCALE_TMP/es.pem" --issuer someone-else
check 401 "wrong audience" --key "$SCALE_TMP/rs.pem" --audience another-registry
check 401 "expired ten minutes ago" --key "$SCALE_TMP/es.pem" --ttl -600
check 401 "valid only from an hour on" --key "$SCALE_TMP/rs.pem" --not-before 3600
check 401 "signed by an untrusted key" --key "$SCALE_TMP/untrusted.pem"
check 401 "alg none" --key "$SCALE_TMP/es.pem" --alg none
check 401 "HS256 keyed with the trusted RSA public key" --key "$SCALE_TMP/rs.pem" --alg HS256
tok=$(mint --key "$SCALE_TMP/es.pem")
code=$(status -H "Authorization: Bearer $tok" "http://$RE/v2/team/other/manifests/v1")
[[ $code == 401 || $code == 403 ]] || fail "a token for team/app opened team/other: $code"
code=$(status -H "Authorization: Bearer $tok" -X DELETE "http://$RE$M")
[[ $code == 401 || $code == 403 ]] || fail "a pull token deleted: $code"
[[ $(curl -fsS -H "Authorization: Bearer $(mint --key "$SCALE_TMP/rs.pem" --access repository:team/app:pull)" \
  "http://$RR/v2/team/app/tags/list" | jq -c .tags) == '["v1"]' ]] || fail "tags/list with an external token"
echo PASS
