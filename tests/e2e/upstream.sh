#!/usr/bin/env bash
# regctl's docker:// transport against real registries on loopback: Debian's docker-registry
# (registry:2) with htpasswd and TLS (a CA made here), regd with Basic and with its own tokens.
# push (registry -> storage), pull (storage -> registry) and cp (registry -> registry, and a
# cross-repository mount); credentials from --creds, the containers auth file and
# REGISTRY_AUTH_FILE; TLS verification on by default; a multi-arch index copied whole; chunked
# uploads; a connection dropped mid-blob (resumed with Range; dropped too often: a clean error,
# nothing committed); a repeated copy copies nothing.
# Usage: upstream.sh PATH_TO_REGD PATH_TO_REGCTL
REGD=$1
REGCTL=$2
source "$(dirname "$0")/../scale/lib.sh"
source "$(dirname "$0")/../scale/auth_lib.sh"
need_cmds skopeo htpasswd openssl curl jq python3 docker-registry

isolate_credentials
T=$SCALE_TMP
RC=(timeout 120 "$REGCTL" -q)
SK=(timeout 120 skopeo --insecure-policy)

step "a CA, a certificate for 127.0.0.1, htpasswd users"
test_ca "$T" "upstream test CA"
make_htpasswd "$T/htpasswd" alice:alice-secret bob:bob-secret

step "docker-registry (registry:2) with TLS and htpasswd"
start_registry2 "$T" "$T/htpasswd" upstream-test
D=127.0.0.1:$DPORT

step "skopeo pushes a single image and a multi-arch index to it"
IMG=$T/img
d_v1=$(make_image "$IMG" v1 3 512)
python3 "$SCALE_SRC/mkimage.py" "$IMG" --layers 2 --kib 256 --shared 0 --shared-kib 0 --tags amd >/dev/null
python3 "$SCALE_SRC/mkimage.py" "$IMG" --layers 2 --kib 256 --shared 0 --shared-kib 0 --tags arm >/dev/null
entries=$(jq -c '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "amd" or
  .annotations["org.opencontainers.image.ref.name"] == "arm") | {mediaType, digest, size,
  platform: {architecture: (if .annotations["org.opencontainers.image.ref.name"] == "amd" then "amd64" else "arm64" end),
  os: "linux"}}]' "$IMG/index.json")
jq -cn --argjson m "$entries" '{schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json", manifests:$m}' \
  >"$T/index-blob.json"
d_multi="sha256:$(sha256sum "$T/index-blob.json" | cut -d' ' -f1)"
cp "$T/index-blob.json" "$IMG/blobs/sha256/${d_multi#sha256:}"
jq --arg d "$d_multi" --argjson s "$(stat -c %s "$T/index-blob.json")" \
  '.manifests += [{mediaType:"application/vnd.oci.image.index.v1+json", digest:$d, size:$s,
    annotations:{"org.opencontainers.image.ref.name":"multi"}}]' "$IMG/index.json" >"$T/index.json"
mv "$T/index.json" "$IMG/index.json"
for tag in v1 multi; do
  "${SK[@]}" copy -q --all --dest-cert-dir "$T/certs" --dest-creds alice:alice-secret "oci:$IMG:$tag" \
    "docker://$D/team/app:$tag" || fail "skopeo push of $tag to docker-registry"
done

ROOT=$T/root
step "TLS verification is on by default: an unknown CA is refused, nothing stored"
if out=$("${RC[@]}" --root "$ROOT" push --creds alice:alice-secret "docker://$D/team/app:v1" team/app:v1 2>&1); then
  fail "a certificate of an unknown CA was accepted"
fi
grep -qi "certificate\|ssl\|tls" <<<"$out" || fail "the TLS error does not say so: $out"
[[ ! -d $ROOT/docker/registry/v2/repositories/team ]] || fail "a refused push stored something"

step "regctl push docker:// (registry:2 -> storage) with --ca and --creds: digests equal, verify clean"
out=$("${RC[@]}" --root "$ROOT" push --json --ca "$T/ca.pem" --creds alice:alice-secret "docker://$D/team/app:v1" \
  mirror/app:v1) || fail "regctl push docker://"
