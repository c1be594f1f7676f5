#!/bin/bash
# Interop with real tools: layouts made by skopeo and umoci are pushed with regctl; a layout
# pulled by regctl is read by skopeo and umoci; and, when regd is built, skopeo pulls what
# regctl pushed through regd, byte for byte.
# Usage: interop_test.sh REGCTL [REGD]
source "$(dirname "$0")/lib.sh"
REGCTL=$1
REGD=${2:-}
setup_work
cd "$WORK"

# skopeo copies a hand-made layout; regctl pushes the copy
img=$(make_layout hand v1)
skopeo copy -q oci:hand:v1 oci:sk:v1 >/dev/null
"$REGCTL" -q push oci:sk:v1 team/app:v1 >/dev/null
[[ $("$REGCTL" inspect --json team/app:v1 | jq -r .digest) == "$img" ]] || fail "skopeo layout pushed"
pass "push a layout written by skopeo"

# umoci builds an image; regctl pushes it
umoci init --layout um
umoci new --image um:base
mkdir -p payload && echo hello >payload/hello
umoci insert --rootless --image um:base payload/hello /hello
um_digest=$(jq -r '.manifests[0].digest' um/index.json)
"$REGCTL" -q push oci:um:base team/umoci >/dev/null
[[ $("$REGCTL" inspect --json team/umoci:base | jq -r .digest) == "$um_digest" ]] || fail "umoci image pushed"
pass "push a layout written by umoci"

# regctl pulls; skopeo and umoci read the result
"$REGCTL" -q pull team/app:v1 oci:out:v1 >/dev/null
"$REGCTL" -q pull team/umoci:base oci:out:base >/dev/null
[[ $(skopeo inspect oci:out:v1 | jq -r .Digest) == "$img" ]] || fail "skopeo inspect oci:out:v1"
[[ $(umoci ls --layout out | sort | tr '\n' ' ') == "base v1 " ]] || fail "umoci ls: $(umoci ls --layout out)"
umoci stat --image out:base | grep "umoci insert" >/dev/null || fail "umoci stat"
skopeo copy -q oci:out:v1 oci:back:v1 >/dev/null
same_blobs back hand
pass "skopeo and umoci read what regctl pulled"

if [[ -z $REGD || ! -x $REGD ]]; then
  echo "skip: regd not built"
  exit 0
fi
# regd serves the tree regctl wrote; skopeo pulls through it
# It binds an ephemeral port itself and logs it: no window in which another process can take it.
"$REGD" --root "$REGCTL_ROOT" --listen 127.0.0.1:0 2>regd.log &
regd_pid=$!
trap 'kill $regd_pid 2>/dev/null; wait $regd_pid 2>/dev/null; rm -rf "$WORK"' EXIT
port=""
for _ in $(seq 100); do
  port=$(jq -Rr 'fromjson? | select(.msg == "listening") | .port' regd.log 2>/dev/null | head -n1)
  [[ -n $port ]] && curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break
  sleep 0.1
done
[[ -n $port ]] && curl -fs "http://127.0.0.1:$port/v2/" >/dev/null || { cat regd.log >&2; fail "regd did not start"; }
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$port/team/app:v1" oci:viaregd:v1 >/dev/null
[[ $(skopeo inspect oci:viaregd:v1 | jq -r .Digest) == "$img" ]] || fail "digest through regd"
same_blobs viaregd hand
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$port/team/umoci:base" oci:viaregd:base >/dev/null
[[ $(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="base") | .digest' \
  viaregd/index.json) == "$um_digest" ]] || fail "umoci image through regd"
pass "skopeo pulls through regd what regctl pushed"
