#!/usr/bin/env bash
# Three regd instances over one storage root, each a pull-through cache of the same upstream,
# behind HAProxy (round robin): six skopeo clients pull the same uncached image at once through
# it. Every client's copy is byte-identical to the source, the root holds one blob file per
# digest and no temp file, and `regctl verify` is clean (docs/mirror.md, "Several instances").
# Usage: mirror_lb.sh PATH_TO_REGD PATH_TO_REGCTL
REGD=$1
REGCTL=$2
source "$(dirname "$0")/../scale/lib.sh"
need_cmds haproxy skopeo curl jq python3

T=$SCALE_TMP
CLIENTS=6

step "an upstream regd with an image of four 2 MiB layers"
start_regd upstream "$T/upstream-root"
U=127.0.0.1:${PORT[upstream]}
IMG=$T/img
digest=$(make_image "$IMG" v1 4 2048)
push "$IMG" v1 "$U" team/app || fail "push to the upstream"

step "three cache instances over one root behind HAProxy"
ROOT=$T/root
for n in c1 c2 c3; do
  start_regd "$n" "$ROOT" --upstream "up=http://$U"
done
LB_PORT=$(free_port)
cat >"$T/haproxy.cfg" <<CFG
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend registry
    bind 127.0.0.1:$LB_PORT
    default_backend caches
backend caches
    balance roundrobin
    server c1 127.0.0.1:${PORT[c1]}
    server c2 127.0.0.1:${PORT[c2]}
    server c3 127.0.0.1:${PORT[c3]}
CFG
start_haproxy "$T/haproxy.cfg"
wait_status "http://127.0.0.1:$LB_PORT/v2/" 200
L=127.0.0.1:$LB_PORT

step "$CLIENTS clients pull the same uncached image at once"
pids=()
for i in $(seq "$CLIENTS"); do
  timeout 120 "${SKOPEO[@]}" copy -q "${SKOPEO_TLS[@]}" "docker://$L/up/team/app:v1" "oci:$T/out$i:v1" \
    >"$T/pull$i.log" 2>&1 &
  pids+=("$!")
done
for i in $(seq "$CLIENTS"); do
  wait "${pids[$((i - 1))]}" || fail "client $i: $(cat "$T/pull$i.log")"
done

step "every copy is byte-identical to the source"
for i in $(seq "$CLIENTS"); do
  [[ $(jq -r '.manifests[0].digest' "$T/out$i/index.json") == "$digest" ]] || fail "client $i: digest"
  n=0
  for f in "$T/out$i"/blobs/sha256/*; do
    cmp -s "$f" "$IMG/blobs/sha256/${f##*/}" || fail "client $i: blob ${f##*/} differs"
    n=$((n + 1))
  done
  [[ $n == 6 ]] || fail "client $i has $n blobs, not 6 (manifest, config, 4 layers)"
done

step "one stored copy of each blob, no temp files, every instance served, verify clean"
V2=$ROOT/docker/registry/v2
for f in "$IMG"/blobs/sha256/*; do
  hex=${f##*/}
  found=$(find "$V2/blobs" -path "*/$hex/data" | wc -l)
  [[ $found == 1 ]] || fail "blob $hex stored $found times"
  cmp -s "$f" "$V2/blobs/sha256/${hex:0:2}/$hex/data" || fail "stored blob $hex differs"
done
[[ $(find "$V2/blobs" -name data | wc -l) == 6 ]] || fail "$(find "$V2/blobs" -name data | wc -l) blob files, not 6"
[[ -z $(find "$ROOT" -name '.tmp-*') ]] || fail "temp files left: $(find "$ROOT" -name '.tmp-*')"
for n in c1 c2 c3; do
  [[ $(requests "$n" | jq -r 'select(.path | contains("/blobs/sha256:")) | .status' | grep -c '^200$') -ge 1 ]] ||
    fail "instance $n served no blob"
done
"$REGCTL" --root "$ROOT" verify -q >/dev/null || fail "verify"

step "the upstream stopped: the cached image still pulls through every instance"
kill -TERM "${PID[upstream]}"
wait "${PID[upstream]}" 2>/dev/null || true
for i in 1 2 3; do
  timeout 120 "${SKOPEO[@]}" copy -q "${SKOPEO_TLS[@]}" "docker://$L/up/team/app@$digest" "oci:$T/late$i:v1" ||
    fail "pull by digest with the upstream down"
done
echo "PASS"
