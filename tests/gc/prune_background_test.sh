#!/bin/bash
# regd --prune-interval: two instances apply the retention policy in the background under the GC
# lease: the tags the policy does not keep go, immutable and non-matching tags stay, the
# manifests untagged by it go once old enough, and every instance logs the outcome.
# Usage: prune_background_test.sh REGCTL REGD
source "$(dirname "$0")/lib.sh"
REGCTL=$1 REGD=$2
setup_work
root=$WORK/root
ctl() { "$REGCTL" --root "$root" "$@"; }

head -c 65536 /dev/urandom >"$WORK/shared.bin"
for t in v1 v2 v3 latest; do
  make_image "$WORK/img" "$t" "$WORK/shared.bin" >/dev/null
  ctl -q push "oci:$WORK/img:$t" "bg/app:$t" >/dev/null || fail "seed $t"
done
tags=$root/docker/registry/v2/repositories/bg/app/_manifests
find "$tags/revisions" -name link -exec touch -d '2 days ago' {} +
touch -d '4 days ago' "$tags/tags/v1/current/link" "$tags/tags/latest/current/link"
touch -d '3 days ago' "$tags/tags/v2/current/link"
touch -d '1 day ago' "$tags/tags/v3/current/link"
v2=$(ctl inspect --json bg/app:v2 | jq -r .digest)

ports=()
for i in 1 2; do
  ports+=("$(free_port)")
  REGD_PRUNE_KEEP=1 "$REGD" --root "$root" --listen "127.0.0.1:${ports[-1]}" --prune-interval 1s --prune-match 'v*' \
    --prune-untagged-older-than 1d --immutable-tags v1 >"$WORK/regd$i.log" 2>&1 &
  PIDS+=($!)
done
for p in "${ports[@]}"; do wait_up "http://127.0.0.1:$p"; done

done_=0
for _ in $(seq 1 150); do
  grep -q '"prune done"' "$WORK"/regd*.log && [[ $(ctl tags bg/app | tr '\n' ' ') == "latest v1 v3 " ]] && { done_=1; break; }
  sleep 0.1
done
((done_)) || fail "background prune: tags are $(ctl tags bg/app | tr '\n' ' '); logs: $(grep -h prune "$WORK"/regd*.log)"
for _ in $(seq 1 50); do
  [[ ! -e $tags/revisions/sha256/${v2#sha256:}/link ]] && break
  sleep 0.1
done
[[ ! -e $tags/revisions/sha256/${v2#sha256:}/link ]] || fail "the manifest v2 left untagged is still stored"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${ports[0]}/v2/bg/app/manifests/v3")
[[ $code == 200 ]] || fail "kept tag v3 answers $code"
grep -h '"prune done"' "$WORK"/regd*.log | grep -q '"removed_tags":"bg/app:v2"' || fail "prune log: $(grep -h prune "$WORK"/regd*.log)"
grep -q '"background prune"' "$WORK/regd1.log" || fail "start-up line missing"
ctl verify >/dev/null || fail "verify not clean"
pass "background prune keeps the policy's tags, immutable and other tags; removes the rest"
