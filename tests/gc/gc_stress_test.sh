#!/bin/bash
# Online GC under load: three regd instances over one storage tree, three clients pushing images
# that share a layer (through alternating instances), deleting tags and pushing again, while
# `regctl gc` runs in a loop with a 3 s grace window (regd refreshes links after 1 s). Afterwards
# every push that was acknowledged and not deleted is complete and pulls byte-exact, `regctl
# verify` is clean, and after a last GC registry:2's own garbage-collect finds nothing left.
# GC_FS=cephfs: the same over one loopback CephFS, each instance and regctl on its own ceph-fuse
# mount (root and /dev/fuse needed, else exit 77).
# GC_FS=s3: the same over one prefix of one bucket of a loopback radosgw, every instance and
# regctl on s3://regd/root (root needed, else exit 77); registry:2's check reads the bucket
# through its S3 driver.
# Usage: gc_stress_test.sh REGCTL REGD
source "$(dirname "$0")/lib.sh"
REGCTL=$1 REGD=$2
[[ ${GC_FS:-local} == cephfs ]] && use_cephfs "$@"
[[ ${GC_FS:-local} == s3 ]] && use_s3 "$@"
setup_work
[[ ${GC_FS:-local} == cephfs ]] && start_cephfs
[[ ${GC_FS:-local} == s3 ]] && start_s3
declare -A roots
for n in 1 2 3 ctl; do
  if [[ ${GC_FS:-local} == cephfs ]]; then
    roots[$n]=$(cephfs_root "$n")
  elif [[ ${GC_FS:-local} == s3 ]]; then
    roots[$n]=$(s3_root_of "$n")
  else
    roots[$n]=$WORK/root
  fi
done
root=${roots[ctl]}
CLIENTS=3 ROUNDS=6 IMAGES=6

ports=()
for i in 1 2 3; do
  ports+=("$(free_port)")
  "$REGD" --root "${roots[$i]}" --listen "127.0.0.1:${ports[-1]}" --link-refresh 1s >"$WORK/regd$i.log" 2>&1 &
  PIDS+=($!)
done
for p in "${ports[@]}"; do wait_up "http://127.0.0.1:$p"; done

head -c 262144 /dev/urandom >"$WORK/shared.bin"
for i in $(seq 1 $IMAGES); do make_image "$WORK/img" "i$i" "$WORK/shared.bin" >/dev/null; done

# client C: ROUNDS pushes of rotating images to stress/cC:tR, each through another instance and
# retried up to 4 times; every third round deletes the previous tag. Records what was acknowledged.
client() {
  local c=$1 r img port digest try code
  for r in $(seq 1 $ROUNDS); do
    img=i$(((c + r) % IMAGES + 1))
    port=${ports[$(((c + r) % 3))]}
    # Pace the pushes by the GC loop so that GC runs overlap the load however fast pushes are
    # (an idle machine finished them before a third GC): round R waits for R/2 completed GC
    # runs, at most 10 s.
    for _ in $(seq 1 100); do
      (($(cat "$WORK/gc_count" 2>/dev/null || echo 0) >= r / 2)) && break
      sleep 0.1
    done
    for try in 1 2 3 4; do
      if push "$WORK/img:$img" "127.0.0.1:$port/stress/c$c:t$r"; then
        digest=$(jq -r --arg t "$img" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' \
          "$WORK/img/index.json")
        echo "stress/c$c t$r $digest" >>"$WORK/acked"
        break
      fi
      echo "client $c round $r: push attempt $try failed" >>"$WORK/retries"
    done
    if ((r % 3 == 0)); then
      port=${ports[$(((c + r + 1) % 3))]}
      code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$port/v2/stress/c$c/manifests/t$((r - 1))")
      [[ $code == 202 ]] && echo "stress/c$c t$((r - 1))" >>"$WORK/deleted"
    fi
  done
}

clients=()
for c in $(seq 1 $CLIENTS); do client "$c" & clients+=($!); done

# GC in a loop while the clients run (bounded: at most 300 rounds). It may start before the
# first push lands: regctl refuses a root without a registry tree (exit 7), so create it first.
"$REGCTL" --root "$root" --init ls >/dev/null || fail "regctl --init ls"
gc_runs=0 gc_removed=0
for _ in $(seq 1 300); do
  alive=0
  for pid in "${clients[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  ((alive)) || break
  rc=0
  "$REGCTL" --root "$root" gc --grace 3s --link-refresh 1s --delete-untagged --json >"$WORK/gc.json" 2>"$WORK/gc.err" || rc=$?
  [[ $rc == 0 || $rc == 5 ]] || { cat "$WORK/gc.err" >&2; fail "regctl gc exited $rc during the load"; }
  if [[ $rc == 0 ]]; then
    gc_runs=$((gc_runs + 1))
    echo "$gc_runs" >"$WORK/gc_count"
    gc_removed=$((gc_removed + $(jq '.blobs_removed + .manifests_removed' "$WORK/gc.json")))
  fi
  sleep 0.05
done
for pid in "${clients[@]}"; do wait "$pid" || fail "a client failed"; done
((gc_runs >= 3)) || fail "only $gc_runs GC runs overlapped the load"
[[ $(wc -l <"$WORK/acked") == $((CLIENTS * ROUNDS)) ]] || fail "not every push was eventually acknowledged"
pass "$((CLIENTS * ROUNDS)) pushes acknowledged ($(cat "$WORK/retries" 2>/dev/null | wc -l) retries) during $gc_runs GC runs"

# Let the grace window pass, collect once more: the deleted tags' garbage must go.
sleep 4
"$REGCTL" --root "$root" gc --grace 3s --link-refresh 1s --delete-untagged --json >"$WORK/gc.json"
gc_removed=$((gc_removed + $(jq '.blobs_removed + .manifests_removed' "$WORK/gc.json")))
((gc_removed > 0)) || fail "GC never removed anything, yet tags were deleted"

# Every acknowledged, undeleted push is complete: same digest by tag on every instance, pulls
# byte-exact (skopeo checks every digest), and verify is clean.
checked=0
while read -r repo tag digest; do
  grep -qx "$repo $tag" "$WORK/deleted" 2>/dev/null && continue
  for p in "${ports[@]}"; do
    got=$(curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$p/v2/$repo/manifests/$tag" |
      tr -d '\r' | awk 'tolower($1)=="docker-content-digest:"{print $2}')
    [[ $got == "$digest" ]] || fail "$repo:$tag on :$p is '$got', want $digest"
  done
  skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:${ports[0]}/$repo:$tag" "oci:$WORK/pull-${repo//\//-}-$tag:x" ||
    fail "pull of acknowledged $repo:$tag failed after GC"
  checked=$((checked + 1))
done <"$WORK/acked"
"$REGCTL" --root "$root" verify >"$WORK/verify.txt" || { cat "$WORK/verify.txt" >&2; fail "verify found problems"; }
pass "$checked acknowledged images complete and byte-exact; verify clean; $gc_removed items collected"

# With every writer gone, registry:2's GC agrees nothing collectable is left.
for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
sleep 4
"$REGCTL" --root "$root" gc --grace 3s --link-refresh 1s --delete-untagged >/dev/null
out=$(distribution_gc "$root" --dry-run --delete-untagged)
grep -q " 0 blobs and 0 manifests eligible for deletion" <<<"$out" || { echo "$out" | tail -5 >&2; fail "registry:2 would still delete something"; }
pass "registry:2 garbage-collect finds nothing left"
