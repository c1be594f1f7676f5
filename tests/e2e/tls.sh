#!/usr/bin/env bash
# TLS on regd's own listener (docs/security.md, "TLS"), with a CA and certificates made here by
# openssl: curl over TLS 1.2 and 1.3, TLS 1.1 and plain HTTP refused; SIGHUP serves a new
# certificate (other serial) while an open keep-alive connection survives, and a bad file on
# reload keeps the old one; start-up with a bad certificate exits 1. Client certificates
# (--tls-client-ca): none or one from another CA fails the handshake, a good one works and its
# CN is the user the access rules see. skopeo and podman push and pull with the CA (certs dirs
# in the temp dir; nothing under /etc is touched).
# The podman part needs root: without it the rest runs and the script exits 77 (skip).
# Usage: tls.sh PATH_TO_REGD
REGD=$1
source "$(dirname "$0")/../scale/lib.sh"
source "$(dirname "$0")/../scale/auth_lib.sh"
need_cmds skopeo openssl curl jq python3
PY=$(jwt_python) || skip "no python3 with the cryptography module"
isolate_credentials

T=$SCALE_TMP
# ca NAME: a CA key and self-signed certificate NAME.key / NAME.pem.
ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" -out "$T/$1.pem" \
    -subj "/CN=$1 test CA" -days 2 2>/dev/null || fail "openssl: CA $1"
}
# cert CA NAME CN SERIAL EXT: a certificate NAME.pem / NAME.key signed by CA.
cert() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$2.key" -out "$T/$2.csr" \
    -subj "/CN=$3" 2>/dev/null || fail "openssl: request $2"
  printf '%s\n' "$5" >"$T/$2.ext"
  openssl x509 -req -in "$T/$2.csr" -CA "$T/$1.pem" -CAkey "$T/$1.key" -set_serial "$4" -days 2 \
    -extfile "$T/$2.ext" -out "$T/$2.pem" 2>/dev/null || fail "openssl: sign $2"
}
SERVER_EXT="subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
CLIENT_EXT="extendedKeyUsage=clientAuth"
ca ca
ca rogue
cert ca server1 localhost 0x1001 "$SERVER_EXT"
cert ca server2 localhost 0x1002 "$SERVER_EXT"
cert ca alice alice 0x2001 "$CLIENT_EXT"
cert ca bob bob 0x2002 "$CLIENT_EXT"
cert rogue mallory alice 0x3001 "$CLIENT_EXT"
cp "$T/server1.pem" "$T/live.pem"
cp "$T/server1.key" "$T/live.key"

# start_tls NAME ROOT FLAGS...: regd with TLS; sets PORT[NAME] once https /healthz answers.
start_tls() {
  local name=$1 root=$2 log=$T/$1.log i port="" ok
  shift 2
  "$REGD" --root "$root" --listen 127.0.0.1:0 --threads 2 "$@" 2>>"$log" &
  PID[$name]=$!
  SCALE_PIDS+=("$!")
  for i in $(seq 100); do
    port=$(jq -Rr 'fromjson? | select(.msg == "listening") | .port' "$log" 2>/dev/null | tail -n1)
    if [[ -n $port ]]; then
      ok=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$T/ca.pem" \
        ${CLIENT_CERT:+--cert "$CLIENT_CERT" --key "${CLIENT_CERT%.pem}.key"} "https://127.0.0.1:$port/healthz" || true)
      if [[ $ok == 200 ]]; then
        PORT[$name]=$port
        return 0
      fi
    fi
    sleep 0.05
  done
  fail "regd $name did not start with TLS"
}
# serial PORT: the hex serial of the certificate regd serves now.
serial() {
  timeout 10 openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -serial | cut -d= -f2
}
# log_count NAME PATTERN: lines of NAME's log whose msg matches PATTERN.
log_count() { jq -Rr 'fromjson? | .msg' "$T/$1.log" | grep -c -- "$2" || true; }
# reload_count NAME FIELD: SIGHUP summary lines of instance NAME whose FIELD (reloaded, failed) lists tls.
reload_count() { jq -Rr --arg f "$2" 'fromjson? | select(.msg == "reloaded") | .[$f]' "$T/$1.log" | grep -cw tls || true; }

step "start-up: cert without key is a usage error, an unloadable certificate exits 1"
set +e
"$REGD" --root "$T/r0" --listen 127.0.0.1:0 --tls-cert "$T/live.pem" 2>"$T/nokey.err"
rc=$?
echo "not a certificate" >"$T/garbage.pem"
"$REGD" --root "$T/r0" --listen 127.0.0.1:0 --tls-cert "$T/garbage.pem" --tls-key "$T/live.key" 2>"$T/badcert.err"
rc2=$?
"$REGD" --root "$T/r0" --listen 127.0.0.1:0 --tls-cert "$T/live.pem" --tls-key "$T/alice.key" 2>"$T/mismatch.err"
rc3=$?
set -e
[[ $rc == 2 ]] && grep -q -- '--tls-key' "$T/nokey.err" || fail "cert without key: exit $rc: $(cat "$T/nokey.err")"
[[ $rc2 == 1 ]] && grep -q 'cannot load the TLS files' "$T/badcert.err" && grep -q "$T/garbage.pem" "$T/badcert.err" ||
  fail "bad certificate: exit $rc2: $(cat "$T/badcert.err")"