[[ $(jq -r .digest <<<"$out") == "$d_v1" ]] || fail "pushed digest $(jq -r .digest <<<"$out") != $d_v1"
jq -e '.blobs_copied == 4 and .manifests_copied == 1' <<<"$out" >/dev/null || fail "push report: $out"
"${RC[@]}" --root "$ROOT" verify >/dev/null || fail "verify after push docker://"
"$REGCTL" --root "$ROOT" pull mirror/app:v1 "oci:$T/check:v1" -q >/dev/null || fail "pull back to a layout"
same_blobs() { local f; for f in "$1"/blobs/sha256/*; do cmp -s "$f" "$2/blobs/sha256/${f##*/}" || fail "blob ${f##*/}"; done; }
same_blobs "$T/check" "$IMG"

step "a wrong password is denied (exit 1), no credentials either"
"${RC[@]}" --root "$ROOT" push --ca "$T/ca.pem" --creds alice:wrong "docker://$D/team/app:v1" mirror/x:v1 2>"$T/err" &&
  fail "a wrong password was accepted"
grep -q "401\|denied\|refused" "$T/err" || fail "no auth error: $(cat "$T/err")"

step "credentials from \$XDG_RUNTIME_DIR/containers/auth.json, then REGISTRY_AUTH_FILE, then --authfile"
mkdir -p "$XDG_RUNTIME_DIR/containers"
auth_file() { jq -cn --arg h "$1" --arg a "$(printf '%s' "$2" | base64 -w0)" '{auths: {($h): {auth: $a}}}'; }
auth_file "$D" alice:alice-secret >"$XDG_RUNTIME_DIR/containers/auth.json"
out=$("${RC[@]}" --root "$ROOT" push --json --ca "$T/ca.pem" "docker://$D/team/app:multi" mirror/app:multi) ||
  fail "push with the containers auth file"
[[ $(jq -r .digest <<<"$out") == "$d_multi" ]] || fail "index digest"
jq -e '.manifests_copied == 3' <<<"$out" >/dev/null || fail "the index was not copied whole: $out"
for child in $(jq -r '.manifests[].digest' "$T/index-blob.json"); do
  [[ -f $ROOT/docker/registry/v2/repositories/mirror/app/_manifests/revisions/sha256/${child#sha256:}/link ]] ||
    fail "child manifest $child missing"
done
auth_file "$D" alice:wrong >"$REGISTRY_AUTH_FILE" # REGISTRY_AUTH_FILE comes first
"${RC[@]}" --root "$ROOT" push --ca "$T/ca.pem" "docker://$D/team/app:v1" mirror/y:v1 2>/dev/null &&
  fail "REGISTRY_AUTH_FILE was not looked at first"
auth_file "$D" bob:bob-secret >"$T/given.json"
"${RC[@]}" --root "$ROOT" push --ca "$T/ca.pem" --authfile "$T/given.json" "docker://$D/team/app:v1" mirror/y:v1 \
  >/dev/null || fail "--authfile"
echo '{"auths": {}}' >"$REGISTRY_AUTH_FILE"
"${RC[@]}" --root "$ROOT" verify >/dev/null || fail "verify after the index"

step "a repeated push copies nothing"
out=$("${RC[@]}" --root "$ROOT" push --json --ca "$T/ca.pem" "docker://$D/team/app:multi" mirror/app:multi) ||
  fail "repeated push"
jq -e '.blobs_copied == 0 and .manifests_copied == 0 and .bytes_copied == 0 and .manifests_present == 1' \
  <<<"$out" >/dev/null || fail "a repeated push copied: $out"

step "regd with Basic auth: regctl pull (storage -> registry), skopeo reads it back"
make_htpasswd "$T/regd-htpasswd" alice:alice-secret
printf 'user:alice   team/**   *\n' >"$T/rules"
start_regd basic "$T/basic-root" --htpasswd "$T/regd-htpasswd" --auth-rules "$T/rules"
B=127.0.0.1:${PORT[basic]}
out=$("${RC[@]}" --root "$ROOT" pull --json --tls-verify=false --creds alice:alice-secret mirror/app:multi \
  "docker://$B/team/app:multi") || fail "regctl pull to regd (Basic)"
jq -e '.manifests_copied == 3 and .blobs_copied == 6' <<<"$out" >/dev/null || fail "pull report: $out"
[[ $(curl -s -u alice:alice-secret -o /dev/null -w '%{http_code}' \
  -H 'Accept: application/vnd.oci.image.index.v1+json' "http://$B/v2/team/app/manifests/multi") == 200 ]] ||
  fail "the index is not on regd"
"${SK[@]}" copy -q --all --src-tls-verify=false --src-creds alice:alice-secret "docker://$B/team/app:multi" \
  "oci:$T/back:multi" || fail "skopeo pull from regd"
[[ $(jq -r '.manifests[0].digest' "$T/back/index.json") == "$d_multi" ]] || fail "digest through regd"
same_blobs "$T/back" "$IMG"
"$REGCTL" --root "$T/basic-root" verify -q >/dev/null || fail "verify of regd's root"

step "regctl sync: globs, regexes, newest N, an index whole, both directions; a re-run copies nothing"
for t in v1.9 v1.10 v2.0 rc-1; do
  "${RC[@]}" cp --ca "$T/ca.pem" --creds alice:alice-secret "docker://$D/team/app:v1" "docker://$D/team/app:$t" \
    >/dev/null || fail "tagging $t on registry:2"
done
jq -cn --arg d "$D" --arg b "$B" '{auths: {($d): {auth: ("alice:alice-secret" | @base64)},
  ($b): {auth: ("alice:alice-secret" | @base64)}}}' >"$T/sync-auth.json"
jq -cn --arg d "docker://$D/team/app" --arg b "docker://$B/team/synced" '{mirrors: [
  {source: $d, target: "synced/app", tags: ["v1.*", "/^rc-[0-9]+$/"], newest: 2},
  {source: $d, target: "synced/multi", tags: ["multi"]},
  {source: "synced/app", target: $b, tags: ["*"]}]}' >"$T/mirrors.json"
SYNC=("${RC[@]}" --root "$T/sync-root" sync --json --tls-verify=false --authfile "$T/sync-auth.json" "$T/mirrors.json")
out=$("${SYNC[@]}") || fail "regctl sync"
[[ $(jq -c '[.mirrors[0].tags[].tag]' <<<"$out") == '["v1.10","v1.9"]' ]] || fail "selected tags: $out"
[[ $("$REGCTL" --root "$T/sync-root" tags synced/app | tr '\n' ' ') == "v1.10 v1.9 " ]] || fail "synced tags"
[[ $(jq -r '.mirrors[1].tags[0].digest' <<<"$out") == "$d_multi" ]] || fail "synced index digest"
jq -e '.mirrors[1].manifests_copied == 3 and .mirrors[0].blobs_copied == 4' <<<"$out" >/dev/null ||
  fail "sync report: $out"
[[ $(curl -s -u alice:alice-secret "http://$B/v2/team/synced/tags/list" | jq -c '.tags | sort') == '["v1.10","v1.9"]' ]] ||
  fail "tags synced to regd"
"$REGCTL" --root "$T/sync-root" verify -q >/dev/null || fail "verify after sync"
again=$("${SYNC[@]}") || fail "second sync"
jq -e '[.mirrors[] | .manifests_copied + .blobs_copied + .bytes_copied] | add == 0' <<<"$again" >/dev/null ||
  fail "the second sync copied: $again"

step "chunked uploads (--chunk-size) to regd"
out=$("${RC[@]}" --root "$ROOT" pull --json --tls-verify=false --creds alice:alice-secret --chunk-size 200KiB \
  mirror/app:v1 "docker://$B/team/chunked:v1") || fail "chunked pull"
jq -e '.blobs_copied == 4' <<<"$out" >/dev/null || fail "chunked report: $out"
patches=$(requests basic | jq -r 'select(.method == "PATCH") | .status' | grep -c '^202$' || true)
[[ $patches -ge 4 ]] || fail "only $patches PATCH chunks"
"$REGCTL" --root "$T/basic-root" verify -q >/dev/null || fail "verify after chunked uploads"

step "regd with its own tokens: the Bearer flow, cp registry -> registry, cross-repository mount"
make_key "$T/token.pem" ec
start_regd token "$T/token-root" --htpasswd "$T/regd-htpasswd" --auth-rules "$T/rules" --token-key "$T/token.pem"
K=127.0.0.1:${PORT[token]}
out=$("${RC[@]}" cp --json --ca "$T/ca.pem" --creds alice:alice-secret "docker://$D/team/app:v1" \
  "docker://$D/team/copy:v1") || fail "cp within registry:2"
jq -e '.blobs_mounted == 4 and .blobs_copied == 0' <<<"$out" >/dev/null || fail "no mounts within registry:2: $out"
auth_file "$K" alice:alice-secret >"$XDG_RUNTIME_DIR/containers/auth.json"
out=$("${RC[@]}" --root "$ROOT" pull --json --tls-verify=false mirror/app:v1 "docker://$K/team/app:v1") ||
  fail "regctl pull to regd (tokens)"
toks=$(requests token | jq -r 'select(.path | startswith("/v2/token")) | .status' | grep -c '^200$' || true)
[[ $toks -ge 1 ]] || fail "regctl asked regd for no token"
out=$("${RC[@]}" cp --json --tls-verify=false "docker://$K/team/app:v1" "docker://$K/team/other:v1") ||
  fail "cp within regd"
jq -e '.blobs_mounted == 4 and .blobs_copied == 0' <<<"$out" >/dev/null || fail "no mounts within regd: $out"
"$REGCTL" --root "$T/token-root" verify -q >/dev/null || fail "verify of the token root"