[[ $rc3 == 1 ]] && grep -qE 'mismatch|does not match' "$T/mismatch.err" || fail "mismatched key: exit $rc3: $(cat "$T/mismatch.err")"

ROOT=$T/root
start_tls tls "$ROOT" --tls-cert "$T/live.pem" --tls-key "$T/live.key"
P=${PORT[tls]}
R=127.0.0.1:$P

step "curl over TLS 1.2 and 1.3; TLS 1.1 and plain HTTP refused"
[[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" --tlsv1.2 --tls-max 1.2 "https://$R/v2/") == 200 ]] ||
  fail "TLS 1.2"
[[ $(curl -s -o /dev/null -w '%{http_code} %{ssl_verify_result}' --cacert "$T/ca.pem" --tlsv1.3 "https://$R/v2/") == "200 0" ]] ||
  fail "TLS 1.3"
curl -s -o /dev/null --cacert "$T/ca.pem" --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA "https://$R/v2/" &&
  fail "a CBC cipher suite was accepted over TLS 1.2"
# The client is allowed everything (SECLEVEL=0) so that only the server can refuse TLS 1.1.
if curl -s -o /dev/null --cacert "$T/ca.pem" --tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT:@SECLEVEL=0' "https://$R/v2/"; then
  fail "TLS 1.1 was accepted"
fi
[[ $(log_count tls 'TLS handshake failed') -ge 2 ]] || fail "regd did not see the refused handshakes"
body=$(curl -s -w ' %{http_code}' "http://$R/v2/")
[[ $body == *'"UNSUPPORTED"'*'use https://'*' 400' ]] || fail "plain HTTP on the TLS port: $body"
curl -s -o /dev/null "http://$R/v2/_catalog" || true
[[ $(log_count tls 'plain HTTP on the TLS listener') == 1 ]] || fail "plain HTTP is not logged exactly once"

step "SIGHUP: a new certificate for new connections; an open keep-alive connection survives"
[[ $(serial "$P") == 1001 ]] || fail "serving serial $(serial "$P"), not 1001"
"$PY" "$SCALE_SRC/../e2e/tls_keepalive.py" "$P" "$T/ca.pem" "$T/ka.ready" "$T/ka.go" >"$T/ka.out" 2>"$T/ka.err" &
ka=$!
for i in $(seq 200); do [[ -s $T/ka.ready ]] && break; sleep 0.05; done
[[ -s $T/ka.ready ]] || fail "the keep-alive client did not connect: $(cat "$T/ka.err")"
cp "$T/server2.pem" "$T/live.pem"
cp "$T/server2.key" "$T/live.key"
kill -HUP "${PID[tls]}"
for i in $(seq 100); do [[ $(reload_count tls reloaded) -ge 1 ]] && break; sleep 0.05; done
[[ $(serial "$P") == 1002 ]] || fail "after SIGHUP the serial is $(serial "$P"), not 1002"
touch "$T/ka.go"
wait "$ka" || fail "the keep-alive connection did not survive the reload: $(cat "$T/ka.out" "$T/ka.err")"
[[ $(cat "$T/ka.out") == "200 200 1001 same" ]] || fail "keep-alive client: $(cat "$T/ka.out")"

step "SIGHUP with a bad certificate file keeps the current certificate"
echo "-----BEGIN CERTIFICATE-----broken" >"$T/live.pem"
kill -HUP "${PID[tls]}"
for i in $(seq 100); do [[ $(reload_count tls failed) -ge 1 ]] && break; sleep 0.05; done
[[ $(reload_count tls failed) == 1 ]] || fail "no summary line for the refused reload"
[[ $(serial "$P") == 1002 ]] || fail "after a bad reload the serial is $(serial "$P"), not 1002"
[[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" "https://$R/v2/") == 200 ]] || fail "served after a bad reload"
cp "$T/server2.pem" "$T/live.pem"

step "skopeo push and pull with the CA (--dest-cert-dir / --src-cert-dir)"
CERTS=$T/certs
mkdir -p "$CERTS"
cp "$T/ca.pem" "$CERTS/ca.crt"
IMG=$T/img
d1=$(make_image "$IMG" v1 2 256)
SK=(timeout 120 skopeo --insecure-policy)
"${SK[@]}" copy -q --dest-cert-dir "$CERTS" "oci:$IMG:v1" "docker://$R/lib/app:v1" || fail "skopeo push over TLS"
"${SK[@]}" copy -q --src-cert-dir "$CERTS" "docker://$R/lib/app:v1" "oci:$T/pulled:v1" || fail "skopeo pull over TLS"
[[ $(jq -r '.manifests[0].digest' "$T/pulled/index.json") == "$d1" ]] || fail "pulled digest"
for f in "$T"/pulled/blobs/sha256/*; do cmp -s "$f" "$IMG/blobs/sha256/${f##*/}" || fail "pulled blob ${f##*/}"; done
expect_fail 'certificate|x509' "$T/skopeo-noca.log" "${SK[@]}" copy -q "docker://$R/lib/app:v1" "oci:$T/x:v1"

step "with TLS the default token realm is https"
make_key "$T/token.pem" ec
start_tls tok "$T/root3" --tls-cert "$T/server1.pem" --tls-key "$T/server1.key" --token-key "$T/token.pem"
realm=$(challenge "https://127.0.0.1:${PORT[tok]}/v2/" --cacert "$T/ca.pem")
[[ $realm == "Bearer realm=\"https://127.0.0.1:${PORT[tok]}/v2/token\""* ]] || fail "challenge over TLS: $realm"

step "client certificates: none or another CA's fail the handshake; the CN is the user"
cat >"$T/rules" <<'RULES'
user:alice   team/**   pull,push,delete
user:bob     team/**   pull
RULES
ROOT2=$T/root2
CLIENT_CERT=$T/alice.pem start_tls mtls "$ROOT2" --tls-cert "$T/server1.pem" --tls-key "$T/server1.key" \
  --tls-client-ca "$T/ca.pem" --auth-rules "$T/rules"
M=127.0.0.1:${PORT[mtls]}
as() { local who=$1; shift; curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" --cert "$T/$who.pem" --key "$T/$who.key" "$@"; }
[[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" "https://$M/v2/") == 000 ]] ||
  fail "no client certificate was not refused"
[[ $(as mallory "https://$M/v2/") == 000 ]] || fail "a certificate of another CA was not refused"
[[ $(as alice "https://$M/v2/") == 200 ]] || fail "alice's certificate"
[[ $(as alice -X POST "https://$M/v2/team/app/blobs/uploads/") == 202 ]] || fail "alice (CN) may push to team/**"
[[ $(as bob -X POST "https://$M/v2/team/app/blobs/uploads/") == 403 ]] || fail "bob (CN) may not push"
[[ $(as bob -X POST "https://$M/v2/other/blobs/uploads/") == 403 ]] || fail "bob outside the rules"
sleep 0.3  # access lines are written every 200 ms
jq -Rr 'fromjson? | select(.msg == "request" and .method == "POST") | .user' "$T/mtls.log" | sort -u | tr '\n' ' ' |
  grep -qx 'alice bob ' || fail "the access log does not name the CN users"
MCERTS=$T/mcerts
mkdir -p "$MCERTS"
cp "$T/ca.pem" "$MCERTS/ca.crt"
cp "$T/alice.pem" "$MCERTS/alice.cert"
cp "$T/alice.key" "$MCERTS/alice.key"
"${SK[@]}" copy -q --dest-cert-dir "$MCERTS" "oci:$IMG:v1" "docker://$M/team/app:v1" || fail "skopeo push with a client certificate"
"${SK[@]}" copy -q --src-cert-dir "$MCERTS" "docker://$M/team/app:v1" "oci:$T/mpulled:v1" || fail "skopeo pull with a client certificate"
[[ $(jq -r '.manifests[0].digest' "$T/mpulled/index.json") == "$d1" ]] || fail "mTLS pulled digest"
expect_fail 'certificate|tls|handshake|remote error' "$T/skopeo-nocert.log" \
  "${SK[@]}" copy -q --src-cert-dir "$CERTS" "docker://$M/team/app:v1" "oci:$T/y:v1"

step "podman push and pull with the CA (--cert-dir)"
if ! podman_setup a || ! podman_setup b; then
  echo "SKIP: the rest passed; $PODMAN_WHY"
  exit 77
fi
timeout 120 "${PM_a[@]}" pull -q --cert-dir "$CERTS" "$R/lib/app:v1" >/dev/null || fail "podman pull over TLS"
[[ $("${PM_a[@]}" image inspect --format '{{.Digest}}' "$R/lib/app:v1") == "$d1" ]] || fail "podman pulled digest"
"${PM_a[@]}" tag "$R/lib/app:v1" "$R/lib/podman:p1"
timeout 120 "${PM_a[@]}" push -q --cert-dir "$CERTS" "$R/lib/podman:p1" || fail "podman push over TLS"
[[ $(curl -fsS --cacert "$T/ca.pem" "https://$R/v2/lib/podman/tags/list" | jq -c .tags) == '["p1"]' ]] ||
  fail "podman's push is not listed"
timeout 120 "${PM_b[@]}" pull -q --cert-dir "$MCERTS" "$M/team/app:v1" >/dev/null || fail "podman pull with a client certificate"
"${PM_b[@]}" tag "$M/team/app:v1" "$M/team/podman:p1"
timeout 120 "${PM_b[@]}" push -q --cert-dir "$MCERTS" "$M/team/podman:p1" || fail "podman push with a client certificate"
[[ $(as bob "https://$M/v2/team/podman/manifests/p1") == 200 ]] || fail "podman's mTLS push is not there"
"${PM_a[@]}" rmi -a -f >/dev/null 2>&1 || true
"${PM_b[@]}" rmi -a -f >/dev/null 2>&1 || true
echo PASS