step "a connection dropped mid-blob is resumed with Range"
BIG=$T/big
make_image "$BIG" big 1 8192 >/dev/null # one 8 MiB layer of random bytes
start_regd plain "$T/plain-root"
P=127.0.0.1:${PORT[plain]}
"${SK[@]}" copy -q --dest-tls-verify=false "oci:$BIG:big" "docker://$P/big/app:v1" || fail "skopeo push big"
d_big=$(jq -r '.manifests[0].digest' "$BIG/index.json")
echo "drop 3000000" >"$T/mode" # answers longer than 3 MB are cut there, on every connection
python3 "$(dirname "$0")/drop_proxy.py" "${PORT[plain]}" "$T/proxy.port" "$T/mode" >"$T/proxy.log" 2>&1 &
SCALE_PIDS+=("$!")
for _ in $(seq 100); do [[ -s $T/proxy.port ]] && break; sleep 0.05; done
X=127.0.0.1:$(cat "$T/proxy.port")
line=$(log_lines plain)
out=$("${RC[@]}" --root "$T/drop-root" push --json --tls-verify=false "docker://$X/big/app:v1" big/app:v1) ||
  fail "resume after drops"
[[ $(jq -r .digest <<<"$out") == "$d_big" ]] || fail "resumed digest"
[[ $(cat "$T/mode.cuts") -ge 2 ]] || fail "the proxy cut $(cat "$T/mode.cuts") connections, not 2"
ranges=$(requests plain "$line" | jq -r 'select((.path | contains("/blobs/")) and .status == 206) | .status' | wc -l)
[[ $ranges -ge 1 ]] || fail "no Range request answered 206 after the drops"
"$REGCTL" --root "$T/drop-root" verify -q >/dev/null || fail "verify after the resumed copy"

step "dropped more often than the resumes allow: a clean error, nothing half-committed"
echo "drop 700000" >"$T/mode"
if "${RC[@]}" --root "$T/drop2-root" push --tls-verify=false --retries 0 "docker://$X/big/app:v1" big/app:v1 \
  2>"$T/err"; then
  fail "a blob cut every 700 kB arrived whole"
fi
grep -q "big/app@sha256" "$T/err" || fail "the error names no blob: $(cat "$T/err")"
[[ $(blob_count "$T/drop2-root") -le 1 ]] || fail "a half blob was committed: $(blob_count "$T/drop2-root") blobs"
[[ ! -e $T/drop2-root/docker/registry/v2/repositories/big/app/_manifests ]] || fail "a manifest was stored"
"$REGCTL" --root "$T/drop2-root" verify -q >/dev/null || fail "verify after the failed copy"
echo pass >"$T/mode"
out=$("${RC[@]}" --root "$T/drop2-root" push --json --tls-verify=false "docker://$X/big/app:v1" big/app:v1) ||
  fail "the copy after the upstream recovered"
[[ $(jq -r .digest <<<"$out") == "$d_big" ]] || fail "digest after recovery"

step "the upstream killed mid-blob and restarted on its port: the copy resumes and completes"
echo "stall 3000000" >"$T/mode" # forward 3 MB, then hold the connection until the upstream goes
rm -f "$T/mode.stalled"
"${RC[@]}" --root "$T/kill-root" push --json --tls-verify=false --retries 8 "docker://$X/big/app:v1" big/app:v1 \
  >"$T/kill.out" 2>"$T/kill.err" &
copy_pid=$!
for _ in $(seq 600); do [[ -e $T/mode.stalled ]] && break; sleep 0.1; done
[[ -e $T/mode.stalled ]] || fail "the transfer never reached 3 MB"
echo pass >"$T/mode" # new connections (the resumes) pass; the stalled one waits for the kill
kill -KILL "${PID[plain]}"
wait "${PID[plain]}" 2>/dev/null || true
start_regd_args plain2 --root "$T/plain-root" --listen "127.0.0.1:${PORT[plain]}" --threads 2
wait "$copy_pid" || fail "the copy did not survive the restart: $(cat "$T/kill.err")"
[[ $(jq -r .digest "$T/kill.out") == "$d_big" ]] || fail "digest after the restart"
[[ $(requests plain2 | jq -r 'select((.path | contains("/blobs/")) and .status == 206) | .status' | wc -l) -ge 1 ]] ||
  fail "the restarted upstream served no Range request"
"$REGCTL" --root "$T/kill-root" verify -q >/dev/null || fail "verify after the restart"

step "the upstream gone for good: a clean error naming it, nothing stored"
kill -KILL "${PID[plain2]}"
wait "${PID[plain2]}" 2>/dev/null || true
"${RC[@]}" --root "$T/gone-root" push --tls-verify=false --retries 1 "docker://$P/big/app:v1" big/app:v1 2>"$T/err" &&
  fail "a dead upstream answered"
grep -q "$P" "$T/err" || fail "the error names no host: $(cat "$T/err")"
[[ $(blob_count "$T/gone-root") == 0 ]] || fail "something was stored"

echo "PASS"
